package io.clipguard.streams;

import io.clipguard.moderation.UploadScorer;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.clipguard.avro.FailureReason;
import io.clipguard.avro.HighScoreAlert;
import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.ScoringFailure;
import io.clipguard.avro.VerdictLabel;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.testing.ApicurioRegistry;
import io.clipguard.testing.BadImages;
import io.clipguard.testing.ModerationPipeline;
import io.clipguard.testing.PipelineStack;
import io.clipguard.testing.TestClients;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The topology end to end on a real KRaft broker, the real Apicurio Registry and the bundled tiny ONNX model: good
 * uploads become verdicts with the bare engine's scores, every kind of bad input becomes exactly one dead letter with
 * its reason while good uploads keep flowing, and a plain Confluent-style consumer decodes our verdicts.
 */
class ModerationPipelineTest {
    static final Path IMAGES = Path.of("src/test/resources/golden/images");
    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;
    static PipelineStack stack;
    static Path fileRoot;

    @BeforeAll
    static void start() throws Exception {
        fileRoot = Files.createDirectories(tmp.resolve("uploads"));
        // Alert threshold 0.5: with the random test head some photos land on each side of it.
        stack = PipelineStack.start(tmp, "clipguard-it", ModerationPipeline.settings("", 8, Duration.ofMillis(50), 0.5),
                List.of(fileRoot), WAIT, r -> {
                    // Same schema under two subjects: the registry's global ids and content ids now differ, so the
                    // interop test below can tell which one we put in the wire format.
                    String schema = "{\"type\":\"record\",\"name\":\"U\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}";
                    registerViaCcompat(r, "unrelated-a-value", schema);
                    registerViaCcompat(r, "unrelated-b-value", schema);
                });
    }

    @AfterAll
    static void stop() throws Exception {
        if (stack != null) stack.close();
    }

    @Test
    void everyGoodUploadGetsOneVerdictWithTheBareEngineScore() throws Exception {
        List<String> photos = List.of("grace_hopper.jpg", "china.jpg", "flower.jpg", "rgb_640x427.png", "webp_lossy_400x300.webp",
                "gif_320x240.gif", "bmp24_333x222.bmp", "progressive_640x427.jpg", "cmyk_300x200.jpg", "pano_3000x400.jpg");
        Map<String, byte[]> byId = new LinkedHashMap<>();
        Map<String, RecordMetadata> sent = new HashMap<>();
        try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(stack.broker().bootstrapServers(), stack.registry().url())) {
            for (String photo : photos) {
                byte[] bytes = Files.readAllBytes(IMAGES.resolve(photo));
                String id = "good-" + photo;
                byId.put(id, bytes);
                sent.put(id, TestClients.send(producer, stack.settings().topics().uploads(), id, TestClients.inline(id, bytes)));
            }
            // One by reference, under the allowed file root.
            byte[] referenced = Files.readAllBytes(IMAGES.resolve("grace_hopper.jpg"));
            Path file = Files.write(fileRoot.resolve("ref.jpg"), referenced);
            byId.put("good-by-uri", referenced);
            sent.put("good-by-uri", TestClients.send(producer, stack.settings().topics().uploads(), "good-by-uri",
                    TestClients.byReference("good-by-uri", file.toUri().toString())));
        }

        Map<String, ModerationVerdict> verdicts = verdictsFor(byId.keySet());
        assertThat(verdicts).containsOnlyKeys(byId.keySet());

        List<String> ids = new ArrayList<>(byId.keySet());
        List<ScoreOutcome> bare = stack.pipeline().engine().scoreAll(ids.stream().map(byId::get).toList());
        for (int i = 0; i < ids.size(); i++) {
            ModerationVerdict v = verdicts.get(ids.get(i));
            ScoreOutcome.Scored expected = (ScoreOutcome.Scored) bare.get(i);
            assertThat(v.getLlr()).as(ids.get(i)).isCloseTo(expected.llr(), org.assertj.core.data.Offset.offset(1e-6));
            assertThat(v.getProbability()).isCloseTo(expected.probability(), org.assertj.core.data.Offset.offset(1e-9));
            assertThat(v.getLabel()).isEqualTo(expected.synthetic() ? VerdictLabel.SYNTHETIC : VerdictLabel.REAL);
            assertThat(v.getLabel() == VerdictLabel.SYNTHETIC).isEqualTo(v.getLlr() > v.getThreshold());
            assertThat(v.getImageSha256()).isEqualTo(UploadScorer.sha256(byId.get(ids.get(i))));
            assertThat(v.getModelId()).isEqualTo("tiny-clip-test");
            assertThat(v.getHeadVersion()).isEqualTo(stack.pipeline().engine().info().headVersion());
            assertThat(v.getDecodeMode()).isEqualTo("exact");
            assertThat(v.getUploaderId()).startsWith("user-");
            assertThat(v.getSourcePartition()).isEqualTo(sent.get(ids.get(i)).partition());
            assertThat(v.getSourceOffset()).isEqualTo(sent.get(ids.get(i)).offset());
            assertThat(v.getEndToEndLatencyMs()).isBetween(0L, 60_000L);
        }

        long expectedAlerts = verdicts.values().stream().filter(v -> v.getProbability() >= 0.5).count();
        List<ConsumerRecord<byte[], HighScoreAlert>> alerts = TestClients.readCommitted(stack.broker().bootstrapServers(),
                stack.settings().topics().alerts(), TestClients.<HighScoreAlert>avroReader(stack.registry().url()),
                got -> got.stream().filter(a -> byId.containsKey(a.value().getUploadId())).count() >= expectedAlerts, WAIT);
        List<HighScoreAlert> ours = alerts.stream().map(ConsumerRecord::value)
                .filter(a -> byId.containsKey(a.getUploadId())).toList();
        assertThat(ours).hasSize((int) expectedAlerts);
        assertThat(expectedAlerts).as("the random head puts some photos over 0.5 and some under").isBetween(1L, (long) byId.size() - 1);
        for (HighScoreAlert a : ours) {
            assertThat(a.getProbability()).isEqualTo(verdicts.get(a.getUploadId()).getProbability());
            assertThat(a.getAlertThreshold()).isEqualTo(0.5);
        }
    }

    @Test
    void everyBadInputBecomesOneDeadLetterWithItsReasonWhileGoodUploadsFlow() throws Exception {
        byte[] photo = Files.readAllBytes(IMAGES.resolve("flower.jpg"));
        Map<String, FailureReason> expected = new LinkedHashMap<>();
        Map<String, byte[]> rawValues = new HashMap<>();
        try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(stack.broker().bootstrapServers(), stack.registry().url());
             KafkaProducer<byte[], byte[]> raw = TestClients.rawProducer(stack.broker().bootstrapServers())) {
            Map<String, Map.Entry<byte[], FailureReason>> badImages = BadImages.all();
            for (var bad : badImages.entrySet()) {
                String id = "bad-" + bad.getKey();
                expected.put(id, bad.getValue().getValue());
                TestClients.send(producer, stack.settings().topics().uploads(), id, TestClients.inline(id, bad.getValue().getKey()));
                TestClients.send(producer, stack.settings().topics().uploads(), "ok-after-" + id, TestClients.inline("ok-after-" + id, photo));
            }
            expected.put("bad-refused-address", FailureReason.FETCH_REFUSED);
            TestClients.send(producer, stack.settings().topics().uploads(), "bad-refused-address",
                    TestClients.byReference("bad-refused-address", "http://127.0.0.1:9/latest/meta-data"));
            expected.put("bad-outside-root", FailureReason.FETCH_REFUSED);
            TestClients.send(producer, stack.settings().topics().uploads(), "bad-outside-root",
                    TestClients.byReference("bad-outside-root", IMAGES.resolve("china.jpg").toAbsolutePath().toUri().toString()));
            expected.put("bad-missing-file", FailureReason.FETCH_FAILED);
            TestClients.send(producer, stack.settings().topics().uploads(), "bad-missing-file",
                    TestClients.byReference("bad-missing-file", fileRoot.resolve("nope.jpg").toUri().toString()));
            byte[] notAvro = "{\"uploadId\": \"json-not-avro\"}".getBytes();
            expected.put("bad-not-avro", FailureReason.MALFORMED_EVENT);
            rawValues.put("bad-not-avro", notAvro);
            TestClients.send(raw, stack.settings().topics().uploads(), "bad-not-avro".getBytes(), notAvro);
        }

        Map<String, ScoringFailure> letters = TestClients.readCommitted(stack.broker().bootstrapServers(), stack.settings().topics().deadLetter(),
                        TestClients.<ScoringFailure>avroReader(stack.registry().url()),
                        got -> got.stream().filter(r -> expected.containsKey(r.value().getUploadId())).count() >= expected.size(), WAIT)
                .stream().map(ConsumerRecord::value).filter(f -> expected.containsKey(f.getUploadId()))
                .collect(Collectors.toMap(ScoringFailure::getUploadId, Function.identity(), (a, b) -> {
                    throw new AssertionError("two dead letters for " + a.getUploadId());
                }));
        assertThat(letters).containsOnlyKeys(expected.keySet());
        expected.forEach((id, reason) -> {
            ScoringFailure f = letters.get(id);
            assertThat(f.getReason()).as(id + ": " + f.getMessage()).isEqualTo(reason);
            assertThat(f.getMessage()).isNotBlank();
            assertThat(f.getSourceTopic()).isEqualTo(stack.settings().topics().uploads());
            assertThat(new String(bytes(f.getOriginalKey()))).isEqualTo(id);
        });
        assertThat(bytes(letters.get("bad-not-avro").getOriginalValue())).isEqualTo(rawValues.get("bad-not-avro"));

        List<String> goodIds = expected.keySet().stream().filter(id -> !id.startsWith("bad-refused") && !id.startsWith("bad-outside")
                && !id.startsWith("bad-missing") && !id.equals("bad-not-avro")).map(id -> "ok-after-" + id).toList();
        Map<String, ModerationVerdict> verdicts = verdictsFor(goodIds);
        assertThat(verdicts).containsOnlyKeys(goodIds);
        assertThat(allVerdictIds()).doesNotContainAnyElementsOf(expected.keySet());
    }

    @Test
    void aConfluentStyleConsumerDecodesVerdictsWithTheCcompatApiAndPlainAvro() throws Exception {
        byte[] photo = Files.readAllBytes(IMAGES.resolve("china.jpg"));
        try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(stack.broker().bootstrapServers(), stack.registry().url())) {
            TestClients.send(producer, stack.settings().topics().uploads(), "interop", TestClients.inline("interop", photo));
        }
        ConsumerRecord<byte[], byte[]> record = TestClients.readCommitted(stack.broker().bootstrapServers(), stack.settings().topics().verdicts(),
                        new ByteArrayDeserializer(), got -> got.stream().anyMatch(r -> new String(r.key()).equals("interop")), WAIT)
                .stream()
                .filter(r -> new String(r.key()).equals("interop")).findFirst().orElseThrow();
        GenericRecord decoded = TestClients.decodeAsConfluentConsumer(stack.registry().ccompatUrl(), record.value());
        assertThat(decoded.getSchema().getFullName()).isEqualTo(ModerationVerdict.getClassSchema().getFullName());
        ScoreOutcome.Scored bare = (ScoreOutcome.Scored) stack.pipeline().engine().scoreAll(List.of(photo)).get(0);
        assertThat(decoded.get("uploadId").toString()).isEqualTo("interop");
        assertThat((Double) decoded.get("llr")).isCloseTo(bare.llr(), org.assertj.core.data.Offset.offset(1e-6));
        assertThat(decoded.get("imageSha256").toString()).isEqualTo(UploadScorer.sha256(photo));
    }

    /** Our verdicts for {@code ids}, read until all are there; fails on a second verdict for any upload. */
    private static Map<String, ModerationVerdict> verdictsFor(java.util.Collection<String> ids) {
        return TestClients.readCommitted(stack.broker().bootstrapServers(), stack.settings().topics().verdicts(),
                        TestClients.<ModerationVerdict>avroReader(stack.registry().url()),
                        got -> got.stream().map(r -> r.value().getUploadId()).collect(Collectors.toSet()).containsAll(ids), WAIT)
                .stream().map(ConsumerRecord::value).filter(v -> ids.contains(v.getUploadId()))
                .collect(Collectors.toMap(ModerationVerdict::getUploadId, Function.identity(), (a, b) -> {
                    throw new AssertionError("two verdicts for " + a.getUploadId());
                }));
    }

    private static java.util.Set<String> allVerdictIds() {
        return TestClients.readCommitted(stack.broker().bootstrapServers(), stack.settings().topics().verdicts(),
                        TestClients.<ModerationVerdict>avroReader(stack.registry().url()), got -> false, Duration.ofSeconds(3))
                .stream().map(r -> r.value().getUploadId()).collect(Collectors.toSet());
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static void registerViaCcompat(ApicurioRegistry target, String subject, String schema) throws Exception {
        HttpResponse<String> r = target.ccompat("POST", "/subjects/" + subject + "/versions",
                new ObjectMapper().writeValueAsString(Map.of("schema", schema)));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
}
