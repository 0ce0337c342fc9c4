package io.clipguard.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.avro.ModerationDecision;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.contracts.Topics;
import io.clipguard.testing.TestClients;
import io.clipguard.testing.Waits;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The console as a moderator and as an attacker meet it, against a real broker and registry: the records it shows are
 * written to the real topics (an upload with its image, its verdict and alert), read back by the console's own Kafka
 * Streams stores; decisions are read back from moderation-decisions.
 */
@QuarkusTest
@QuarkusTestResource(value = ConsoleTestResources.class, restrictToAnnotatedClass = true)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class ConsoleTest {
    static final String SCRIPT_UPLOADER = "<script>alert('x')</script>";

    @TestHTTPResource("/")
    URL root;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;
    @ConfigProperty(name = "clipguard.registry.url")
    String registryUrl;
    @ConfigProperty(name = "quarkus.kafka-streams.application-id")
    String scoringApplicationId;

    byte[] photo;
    String uploadId;

    @BeforeAll
    void writeAnAlertedUpload() throws Exception {
        photo = Files.readAllBytes(Path.of("src/test/resources/golden/images/grace_hopper.jpg"));
        uploadId = "console-" + TestClients.newId();
        ConsoleTestResources.writeAlertedUpload(bootstrap, registryUrl, uploadId, SCRIPT_UPLOADER, photo, 0.97, 0.9);
    }

    private ConsoleSession loggedIn(String user) throws Exception {
        ConsoleSession s = new ConsoleSession(root.toURI());
        HttpResponse<String> login = s.login(user, ConsoleTestResources.PASSWORD);
        assertThat(login.statusCode()).isEqualTo(302);
        assertThat(login.headers().firstValue("location").orElse("")).endsWith("/console");
        return s;
    }

    private String uploadPage(ConsoleSession s) throws Exception {
        return Waits.await("the upload in the console's stores").until(() -> s.get("/console/uploads/" + uploadId),
                r -> r.statusCode() == 200).body();
    }

    @Test
    void everyRouteButHealthNeedsALogin() throws Exception {
        ConsoleSession anonymous = new ConsoleSession(root.toURI());
        for (String path : List.of("/console", "/console/dashboard", "/console/uploads/" + uploadId,
                "/console/uploads/" + uploadId + "/image", "/console/static/console.js")) {
            HttpResponse<String> r = anonymous.get(path);
            assertThat(r.statusCode()).as(path).isEqualTo(302);
            assertThat(r.headers().firstValue("location").orElse("")).as(path).endsWith("/login");
        }
        HttpResponse<String> post = anonymous.post("/console/uploads/" + uploadId + "/decision",
                Map.of("decision", "REAL", "decisionId", "00000000-0000-0000-0000-000000000000"));
        assertThat(post.statusCode()).isEqualTo(302);
        // Health answers without a login.
        assertThat(anonymous.get("/q/health/live").statusCode()).isEqualTo(200);
        assertThat(anonymous.get("/login").body()).contains("j_security_check");
    }

    @Test
    void theSessionCookieIsHttpOnlyAndSameSiteAndPagesCarryAStrictPolicy() throws Exception {
        ConsoleSession s = new ConsoleSession(root.toURI());
        HttpResponse<String> login = s.login("alice", ConsoleTestResources.PASSWORD);
        String cookie = login.headers().allValues("set-cookie").stream().filter(c -> c.startsWith("quarkus-credential="))
                .findFirst().orElseThrow();
        assertThat(cookie).containsIgnoringCase("HttpOnly").containsIgnoringCase("SameSite=Strict");
        HttpResponse<String> queue = s.get("/console");
        String csp = queue.headers().firstValue("content-security-policy").orElseThrow();
        assertThat(csp).contains("script-src 'self'").doesNotContain("unsafe-inline");
        // No inline script: every script element loads a file.
        assertThat(queue.body().split("<script")).allSatisfy(part -> assertThat(part.startsWith(">")).isFalse());
    }

    @Test
    void anUploaderIdCarryingScriptIsEscapedOnEveryPage() throws Exception {
        ConsoleSession s = loggedIn("alice");
        String upload = uploadPage(s);
        assertThat(upload).doesNotContain(SCRIPT_UPLOADER).contains("&lt;script&gt;alert(");
        String queue = Waits.await("the alert in the queue").until(() -> s.get("/console").body(), b -> b.contains(uploadId));
        assertThat(queue).doesNotContain(SCRIPT_UPLOADER).contains("&lt;script&gt;");
        assertThat(upload).contains("fast").contains("head-v2").contains("0.9700");
    }

    @Test
    void theImageIsTheUploadsBytesWithItsSniffedTypeAndNosniff() throws Exception {
        ConsoleSession s = loggedIn("vera");
        uploadPage(s);
        HttpResponse<byte[]> image = s.getBytes("/console/uploads/" + uploadId + "/image");
        assertThat(image.statusCode()).isEqualTo(200);
        assertThat(image.headers().firstValue("content-type").orElseThrow()).isEqualTo("image/jpeg");
        assertThat(image.headers().firstValue("x-content-type-options").orElseThrow()).isEqualTo("nosniff");
        assertThat(image.body()).isEqualTo(photo);
    }

    @Test
    void pathTraversalUploadIdsFindNothing() throws Exception {
        ConsoleSession s = loggedIn("alice");
        uploadPage(s);
        for (String path : List.of("/console/uploads/..%2F..%2F..%2Fetc%2Fpasswd", "/console/uploads/..%2F..%2F..%2Fetc%2Fpasswd/image",
                "/console/uploads/%2e%2e/image", "/console/uploads/" + "x".repeat(600))) {
            HttpResponse<String> r = s.get(path);
            assertThat(r.statusCode()).as(path).isIn(400, 404);
            assertThat(r.body()).as(path).doesNotContain("root:");
        }
    }

    @Test
    void aDecisionIsWrittenOnceThenCountedAndAViewerOrAForgedPostCannotDecide() throws Exception {
        ConsoleSession alice = loggedIn("alice");
        String page = uploadPage(alice);
        String path = "/console/uploads/" + uploadId + "/decision";

        // Without the CSRF token: refused, nothing written.
        Map<String, String> noToken = ConsoleSession.decisionForm(page, "REAL");
        noToken.remove("csrf-token");
        assertThat(alice.post(path, noToken).statusCode()).isIn(400, 403);

        // Another user's session with alice's token (a cross-site form carrying a leaked token): refused.
        ConsoleSession bob = loggedIn("bob");
        bob.get("/console/uploads/" + uploadId);
        assertThat(bob.post(path, ConsoleSession.decisionForm(page, "REAL")).statusCode()).isIn(400, 403);

        // A viewer, with her own valid token, cannot decide.
        ConsoleSession vera = loggedIn("vera");
        String veraPage = uploadPage(vera);
        assertThat(veraPage).doesNotContain("id=\"decide\"");
        Map<String, String> veraForm = ConsoleSession.decisionForm(page, "REAL");
        veraForm.put("csrf-token", ConsoleSession.csrfToken(veraPage));
        assertThat(vera.post(path, veraForm).statusCode()).isEqualTo(403);

        // Alice decides; the same form posted twice (a double click, a retry) writes one record.
        Map<String, String> form = ConsoleSession.decisionForm(page, "AI_GENERATED");
        form.put("generator", "NewGen <b>9</b>");
        form.put("note", "looks <i>synthetic</i>");
        HttpResponse<String> first = alice.post(path, form);
        HttpResponse<String> second = alice.post(path, form);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(303);
        assertThat(second.statusCode()).isEqualTo(303);
        String location = first.headers().firstValue("location").orElseThrow();
        HttpResponse<String> savedPage = alice.get(location);
        assertThat(savedPage.statusCode()).as(location + " " + savedPage.headers().map()).isEqualTo(200);
        String saved = savedPage.body();
        assertThat(saved).contains("Saved: AI-generated by alice").contains("NewGen &lt;b&gt;9&lt;/b&gt;")
                .contains("looks &lt;i&gt;synthetic&lt;/i&gt;");

        List<ModerationDecision> onTopic = TestClients.readCommitted(bootstrap, ConsoleTestResources.DECISIONS,
                        TestClients.<ModerationDecision>avroReader(registryUrl), got -> !got.isEmpty(), java.time.Duration.ofSeconds(30))
                .stream().map(r -> r.value()).toList();
        assertThat(onTopic).hasSize(1);
        ModerationDecision d = onTopic.get(0);
        assertThat(d.getUploadId()).isEqualTo(uploadId);
        assertThat(d.getReviewer()).isEqualTo("alice");
        assertThat(d.getHeadVersion()).isEqualTo("head-v2");
        assertThat(d.getAlertKind()).isEqualTo("high-score");
        assertThat(d.getGenerator()).isEqualTo("NewGen <b>9</b>");

        String dashboard = Waits.await("the dashboard counting the decision").until(() -> alice.get("/console/dashboard").body(),
                b -> b.contains("<td class=\"num confirmed\">1</td>"));
        assertThat(dashboard).contains("head-v2").contains("<td class=\"num reviewed\">1</td>").contains("1.00 (0.21–1.00)");

        // Changed: the latest counts, the history keeps both.
        String again = alice.get("/console/uploads/" + uploadId).body();
        assertThat(alice.post(path, ConsoleSession.decisionForm(again, "REAL")).statusCode()).isEqualTo(303);
        Waits.await("the changed decision counted").until(() -> alice.get("/console/dashboard").body(),
                b -> b.contains("<td class=\"num confirmed\">0</td>") && b.contains("<td class=\"num reviewed\">1</td>"));
        String history = alice.get("/console/uploads/" + uploadId).body();
        assertThat(history).contains("<b>Real</b>").contains("<b>AI-generated</b>");
    }

    /**
     * The dashboard's Prometheus gauges (read from the stores' counters) move with a decision made through the page,
     * and a changed decision moves them back: the counters follow the latest decision per upload.
     */
    @Test
    void theDashboardGaugesMoveWithDecisions() throws Exception {
        String id = "gauge-" + TestClients.newId();
        ModerationVerdict v = ConsoleTestResources.verdict(id, "gauge-uploader", 0.95, 0, 0);
        v.setHeadVersion("head-gauges");
        ConsoleTestResources.writeVerdictAndAlert(bootstrap, registryUrl, v, 0.9);
        ConsoleSession alice = loggedIn("alice");
        ConsoleSession prometheus = new ConsoleSession(root.toURI());
        String head = "{head_version=\"head-gauges\",model=\"tiny-clip-test\"}";
        String generator = "{generator=\"GaugeGen " + id + "\"}";
        Waits.await("the new head's gauges").until(() -> scrape(prometheus),
                m -> Double.valueOf(1.0).equals(gauge(m, "clipguard_console_alerts_raised" + head)));
        String before = scrape(prometheus);
        assertThat(gauge(before, "clipguard_console_alerts_reviewed" + head)).isEqualTo(0.0);
        assertThat(gauge(before, "clipguard_console_alert_precision" + head)).isNaN();

        String page = Waits.await("the upload in the console's stores").until(() -> alice.get("/console/uploads/" + id),
                r -> r.statusCode() == 200).body();
        Map<String, String> form = ConsoleSession.decisionForm(page, "AI_GENERATED");
        form.put("generator", "GaugeGen " + id);
        assertThat(alice.post("/console/uploads/" + id + "/decision", form).statusCode()).isEqualTo(303);
        String after = Waits.await("the gauges counting the decision").until(() -> scrape(prometheus),
                m -> Double.valueOf(1.0).equals(gauge(m, "clipguard_console_alerts_confirmed" + head)));
        assertThat(gauge(after, "clipguard_console_alerts_raised" + head)).isEqualTo(1.0);
        assertThat(gauge(after, "clipguard_console_alerts_reviewed" + head)).isEqualTo(1.0);
        assertThat(gauge(after, "clipguard_console_alert_precision" + head)).isEqualTo(1.0);
        assertThat(gauge(after, "clipguard_console_alert_precision_low" + head)).isBetween(0.20, 0.21); // Wilson, 1 of 1
        assertThat(gauge(after, "clipguard_console_alert_precision_high" + head)).isEqualTo(1.0);
        assertThat(gauge(after, "clipguard_console_generator_confirmed" + generator)).isEqualTo(1.0);
        assertThat(gauge(after, "clipguard_console_generator_alerted_share" + generator)).isEqualTo(1.0);

        // Changed to real: still reviewed, no longer confirmed, and the generator counts it no more.
        String again = alice.get("/console/uploads/" + id).body();
        assertThat(alice.post("/console/uploads/" + id + "/decision", ConsoleSession.decisionForm(again, "REAL")).statusCode())
                .isEqualTo(303);
        String changed = Waits.await("the gauges following the changed decision").until(() -> scrape(prometheus),
                m -> Double.valueOf(0.0).equals(gauge(m, "clipguard_console_alerts_confirmed" + head)));
        assertThat(gauge(changed, "clipguard_console_alerts_reviewed" + head)).isEqualTo(1.0);
        assertThat(gauge(changed, "clipguard_console_alert_precision" + head)).isEqualTo(0.0);
        assertThat(gauge(changed, "clipguard_console_generator_confirmed" + generator)).isEqualTo(0.0);
    }

    /** /q/metrics as Prometheus scrapes it: basic_auth with the users file's metrics user. */
    private static String scrape(ConsoleSession prometheus) throws Exception {
        HttpResponse<String> r = prometheus.getWithBasic("/q/metrics", ConsoleTestResources.METRICS_USER, ConsoleTestResources.PASSWORD);
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    /**
     * With the console on, /q/metrics holds generator names moderators typed: it needs HTTP Basic credentials of a user
     * with the role metrics. No credentials get 401 (not the login form), a reviewer 403; the metrics user
     * gets the console's gauges but no console page. The pages still send a browser to the login form, not to a Basic
     * prompt, and health stays open.
     */
    @Test
    void metricsNeedTheMetricsUserAndThePagesKeepTheLoginForm() throws Exception {
        ConsoleSession anonymous = new ConsoleSession(root.toURI());
        HttpResponse<String> noCredentials = anonymous.get("/q/metrics");
        assertThat(noCredentials.statusCode()).isEqualTo(401);
        // No WWW-Authenticate: with form login on, Quarkus runs Basic silently (Prometheus sends basic_auth up front),
        // so no browser is ever prompted for, and caches, Basic credentials for this origin.
        assertThat(noCredentials.headers().firstValue("www-authenticate")).isEmpty();
        assertThat(noCredentials.body()).doesNotContain("clipguard_");

        HttpResponse<String> reviewer = anonymous.getWithBasic("/q/metrics", "alice", ConsoleTestResources.PASSWORD);
        assertThat(reviewer.statusCode()).isEqualTo(403);
        assertThat(reviewer.body()).doesNotContain("clipguard_");
        // One wrong password (it counts against this address in the login throttle, so only one).
        assertThat(anonymous.getWithBasic("/q/metrics", ConsoleTestResources.METRICS_USER, "wrong").statusCode()).isEqualTo(401);

        assertThat(Waits.await("the console's gauges").until(() -> scrape(anonymous), m -> m.contains("clipguard_console_alerts_raised{")))
                .contains("clipguard_console_alerts_raised{head_version=\"head-v2\"");
        // Pages take only the form: Basic credentials, even valid ones, get the login page, not the console.
        HttpResponse<String> basicOnPage = anonymous.getWithBasic("/console", ConsoleTestResources.METRICS_USER,
                ConsoleTestResources.PASSWORD);
        assertThat(basicOnPage.statusCode()).isEqualTo(302);
        assertThat(basicOnPage.headers().firstValue("location").orElse("")).endsWith("/login");
        HttpResponse<String> reviewerBasicOnPage = anonymous.getWithBasic("/console", "alice", ConsoleTestResources.PASSWORD);
        assertThat(reviewerBasicOnPage.statusCode()).isEqualTo(302);
        // The metrics user sees no console page when it logs in through the form either.
        ConsoleSession metricsBrowser = new ConsoleSession(root.toURI());
        metricsBrowser.login(ConsoleTestResources.METRICS_USER, ConsoleTestResources.PASSWORD);
        assertThat(metricsBrowser.get("/console").statusCode()).isEqualTo(403);

        // A page without a session: the login form, no Basic challenge.
        for (String path : List.of("/console", "/console/dashboard")) {
            HttpResponse<String> page = anonymous.get(path);
            assertThat(page.statusCode()).as(path).isEqualTo(302);
            assertThat(page.headers().firstValue("location").orElse("")).as(path).endsWith("/login");
            assertThat(page.headers().firstValue("www-authenticate")).as(path).isEmpty();
        }
        HttpResponse<String> health = anonymous.get("/q/health/live");
        assertThat(health.statusCode()).isIn(200, 503); // answered, not refused (DOWN here: scoring stays idle)
        assertThat(health.body()).contains("\"status\"");
    }

    /** A sample's value in a Prometheus text exposition ({@code name{labels}} exactly as exported); null when absent. */
    static Double gauge(String exposition, String series) {
        return exposition.lines().filter(l -> l.startsWith(series + " ")).findFirst()
                .map(l -> Double.valueOf(l.substring(series.length() + 1).strip())).orElse(null);
    }

    /**
     * This instance runs with clipguard.scoring.enabled=false: the upload written before the tests was never consumed
     * (its only answer is the verdict the test wrote), no consumer group of the scoring application exists, no model
     * was loaded, and health is UP saying scoring is off, with readiness that of the console's stores.
     */
    @Test
    // Next to last (the login throttling test locks logins out): scoring, were it running, has had the class to answer.
    @org.junit.jupiter.api.Order(Integer.MAX_VALUE - 1)
    void withScoringOffNothingConsumesUploadsWhileTheConsoleServes() throws Exception {
        assertThat(uploadPage(loggedIn("vera"))).contains(uploadId);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            List<String> groups = admin.listConsumerGroups().all().get(30, TimeUnit.SECONDS).stream()
                    .map(ConsumerGroupListing::groupId).toList();
            assertThat(groups).as("consumer groups on the broker").doesNotContain(scoringApplicationId)
                    .noneMatch(g -> g.startsWith(scoringApplicationId) && !g.endsWith("-console"));
        }
        assertThat(TestClients.answerCounts(bootstrap, registryUrl, Topics.Names.DEFAULT))
                .as("answers per upload: only the verdict the test wrote").containsEntry(uploadId, 1);
        ConsoleSession anonymous = new ConsoleSession(root.toURI());
        HttpResponse<String> ready = anonymous.get("/q/health/ready");
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
        assertThat(ready.body()).contains("clipguard-console").contains("\"stores\": \"serving\"")
                .contains("clipguard.scoring.enabled=false").doesNotContain("Kafka Streams state health check");
        HttpResponse<String> live = anonymous.get("/q/health/live");
        assertThat(live.statusCode()).as(live.body()).isEqualTo(200);
        assertThat(live.body()).contains("clipguard-streams").contains("clipguard.scoring.enabled=false");
        // The detectors were never opened: they register these meters when they are.
        assertThat(anonymous.get("/q/metrics").body()).doesNotContain("clipguard_engine_device")
                .doesNotContain("clipguard_inference_batch_size");
    }

    @Test
    @org.junit.jupiter.api.Order(Integer.MAX_VALUE) // last: it locks the test's address out of logging in
    void loginsAreThrottledAfterRepeatedFailures() throws Exception {
        ConsoleSession s = new ConsoleSession(root.toURI());
        for (int i = 0; i < 5; i++) {
            assertThat(s.login("throttled", "wrong-" + i).headers().firstValue("location").orElse("")).contains("error");
        }
        // The address is now locked out too: even a right password of another user is refused for a while.
        assertThat(s.login("alice", ConsoleTestResources.PASSWORD).headers().firstValue("location").orElse("")).contains("error");
    }
}
