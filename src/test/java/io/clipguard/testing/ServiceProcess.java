package io.clipguard.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The packaged service ({@code target/quarkus-app/quarkus-run.jar}, built by {@code ./mvnw package}) as its own process,
 * configured through environment variables as in deployment, so that a test can send it SIGTERM or SIGKILL and see
 * what the real Quarkus application does. Integration tests (*IT, run by Failsafe after packaging) only.
 */
public final class ServiceProcess implements AutoCloseable {
    public static final Path RUNNER = Path.of("target/quarkus-app/quarkus-run.jar");

    private final Process process;
    private final int port;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private ServiceProcess(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Starts the service on a free HTTP port with the tiny test model on CPU; {@code env} adds or overrides settings. */
    public static ServiceProcess start(String bootstrap, String registryUrl, Path stateDir, Path log, Map<String, String> env)
            throws Exception {
        if (!Files.isRegularFile(RUNNER)) {
            throw new IllegalStateException(RUNNER + " is missing: run integration tests through ./mvnw verify (it packages first)");
        }
        int port = ApicurioRegistry.freePort();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(List.of(java, "-Xmx1g", "--add-modules=jdk.incubator.vector", "-jar", RUNNER.toAbsolutePath().toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> e = new HashMap<>(Map.of(
                "QUARKUS_HTTP_PORT", String.valueOf(port),
                "KAFKA_BOOTSTRAP_SERVERS", bootstrap,
                "CLIPGUARD_REGISTRY_URL", registryUrl,
                "CLIPGUARD_STATE_DIR", stateDir.toString(),
                "CLIPGUARD_ENGINE_MODEL_DIR", Path.of("models/tiny-clip-test").toAbsolutePath().toString(),
                "CLIPGUARD_ENGINE_DEVICE", "cpu",
                "KAFKA_STREAMS_NUM_STREAM_THREADS", "1"));
        e.putAll(env);
        pb.environment().putAll(e);
        return new ServiceProcess(pb.start(), port, log);
    }

    public record Health(int status, String body) {
        public boolean up() {
            return status == 200 && body.contains("\"status\": \"UP\"");
        }

        public boolean down() {
            return status == 503 && body.contains("\"status\": \"DOWN\"");
        }
    }

    /** GET /q/health/{live,ready}; status 0 while nothing answers. */
    public Health health(String which) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/q/health/" + which))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return new Health(r.statusCode(), r.body());
        } catch (Exception e) {
            return new Health(0, e.toString());
        }
    }

    /** Polls a health endpoint until {@code until} holds; fails with the log's tail when it does not within the timeout. */
    public Health awaitHealth(String which, Predicate<Health> until, Duration timeout) throws Exception {
        try {
            return Waits.await("/q/health/" + which).atMost(timeout)
                    .failFast("the service exited", () -> !process.isAlive())
                    .until(() -> health(which), until);
        } catch (Exception | Error e) {
            throw new AssertionError("/q/health/" + which + " is " + health(which) + " after " + e.getMessage()
                    + "; service log:\n" + tail(), e);
        }
    }

    /** Polls GET /q/metrics until it has the line {@code line} (e.g. {@code clipguard_pending_uploads 4.0}). */
    public String awaitMetric(String line, Duration timeout) {
        return Waits.bodyContains(http, URI.create("http://localhost:" + port + "/q/metrics"), "\n" + line + "\n", timeout);
    }

    /** The service's HTTP root, e.g. {@code http://localhost:41234/}. */
    public URI uri() {
        return URI.create("http://localhost:" + port + "/");
    }

    public String log() throws Exception {
        return Files.readString(log);
    }

    public String tail() throws Exception {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    }

    public Process process() {
        return process;
    }

    /** SIGTERM, as an orchestrator stops a container. */
    public void terminate() {
        process.destroy();
    }

    @Override
    public void close() throws Exception {
        process.destroyForcibly().waitFor();
    }
}
