package io.clipguard.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.avro.FailureReason;
import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.ScoringFailure;
import io.clipguard.testing.BrokerAndRegistry;
import io.clipguard.testing.ModerationPipeline;
import io.clipguard.testing.StreamsWorker;
import io.clipguard.testing.TestClients;
import io.clipguard.testing.Waits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing lost, nothing doubled: an instance is killed with SIGKILL while uploads wait in its batch (and while others
 * are being scored); a new instance takes over; under read_committed every upload has exactly one verdict or dead letter.
 */
class ExactlyOnceCrashTest {
    static final String SUFFIX = "-eos";

    @TempDir
    static Path tmp;
    @RegisterExtension
    static final BrokerAndRegistry kafka = new BrokerAndRegistry();

    @Test
    void killedMidBatchThenRestartedEveryUploadAnsweredExactlyOnce() throws Exception {
        byte[] photo = Files.readAllBytes(Path.of("src/test/resources/golden/images/grace_hopper.jpg"));
        byte[] corrupt = java.util.Arrays.copyOf(photo, 1000);
        {
            ModerationTopology.Settings s = ModerationPipeline.settings(SUFFIX, 16, Duration.ofSeconds(1), 0.5);
            kafka.broker().createTopics(3, s.topics().all());
            String[] args = {kafka.broker().bootstrapServers(), kafka.registry().url(), "clipguard-eos", tmp.resolve("state-1").toString(), SUFFIX,
                    "16", "10000"};

            List<String> ids = new ArrayList<>();
            Process first = StreamsWorker.start(tmp.resolve("worker-1.log"), args);
            try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(kafka.broker().bootstrapServers(), kafka.registry().url())) {
                // First wave: scored and committed before the crash.
                for (int i = 0; i < 40; i++) {
                    ids.add(send(producer, s, "w1-" + i, i % 10 == 9 ? corrupt : photo));
                }
                awaitAnswered(s, Set.copyOf(ids.subList(0, 32)));
                // Second wave: waits in the batch (10 s partition-batch-max-wait, batches of 16) when the instance is
                // killed. The wait counts from each record's timestamp, so it must outlast the commit check below on a
                // busy CI machine (with 3 s, the whole wave was once scored before the kill).
                for (int i = 0; i < 45; i++) {
                    ids.add(send(producer, s, "w2-" + i, i % 10 == 9 ? corrupt : photo));
                }
                // Consumed and committed into the changelogged pending store (the offsets commit with the store's
                // changelog), not yet scored: the batch's wait is 10 s.
                Waits.committedToEnd(kafka.broker().bootstrapServers(), "clipguard-eos", s.topics().uploads());
                first.destroyForcibly().waitFor();

                // Third wave arrives while no instance runs.
                for (int i = 0; i < 15; i++) {
                    ids.add(send(producer, s, "w3-" + i, photo));
                }
            }
            args[3] = tmp.resolve("state-2").toString(); // a fresh machine: the store must come back from its changelog
            Process second = StreamsWorker.start(tmp.resolve("worker-2.log"), args);
            try {
                awaitAnswered(s, Set.copyOf(ids));
                // A doubled answer would come from an upload consumed again: once the group has committed the end of
                // the input, everything it will ever write for it is committed and readable.
                Waits.committedToEnd(kafka.broker().bootstrapServers(), "clipguard-eos", s.topics().uploads());
                Map<String, Integer> answers = TestClients.answerCounts(kafka.broker().bootstrapServers(), kafka.registry().url(), s.topics());
                assertThat(answers.keySet()).containsExactlyInAnyOrderElementsOf(ids);
                assertThat(answers.values()).allMatch(n -> n == 1);
                assertThat(Files.readString(tmp.resolve("worker-2.log"))).containsPattern("restored pending uploads: [1-9]");
            } finally {
                second.destroy();
                second.waitFor();
            }
        }
    }

    /**
     * Waiting uploads keep only their position in the changelog; their bytes are read back from the input topic after a
     * restart. One whose record retention deleted meanwhile becomes a SOURCE_EXPIRED dead letter, not a silent loss.
     */
    @Test
    void aWaitingUploadWhoseRecordWasDeletedBecomesASourceExpiredDeadLetter() throws Exception {
        byte[] photo = Files.readAllBytes(Path.of("src/test/resources/golden/images/flower.jpg"));
        ModerationTopology.Settings s = ModerationPipeline.settings("-expired", 16, Duration.ofSeconds(1), 0.5);
        kafka.broker().createTopics(1, s.topics().all());
        String[] args = {kafka.broker().bootstrapServers(), kafka.registry().url(), "clipguard-expired", tmp.resolve("expired-1").toString(),
                "-expired", "16", "5000"};
        Process first = StreamsWorker.start(tmp.resolve("expired-worker-1.log"), args);
        try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(kafka.broker().bootstrapServers(), kafka.registry().url())) {
            for (String id : List.of("gone-0", "gone-1", "kept-2")) {
                send(producer, s, id, photo);
            }
        }
        // Consumed and committed into the pending store; the batch waits 5 s.
        Waits.committedToEnd(kafka.broker().bootstrapServers(), "clipguard-expired", s.topics().uploads());
        first.destroyForcibly().waitFor();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.broker().bootstrapServers()))) {
            admin.deleteRecords(Map.of(new TopicPartition(s.topics().uploads(), 0), RecordsToDelete.beforeOffset(2))).all().get();
        }
        args[3] = tmp.resolve("expired-2").toString();
        Process second = StreamsWorker.start(tmp.resolve("expired-worker-2.log"), args);
        try {
            Map<String, Integer> answers = awaitAnswered(s, Set.of("gone-0", "gone-1", "kept-2"));
            assertThat(answers).containsOnlyKeys("gone-0", "gone-1", "kept-2").allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
            List<ScoringFailure> letters = TestClients.readAllCommitted(kafka.broker().bootstrapServers(), s.topics().deadLetter(),
                    TestClients.<ScoringFailure>avroReader(kafka.registry().url())).stream()
                    .map(ConsumerRecord::value).toList();
            assertThat(letters).extracting(ScoringFailure::getUploadId).containsExactlyInAnyOrder("gone-0", "gone-1");
            assertThat(letters).allSatisfy(f -> assertThat(f.getReason()).isEqualTo(FailureReason.SOURCE_EXPIRED));
        } finally {
            second.destroy();
            second.waitFor();
        }
    }

    private static String send(KafkaProducer<String, ImageUploaded> producer, ModerationTopology.Settings s, String id, byte[] image) {
        TestClients.send(producer, s.topics().uploads(), id, TestClients.inline(id, image));
        return id;
    }

    /** upload id → number of verdicts + dead letters for it, read under read_committed once every id has one. */
    private static Map<String, Integer> awaitAnswered(ModerationTopology.Settings s,
                                                      Set<String> ids) {
        return TestClients.answerCounts(kafka.broker().bootstrapServers(), kafka.registry().url(), s.topics(), got -> got.keySet().containsAll(ids),
                Waits.TIMEOUT);
    }
}
