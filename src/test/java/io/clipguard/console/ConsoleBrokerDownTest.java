package io.clipguard.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.avro.ModerationDecision;
import io.clipguard.testing.ApicurioRegistry;
import io.clipguard.testing.KafkaBroker;
import io.clipguard.testing.TestClients;
import io.clipguard.testing.Waits;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URL;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Nothing lost, nothing shown saved that is not: a decision POSTed while the broker is down either succeeds once the
 * broker is back within {@code decision-timeout} (and is then on the topic once), or is answered "Decision NOT saved"
 * (503, no success page); the same form submitted again once the broker is back writes exactly one record. The
 * broker is this test's own, really stopped and restarted (its logs kept) at the same address.
 */
@QuarkusTest
@QuarkusTestResource(value = ConsoleBrokerDownTest.Resources.class, restrictToAnnotatedClass = true)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrokerDownTest {
    // Long enough for a restart of the broker on a loaded machine (about 12 s seen here, 2 cores shared).
    static final Duration DECISION_TIMEOUT = Duration.ofSeconds(25);

    /** The console test's resources with a broker that can be stopped ({@code false}) and restarted ({@code true}). */
    public static class Resources extends ConsoleTestResources {
        @Override
        protected KafkaBroker startBroker() throws Exception {
            return KafkaBroker.start(ApicurioRegistry.freePort());
        }

        @Override
        protected Map<String, String> settings() {
            return Map.of("clipguard.console.decision-timeout", DECISION_TIMEOUT.toSeconds() + "s");
        }

        @Override
        public void inject(TestInjector injector) {
            // A JDK type: the test class is loaded by Quarkus' class loader, this resource's KafkaBroker may not be.
            Consumer<Boolean> brokerUp = up -> {
                try {
                    if (up) broker.restartBroker();
                    else broker.stopBroker();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            };
            injector.injectIntoFields(brokerUp, f -> f.getName().equals("brokerUp"));
        }
    }

    /** false stops the broker, true brings it back (set by {@link Resources#inject}). */
    Consumer<Boolean> brokerUp;

    @TestHTTPResource("/")
    URL root;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;
    @ConfigProperty(name = "clipguard.registry.url")
    String registryUrl;

    String uploadId;

    @BeforeAll
    void writeAnAlertedUpload() {
        uploadId = "down-" + TestClients.newId();
        ConsoleTestResources.writeVerdictAndAlert(bootstrap, registryUrl,
                ConsoleTestResources.verdict(uploadId, "uploader-down", 0.96, 0, 0), 0.9);
    }

    private ConsoleSession aliceOnTheUpload() throws Exception {
        ConsoleSession alice = new ConsoleSession(root.toURI());
        assertThat(alice.login("alice", ConsoleTestResources.PASSWORD).statusCode()).isEqualTo(302);
        Waits.await("the upload in the console's stores").until(() -> alice.get("/console/uploads/" + uploadId),
                r -> r.statusCode() == 200);
        return alice;
    }

    /** The records on moderation-decisions with this decision id (read once the broker is up). */
    private List<ModerationDecision> onTopic(String decisionId, int atLeast) {
        return TestClients.readCommitted(bootstrap, ConsoleTestResources.DECISIONS,
                        TestClients.<ModerationDecision>avroReader(registryUrl),
                        got -> got.stream().filter(r -> r.value().getDecisionId().equals(decisionId)).count() >= atLeast,
                        Duration.ofSeconds(30))
                .stream().map(r -> r.value()).filter(d -> d.getDecisionId().equals(decisionId)).toList();
    }

    @Test
    @Order(1)
    void aDecisionPostedWhileTheBrokerIsDownIsSavedOnceItReturnsWithinTheTimeout() throws Exception {
        ConsoleSession alice = aliceOnTheUpload();
        Map<String, String> form = ConsoleSession.decisionForm(alice.get("/console/uploads/" + uploadId).body(), "AI_GENERATED");
        brokerUp.accept(false);
        long start = System.nanoTime();
        CompletableFuture<HttpResponse<String>> post = CompletableFuture.supplyAsync(() -> {
            try {
                return alice.post("/console/uploads/" + uploadId + "/decision", form);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        brokerUp.accept(true); // takes seconds; the POST waits for the acknowledgement meanwhile
        HttpResponse<String> answer = post.get(DECISION_TIMEOUT.toSeconds() + 30, java.util.concurrent.TimeUnit.SECONDS);
        System.out.printf("decision POSTed with the broker down, answered %d after %d ms (broker restarted meanwhile)%n",
                answer.statusCode(), (System.nanoTime() - start) / 1_000_000);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(303);
        String saved = alice.get(answer.headers().firstValue("location").orElseThrow()).body();
        assertThat(saved).contains("Saved: AI-generated by alice");
        assertThat(onTopic(form.get("decisionId"), 1)).hasSize(1);
    }

    @Test
    @Order(2)
    void aDecisionNotAcknowledgedInTimeIsShownNotSavedAndItsResubmissionIsWrittenOnce() throws Exception {
        ConsoleSession alice = aliceOnTheUpload();
        Map<String, String> form = ConsoleSession.decisionForm(alice.get("/console/uploads/" + uploadId).body(), "REAL");
        brokerUp.accept(false);
        HttpResponse<String> failed;
        try {
            failed = alice.post("/console/uploads/" + uploadId + "/decision", form);
            assertThat(failed.statusCode()).isEqualTo(503);
            assertThat(failed.body()).contains("Decision NOT saved").doesNotContain("Saved:");
            assertThat(failed.headers().firstValue("location")).isEmpty();
            // The upload page, still served from the stores, shows no such decision.
            String page = alice.get("/console/uploads/" + uploadId + "?saved=" + form.get("decisionId")).body();
            assertThat(page).doesNotContain("Saved: Real");
        } finally {
            brokerUp.accept(true);
        }
        HttpResponse<String> again = alice.post("/console/uploads/" + uploadId + "/decision", form);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(303);
        assertThat(alice.get(again.headers().firstValue("location").orElseThrow()).body()).contains("Saved: Real by alice");
        // A third submission of the same form (a reload of the POST) writes nothing more.
        assertThat(alice.post("/console/uploads/" + uploadId + "/decision", form).statusCode()).isEqualTo(303);
        List<ModerationDecision> records = onTopic(form.get("decisionId"), 1);
        assertThat(records).hasSize(1);
        assertThat(records.get(0).getDecision().name()).isEqualTo("REAL");
    }
}
