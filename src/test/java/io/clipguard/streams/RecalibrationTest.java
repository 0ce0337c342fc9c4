package io.clipguard.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.clipguard.avro.FailureReason;
import io.clipguard.avro.HighScoreAlert;
import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.ScoringFailure;
import io.clipguard.cli.ClipguardCli;
import io.clipguard.contracts.HeadCatalog;
import io.clipguard.contracts.OutputRecords;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import io.clipguard.model.LinearHead;
import io.clipguard.model.TestModels;
import io.clipguard.moderation.UploadScorer;
import io.clipguard.scoring.EmbedOutcome;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import io.clipguard.streams.heads.HeadReadiness;
import io.clipguard.testing.ModerationPipeline;
import io.clipguard.testing.NodeClients;
import io.clipguard.testing.PipelineStack;
import io.clipguard.testing.TestClients;
import io.clipguard.testing.Waits;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.FileRecords;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recalibration end to end on a real KRaft broker, the real Apicurio Registry and the bundled tiny ONNX model:
 * embeddings written with verdicts (and decodable by a plain Confluent-style consumer), dedupe of repeated content,
 * live head switches through detector-heads (and refusal of a head that does not fit), and {@code tools/clipguard
 * rescore} run twice, re-inferring an upload without an embedding and reporting one whose record is gone; the codec
 * rescore writes with ({@code --compression}) and its record limit ({@code --max-record-bytes}).
 *
 * <p>The tests share one broker, registry and pipeline (starting them is most of the time), but no state: each sends its
 * own uploads (ids and image content of its own, so the embedding cache holds nothing of them when it starts), names its
 * own head versions, and starts with the configured head active. Any order, or any one of them alone, passes.
 */
class RecalibrationTest {
    static final Path IMAGES = Path.of("src/test/resources/golden/images");
    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;
    static PipelineStack stack;

    @BeforeAll
    static void start() throws Exception {
        stack = PipelineStack.start(tmp, "clipguard-recal", ModerationPipeline.settings("-recal", 8, Duration.ofMillis(50), 0.5),
                List.of(), WAIT, registry -> { });
    }

    @AfterAll
    static void stop() throws Exception {
        if (stack != null) stack.close();
    }

    /** Whatever a test before activated (or was refused), the configured head serves when a test starts. */
    @BeforeEach
    void activateTheConfiguredHead() {
        String configured = stack.pipeline().engine().configuredHead().version();
        cli("head", "activate", configured);
        awaitHead(configured);
        assertThat(stack.pipeline().heads().refusal()).isEmpty();
    }

    @Test
    void duplicateContentSkipsTheEncoderAndGetsTheSameVerdict() throws Exception {
        byte[] photo = image("china.jpg"); // sent by no other test: the cache has nothing of it yet
        long encodedBefore = stack.pipeline().engine().batchStats().images();
        long hitsBefore = stack.pipeline().cache().hits();
        List<String> ids = List.of("dup-1", "dup-2", "dup-3", "dup-4");
        send(ids.subList(0, 3), photo);
        verdictsFor(ids.subList(0, 3));
        send(ids.subList(3, 4), photo); // a later batch: a hit on a completed entry, not only a shared run
        Map<String, ModerationVerdict> verdicts = verdictsFor(ids);

        assertThat(stack.pipeline().engine().batchStats().images() - encodedBefore).as("images through the encoder").isEqualTo(1);
        assertThat(stack.pipeline().cache().hits() - hitsBefore).isEqualTo(3);
        assertThat(stack.pipeline().meters().get("clipguard.embedding.cache.hits").functionCounter().count()).isGreaterThanOrEqualTo(3);
        ScoreOutcome.Scored inferred = (ScoreOutcome.Scored) ScoringEngine.applyHead(stack.pipeline().heads().get(),
                embed(photo), !stack.pipeline().engine().featuresNormalized());
        for (ModerationVerdict v : verdicts.values()) {
            assertThat(v.getLlr()).isCloseTo(inferred.llr(), Offset.offset(1e-6));
            assertThat(v.getImageSha256()).isEqualTo(UploadScorer.sha256(photo));
        }
    }

    @Test
    void embeddingsAreWrittenWithTheVerdictAndDecodeThroughAPlainConfluentConsumer() throws Exception {
        byte[] photo = image("flower.jpg");
        send(List.of("emb-1"), photo);
        ModerationVerdict verdict = verdictsFor(List.of("emb-1")).get("emb-1");
        ConsumerRecord<byte[], byte[]> record = TestClients.readCommitted(stack.broker().bootstrapServers(), stack.settings().topics().embeddings(),
                        new ByteArrayDeserializer(), got -> got.stream().anyMatch(r -> key(r).equals("emb-1")), WAIT)
                .stream().filter(r -> key(r).equals("emb-1")).findFirst().orElseThrow();

        GenericRecord decoded = TestClients.decodeAsConfluentConsumer(stack.registry().ccompatUrl(), record.value());
        assertThat(decoded.getSchema().getFullName()).isEqualTo(ImageEmbedding.getClassSchema().getFullName());
        assertThat(decoded.get("uploadId").toString()).isEqualTo("emb-1");
        assertThat(decoded.get("modelId").toString()).isEqualTo("tiny-clip-test");
        assertThat(decoded.get("imageSha256").toString()).isEqualTo(UploadScorer.sha256(photo));
        assertThat(decoded.get("encoding").toString()).isEqualTo("FLOAT32_LE");
        assertThat(decoded.get("sourcePartition")).isEqualTo(verdict.getSourcePartition());
        assertThat(decoded.get("sourceOffset")).isEqualTo(verdict.getSourceOffset());
        int dim = (Integer) decoded.get("dimension");
        assertThat(dim).isEqualTo(64);
        ByteBuffer bytes = ((ByteBuffer) decoded.get("vector")).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(bytes.remaining()).isEqualTo(dim * 4);
        float[] vector = new float[dim];
        bytes.asFloatBuffer().get(vector);
        // The vector is the one the verdict was scored from, and what the encoder gives for these bytes.
        assertThat(verdict.getHeadVersion()).isEqualTo(stack.pipeline().heads().get().version());
        ScoreOutcome.Scored rescored = (ScoreOutcome.Scored) ScoringEngine.applyHead(stack.pipeline().heads().get(),
                vector, !(Boolean) decoded.get("l2Normalized"));
        assertThat(rescored.llr()).isEqualTo(verdict.getLlr());
        assertThat(vector).containsExactly(embed(photo), Offset.offset(1e-4f));
    }

    @Test
    void aHeadSwitchMidStreamTakesEffectWithinSecondsAndVerdictsNameTheirHead() throws Exception {
        String before = stack.pipeline().heads().get().version();
        send(List.of("switch-before"), image("grace_hopper.jpg"));
        assertThat(verdictsFor(List.of("switch-before")).get("switch-before").getHeadVersion()).isEqualTo(before);

        Path v2 = headFile("switch-v2", 64, -1.0);
        long activated = System.nanoTime();
        assertThat(cli("head", "publish", "--file", v2.toString(), "--activate")).contains("activated head switch-v2");
        awaitHead("switch-v2");
        assertThat(Duration.ofNanos(System.nanoTime() - activated)).isLessThan(Duration.ofSeconds(10));

        byte[] photo = image("grace_hopper.jpg");
        send(List.of("switch-after"), photo);
        ModerationVerdict after = verdictsFor(List.of("switch-after")).get("switch-after");
        assertThat(after.getHeadVersion()).isEqualTo("switch-v2");
        LinearHead head = LinearHead.load(v2);
        ScoreOutcome.Scored expected = (ScoreOutcome.Scored) ScoringEngine.applyHead(head, embed(photo), !stack.pipeline().engine().featuresNormalized());
        assertThat(after.getLlr()).isCloseTo(expected.llr(), Offset.offset(1e-6));
        assertThat(after.getThreshold()).isEqualTo(head.threshold());
        assertThat(cli("head", "list")).containsPattern("\\*\\s+tiny-clip-test\\s+switch-v2");
    }

    @Test
    void aHeadThatDoesNotFitTheBackboneIsRefusedAndTheOldOneStaysActive() throws Exception {
        String serving = stack.pipeline().heads().get().version();
        double refusalsBefore = stack.pipeline().meters().get("clipguard.head.refusals").counter().count();
        Path misfit = headFile("misfit-32d", 32, 1.0);
        // tools/clipguard head refuses it where it sees the model folder (HeadCommandTest); another writer, e.g. the CLI
        // on a machine without the folder, does not check.
        new HeadCatalog(stack.broker().bootstrapServers(), stack.registry().url(), stack.settings().topics().heads())
                .publish(LinearHead.load(misfit), Files.readString(misfit), true, "test@elsewhere");

        Waits.await("the misfit refused").until(() -> stack.pipeline().heads().refusal(), Optional::isPresent);
        assertThat(stack.pipeline().heads().refusal()).hasValueSatisfying(r -> {
            assertThat(r.version()).isEqualTo("misfit-32d");
            assertThat(r.reason()).contains("32 weights").contains("64-d");
        });
        assertThat(stack.pipeline().heads().get().version()).isEqualTo(serving);
        assertThat(stack.pipeline().meters().get("clipguard.head.refusals").counter().count()).isEqualTo(refusalsBefore + 1);
        var health = HeadReadiness.describe(stack.pipeline().heads());
        assertThat(health.getData().orElseThrow()).containsEntry("active-head", serving).containsEntry("refused-head", "misfit-32d");
        // head list agrees with the instance: the version the topic names active is marked refused, not active.
        assertThat(cli("head", "list")).containsPattern("(?m)^!\\s+tiny-clip-test\\s+misfit-32d\\s+32\\s+.*refused by instances: "
                + "it has 32 weights but model 'tiny-clip-test' outputs 64-d features$");

        send(List.of("after-refusal"), image("progressive_640x427.jpg"));
        assertThat(verdictsFor(List.of("after-refusal")).get("after-refusal").getHeadVersion()).isEqualTo(serving);

        cli("head", "activate", serving); // back to a fitting head: the refusal is over
        Waits.await("the refusal over").until(() -> stack.pipeline().heads().refusal(), Optional::isEmpty);
    }

    @Test
    void rescoreRunTwiceGivesExactlyOneRescoredVerdictPerUploadFromItsEmbedding() throws Exception {
        // The range starts here (record timestamps are whole milliseconds): only this test's uploads are in it.
        Instant from = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        List<String> scored = List.of("rescore-1", "rescore-2", "rescore-3");
        send(scored, image("rgb_640x427.png"));
        verdictsFor(scored);
        Path v3 = headFile("rescore-v3", 64, 0.5);
        cli("head", "publish", "--file", v3.toString());
        LinearHead head = LinearHead.load(v3);

        String[] rescore = {"rescore", "--head-version", "rescore-v3", "--from", from.toString(),
                "--to", Instant.now().plusSeconds(60).toString(), "--alert-threshold", "0.5"};
        String first = cli(rescore);
        assertThat(first).containsPattern("rescored \\(from embeddings\\)\\s+" + scored.size() + "\\b")
                .containsPattern("re-inferred \\(no embedding\\)\\s+0\\b").containsPattern("not rescorable\\s+0\\b");
        String second = cli(rescore);
        assertThat(second).containsPattern("rescored \\(from embeddings\\)\\s+0\\b")
                .containsPattern("already rescored \\(skipped\\)\\s+" + scored.size() + "\\b");

        List<ModerationVerdict> rescored = TestClients.readAllCommitted(stack.broker().bootstrapServers(), stack.settings().topics().verdicts(),
                        TestClients.<ModerationVerdict>avroReader(stack.registry().url()))
                .stream().map(ConsumerRecord::value).filter(v -> v.getRescored() && v.getHeadVersion().equals("rescore-v3")).toList();
        Map<String, Long> perUpload = rescored.stream().collect(Collectors.groupingBy(ModerationVerdict::getUploadId, Collectors.counting()));
        assertThat(perUpload.keySet()).containsExactlyInAnyOrderElementsOf(scored);
        assertThat(perUpload.values()).containsOnly(1L);

        Map<String, ImageEmbedding> embeddings = embeddings(stack.settings().topics().embeddings());
        for (ModerationVerdict v : rescored) {
            ScoreOutcome.Scored expected = (ScoreOutcome.Scored) ScoringEngine.applyHead(head,
                    OutputRecords.vector(embeddings.get(v.getUploadId())), true);
            assertThat(v.getLlr()).isEqualTo(expected.llr());
            assertThat(v.getSourceOffset()).isEqualTo(embeddings.get(v.getUploadId()).getSourceOffset());
        }
        long overThreshold = rescored.stream().filter(v -> v.getProbability() >= 0.5).count();
        List<HighScoreAlert> alerts = TestClients.readAllCommitted(stack.broker().bootstrapServers(), stack.settings().topics().alerts(),
                        TestClients.<HighScoreAlert>avroReader(stack.registry().url()))
                .stream().map(ConsumerRecord::value).filter(a -> a.getVerdictHeadVersion().equals("rescore-v3")).toList();
        assertThat(alerts).hasSize((int) overThreshold);
    }

    @Test
    void rescoreReInfersAnUploadWithoutEmbeddingAndReportsOneWhoseRecordExpired() throws Exception {
        Topics.Names old = stack.settings().topics().withSuffix("-old");
        stack.broker().createTopics(1, old.uploads(), old.verdicts(), old.alerts(), old.deadLetter(), old.embeddings());
        byte[] photo = image("webp_lossy_400x300.webp");
        RecordMetadata gone;
        RecordMetadata kept;
        try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(stack.broker().bootstrapServers(), stack.registry().url())) {
            gone = TestClients.send(producer, old.uploads(), "old-gone", TestClients.inline("old-gone", image("china.jpg")));
            kept = TestClients.send(producer, old.uploads(), "old-kept", TestClients.inline("old-kept", photo));
        }
        // Verdicts from before embeddings existed: no image-embeddings record for either upload.
        var verdictSerde = Topics.verdicts(old.verdicts(), new OutputSchemas(stack.registry().url())).valueSerde();
        try (KafkaProducer<String, ModerationVerdict> producer = new KafkaProducer<>(stack.broker().clientProperties(),
                new StringSerializer(), verdictSerde.serializer())) {
            for (RecordMetadata m : List.of(gone, kept)) {
                String id = m == gone ? "old-gone" : "old-kept";
                ModerationVerdict v = OutputRecords.verdict(new OutputRecords.UploadRef(id, "user-old", "0".repeat(64), m.partition(), m.offset()),
                        new ScoreOutcome.Scored(0.0, 0.5, false), stack.pipeline().engine().configuredHead(), "tiny-clip-test", "exact",
                        Instant.now(), 10, false);
                producer.send(new ProducerRecord<>(old.verdicts(), null, m.timestamp(), id, v)).get();
            }
        }
        try (Admin admin = Admin.create(stack.broker().clientProperties())) { // retention removes the first upload
            admin.deleteRecords(Map.of(new TopicPartition(old.uploads(), gone.partition()), RecordsToDelete.beforeOffset(kept.offset())))
                    .all().get();
        }
        Path v4 = headFile("reinfer-v4", 64, 0.5);
        cli("head", "publish", "--file", v4.toString());

        String summary = cli("rescore", "--head-version", "reinfer-v4", "--partition-offsets", "0:0-1000",
                "--uploads-topic", old.uploads(), "--verdicts-topic", old.verdicts(), "--alerts-topic", old.alerts(),
                "--dead-letter-topic", old.deadLetter(), "--embeddings-topic", old.embeddings(),
                "--heads-topic", stack.settings().topics().heads(), "--model-dir", ModerationPipeline.TINY_MODEL.toString());
        assertThat(summary).containsPattern("rescored \\(from embeddings\\)\\s+0\\b")
                .containsPattern("re-inferred \\(no embedding\\)\\s+1\\b")
                .containsPattern("not rescorable\\s+1\\b").contains("SOURCE_EXPIRED=1").contains("old-gone");

        ModerationVerdict reInferred = TestClients.readCommitted(stack.broker().bootstrapServers(), old.verdicts(),
                        TestClients.<ModerationVerdict>avroReader(stack.registry().url()), got -> got.stream().anyMatch(r -> r.value().getRescored()), WAIT)
                .stream().map(ConsumerRecord::value).filter(ModerationVerdict::getRescored).findFirst().orElseThrow();
        assertThat(reInferred.getUploadId()).isEqualTo("old-kept");
        assertThat(reInferred.getHeadVersion()).isEqualTo("reinfer-v4");
        assertThat(reInferred.getImageSha256()).isEqualTo(UploadScorer.sha256(photo));
        ScoreOutcome.Scored expected = (ScoreOutcome.Scored) ScoringEngine.applyHead(LinearHead.load(v4), embed(photo), true);
        assertThat(reInferred.getLlr()).isCloseTo(expected.llr(), Offset.offset(1e-6));
        assertThat(embeddings(old.embeddings())).containsOnlyKeys("old-kept");

        List<ScoringFailure> reports = TestClients.readCommitted(stack.broker().bootstrapServers(), old.deadLetter(),
                        TestClients.<ScoringFailure>avroReader(stack.registry().url()), got -> !got.isEmpty(), WAIT)
                .stream().map(ConsumerRecord::value).toList();
        assertThat(reports).singleElement().satisfies(f -> {
            assertThat(f.getUploadId()).isEqualTo("old-gone");
            assertThat(f.getReason()).isEqualTo(FailureReason.SOURCE_EXPIRED);
            assertThat(f.getSourceOffset()).isEqualTo(gone.offset());
            assertThat(f.getMessage()).contains("reinfer-v4");
        });
    }

    @Test
    void rescoreWritesUncompressedBatchesByDefaultAndTheCodecThatCompressionNames() throws Exception {
        Instant from = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        List<String> scored = List.of("codec-1", "codec-2");
        send(scored, image("gray_301x225.jpg"));
        verdictsFor(scored);
        String plain = stack.settings().topics().verdicts() + "-plain";
        String gzip = stack.settings().topics().verdicts() + "-gzip";
        stack.broker().createTopics(1, plain, gzip);
        String to = Instant.now().plusSeconds(60).toString();
        cli("head", "publish", "--file", headFile("codec-default", 64, 0.5).toString());
        cli("head", "publish", "--file", headFile("codec-gzip", 64, 0.5).toString());

        cli("rescore", "--head-version", "codec-default", "--from", from.toString(), "--to", to, "--to-topic", plain);
        cli("rescore", "--head-version", "codec-gzip", "--from", from.toString(), "--to", to, "--to-topic", gzip,
                "--compression", "gzip");

        // The codec is only visible in the stored batches: read the broker's log segments of each topic.
        assertThat(batchCodecs(plain)).containsExactly(CompressionType.NONE);
        assertThat(batchCodecs(gzip)).containsExactly(CompressionType.GZIP);
    }

    @Test
    void aClientWithOnlyTheDefaultCodecsReadsTheVerdictsTopicAfterARescore() throws Exception {
        // kafkajs reads only uncompressed and gzip batches; an lz4 batch in moderation-verdicts once made it read
        // nothing more of the partition. Rescore into the live verdicts topic with its defaults, then read all of it.
        NodeClients.install();
        Instant from = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        List<String> scored = List.of("kafkajs-1", "kafkajs-2");
        send(scored, image("jpeg444_97x61.jpg"));
        verdictsFor(scored);
        cli("head", "publish", "--file", headFile("kafkajs-v1", 64, 0.5).toString());
        cli("rescore", "--head-version", "kafkajs-v1", "--from", from.toString(),
                "--to", Instant.now().plusSeconds(60).toString());

        String verdicts = stack.settings().topics().verdicts();
        int stored = TestClients.readAllCommitted(stack.broker().bootstrapServers(), verdicts,
                TestClients.<ModerationVerdict>avroReader(stack.registry().url())).size();
        JsonNode read = NodeClients.run("consume.js", stack.broker().bootstrapServers(),
                stack.registry().ccompatUrl(), verdicts, String.valueOf(stored));
        List<String> rescored = new ArrayList<>();
        read.forEach(r -> {
            JsonNode v = r.get("value");
            if (v.get("rescored").asBoolean() && v.get("headVersion").asText().equals("kafkajs-v1")) {
                rescored.add(v.get("uploadId").asText());
            }
        });
        assertThat(read).hasSize(stored);
        assertThat(rescored).containsExactlyInAnyOrderElementsOf(scored);
    }

    @Test
    void aRecordOverMaxRecordBytesFailsTheRescoreAndCommitsNothing() throws Exception {
        Instant from = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        List<String> scored = List.of("record-limit-1");
        send(scored, image("gray_97x61.png"));
        verdictsFor(scored);
        String out = stack.settings().topics().verdicts() + "-small";
        stack.broker().createTopics(1, out);
        cli("head", "publish", "--file", headFile("record-limit", 64, 0.5).toString());

        // A rescored verdict of the tiny model is a few hundred bytes: over a 100-byte limit.
        CliRun run = run("rescore", "--head-version", "record-limit", "--from", from.toString(),
                "--to", Instant.now().plusSeconds(60).toString(), "--to-topic", out, "--max-record-bytes", "100");
        assertThat(run.exit()).as(run.err()).isEqualTo(1);
        assertThat(run.err()).contains("rescore: writing the rescore's output failed")
                .contains("larger than 100, which is the value of the max.request.size configuration");
        assertThat(TestClients.readAllCommitted(stack.broker().bootstrapServers(), out, new ByteArrayDeserializer())).isEmpty();
    }

    // ---- helpers ----

    /** The codec of every data batch (transaction markers aside) stored for {@code topic}, read from the broker's log. */
    private static Set<CompressionType> batchCodecs(String topic) throws Exception {
        Set<CompressionType> codecs = new TreeSet<>();
        try (Admin admin = Admin.create(stack.broker().clientProperties())) {
            List<Integer> brokers = admin.describeCluster().nodes().get().stream().map(Node::id).toList();
            for (var dirs : admin.describeLogDirs(brokers).allDescriptions().get().values()) {
                for (var dir : dirs.entrySet()) {
                    for (TopicPartition tp : dir.getValue().replicaInfos().keySet()) {
                        if (!tp.topic().equals(topic)) {
                            continue;
                        }
                        try (var segments = Files.list(Path.of(dir.getKey(), tp.toString()))) {
                            for (Path segment : segments.filter(f -> f.toString().endsWith(".log")).toList()) {
                                try (FileRecords records = FileRecords.open(segment.toFile(), false)) {
                                    records.batches().forEach(b -> {
                                        if (!b.isControlBatch()) {
                                            codecs.add(b.compressionType());
                                        }
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
        return codecs;
    }

    private static byte[] image(String name) throws Exception {
        return Files.readAllBytes(IMAGES.resolve(name));
    }

    private static void send(List<String> ids, byte[] photo) {
        try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(stack.broker().bootstrapServers(), stack.registry().url())) {
            for (String id : ids) {
                TestClients.send(producer, stack.settings().topics().uploads(), id, TestClients.inline(id, photo));
            }
        }
    }

    /** The encoder's own vector for these bytes (one more encoder run: call after counting runs). */
    private static float[] embed(byte[] photo) {
        return ((EmbedOutcome.Embedded) stack.pipeline().engine().embed(photo).join()).features();
    }

    /** The live (not rescored) verdicts for {@code ids}; fails on a second one for any upload. */
    private static Map<String, ModerationVerdict> verdictsFor(Collection<String> ids) {
        return TestClients.readCommitted(stack.broker().bootstrapServers(), stack.settings().topics().verdicts(),
                        TestClients.<ModerationVerdict>avroReader(stack.registry().url()),
                        got -> got.stream().map(r -> r.value().getUploadId()).collect(Collectors.toSet()).containsAll(ids), WAIT)
                .stream().map(ConsumerRecord::value).filter(v -> ids.contains(v.getUploadId()) && !v.getRescored())
                .collect(Collectors.toMap(ModerationVerdict::getUploadId, Function.identity(), (a, b) -> {
                    throw new AssertionError("two verdicts for " + a.getUploadId());
                }));
    }

    private static Map<String, ImageEmbedding> embeddings(String topic) {
        return TestClients.readAllCommitted(stack.broker().bootstrapServers(), topic, TestClients.<ImageEmbedding>avroReader(stack.registry().url()))
                .stream().map(ConsumerRecord::value).collect(Collectors.toMap(ImageEmbedding::getUploadId, Function.identity(), (a, b) -> b));
    }

    private static String key(ConsumerRecord<byte[], byte[]> r) {
        return new String(r.key(), StandardCharsets.UTF_8);
    }

    private static void awaitHead(String version) {
        Waits.await("head " + version + " active").until(() -> stack.pipeline().heads().get().version(), version::equals);
    }

    /** The tiny model's head with another version and weights scaled by {@code scale} (first {@code dim} of them). */
    private static Path headFile(String version, int dim, double scale) {
        return TestModels.scaledHead(tmp.resolve(version + ".json"), version, dim, scale);
    }

    /** Runs {@code tools/clipguard ARGS} against this test's broker, registry and heads topic; returns its stdout. */
    private static String cli(String... args) {
        CliRun run = run(args);
        assertThat(run.exit()).as("exit code of clipguard " + String.join(" ", args) + "\n" + run.out() + run.err()).isZero();
        return run.out();
    }

    private record CliRun(int exit, String out, String err) {}

    /** {@link #cli} without the exit code check; stderr captured too. */
    private static CliRun run(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        boolean head = args[0].equals("head");
        all.addAll(List.of("--bootstrap-servers", stack.broker().bootstrapServers(), "--registry-url", stack.registry().url()));
        if (!List.of(args).contains("--heads-topic")) {
            all.addAll(List.of("--heads-topic", stack.settings().topics().heads()));
        }
        if (!head && !List.of(args).contains("--verdicts-topic")) {
            Topics.Names t = stack.settings().topics();
            all.addAll(List.of("--uploads-topic", t.uploads(), "--verdicts-topic", t.verdicts(), "--alerts-topic", t.alerts(),
                    "--dead-letter-topic", t.deadLetter(), "--embeddings-topic", t.embeddings(),
                    "--model-dir", ModerationPipeline.TINY_MODEL.toString()));
        }
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        ByteArrayOutputStream capturedErr = new ByteArrayOutputStream();
        int exit;
        try (PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8);
             PrintStream captureErr = new PrintStream(capturedErr, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            System.setErr(captureErr);
            exit = ClipguardCli.commandLine().execute(all.toArray(String[]::new));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        String errText = capturedErr.toString(StandardCharsets.UTF_8);
        System.out.print(text);
        System.err.print(errText);
        return new CliRun(exit, text, errText);
    }
}
