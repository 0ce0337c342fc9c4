package io.clipguard.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.avro.FailureReason;
import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.ScoringFailure;
import io.clipguard.contracts.HeadCatalog;
import io.clipguard.contracts.OutputRecords;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import io.clipguard.inference.BatchListener;
import io.clipguard.inference.Device;
import io.clipguard.model.LinearHead;
import io.clipguard.model.TestModels;
import io.clipguard.moderation.UploadScorer;
import io.clipguard.recalibration.Rescorer;
import io.clipguard.scoring.DetectorSet;
import io.clipguard.scoring.EmbedOutcome;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.Fusion;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import io.clipguard.testing.ModerationPipeline;
import io.clipguard.testing.PipelineStack;
import io.clipguard.testing.ScoringParts;
import io.clipguard.testing.TestClients;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service with the reference's two detectors on a real KRaft broker and the real Apicurio Registry: the tiny CLIP
 * model with its head and the tiny res50nodown logit model ({@code clipguard.detectors.extra-model-dirs}), fused by
 * soft_or_prob. Verdicts and embeddings are read as a plain Confluent consumer reads them (the registry's ccompat API
 * and plain Avro); a detector that fails on an image (the ResNet's own pixel limit) is marked and the other's logit is
 * the verdict; rescore with a new CLIP head re-fuses the stored ResNet logits without running the ResNet, and re-infers
 * an upload without an embedding through both detectors.
 */
class FusedModerationTest {
    static final Path IMAGES = TestModels.GOLDEN_IMAGES;
    static final Duration WAIT = Duration.ofSeconds(90);
    static final String CLIP = "tiny-clip-test";
    static final String RESNET = "tiny-res50nodown-test";
    /** The ResNet's own limit: the 320x240 and 333x222 images pass, china.jpg (427x640) does not. */
    static final long RESNET_MAX_IMAGE_PIXELS = 100_000;

    @TempDir
    static Path tmp;
    static PipelineStack stack;
    /** The same two models opened on their own: what each detector gives for some bytes, outside the service. */
    static DetectorSet reference;

    @BeforeAll
    static void start() throws Exception {
        EngineConfig clip = EngineConfig.builder(TestModels.TINY).device(Device.AUTO).maxBatchSize(8)
                .mergeWindow(Duration.ofMillis(2)).build();
        stack = PipelineStack.start(tmp, "clipguard-fused", ModerationPipeline.settings("-fused", 8, Duration.ofMillis(50), 0.9),
                List.of(), WAIT, registry -> { }, clip, new ScoringParts.Detectors(List.of(TestModels.TINY_RES50),
                        "soft_or_prob", 0, List.of(), RESNET_MAX_IMAGE_PIXELS));
        reference = DetectorSet.open(List.of(new DetectorSet.DetectorSpec(null, clip),
                new DetectorSet.DetectorSpec(null, clip.forModel(TestModels.TINY_RES50, null))), Fusion.SOFT_OR_PROB, 0,
                id -> BatchListener.NONE);
    }

    @AfterAll
    static void stop() throws Exception {
        if (reference != null) reference.close();
        if (stack != null) stack.close();
    }

    @Test
    void verdictsCarryEachDetectorsLogitAndTheFusedLlrAndDecodeThroughAPlainConfluentConsumer() throws Exception {
        Map<String, byte[]> images = Map.of("fused-gif", image("gif_320x240.gif"), "fused-bmp", image("bmp24_333x222.bmp"));
        double resnetScoredBefore = stack.pipeline().counted("clipguard.detector.scored", "detector", RESNET);
        send(images);
        Map<String, GenericRecord> verdicts = readAsConfluentConsumer(stack.settings().topics().verdicts(), images.keySet());
        Map<String, GenericRecord> embeddings = readAsConfluentConsumer(stack.settings().topics().embeddings(), images.keySet());

        for (var upload : images.entrySet()) {
            GenericRecord v = verdicts.get(upload.getKey());
            double[] expected = referenceLogits(upload.getValue());
            assertThat(v.getSchema().getFullName()).isEqualTo(ModerationVerdict.getClassSchema().getFullName());
            @SuppressWarnings("unchecked")
            List<GenericRecord> detectors = (List<GenericRecord>) v.get("detectors");
            assertThat(detectors).extracting(d -> d.get("detectorId").toString()).containsExactly(CLIP, RESNET);
            GenericRecord clip = detectors.get(0);
            GenericRecord resnet = detectors.get(1);
            assertThat(clip.get("modelId").toString()).isEqualTo(CLIP);
            assertThat(clip.get("headVersion").toString()).isEqualTo("random-seed0");
            assertThat((Double) clip.get("logit")).isCloseTo(expected[0], Offset.offset(1e-6));
            assertThat(resnet.get("headVersion")).isNull();
            assertThat((Double) resnet.get("logit")).isCloseTo(expected[1], Offset.offset(1e-6));
            assertThat(resnet.get("cropped")).isEqualTo(false);
            assertThat(resnet.get("error")).isNull();
            // llr is exactly the fusion of the two logits the verdict carries
            double fused = Fusion.SOFT_OR_PROB.apply((Double) clip.get("logit"), (Double) resnet.get("logit"));
            assertThat((Double) v.get("llr")).isEqualTo(fused);
            assertThat((Double) v.get("probability")).isCloseTo(Fusion.sigmoid(fused), Offset.offset(1e-12));
            assertThat(v.get("label").toString()).isEqualTo(fused > 0 ? "SYNTHETIC" : "REAL");
            assertThat(v.get("fusion").toString()).isEqualTo("soft_or_prob");
            assertThat((Double) v.get("threshold")).isZero();
            assertThat(v.get("modelId").toString()).isEqualTo(CLIP);

            GenericRecord e = embeddings.get(upload.getKey());
            assertThat(e.get("modelId").toString()).isEqualTo(CLIP);
            @SuppressWarnings("unchecked")
            List<GenericRecord> others = (List<GenericRecord>) e.get("otherDetectors");
            assertThat(others).singleElement().satisfies(o -> {
                assertThat(o.get("detectorId").toString()).isEqualTo(RESNET);
                assertThat(o.get("logit")).isEqualTo(resnet.get("logit"));
            });
            assertThat(e.get("fusion").toString()).isEqualTo("soft_or_prob");
            assertThat((Double) e.get("fusionThreshold")).isZero();
            // the stored vector and the live head give the verdict's CLIP logit again
            ByteBuffer bytes = ((ByteBuffer) e.get("vector")).order(ByteOrder.LITTLE_ENDIAN);
            float[] vector = new float[(Integer) e.get("dimension")];
            bytes.asFloatBuffer().get(vector);
            assertThat(((ScoreOutcome.Scored) ScoringEngine.applyHead(stack.pipeline().heads().get(), vector,
                    !(Boolean) e.get("l2Normalized"))).llr()).isEqualTo((Double) clip.get("logit"));
        }
        assertThat(stack.pipeline().counted("clipguard.detector.scored", "detector", RESNET) - resnetScoredBefore)
                .isEqualTo(images.size());
        assertThat(stack.pipeline().meters().find("clipguard.inference.latency").tag("detector", RESNET).timer().count())
                .isPositive();
    }

    @Test
    void aDetectorThatFailsOnAnImageIsMarkedAndCountedAndTheOtherScoresIt() throws Exception {
        byte[] large = image("china.jpg"); // 273,280 pixels: over the ResNet's own limit, within the CLIP detector's
        byte[] corrupt = TestModels.read(TestModels.GOLDEN_BAD.resolve("truncated_header.jpg"));
        double failedBefore = stack.pipeline().counted("clipguard.detector.failed", "detector", RESNET, "reason", "TOO_LARGE");
        send(Map.of("fused-large", large, "fused-corrupt", corrupt));

        ModerationVerdict verdict = TestClients.readCommitted(stack.broker().bootstrapServers(), stack.settings().topics().verdicts(),
                        TestClients.<ModerationVerdict>avroReader(stack.registry().url()),
                        got -> got.stream().anyMatch(r -> key(r).equals("fused-large")), WAIT)
                .stream().filter(r -> key(r).equals("fused-large")).map(ConsumerRecord::value).findFirst().orElseThrow();
        assertThat(verdict.getDetectors()).hasSize(2);
        var resnet = verdict.getDetectors().get(1);
        assertThat(resnet.getDetectorId()).isEqualTo(RESNET);
        assertThat(resnet.getLogit()).isNull();
        assertThat(resnet.getError()).startsWith("TOO_LARGE: ");
        double clipLogit = verdict.getDetectors().get(0).getLogit();
        assertThat(clipLogit).isCloseTo(referenceLogits(large)[0], Offset.offset(1e-6));
        assertThat(verdict.getLlr()).as("fused from the logit that exists").isCloseTo(clipLogit, Offset.offset(1e-12));
        assertThat(verdict.getFusion()).isEqualTo("soft_or_prob");
        assertThat(stack.pipeline().counted("clipguard.detector.failed", "detector", RESNET, "reason", "TOO_LARGE") - failedBefore)
                .isEqualTo(1);
        ImageEmbedding embedding = TestClients.readCommitted(stack.broker().bootstrapServers(), stack.settings().topics().embeddings(),
                        TestClients.<ImageEmbedding>avroReader(stack.registry().url()),
                        got -> got.stream().anyMatch(r -> key(r).equals("fused-large")), WAIT)
                .stream().filter(r -> key(r).equals("fused-large")).map(ConsumerRecord::value).findFirst().orElseThrow();
        assertThat(embedding.getOtherDetectors()).singleElement().satisfies(o -> {
            assertThat(o.getLogit()).isNull();
            assertThat(o.getError()).startsWith("TOO_LARGE: ");
        });

        // No detector scored: a dead letter, as with one detector.
        ScoringFailure dead = TestClients.readCommitted(stack.broker().bootstrapServers(), stack.settings().topics().deadLetter(),
                        TestClients.<ScoringFailure>avroReader(stack.registry().url()),
                        got -> got.stream().anyMatch(r -> key(r).equals("fused-corrupt")), WAIT)
                .stream().filter(r -> key(r).equals("fused-corrupt")).map(ConsumerRecord::value).findFirst().orElseThrow();
        assertThat(dead.getReason()).isEqualTo(FailureReason.CORRUPT);
        assertThat(dead.getMessage()).contains("no detector scored");
    }

    @Test
    void repeatedContentSkipsEveryDetectorAndGetsBothLogitsFromTheCache() throws Exception {
        byte[] photo = image("bmp8_palette_200x150.bmp"); // sent by no other test
        long clipBefore = stack.pipeline().parts().encodedBy(CLIP);
        long resnetBefore = stack.pipeline().parts().encodedBy(RESNET);
        send(Map.of("dup-fused-1", photo));
        readAll(stack.settings().topics().verdicts(), List.of("dup-fused-1"));
        send(Map.of("dup-fused-2", photo)); // a later batch: a hit on the completed entry
        Map<String, ModerationVerdict> verdicts = readAll(stack.settings().topics().verdicts(), List.of("dup-fused-1", "dup-fused-2"));

        assertThat(stack.pipeline().parts().encodedBy(CLIP) - clipBefore).isEqualTo(1);
        assertThat(stack.pipeline().parts().encodedBy(RESNET) - resnetBefore).isEqualTo(1);
        ModerationVerdict first = verdicts.get("dup-fused-1");
        ModerationVerdict second = verdicts.get("dup-fused-2");
        assertThat(second.getDetectors()).extracting(d -> d.getLogit()).doesNotContainNull()
                .containsExactlyElementsOf(first.getDetectors().stream().map(d -> d.getLogit()).toList());
        assertThat(second.getLlr()).isEqualTo(first.getLlr());
    }

    @Test
    void rescoreWithANewClipHeadReFusesTheStoredResNetLogitsWithoutRunningTheResNet() throws Exception {
        Instant from = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        Map<String, byte[]> images = Map.of("refuse-1", image("rgb16_160x120.png"), "refuse-2", image("gray_301x225.jpg"));
        send(images);
        Map<String, ImageEmbedding> embeddings = readAll(stack.settings().topics().embeddings(), images.keySet());
        long resnetRunsBefore = stack.pipeline().parts().encodedBy(RESNET);

        Path v2 = TestModels.scaledHead(tmp.resolve("fused-v2.json"), "fused-v2", 64, -0.7);
        LinearHead head = LinearHead.load(v2);
        HeadCatalog catalog = new HeadCatalog(stack.broker().bootstrapServers(), stack.registry().url(), stack.settings().topics().heads());
        catalog.publish(head, Files.readString(v2), false, "test");
        String output = "rescored-fused";
        stack.broker().createTopics(1, output);
        Rescorer.Options options = new Rescorer.Options(stack.broker().bootstrapServers(), stack.registry().url(),
                stack.settings().topics(), output, 0.9, 100);
        ScoringParts[] backbone = new ScoringParts[1];
        Rescorer.Summary summary = new Rescorer(options, catalog.find("fused-v2", CLIP), () -> backbone(backbone, v2))
                .run(new Rescorer.Range.Times(from, Instant.now().plusSeconds(60)), Rescorer.Progress.NONE);

        assertThat(summary.rescored()).isEqualTo(images.size());
        assertThat(summary.reInferred()).isZero();
        assertThat(backbone[0]).as("no upload needed re-inference: no detector was opened").isNull();
        assertThat(stack.pipeline().parts().encodedBy(RESNET)).as("the service's ResNet ran on nothing more")
                .isEqualTo(resnetRunsBefore);
        Map<String, ModerationVerdict> rescored = readAll(output, images.keySet());
        for (String id : images.keySet()) {
            ImageEmbedding e = embeddings.get(id);
            double clip = ((ScoreOutcome.Scored) ScoringEngine.applyHead(head, OutputRecords.vector(e), !e.getL2Normalized())).llr();
            double resnet = e.getOtherDetectors().getFirst().getLogit();
            ModerationVerdict v = rescored.get(id);
            assertThat(v.getRescored()).isTrue();
            assertThat(v.getHeadVersion()).isEqualTo("fused-v2");
            assertThat(v.getLlr()).isEqualTo(Fusion.SOFT_OR_PROB.apply(clip, resnet));
            assertThat(v.getFusion()).isEqualTo("soft_or_prob");
            assertThat(v.getDetectors()).extracting(d -> d.getDetectorId()).containsExactly(CLIP, RESNET);
            assertThat(v.getDetectors().get(0).getLogit()).isEqualTo(clip);
            assertThat(v.getDetectors().get(0).getHeadVersion()).isEqualTo("fused-v2");
            assertThat(v.getDetectors().get(1).getLogit()).isEqualTo(resnet);
        }
    }

    @Test
    void rescoreReInfersAnUploadWithoutEmbeddingThroughBothDetectors() throws Exception {
        Topics.Names old = stack.settings().topics().withSuffix("-old");
        stack.broker().createTopics(1, old.uploads(), old.verdicts(), old.alerts(), old.deadLetter(), old.embeddings());
        byte[] small = image("gif_320x240.gif");
        Map<String, RecordMetadata> positions = new HashMap<>();
        try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(stack.broker().bootstrapServers(), stack.registry().url())) {
            positions.put("old-fused", TestClients.send(producer, old.uploads(), "old-fused", TestClients.inline("old-fused", small)));
        }
        // A verdict from before embeddings existed: no image-embeddings record, so rescore has to run the detectors.
        var verdictSerde = Topics.verdicts(old.verdicts(), new OutputSchemas(stack.registry().url())).valueSerde();
        try (KafkaProducer<String, ModerationVerdict> producer = new KafkaProducer<>(stack.broker().clientProperties(),
                new StringSerializer(), verdictSerde.serializer())) {
            RecordMetadata m = positions.get("old-fused");
            producer.send(new ProducerRecord<>(old.verdicts(), null, m.timestamp(), "old-fused", OutputRecords.verdict(
                    new OutputRecords.UploadRef("old-fused", "user-old", "0".repeat(64), m.partition(), m.offset()),
                    new ScoreOutcome.Scored(0.0, 0.5, false), stack.pipeline().engine().configuredHead(), CLIP, "exact",
                    Instant.now(), 10, false))).get();
        }
        Path v3 = TestModels.scaledHead(tmp.resolve("fused-v3.json"), "fused-v3", 64, 0.4);
        LinearHead head = LinearHead.load(v3);
        HeadCatalog catalog = new HeadCatalog(stack.broker().bootstrapServers(), stack.registry().url(), stack.settings().topics().heads());
        catalog.publish(head, Files.readString(v3), false, "test");
        Rescorer.Options options = new Rescorer.Options(stack.broker().bootstrapServers(), stack.registry().url(),
                new Topics.Names(old.uploads(), old.verdicts(), old.alerts(), old.deadLetter(), old.burstAlerts(),
                        old.embeddings(), stack.settings().topics().heads(), old.decisions()), old.verdicts(), 0.9, 100);
        ScoringParts[] backbone = new ScoringParts[1];
        Rescorer.Summary summary;
        try {
            summary = new Rescorer(options, catalog.find("fused-v3", CLIP), () -> backbone(backbone, v3))
                    .run(new Rescorer.Range.Offsets(Map.of(0, new long[]{0, 1000})), Rescorer.Progress.NONE);
            assertThat(backbone[0].encodedBy(RESNET)).as("images through the ResNet's encoder").isEqualTo(1);
            assertThat(backbone[0].encodedBy(CLIP)).isEqualTo(1);
        } finally {
            if (backbone[0] != null) backbone[0].close();
        }
        assertThat(summary.reInferred()).isEqualTo(1);
        ModerationVerdict v = TestClients.readCommitted(stack.broker().bootstrapServers(), old.verdicts(),
                        TestClients.<ModerationVerdict>avroReader(stack.registry().url()),
                        got -> got.stream().anyMatch(r -> r.value().getRescored()), WAIT)
                .stream().map(ConsumerRecord::value).filter(ModerationVerdict::getRescored).findFirst().orElseThrow();
        assertThat(v.getUploadId()).isEqualTo("old-fused");
        assertThat(v.getHeadVersion()).isEqualTo("fused-v3");
        double[] expected = referenceLogits(small);
        EmbedOutcome.Embedded clipFeatures = (EmbedOutcome.Embedded) reference.featuresEngine().embed(small).join();
        double clip = ((ScoreOutcome.Scored) reference.featuresEngine().score(head, clipFeatures)).llr();
        assertThat(v.getDetectors()).extracting(d -> d.getDetectorId()).containsExactly(CLIP, RESNET);
        assertThat(v.getDetectors().get(0).getLogit()).isCloseTo(clip, Offset.offset(1e-6));
        assertThat(v.getDetectors().get(1).getLogit()).isCloseTo(expected[1], Offset.offset(1e-6));
        assertThat(v.getLlr()).isEqualTo(Fusion.SOFT_OR_PROB.apply(v.getDetectors().get(0).getLogit(),
                v.getDetectors().get(1).getLogit()));
    }

    /** The rescore's detectors, as {@code tools/clipguard rescore --extra-model-dir} opens them, counting encoder runs. */
    private static Rescorer.Backbone backbone(ScoringParts[] opened, Path headFile) {
        try {
            opened[0] = ScoringParts.open(EngineConfig.builder(TestModels.TINY).headFile(headFile).device(Device.AUTO).build(),
                    new ScoringParts.Detectors(List.of(TestModels.TINY_RES50), "soft_or_prob", 0, List.of(), null),
                    stack.registry().url(), ModerationPipeline.fetchPolicy(List.of()), 0);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        ScoringParts parts = opened[0];
        return new Rescorer.Backbone() {
            public UploadScorer scorer() {
                return parts.scorer();
            }

            public void close() {
                // closed by the test once it has read the counts
            }
        };
    }

    /** The CLIP detector's logit (configured head) and the ResNet's, outside the service. */
    private static double[] referenceLogits(byte[] image) {
        var fused = reference.submit(image).join();
        return new double[]{fused.detectors().get(0).logit(), fused.detectors().get(1).logit()};
    }

    private static void send(Map<String, byte[]> images) throws Exception {
        try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(stack.broker().bootstrapServers(), stack.registry().url())) {
            for (var e : images.entrySet()) {
                TestClients.send(producer, stack.settings().topics().uploads(), e.getKey(), TestClients.inline(e.getKey(), e.getValue()));
            }
        }
    }

    private static Map<String, GenericRecord> readAsConfluentConsumer(String topic, java.util.Collection<String> ids) throws Exception {
        List<ConsumerRecord<byte[], byte[]>> records = TestClients.readCommitted(stack.broker().bootstrapServers(), topic,
                new ByteArrayDeserializer(), got -> got.stream().map(FusedModerationTest::key).collect(Collectors.toSet()).containsAll(ids), WAIT);
        Map<String, GenericRecord> decoded = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            if (ids.contains(key(r))) {
                decoded.put(key(r), TestClients.decodeAsConfluentConsumer(stack.registry().ccompatUrl(), r.value()));
            }
        }
        return decoded;
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> Map<String, T> readAll(String topic, java.util.Collection<String> ids) {
        return TestClients.readCommitted(stack.broker().bootstrapServers(), topic, TestClients.<T>avroReader(stack.registry().url()),
                        got -> got.stream().map(FusedModerationTest::key).collect(Collectors.toSet()).containsAll(ids), WAIT)
                .stream().filter(r -> ids.contains(key(r)))
                .collect(Collectors.toMap(FusedModerationTest::key, ConsumerRecord::value, (a, b) -> b));
    }

    private static String key(ConsumerRecord<byte[], ?> r) {
        return new String(r.key(), StandardCharsets.UTF_8);
    }

    private static byte[] image(String name) {
        return TestModels.read(IMAGES.resolve(name));
    }
}
