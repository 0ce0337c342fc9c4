package io.clipguard.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.ScoringFailure;
import io.clipguard.testing.ApicurioRegistry;
import io.clipguard.testing.KafkaBroker;
import io.clipguard.testing.ModerationPipeline;
import io.clipguard.testing.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An engine that cannot run (shut down, device failure) is not the upload's fault: the upload must not be
 * dead-lettered. Its batch's transaction aborts, the upload is consumed again, and the next instance scores it once.
 */
class EngineOutageTest {
    @TempDir
    Path tmp;

    @Test
    void uploadsWaitThroughAnEngineOutageInsteadOfBeingDeadLettered() throws Exception {
        byte[] photo = Files.readAllBytes(Path.of("src/test/resources/golden/images/china.jpg"));
        try (KafkaBroker broker = KafkaBroker.start(); ApicurioRegistry registry = ApicurioRegistry.start(tmp.resolve("registry.log"))) {
            ModerationTopology.Settings s = ModerationPipeline.settings("-outage", 4, Duration.ofMillis(50), 0.9);
            broker.createTopics(1, s.uploadsTopic(), s.verdictsTopic(), s.alertsTopic(), s.deadLetterTopic());
            ModerationPipeline first = new ModerationPipeline(broker.bootstrapServers(), registry.url(), "outage",
                    tmp.resolve("state-1"), s, ModerationPipeline.fetchPolicy(List.of())).start(Duration.ofSeconds(60));
            first.engine().close(); // the device is gone
            try (KafkaProducer<String, ImageUploaded> producer = Topics.uploadProducer(broker.bootstrapServers(), registry.url())) {
                Topics.send(producer, s.uploadsTopic(), "during-outage", Topics.inline("during-outage", photo));
            }
            Thread.sleep(3000);
            assertThat(Topics.readCommitted(broker.bootstrapServers(), s.deadLetterTopic(),
                    Topics.<ScoringFailure>avroReader(registry.url()), got -> false, Duration.ofSeconds(2))).isEmpty();
            assertThat(Topics.readCommitted(broker.bootstrapServers(), s.verdictsTopic(),
                    Topics.<ModerationVerdict>avroReader(registry.url()), got -> false, Duration.ofSeconds(2))).isEmpty();
            first.close();

            try (ModerationPipeline second = new ModerationPipeline(broker.bootstrapServers(), registry.url(), "outage",
                    tmp.resolve("state-2"), s, ModerationPipeline.fetchPolicy(List.of())).start(Duration.ofSeconds(60))) {
                var verdicts = Topics.readCommitted(broker.bootstrapServers(), s.verdictsTopic(),
                        Topics.<ModerationVerdict>avroReader(registry.url()), got -> !got.isEmpty(), Duration.ofSeconds(60));
                Thread.sleep(1000);
                verdicts = Topics.readCommitted(broker.bootstrapServers(), s.verdictsTopic(),
                        Topics.<ModerationVerdict>avroReader(registry.url()), got -> false, Duration.ofSeconds(2));
                assertThat(verdicts).extracting(r -> r.value().getUploadId()).containsExactly("during-outage");
            }
        }
    }
}
