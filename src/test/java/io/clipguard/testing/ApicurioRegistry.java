package io.clipguard.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The real Apicurio Registry 3.3.3 server (io.apicurio:apicurio-registry-app, unpacked by the build into
 * target/apicurio-registry) started as a child process on a free loopback port, in-memory storage.
 */
public final class ApicurioRegistry implements AutoCloseable {
    private final Process process;
    private final int port;
    /** Stops the child when the JVM ends without close() (a benchmark stopped with SIGTERM, a crash in a harness). */
    private final Thread stopOnExit;

    private ApicurioRegistry(Process process, int port) {
        this.process = process;
        this.port = port;
        this.stopOnExit = new Thread(process::destroyForcibly, "apicurio-registry-stop");
        Runtime.getRuntime().addShutdownHook(stopOnExit);
    }

    public static ApicurioRegistry start(Path logFile) throws Exception {
        return start(logFile, freePort());
    }

    /** Starts it on a given port (a test that asked the registry before it was there). */
    public static ApicurioRegistry start(Path logFile, int port) throws Exception {
        Path home = Path.of(System.getProperty("apicurio.home", "target/apicurio-registry")).toAbsolutePath();
        Path runner = home.resolve("quarkus-run.jar");
        if (!Files.isRegularFile(runner)) {
            throw new IllegalStateException(runner + " is missing: run the tests through Maven (./mvnw verify), which unpacks "
                    + "io.apicurio:apicurio-registry-app:tar.gz:all there");
        }
        int managementPort = freePort();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx512m", "-jar", runner.toString())
                .directory(home.toFile())
                .redirectErrorStream(true)
                .redirectOutput(logFile.toFile());
        pb.environment().put("QUARKUS_HTTP_HOST", "127.0.0.1");
        pb.environment().put("QUARKUS_HTTP_PORT", String.valueOf(port));
        pb.environment().put("QUARKUS_MANAGEMENT_HOST", "127.0.0.1");
        pb.environment().put("QUARKUS_MANAGEMENT_PORT", String.valueOf(managementPort));
        ApicurioRegistry registry = new ApicurioRegistry(pb.start(), port);
        registry.awaitReady(Duration.ofSeconds(90), logFile);
        return registry;
    }

    private void awaitReady(Duration timeout, Path logFile) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        URI subjects = URI.create(ccompatUrl() + "/subjects");
        try {
            Waits.await("Apicurio Registry answers on " + url() + " (log: " + logFile + ")").atMost(timeout)
                    .failFast("Apicurio Registry exited; see " + logFile, () -> !process.isAlive())
                    .ignoreExceptionsInstanceOf(IOException.class) // still starting
                    .until(() -> http.send(HttpRequest.newBuilder(subjects).build(), HttpResponse.BodyHandlers.ofString())
                            .statusCode() == 200);
        } catch (Exception | Error e) { // Awaitility rethrows the condition's checked exceptions as they are
            close();
            throw e;
        }
    }

    /** Root URL, as clipguard.registry.url takes it. */
    public String url() {
        return "http://127.0.0.1:" + port;
    }

    /** Base URL of the Confluent-compatible API that Confluent clients are pointed at. */
    public String ccompatUrl() {
        return url() + "/apis/ccompat/v7";
    }

    /**
     * One call to the Confluent-compatible API, as a Confluent client makes it.
     *
     * @param path under {@link #ccompatUrl()}, e.g. {@code /config/image-uploads-value}
     * @param body a JSON body, or null for none
     */
    public HttpResponse<String> ccompat(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(ccompatUrl() + path))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(stopOnExit);
        } catch (IllegalStateException shuttingDown) {
            // closed from another shutdown hook: the hook runs anyway and finds the process gone
        }
    }
}
