package io.clipguard.console;

import io.clipguard.avro.HighScoreAlert;
import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.VerdictLabel;
import io.clipguard.console.security.UsersFile;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import io.clipguard.contracts.OutputRecords;
import io.clipguard.testing.ApicurioRegistry;
import io.clipguard.testing.KafkaBroker;
import io.clipguard.testing.TestClients;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * For the console's @QuarkusTest: a real broker (the service's topics and moderation-decisions) and registry, the
 * console on, a users file with two reviewers, a viewer and Prometheus' metrics user, and scoring off (a
 * console-only instance): only the records the test writes reach the console.
 */
public class ConsoleTestResources implements QuarkusTestResourceLifecycleManager {
    public static final String DECISIONS = Topics.DECISIONS;
    public static final String PASSWORD = "correct horse battery staple";
    /** The users file's user with the role metrics: what Prometheus scrapes /q/metrics as (HTTP Basic). */
    public static final String METRICS_USER = "prometheus";
    protected KafkaBroker broker;
    private ApicurioRegistry registry;

    /** The test's broker (a subclass may start one it can stop and restart). */
    protected KafkaBroker startBroker() throws Exception {
        return KafkaBroker.start();
    }

    /** Settings a subclass changes or adds. */
    protected Map<String, String> settings() {
        return Map.of();
    }

    @Override
    public Map<String, String> start() {
        try {
            Path tmp = Files.createTempDirectory("clipguard-console-test");
            broker = startBroker();
            broker.createTopics(2, Topics.Names.DEFAULT.all());
            registry = ApicurioRegistry.start(tmp.resolve("registry.log"));
            Path users = tmp.resolve("console-users");
            Files.writeString(users, String.join("\n",
                    "# test users",
                    UsersFile.line("alice", Set.of("reviewer"), PASSWORD.toCharArray()),
                    UsersFile.line("bob", Set.of("reviewer"), PASSWORD.toCharArray()),
                    UsersFile.line("vera", Set.of("viewer"), PASSWORD.toCharArray()),
                    UsersFile.line(METRICS_USER, Set.of("metrics"), PASSWORD.toCharArray())) + "\n");
            Map<String, String> config = new java.util.HashMap<>(Map.of(
                    "kafka.bootstrap.servers", broker.bootstrapServers(),
                    "clipguard.registry.url", registry.url(),
                    "clipguard.state-dir", tmp.resolve("streams").toString(),
                    "clipguard.engine.device", "cpu",
                    "clipguard.scoring.enabled", "false",
                    "clipguard.console.enabled", "true",
                    "clipguard.console.users-file", users.toString(),
                    "clipguard.console.decision-timeout", "5s",
                    "clipguard.console.metrics.refresh", "300ms"));
            config.putAll(settings());
            return config;
        } catch (Exception e) {
            throw new IllegalStateException("could not start Kafka and the registry for the console test", e);
        }
    }

    /**
     * An alerted upload as the scoring service leaves it: {@code image} on image-uploads, then its verdict
     * ({@link #verdict}, pointing at the upload's partition and offset) and high-score alert (raised at
     * {@code alertThreshold}) through {@link #writeVerdictAndAlert}.
     */
    public static ModerationVerdict writeAlertedUpload(String bootstrap, String registryUrl, String uploadId,
            String uploader, byte[] image, double probability, double alertThreshold) throws Exception {
        ImageUploaded upload = ImageUploaded.newBuilder(TestClients.inline(uploadId, image)).setUploaderId(uploader)
                .build();
        RecordMetadata at;
        try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(bootstrap, registryUrl)) {
            at = TestClients.send(producer, Topics.UPLOADS, uploadId, upload);
        }
        ModerationVerdict verdict = verdict(uploadId, uploader, probability, at.partition(), at.offset());
        writeVerdictAndAlert(bootstrap, registryUrl, verdict, alertThreshold);
        return verdict;
    }

    /** A synthetic verdict (LLR 3.5, head head-v2 of tiny-clip-test) of the upload at {@code partition}, {@code offset}. */
    public static ModerationVerdict verdict(String uploadId, String uploader, double p, int partition, long offset) {
        return ModerationVerdict.newBuilder().setUploadId(uploadId).setUploaderId(uploader).setImageSha256("00")
                .setLlr(3.5).setProbability(p).setLabel(VerdictLabel.SYNTHETIC).setThreshold(0).setModelId("tiny-clip-test")
                .setHeadVersion("head-v2").setScoredAt(Instant.now()).setEndToEndLatencyMs(5).setSourcePartition(partition)
                .setSourceOffset(offset).setDecodeMode("fast").build();
    }

    /** The verdict to moderation-verdicts and its high-score alert (raised at {@code alertThreshold}) to moderation-alerts. */
    public static void writeVerdictAndAlert(String bootstrap, String registryUrl, ModerationVerdict verdict,
            double alertThreshold) {
        OutputSchemas schemas = new OutputSchemas(registryUrl);
        var verdicts = Topics.verdicts(Topics.VERDICTS, schemas);
        var alerts = Topics.alerts(Topics.ALERTS, schemas);
        Map<String, Object> props = Map.of("bootstrap.servers", bootstrap, "acks", "all");
        try (var vp = new KafkaProducer<>(props, new StringSerializer(), verdicts.valueSerde().serializer());
             var ap = new KafkaProducer<>(props, new StringSerializer(), alerts.valueSerde().serializer())) {
            vp.send(new ProducerRecord<>(Topics.VERDICTS, verdict.getUploadId(), verdict));
            HighScoreAlert alert = OutputRecords.alert(verdict, alertThreshold, Topics.VERDICTS);
            ap.send(new ProducerRecord<>(Topics.ALERTS, verdict.getUploadId(), alert));
        }
    }

    @Override
    public void stop() {
        try {
            if (registry != null) registry.close();
            if (broker != null) broker.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
