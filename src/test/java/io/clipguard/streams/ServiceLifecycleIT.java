package io.clipguard.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.contracts.Topics;
import io.clipguard.testing.ApicurioRegistry;
import io.clipguard.testing.KafkaBroker;
import io.clipguard.testing.ServiceProcess;
import io.clipguard.testing.TestClients;
import io.clipguard.testing.Waits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged service (as deployed: its own JVM, settings from the environment) when its topics or its broker go
 * wrong: it refuses bad topics with one message and DOWN health, stops when its cluster is replaced under it without
 * recreating a single topic, and ends within its shutdown bound after SIGTERM even when the broker is gone.
 */
class ServiceLifecycleIT {
    /** Short, so that the bound (drain + close) keeps the test short; the defaults are 10 s + 5 s. */
    static final Duration DRAIN = Duration.ofSeconds(3);
    static final Duration CLOSE = Duration.ofSeconds(4);
    static final Duration BOUND = DRAIN.plus(CLOSE);

    @TempDir
    static Path tmp;
    static ApicurioRegistry registry;

    @BeforeAll
    static void startRegistry() throws Exception {
        registry = ApicurioRegistry.start(tmp.resolve("registry.log"));
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        if (registry != null) registry.close();
    }

    static ServiceProcess start(KafkaBroker broker, String name, Map<String, String> env) throws Exception {
        Map<String, String> settings = new java.util.HashMap<>(Map.of(
                "QUARKUS_KAFKA_STREAMS_APPLICATION_ID", name,
                "CLIPGUARD_SHUTDOWN_DRAIN_TIMEOUT", DRAIN.toSeconds() + "s",
                "CLIPGUARD_SHUTDOWN_CLOSE_TIMEOUT", CLOSE.toSeconds() + "s",
                "CLIPGUARD_TOPIC_CHECK_INTERVAL", "1s"));
        settings.putAll(env);
        return ServiceProcess.start(broker.bootstrapServers(), registry.url(), tmp.resolve(name + "-state"),
                tmp.resolve(name + ".log"), settings);
    }

    @Test
    void aChangelogWithOnePartitionIsRefusedWithOneMessageAndHealthIsDown() throws Exception {
        try (KafkaBroker broker = KafkaBroker.start()) {
            broker.createTopics(2, Topics.Names.DEFAULT.all());
            broker.createTopics(new NewTopic("refuse-pending-uploads-changelog", 1, (short) 1)
                    .configs(Map.of("cleanup.policy", "compact")));
            try (ServiceProcess service = start(broker, "refuse", Map.of())) {
                ServiceProcess.Health live = service.awaitHealth("live", ServiceProcess.Health::down, Duration.ofSeconds(120));
                assertThat(live.body()).contains("refuse-pending-uploads-changelog: expected 2 partitions")
                        .contains("found 1 partitions")
                        .contains("kafka-topics.sh --bootstrap-server " + broker.bootstrapServers()
                                + " --delete --topic refuse-pending-uploads-changelog")
                        .contains("kafka-streams-application-reset.sh");
                // Readiness also builds the live-head check on its first call (reading detector-heads), so poll it.
                service.awaitHealth("ready", ServiceProcess.Health::down, Duration.ofSeconds(60));
                String log = service.log();
                assertThat(log).containsOnlyOnce("clipguard refuses to start: its topics are not what its topology needs");
                // Kafka Streams never ran, so nothing reached its own internal-topic validation or its exception handler.
                assertThat(log).doesNotContain("Existing internal topic").doesNotContain("SHUTDOWN_CLIENT")
                        .doesNotContain("Exception");
                // No internal topic was created beside the bad one.
                assertThat(broker.topics()).filteredOn(t -> t.startsWith("refuse-")).containsExactly("refuse-pending-uploads-changelog");
                service.terminate();
                assertThat(service.process().waitFor(BOUND.toSeconds() + 5, TimeUnit.SECONDS)).isTrue();
            }
        }
    }

    @Test
    void aBrokerReplacedByAnEmptyOneStopsTheServiceWithoutRecreatingAnyTopic() throws Exception {
        int port = freePort();
        KafkaBroker first = KafkaBroker.start(port);
        ServiceProcess service = null;
        try {
            first.createTopics(2, Topics.Names.DEFAULT.all());
            service = start(first, "replaced", Map.of());
            service.awaitHealth("ready", ServiceProcess.Health::up, Duration.ofSeconds(120));
            scoreOne(first, "before-the-replacement");
            // Kafka Streams' global consumer warned this once per detector-heads partition at every start (the logger
            // is set to ERROR in application.properties).
            assertThat(service.log()).doesNotContain("Not updating last stable offset");

            first.close();
            first = null;
            try (KafkaBroker empty = KafkaBroker.start(port)) {
                // Kafka Streams' own state check can turn liveness DOWN (PENDING_SHUTDOWN) a moment before clipguard's
                // check has written why: wait for the reason, not just for DOWN.
                ServiceProcess.Health live = service.awaitHealth("live", h -> h.down()
                        && h.body().contains("clipguard stops: its topics changed while it ran"), Duration.ofSeconds(90));
                assertThat(live.body()).contains("clipguard stops: its topics changed while it ran")
                        .contains("a different cluster answers at the same address")
                        .contains(Topics.UPLOADS + ": expected an existing topic");
                assertThat(service.health("ready").down()).isTrue();
                // Nothing happening is the point: for 5 s any client of the stopped service has time to (wrongly)
                // ask for a topic, and the new cluster must hold none of ours all along.
                Waits.await("no topic of ours on the new cluster").during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(30))
                        .until(empty::topics, topics -> topics.stream().allMatch(t -> t.startsWith("__")));
                assertThat(service.log()).containsOnlyOnce("clipguard stops: its topics changed while it ran");
                service.terminate();
                assertThat(service.process().waitFor(BOUND.toSeconds() + 5, TimeUnit.SECONDS)).isTrue();
            }
        } finally {
            if (service != null) service.close();
            if (first != null) first.close();
        }
    }

    @Test
    void sigtermEndsTheServiceWithinItsBoundWhenTheBrokerIsGone() throws Exception {
        KafkaBroker broker = KafkaBroker.start();
        broker.createTopics(2, Topics.Names.DEFAULT.all());
        try (ServiceProcess service = start(broker, "sigterm",
                // Uploads wait in their batch, so that the drain at SIGTERM scores them and opens a transaction that
                // can never commit: Kafka Streams' close then waits on the producer, which used to wait forever.
                Map.of("CLIPGUARD_ENGINE_MAX_QUEUE_DELAY", "60s"))) {
            service.awaitHealth("ready", ServiceProcess.Health::up, Duration.ofSeconds(120));
            byte[] photo = Files.readAllBytes(Path.of("src/test/resources/golden/images/flower.jpg"));
            try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(broker.bootstrapServers(), registry.url())) {
                for (int i = 0; i < 4; i++) {
                    TestClients.send(producer, Topics.UPLOADS, "waiting-" + i, TestClients.inline("waiting-" + i, photo));
                }
            }
            service.awaitMetric("clipguard_pending_uploads 4.0", Waits.TIMEOUT); // consumed into the pending store
            broker.close();
            broker = null;

            long start = System.nanoTime();
            service.terminate();
            boolean exited = service.process().waitFor(BOUND.toSeconds() + 3, TimeUnit.SECONDS);
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            System.out.printf("SIGTERM without a broker: exited=%s after %d ms (bound %s), exit status %s, %s%n", exited,
                    took.toMillis(), BOUND, exited ? service.process().exitValue() : "-",
                    service.log().contains("halting the JVM") ? "halted by the shutdown deadline" : "closed within the bound");
            assertThat(exited).as("exited within %s + 3 s; log:\n%s", BOUND, exited ? "" : service.tail()).isTrue();
        } finally {
            if (broker != null) broker.close();
        }
    }

    private static void scoreOne(KafkaBroker broker, String id) throws Exception {
        byte[] photo = Files.readAllBytes(Path.of("src/test/resources/golden/images/grace_hopper.jpg"));
        try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(broker.bootstrapServers(), registry.url())) {
            TestClients.send(producer, Topics.UPLOADS, id, TestClients.inline(id, photo));
        }
        var verdicts = TestClients.readCommitted(broker.bootstrapServers(), Topics.VERDICTS,
                TestClients.<ModerationVerdict>avroReader(registry.url()),
                got -> got.stream().anyMatch(r -> r.value().getUploadId().equals(id)), Duration.ofSeconds(60));
        assertThat(verdicts).extracting(r -> r.value().getUploadId()).contains(id);
    }

    private static int freePort() throws Exception {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
