package io.clipguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clipguard.avro.DecisionLabel;
import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.ModerationDecision;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.VerdictLabel;
import io.clipguard.console.security.UsersFile;
import io.clipguard.contracts.OutputRecords;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.avro.ScoringFailure;
import io.clipguard.contracts.Topics;
import io.clipguard.streams.RunningService;
import io.clipguard.streams.ServiceTestResources;
import io.clipguard.testing.DecisionRecords;
import io.clipguard.testing.TestClients;
import io.clipguard.testing.Waits;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.io.Reader;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The Prometheus alert rules and the Grafana dashboard name only series the service really exports: a running service
 * (Quarkus, real broker and registry) scores an upload and dead-letters a malformed one, then its /q/metrics is
 * scraped and every metric name and selector label in deploy/prometheus/alert-rules.yml and deploy/grafana/*.json is
 * looked up there. The console runs beside scoring, with an alert and a decision on it written to the topics, so the
 * console's gauges (its Grafana panels) are checked the same way.
 */
@QuarkusTest
@QuarkusTestResource(value = MonitoringFilesTest.WithConsole.class, restrictToAnnotatedClass = true)
class MonitoringFilesTest extends RunningService {
    /**
     * The service with the console on beside scoring, so that the console's gauges are exported too; /q/metrics then
     * needs the users file's metrics user, as Prometheus' basic_auth gives it.
     */
    public static class WithConsole extends ServiceTestResources {
        @Override
        public Map<String, String> start() {
            Map<String, String> config = new HashMap<>(super.start());
            try {
                Path users = Files.createTempFile("clipguard-monitoring-users", "");
                Files.writeString(users, UsersFile.line(SCRAPER, Set.of("metrics"), SCRAPER_PASSWORD.toCharArray()) + "\n");
                config.put("clipguard.console.users-file", users.toString());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            config.put("clipguard.console.enabled", "true");
            config.put("clipguard.console.metrics.refresh", "300ms");
            return config;
        }
    }

    static final String SCRAPER = "prometheus";
    static final String SCRAPER_PASSWORD = "monitoring-files-test-password";

    private static final Path ROOT = Path.of("").toAbsolutePath();
    private static final Path RULES = ROOT.resolve("deploy/prometheus/alert-rules.yml");
    private static final Path GRAFANA = ROOT.resolve("deploy/grafana");
    /** Series Prometheus records itself for every target, not exported by the service. */
    private static final Set<String> PROMETHEUS_OWN = Set.of("up");
    /** Labels Prometheus attaches at scrape time. */
    private static final Set<String> TARGET_LABELS = Set.of("job", "instance");

    @Test
    void everyMetricInTheAlertRulesAndDashboardsIsExported() throws Exception {
        awaitBody(ready, "\"status\": \"UP\"", Duration.ofSeconds(60));
        byte[] photo = Files.readAllBytes(Path.of("src/test/resources/golden/images/grace_hopper.jpg"));
        try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(bootstrap, registryUrl);
             KafkaProducer<byte[], byte[]> raw = TestClients.rawProducer(bootstrap)) {
            TestClients.send(producer, Topics.UPLOADS, "mon-1", TestClients.inline("mon-1", photo));
            TestClients.send(raw, Topics.UPLOADS, "mon-bad".getBytes(), "not an upload event".getBytes());
        }
        TestClients.readCommitted(bootstrap, Topics.DEAD_LETTER, TestClients.<ScoringFailure>avroReader(registryUrl),
                got -> !got.isEmpty(), Duration.ofSeconds(60));
        writeAReviewedAlert();
        awaitScrape("clipguard_console_generator_alerted_share{", Duration.ofSeconds(60));
        Map<String, Set<String>> exported = exportedLabelsByName(awaitScrape("clipguard_dead_letters_total{", Duration.ofSeconds(30)));

        Map<String, String> expressions = new LinkedHashMap<>(ruleExpressions());
        expressions.putAll(dashboardExpressions());
        assertThat(expressions).hasSizeGreaterThan(10);
        List<String> problems = new ArrayList<>();
        for (var e : expressions.entrySet()) {
            Map<String, Set<String>> used = selectors(e.getValue());
            assertThat(used).as("metrics in %s", e.getKey()).isNotEmpty();
            for (var selector : used.entrySet()) {
                String name = selector.getKey();
                if (PROMETHEUS_OWN.contains(name)) {
                    continue;
                }
                if (!exported.containsKey(name)) {
                    problems.add(e.getKey() + ": " + name + " is not exported");
                    continue;
                }
                for (String label : selector.getValue()) {
                    if (!TARGET_LABELS.contains(label) && !exported.get(name).contains(label)) {
                        problems.add(e.getKey() + ": " + name + " has no label " + label + " (it has " + exported.get(name) + ")");
                    }
                }
            }
        }
        assertThat(problems).as("metrics named in the monitoring files but not exported").isEmpty();
    }

    /** /q/metrics as Prometheus scrapes it (basic_auth), polled until it contains {@code expected}. */
    private String awaitScrape(String expected, Duration timeout) throws Exception {
        String credentials = Base64.getEncoder().encodeToString((SCRAPER + ":" + SCRAPER_PASSWORD).getBytes(StandardCharsets.UTF_8));
        HttpRequest scrape = HttpRequest.newBuilder(metrics.toURI()).header("Authorization", "Basic " + credentials)
                .timeout(Duration.ofSeconds(5)).build();
        return Waits.bodyContains(http, scrape, expected, timeout);
    }

    /** An alert (and its verdict) and a decision on it naming a generator, so every console gauge has a series. */
    private void writeAReviewedAlert() {
        ModerationVerdict verdict = ModerationVerdict.newBuilder().setUploadId("mon-console").setUploaderId("u")
                .setImageSha256("00").setLlr(3).setProbability(0.97).setLabel(VerdictLabel.SYNTHETIC).setThreshold(0)
                .setModelId("tiny-clip-test").setHeadVersion("mon-head").setScoredAt(Instant.now()).setEndToEndLatencyMs(1)
                .setSourcePartition(0).setSourceOffset(0).setDecodeMode("fast").build();
        OutputSchemas schemas = new OutputSchemas(registryUrl);
        Map<String, Object> props = Map.of("bootstrap.servers", bootstrap, "acks", "all");
        try (var alerts = new KafkaProducer<>(props, new StringSerializer(), Topics.alerts(Topics.ALERTS, schemas).valueSerde().serializer());
             DecisionRecords decisions = new DecisionRecords(bootstrap, registryUrl, Topics.DECISIONS)) {
            TestClients.send(alerts, Topics.ALERTS, "mon-console", OutputRecords.alert(verdict, 0.9, Topics.VERDICTS));
            ModerationDecision d = DecisionRecords.decision("mon-console", DecisionLabel.AI_GENERATED, "MonGen", Instant.now());
            d.setHeadVersion("mon-head");
            d.setAlertKind("high-score");
            decisions.send(d);
        }
    }

    @Test
    void theDashboardHasTheConsolePanels() throws IOException {
        assertThat(String.join("\n", dashboardExpressions().values()))
                .contains("clipguard_console_alert_precision{")
                .contains("clipguard_console_alerts_reviewed{")
                .contains("clipguard_console_alerts_confirmed{")
                .contains("clipguard_console_generator_confirmed{")
                .contains("clipguard_console_generator_alerted_share{");
    }

    @Test
    void theRulesCoverWhatOperatorsPageOn() throws IOException {
        Map<String, String> rules = ruleExpressions();
        assertThat(String.join("\n", rules.values()))
                .contains("clipguard_alerts_out_total")                        // high-score rate
                .contains("clipguard_burst_alerts_total")                      // uploader bursts
                .contains("sum by (reason) (rate(clipguard_dead_letters_total") // dead letters by reason
                .contains("kafka_consumer_fetch_manager_records_lag_max")      // consumer lag
                .contains("clipguard_engine_device{job=\"clipguard\", device=\"CPU\"}") // engine fell back to CPU
                .contains("kafka_stream_client_state");                        // readiness (Streams RUNNING)
    }

    @Test
    void theNameExtractorFindsMetricsNotFunctionsLabelsOrDurations() {
        assertThat(selectors("sum by (reason) (rate(clipguard_dead_letters_total{job=\"clipguard\", reason=~\"FETCH.*\"}[5m])) > 1e-3"))
                .isEqualTo(Map.of("clipguard_dead_letters_total", Set.of("job", "reason")));
        assertThat(selectors("histogram_quantile(0.99, sum by (le) (rate(a_bucket[$__rate_interval]))) / ignoring(x) group_left"
                + " clamp_min(sum(b_total offset 5m), 1) and on(instance) up == 0").keySet())
                .containsExactlyInAnyOrder("a_bucket", "b_total", "up");
    }

    /** Alert name → expression, from the rule file. */
    @SuppressWarnings("unchecked")
    static Map<String, String> ruleExpressions() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try (Reader reader = Files.newBufferedReader(RULES)) {
            Map<String, Object> file = new Yaml().load(reader);
            for (Object group : (List<Object>) file.get("groups")) {
                for (Object rule : (List<Object>) ((Map<String, Object>) group).get("rules")) {
                    Map<String, Object> r = (Map<String, Object>) rule;
                    assertThat(r).containsKeys("alert", "expr", "labels", "annotations");
                    assertThat((Map<String, Object>) r.get("annotations")).containsKeys("summary", "description");
                    out.put("rule " + r.get("alert"), String.valueOf(r.get("expr")));
                }
            }
        }
        return out;
    }

    /** "dashboard file / panel title / refId" → expression, from every dashboard JSON. */
    static Map<String, String> dashboardExpressions() throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try (var files = Files.list(GRAFANA)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                JsonNode dashboard = new ObjectMapper().readTree(file.toFile());
                for (JsonNode panel : dashboard.path("panels")) {
                    for (JsonNode target : panel.path("targets")) {
                        out.put(file.getFileName() + " / " + panel.path("title").asText() + " / " + target.path("refId").asText(),
                                target.path("expr").asText());
                    }
                }
            }
        }
        assertThat(out).as("dashboard queries under " + GRAFANA).isNotEmpty();
        return out;
    }

    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
            "bool", "and", "or", "unless", "offset", "inf", "nan");
    private static final Pattern SELECTOR = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*(\\{[^}]*})?");
    private static final Pattern LABEL_MATCHER = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)");

    /** Metric name → label names its selectors match on, in a PromQL expression. */
    static Map<String, Set<String>> selectors(String promql) {
        String s = promql.replaceAll("\\[[^]]*]", " ")                                  // range durations
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ") // label lists
                .replaceAll("\\boffset\\s+\\S+", " ")
                .replaceAll("(?<![a-zA-Z_:\\d])\\d+(\\.\\d+)?([eE][+-]?\\d+)?", " ");   // numbers
        Map<String, Set<String>> out = new TreeMap<>();
        Matcher m = SELECTOR.matcher(s);
        while (m.find()) {
            String name = m.group(1);
            String labels = m.group(2);
            int after = m.end();
            while (after < s.length() && s.charAt(after) == ' ') {
                after++;
            }
            boolean function = labels == null && after < s.length() && s.charAt(after) == '(';
            if (function || KEYWORDS.contains(name.toLowerCase())) {
                continue;
            }
            Set<String> names = out.computeIfAbsent(name, k -> new TreeSet<>());
            if (labels != null) {
                Matcher l = LABEL_MATCHER.matcher(labels.replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\""));
                while (l.find()) {
                    names.add(l.group(1));
                }
            }
        }
        return out;
    }

    /** Sample name → label names, from a Prometheus text exposition. */
    static Map<String, Set<String>> exportedLabelsByName(String exposition) {
        Map<String, Set<String>> out = new HashMap<>();
        for (String line : exposition.lines().toList()) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SELECTOR.matcher(line);
            if (m.lookingAt()) {
                Set<String> labels = out.computeIfAbsent(m.group(1), k -> new TreeSet<>());
                if (m.group(2) != null) {
                    Matcher l = LABEL_MATCHER.matcher(m.group(2).replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\""));
                    while (l.find()) {
                        labels.add(l.group(1));
                    }
                }
            }
        }
        return out;
    }
}
