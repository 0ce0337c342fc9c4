package io.clipguard.bench;

import io.clipguard.avro.DecisionLabel;
import io.clipguard.avro.HighScoreAlert;
import io.clipguard.avro.ModerationDecision;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.VerdictLabel;
import io.clipguard.console.security.UsersFile;
import io.clipguard.contracts.OutputRecords;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import io.clipguard.testing.ApicurioRegistry;
import io.clipguard.testing.DecisionRecords;
import io.clipguard.testing.KafkaBroker;
import io.clipguard.testing.QuietLogging;
import io.clipguard.testing.ServiceProcess;
import io.clipguard.testing.TempFiles;
import io.clipguard.testing.Waits;
import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Load harness for the moderators' console (docs/console.md, docs/benchmarks.md): N high-score alerts and their
 * verdicts (and decisions on a share of them) are written to the real topics of a real broker and registry; the
 * packaged service is started with only the console on (scoring idle), restores its global stores from those topics,
 * and is then asked for queue pages over HTTP by a logged-in user, one request at a time. Prints p50/p99/max per kind
 * of page: the first page, filters (uploader, a common and a rare head version, a probability range, reviewed and not)
 * and deep pages reached by following the "More" cursor, with the machine's load average.
 *
 * <p>Run: {@code tools/bench-console [--alerts 100000] [--requests 200] [--deep-pages 2000] [--uploaders 5000]
 * [--reviewed-share 0.02]}. Needs the packaged service ({@code ./mvnw package -DskipTests}; the script builds it).
 */
public final class ConsoleBenchmark {
    static final String MODEL = "clip-vit-l14";
    static final String PASSWORD = "bench-console-password";
    static final Pattern MORE = Pattern.compile("id=\"more\" href=\"([^\"]+)\"");
    static final Pattern ROW = Pattern.compile("<tr class=\"alert");

    public static void main(String[] args) throws Exception {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            System.out.println("""
                    usage: tools/bench-console [--alerts N] [--requests N] [--deep-pages N] [--uploaders N] [--reviewed-share F]
                      --alerts N          high-score alerts (and their verdicts) loaded through the topics (default 100000)
                      --requests N        requests per page kind (default 200)
                      --deep-pages N      pages followed through the "More" cursor from the first (default 2000)
                      --uploaders N       distinct uploaders the alerts are spread over (default 5000)
                      --reviewed-share F  share of alerts with a decision (default 0.02)""");
            return;
        }
        QuietLogging.apply();
        int alerts = Integer.parseInt(PipelineBenchmark.arg(args, "--alerts", "100000"));
        int requests = Integer.parseInt(PipelineBenchmark.arg(args, "--requests", "200"));
        int deepPages = Integer.parseInt(PipelineBenchmark.arg(args, "--deep-pages", "2000"));
        int uploaders = Integer.parseInt(PipelineBenchmark.arg(args, "--uploaders", "5000"));
        double reviewedShare = Double.parseDouble(PipelineBenchmark.arg(args, "--reviewed-share", "0.02"));
        if (!Files.isRegularFile(ServiceProcess.RUNNER)) {
            System.err.println(ServiceProcess.RUNNER + " is missing: build it with ./mvnw package -DskipTests (tools/bench-console does)");
            System.exit(2);
        }
        Path tmp = Files.createTempDirectory("bench-console");
        System.out.printf(Locale.ROOT, "load before: %s%n", loadAverage());
        try (KafkaBroker broker = KafkaBroker.start();
             ApicurioRegistry registry = ApicurioRegistry.start(tmp.resolve("registry.log"))) {
            broker.createTopics(4, Topics.Names.DEFAULT.all());
            long t0 = System.nanoTime();
            int decided = load(broker.bootstrapServers(), registry.url(), alerts, uploaders, reviewedShare);
            System.out.printf(Locale.ROOT, "loaded %,d alerts + %,d verdicts + %,d decisions into the topics in %.1f s%n",
                    alerts, alerts, decided, seconds(t0));

            Path users = tmp.resolve("users");
            Files.writeString(users, UsersFile.line("bench", Set.of("viewer", "metrics"), PASSWORD.toCharArray()) + "\n");
            long t1 = System.nanoTime();
            try (ServiceProcess console = ServiceProcess.start(broker.bootstrapServers(), registry.url(), tmp.resolve("state"),
                    tmp.resolve("console.log"), Map.of(
                            "CLIPGUARD_CONSOLE_ENABLED", "true",
                            "CLIPGUARD_CONSOLE_USERS_FILE", users.toString(),
                            "CLIPGUARD_CONSOLE_METRICS_REFRESH", "1s",
                            // Scoring stays idle: Quarkus waits for this topic before it starts the scoring streams.
                            "QUARKUS_KAFKA_STREAMS_TOPICS", "scoring-stays-idle-in-the-console-benchmark"))) {
                console.awaitMetric("clipguard_console_alerts_raised{head_version=\"head-v3\",model=\"" + MODEL + "\"} "
                        + String.format(Locale.ROOT, "%.1f", (double) rareHeadCount(alerts)), Duration.ofMinutes(15));
                awaitAllRaised(console, alerts);
                System.out.printf(Locale.ROOT, "console started and restored its stores (%,d alerts) in %.1f s%n", alerts, seconds(t1));
                run(console.uri(), alerts, uploaders, requests, deepPages);
            }
        } finally {
            TempFiles.deleteTree(tmp);
        }
        System.out.printf(Locale.ROOT, "load after: %s%n", loadAverage());
    }

    /** Head versions: head-v1 60 %, head-v2 39 %, head-v3 1 % (a rare filter: a page must scan far for its rows). */
    static String head(int i) {
        int r = Math.floorMod(i * 7919, 100);
        return r == 0 ? "head-v3" : r < 40 ? "head-v2" : "head-v1";
    }

    static long rareHeadCount(int alerts) {
        long n = 0;
        for (int i = 0; i < alerts; i++) if (head(i).equals("head-v3")) n++;
        return n;
    }

    /** Writes the alerts, their verdicts and decisions on a share of them; alert i is i seconds older than alert 0. */
    private static int load(String bootstrap, String registryUrl, int alerts, int uploaders, double reviewedShare) {
        OutputSchemas schemas = new OutputSchemas(registryUrl);
        Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "1",
                ProducerConfig.LINGER_MS_CONFIG, 20, ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        Random random = new Random(42);
        long now = Instant.now().toEpochMilli();
        int decided = 0;
        try (var verdicts = new KafkaProducer<>(props, new StringSerializer(), Topics.verdicts(Topics.VERDICTS, schemas).valueSerde().serializer());
             var alertsOut = new KafkaProducer<>(props, new StringSerializer(), Topics.alerts(Topics.ALERTS, schemas).valueSerde().serializer());
             DecisionRecords decisions = new DecisionRecords(bootstrap, registryUrl, Topics.DECISIONS)) {
            for (int i = 0; i < alerts; i++) {
                String uploadId = String.format("bench-%07d", i);
                long at = now - i * 1000L;
                ModerationVerdict v = ModerationVerdict.newBuilder().setUploadId(uploadId)
                        .setUploaderId("uploader-" + random.nextInt(uploaders)).setImageSha256("00").setLlr(3.0)
                        .setProbability(0.9 + 0.1 * random.nextDouble()).setLabel(VerdictLabel.SYNTHETIC).setThreshold(0)
                        .setModelId(MODEL).setHeadVersion(head(i)).setScoredAt(Instant.ofEpochMilli(at))
                        .setEndToEndLatencyMs(5).setSourcePartition(0).setSourceOffset(i).setDecodeMode("fast").build();
                verdicts.send(new ProducerRecord<>(Topics.VERDICTS, null, at, uploadId, v));
                HighScoreAlert alert = OutputRecords.alert(v, 0.9, Topics.VERDICTS);
                alertsOut.send(new ProducerRecord<>(Topics.ALERTS, null, at, uploadId, alert));
                if (random.nextDouble() < reviewedShare) {
                    ModerationDecision d = DecisionRecords.decision(uploadId,
                            random.nextBoolean() ? DecisionLabel.AI_GENERATED : DecisionLabel.REAL, null, Instant.ofEpochMilli(at + 60_000));
                    d.setHeadVersion(head(i));
                    d.setAlertKind("high-score");
                    decisions.send(d);
                    decided++;
                }
            }
            verdicts.flush();
            alertsOut.flush();
        }
        return decided;
    }

    private static void awaitAllRaised(ServiceProcess console, int alerts) {
        HttpClient http = HttpClient.newHttpClient();
        URI metrics = console.uri().resolve("/q/metrics");
        Waits.await("the console's stores hold all " + alerts + " alerts").atMost(Duration.ofMinutes(15)).until(() -> {
            // The console is on, so /q/metrics needs a user with the role metrics (the bench user has it), by Basic.
            String credentials = java.util.Base64.getEncoder().encodeToString(("bench:" + PASSWORD).getBytes(StandardCharsets.UTF_8));
            String body = http.send(HttpRequest.newBuilder(metrics).header("Authorization", "Basic " + credentials).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            return body.lines().filter(l -> l.startsWith("clipguard_console_alerts_raised{"))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum() >= alerts;
        });
    }

    /** One kind of page: how to make its i-th request's path. */
    private record Kind(String name, IntFunction<String> path) {}

    private static void run(URI base, int alerts, int uploaders, int requests, int deepPages) throws Exception {
        HttpClient http = HttpClient.newBuilder().cookieHandler(new CookieManager())
                .followRedirects(HttpClient.Redirect.NEVER).build();
        String form = "j_username=bench&j_password=" + URLEncoder.encode(PASSWORD, StandardCharsets.UTF_8);
        HttpResponse<String> login = http.send(HttpRequest.newBuilder(base.resolve("/j_security_check"))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (login.statusCode() != 302 || login.headers().firstValue("location").orElse("").contains("error")) {
            throw new IllegalStateException("login refused: " + login.statusCode() + " " + login.headers().map());
        }
        Random random = new Random(7);
        List<Kind> kinds = List.of(
                new Kind("first page", i -> "/console"),
                new Kind("uploader", i -> "/console?uploader=uploader-" + random.nextInt(uploaders)),
                new Kind("head (39 %)", i -> "/console?head=head-v2"),
                new Kind("head (1 %)", i -> "/console?head=head-v3"),
                new Kind("model + head", i -> "/console?model=" + MODEL + "&head=head-v1"),
                new Kind("p in [0.95, 0.96]", i -> "/console?pmin=0.95&pmax=0.96"),
                new Kind("reviewed", i -> "/console?reviewed=yes"),
                new Kind("not reviewed", i -> "/console?reviewed=no"),
                new Kind("decision AI", i -> "/console?decision=AI_GENERATED"));
        for (int i = 0; i < Math.min(requests, 100); i++) { // warm-up: JIT, RocksDB block cache
            get(http, base, kinds.get(i % kinds.size()).path().apply(i));
        }
        System.out.printf(Locale.ROOT, "%-20s %6s %8s %8s %8s %10s %14s%n", "page kind", "n", "p50 ms", "p99 ms", "max ms",
                "rows/page", "short pages");
        for (Kind kind : kinds) {
            Stats s = new Stats();
            for (int i = 0; i < requests; i++) {
                s.add(get(http, base, kind.path().apply(i)));
            }
            s.print(kind.name());
        }
        // Deep pages: follow "More" from the first page, as a moderator paging on would, up to deepPages pages.
        Stats deep = new Stats();
        String path = "/console";
        int pages = 0;
        long rows = 0;
        while (path != null && pages < deepPages) {
            Page p = get(http, base, path);
            deep.add(p);
            rows += p.rows;
            pages++;
            path = p.next;
        }
        deep.print("deep (cursor)");
        System.out.printf(Locale.ROOT, "deep paging: %d pages, %,d rows seen of %,d alerts%s%n", pages, rows, alerts,
                path == null ? " (reached the end)" : "");
    }

    record Page(long nanos, int rows, boolean shortPage, String next) {}

    private static Page get(HttpClient http, URI base, String path) throws Exception {
        long start = System.nanoTime();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
        long nanos = System.nanoTime() - start;
        if (r.statusCode() != 200) {
            throw new IllegalStateException(path + " answered " + r.statusCode() + ": " + r.body());
        }
        Matcher rows = ROW.matcher(r.body());
        int n = 0;
        while (rows.find()) n++;
        Matcher more = MORE.matcher(r.body());
        String next = more.find() ? more.group(1).replace("&amp;", "&") : null;
        return new Page(nanos, n, r.body().contains("searched so far"), next);
    }

    private static final class Stats {
        final List<Long> nanos = new ArrayList<>();
        long rows;
        int shortPages;

        void add(Page p) {
            nanos.add(p.nanos());
            rows += p.rows();
            if (p.shortPage()) shortPages++;
        }

        void print(String name) {
            long[] sorted = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
            System.out.printf(Locale.ROOT, "%-20s %6d %8.1f %8.1f %8.1f %10.1f %14d%n", name, sorted.length,
                    pct(sorted, 0.50) / 1e6, pct(sorted, 0.99) / 1e6, sorted[sorted.length - 1] / 1e6,
                    (double) rows / sorted.length, shortPages);
        }
    }

    private static long pct(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, Math.max(0, (int) Math.ceil(p * sorted.length) - 1))];
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    /** The 1, 5 and 15 minute load averages and the core count (the machine is shared). */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return String.format(Locale.ROOT, "load average %s %s %s on %d cores", f[0], f[1], f[2],
                    Runtime.getRuntime().availableProcessors());
        } catch (Exception e) {
            return "load average unknown (" + e.getMessage() + ")";
        }
    }
}
