package io.clipguard.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.ScoringFailure;
import io.clipguard.testing.ApicurioRegistry;
import io.clipguard.testing.BrokerAndRegistry;
import io.clipguard.testing.KafkaBroker;
import io.clipguard.testing.ModerationPipeline;
import io.clipguard.testing.TestClients;
import io.clipguard.testing.Waits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An engine that cannot run (shut down, device failure) is not the upload's fault: the upload must not be
 * dead-lettered. Its batch's transaction aborts, the upload is consumed again, and the next instance scores it once.
 */
class EngineOutageTest {
    // One broker and registry for both tests: each uses topics and an application id of its own.
    @RegisterExtension
    static final BrokerAndRegistry kafka = new BrokerAndRegistry();

    @TempDir
    Path tmp;

    @Test
    void uploadsWaitThroughAnEngineOutageInsteadOfBeingDeadLettered() throws Exception {
        byte[] photo = Files.readAllBytes(Path.of("src/test/resources/golden/images/china.jpg"));
        KafkaBroker broker = kafka.broker();
        ApicurioRegistry registry = kafka.registry();
        ModerationTopology.Settings s = ModerationPipeline.settings("-outage", 4, Duration.ofMillis(50), 0.9);
        ModerationPipeline first = startWithTheEngineGone(broker, registry, "outage", s);
        try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(broker.bootstrapServers(), registry.url())) {
            TestClients.send(producer, s.topics().uploads(), "during-outage", TestClients.inline("during-outage", photo));
        }
        awaitBatchFailed(first, 1);
        assertThat(TestClients.readAllCommitted(broker.bootstrapServers(), s.topics().deadLetter(),
                TestClients.<ScoringFailure>avroReader(registry.url()))).isEmpty();
        assertThat(TestClients.readAllCommitted(broker.bootstrapServers(), s.topics().verdicts(),
                TestClients.<ModerationVerdict>avroReader(registry.url()))).isEmpty();
        first.close();

        try (ModerationPipeline second = instance(broker, registry, "outage", "state-2", s)) {
            awaitAnswers(broker, registry, second, "outage", s, 1);
            var verdicts = TestClients.readAllCommitted(broker.bootstrapServers(), s.topics().verdicts(),
                    TestClients.<ModerationVerdict>avroReader(registry.url()));
            assertThat(verdicts).extracting(r -> r.value().getUploadId()).containsExactly("during-outage");
        }
    }

    /**
     * Alert rules page on the verdict and dead-letter counters, so they count committed outcomes once. A batch holds a
     * malformed record (a dead letter without the engine) and a photo; the engine is down, so the batch aborts. Neither
     * outcome may be counted by the instance whose batch aborted; the instance that commits them counts each once.
     */
    @Test
    void countersCountCommittedOutcomesOnceThroughAnOutage() throws Exception {
        byte[] photo = Files.readAllBytes(Path.of("src/test/resources/golden/images/china.jpg"));
        KafkaBroker broker = kafka.broker();
        ApicurioRegistry registry = kafka.registry();
        // Batches of two with a long wait: the malformed record and the photo are scored as one batch.
        ModerationTopology.Settings s = ModerationPipeline.settings("-outage-count", 2, Duration.ofSeconds(30), 0.9);
        ModerationPipeline first = startWithTheEngineGone(broker, registry, "outage-count", s);
        try (KafkaProducer<byte[], byte[]> raw = TestClients.rawProducer(broker.bootstrapServers());
             KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(broker.bootstrapServers(), registry.url())) {
            TestClients.send(raw, s.topics().uploads(), "malformed".getBytes(), "not avro".getBytes());
            TestClients.send(producer, s.topics().uploads(), "photo", TestClients.inline("photo", photo));
        }
        awaitBatchFailed(first, 2);
        assertThat(TestClients.readAllCommitted(broker.bootstrapServers(), s.topics().deadLetter(),
                TestClients.<ScoringFailure>avroReader(registry.url()))).isEmpty();
        first.close(); // its counters stay as they are from here on
        assertThat(first.counted("clipguard.dead.letters")).as("dead letters counted by the aborted batch").isZero();
        assertThat(first.counted("clipguard.verdicts.out")).as("verdicts counted by the aborted batch").isZero();

        try (ModerationPipeline second = instance(broker, registry, "outage-count", "state-2", s)) {
            awaitAnswers(broker, registry, second, "outage-count", s, 2);
            var verdicts = TestClients.readAllCommitted(broker.bootstrapServers(), s.topics().verdicts(),
                    TestClients.<ModerationVerdict>avroReader(registry.url()));
            var deadLetters = TestClients.readAllCommitted(broker.bootstrapServers(), s.topics().deadLetter(),
                    TestClients.<ScoringFailure>avroReader(registry.url()));
            assertThat(verdicts).extracting(r -> r.value().getUploadId()).containsExactly("photo");
            assertThat(deadLetters).extracting(r -> r.value().getReason().name()).containsExactly("MALFORMED_EVENT");
            assertThat(second.counted("clipguard.verdicts.out")).isEqualTo(1);
            assertThat(second.counted("clipguard.dead.letters", "reason", "MALFORMED_EVENT")).isEqualTo(1);
            assertThat(second.counted("clipguard.dead.letters")).isEqualTo(1);
        }
    }

    /**
     * Until the instance consumed the batch of {@code uploads} and a stream thread died on it: the batch was tried with
     * the engine gone and its transaction aborted. The replacement thread may consume the batch again meanwhile.
     */
    private static void awaitBatchFailed(ModerationPipeline instance, int uploads) {
        Waits.await("the batch consumed and its stream thread dead").until(
                () -> instance.counted("clipguard.records.in") >= uploads && instance.threadDeaths() >= 1);
    }

    /**
     * Until {@code answers} verdicts and dead letters are readable, the instance committed the whole input and nothing
     * waits in it: no further answer can come, so a read now sees a doubled one.
     */
    private static void awaitAnswers(KafkaBroker broker, ApicurioRegistry registry, ModerationPipeline instance,
                                     String applicationId, ModerationTopology.Settings s, int answers) {
        TestClients.answerCounts(broker.bootstrapServers(), registry.url(), s.topics(),
                got -> got.values().stream().mapToInt(Integer::intValue).sum() >= answers, Waits.TIMEOUT);
        Waits.committedToEnd(broker.bootstrapServers(), applicationId, s.topics().uploads());
        Waits.await("no upload pending").until(() -> instance.metrics().pending(), pending -> pending == 0);
    }

    /** Creates the topics and starts an instance, then closes its engine: the device is gone. */
    private ModerationPipeline startWithTheEngineGone(KafkaBroker broker, ApicurioRegistry registry, String applicationId,
                                                      ModerationTopology.Settings s) throws Exception {
        broker.createTopics(1, s.topics().all());
        ModerationPipeline pipeline = instance(broker, registry, applicationId, "state-1", s);
        pipeline.engine().close();
        return pipeline;
    }

    private ModerationPipeline instance(KafkaBroker broker, ApicurioRegistry registry, String applicationId, String stateDir,
                                        ModerationTopology.Settings s) throws Exception {
        return new ModerationPipeline(broker.bootstrapServers(), registry.url(), applicationId, tmp.resolve(stateDir), s,
                ModerationPipeline.fetchPolicy(List.of())).start(Duration.ofSeconds(60));
    }
}
