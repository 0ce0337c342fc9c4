package io.clipguard.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.avro.FailureReason;
import io.clipguard.avro.HighScoreAlert;
import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.ScoringFailure;
import io.clipguard.avro.VerdictLabel;
import io.clipguard.contracts.OutputRecords;
import io.clipguard.model.LinearHead;
import io.clipguard.model.TestModels;
import io.clipguard.moderation.UploadScorer;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import io.clipguard.streams.metrics.ModerationMetrics;
import io.clipguard.testing.ApicurioRegistry;
import io.clipguard.testing.BadImages;
import io.clipguard.testing.DrivenTopology;
import io.clipguard.testing.ModerationPipeline;
import io.clipguard.testing.TestClients;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.streams.test.TestRecord;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The topology without a broker: {@link ModerationTopology#build} under the TopologyTestDriver with the real engine,
 * the bundled tiny ONNX model, real image files and the real Apicurio Registry behind the serdes (one per class).
 * Branch routing (verdict, embedding, alert above the threshold; dead letter with its typed reason), batching (by size
 * and by the partition batch's maximum wait on the wall clock) and head switches through detector-heads. What needs
 * a broker (exactly-once across a crash, restarts, interop of the wire format) is tested on one elsewhere.
 */
class ModerationTopologyTest {
    static final Path IMAGES = Path.of("src/test/resources/golden/images");
    static final Path SAMPLES = Path.of("samples/uploads");

    @TempDir
    static Path tmp;
    static ApicurioRegistry registry;

    @TempDir
    Path state;
    DrivenTopology topology;

    @BeforeAll
    static void startRegistry() throws Exception {
        registry = ApicurioRegistry.start(tmp.resolve("registry.log"));
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        if (registry != null) registry.close();
    }

    @AfterEach
    void closeTopology() {
        if (topology != null) topology.close();
    }

    private DrivenTopology drive(int maxBatchSize, Duration partitionBatchMaxWait, double alertThreshold, List<Path> fileRoots)
            throws Exception {
        topology = new DrivenTopology(registry.url(), ModerationPipeline.settings("", maxBatchSize, partitionBatchMaxWait,
                alertThreshold), fileRoots, state);
        return topology;
    }

    @Test
    void aGoodUploadBecomesAVerdictWithItsEmbeddingAndAboveTheAlertThresholdAnAlert() throws Exception {
        // Alert threshold 0.5: with the random test head some photos land on each side of it.
        DrivenTopology t = drive(16, Duration.ofSeconds(30), 0.5, List.of(SAMPLES.toAbsolutePath()));
        Map<String, byte[]> byId = new LinkedHashMap<>();
        for (Path photo : List.of(SAMPLES.resolve("grace_hopper.jpg"), SAMPLES.resolve("china.jpg"), SAMPLES.resolve("flower.jpg"),
                SAMPLES.resolve("webp_lossless_257x190.webp"), SAMPLES.resolve("palette_trns_225x301.png"),
                IMAGES.resolve("rgb_640x427.png"), IMAGES.resolve("gif_320x240.gif"), IMAGES.resolve("bmp24_333x222.bmp"),
                IMAGES.resolve("progressive_640x427.jpg"), IMAGES.resolve("cmyk_300x200.jpg"))) {
            byte[] bytes = Files.readAllBytes(photo);
            String id = "good-" + photo.getFileName();
            byId.put(id, bytes);
            t.upload(id, bytes);
        }
        // One by reference, as samples/uploads/by-reference.uri is sent by tools/run-local.
        byId.put("good-by-uri", Files.readAllBytes(SAMPLES.resolve("flower.jpg")));
        t.upload(TestClients.byReference("good-by-uri", SAMPLES.resolve("flower.jpg").toAbsolutePath().toUri().toString()),
                Instant.now());
        assertThat(t.verdicts()).as("a batch of 11 waits for 16 or for its maximum wait").isEmpty();
        assertThat(t.parts().metrics().pending()).isEqualTo(11);

        t.flushWaitingBatch();

        List<String> ids = new ArrayList<>(byId.keySet());
        List<ModerationVerdict> verdicts = values(t.verdicts());
        assertThat(verdicts).extracting(ModerationVerdict::getUploadId).containsExactlyElementsOf(ids);
        List<ScoreOutcome> bare = t.parts().engine().scoreAll(ids.stream().map(byId::get).toList());
        for (int i = 0; i < ids.size(); i++) {
            ModerationVerdict v = verdicts.get(i);
            ScoreOutcome.Scored expected = (ScoreOutcome.Scored) bare.get(i);
            assertThat(v.getLlr()).as(ids.get(i)).isCloseTo(expected.llr(), Offset.offset(1e-6));
            assertThat(v.getProbability()).isCloseTo(expected.probability(), Offset.offset(1e-9));
            assertThat(v.getLabel()).isEqualTo(expected.synthetic() ? VerdictLabel.SYNTHETIC : VerdictLabel.REAL);
            assertThat(v.getImageSha256()).isEqualTo(UploadScorer.sha256(byId.get(ids.get(i))));
            assertThat(v.getModelId()).isEqualTo("tiny-clip-test");
            assertThat(v.getHeadVersion()).isEqualTo("random-seed0");
            assertThat(v.getDecodeMode()).isEqualTo("exact");
            assertThat(v.getSourcePartition()).isZero();
            assertThat(v.getSourceOffset()).isEqualTo(i);
        }

        // Each verdict's embedding, with the same key: the vector the verdict was scored from.
        Map<String, ImageEmbedding> embeddings = t.embeddings().stream()
                .collect(Collectors.toMap(TestRecord::key, TestRecord::value));
        assertThat(embeddings).containsOnlyKeys(ids);
        LinearHead head = t.parts().heads().get();
        for (ModerationVerdict v : verdicts) {
            ImageEmbedding e = embeddings.get(v.getUploadId());
            assertThat(e.getImageSha256()).isEqualTo(v.getImageSha256());
            assertThat(e.getSourceOffset()).isEqualTo(v.getSourceOffset());
            ScoreOutcome.Scored fromEmbedding = (ScoreOutcome.Scored) ScoringEngine.applyHead(head, OutputRecords.vector(e),
                    !e.getL2Normalized());
            assertThat(fromEmbedding.llr()).isEqualTo(v.getLlr());
        }

        // Alerts: exactly the verdicts at or above 0.5.
        List<String> high = verdicts.stream().filter(v -> v.getProbability() >= 0.5).map(ModerationVerdict::getUploadId).toList();
        assertThat(high).as("the random head puts some photos over 0.5 and some under").isNotEmpty().hasSizeLessThan(ids.size());
        List<HighScoreAlert> alerts = values(t.alerts());
        assertThat(alerts).extracting(HighScoreAlert::getUploadId).containsExactlyElementsOf(high);
        Map<String, ModerationVerdict> byUpload = verdicts.stream().collect(Collectors.toMap(ModerationVerdict::getUploadId, Function.identity()));
        assertThat(alerts).allSatisfy(a -> {
            assertThat(a.getProbability()).isEqualTo(byUpload.get(a.getUploadId()).getProbability());
            assertThat(a.getAlertThreshold()).isEqualTo(0.5);
            assertThat(a.getVerdictTopic()).isEqualTo(t.settings().topics().verdicts());
        });

        assertThat(t.deadLetters()).isEmpty();
        assertThat(t.parts().metrics().pending()).isZero();
        assertThat(t.parts().counted("clipguard.records.in")).isEqualTo(ids.size());
        assertThat(t.parts().counted("clipguard.verdicts.out")).isEqualTo(ids.size());
        assertThat(t.parts().counted("clipguard.alerts.out")).isEqualTo(high.size());
    }

    @Test
    void everyBadInputBecomesOneDeadLetterWithItsTypedReasonWhileGoodUploadsFlow() throws Exception {
        Path fileRoot = Files.createDirectories(state.resolve("uploads"));
        DrivenTopology t = drive(8, Duration.ofSeconds(30), 0.5, List.of(fileRoot));
        byte[] photo = Files.readAllBytes(IMAGES.resolve("flower.jpg"));
        Map<String, FailureReason> expected = new LinkedHashMap<>();
        List<String> good = new ArrayList<>();
        Map<String, Map.Entry<byte[], FailureReason>> bad = new LinkedHashMap<>(BadImages.all());
        bad.put("sample-corrupt-truncated", Map.entry(Files.readAllBytes(SAMPLES.resolve("corrupt-truncated.jpg")), FailureReason.CORRUPT));
        for (var b : bad.entrySet()) {
            String id = "bad-" + b.getKey();
            expected.put(id, b.getValue().getValue());
            t.upload(id, b.getValue().getKey());
            good.add("ok-after-" + id);
            t.upload("ok-after-" + id, photo);
        }
        expected.put("bad-refused-address", FailureReason.FETCH_REFUSED);
        t.upload(TestClients.byReference("bad-refused-address", "http://127.0.0.1:9/latest/meta-data"), Instant.now());
        expected.put("bad-outside-root", FailureReason.FETCH_REFUSED);
        t.upload(TestClients.byReference("bad-outside-root", IMAGES.resolve("china.jpg").toAbsolutePath().toUri().toString()),
                Instant.now());
        expected.put("bad-missing-file", FailureReason.FETCH_FAILED);
        t.upload(TestClients.byReference("bad-missing-file", fileRoot.resolve("nope.jpg").toUri().toString()), Instant.now());
        byte[] notAvro = "{\"uploadId\": \"json-not-avro\"}".getBytes(StandardCharsets.UTF_8);
        expected.put("bad-not-avro", FailureReason.MALFORMED_EVENT);
        t.uploadRaw("bad-not-avro".getBytes(StandardCharsets.UTF_8), notAvro, Instant.now());
        t.flushWaitingBatch(); // the last, partial batch

        List<TestRecord<byte[], ScoringFailure>> records = t.deadLetters();
        Map<String, ScoringFailure> letters = records.stream().map(TestRecord::value)
                .collect(Collectors.toMap(ScoringFailure::getUploadId, Function.identity(), (a, b) -> {
                    throw new AssertionError("two dead letters for " + a.getUploadId());
                }));
        assertThat(letters).containsOnlyKeys(expected.keySet());
        expected.forEach((id, reason) -> {
            ScoringFailure f = letters.get(id);
            assertThat(f.getReason()).as(id + ": " + f.getMessage()).isEqualTo(reason);
            assertThat(f.getMessage()).isNotBlank();
            assertThat(f.getSourceTopic()).isEqualTo(t.settings().topics().uploads());
            assertThat(new String(bytes(f.getOriginalKey()), StandardCharsets.UTF_8)).isEqualTo(id);
        });
        // Keyed by the original key bytes; a record that is no event at all keeps its bytes untouched.
        assertThat(records).allSatisfy(r -> assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo(r.value().getUploadId()));
        assertThat(bytes(letters.get("bad-not-avro").getOriginalValue())).isEqualTo(notAvro);

        assertThat(values(t.verdicts())).extracting(ModerationVerdict::getUploadId).containsExactlyElementsOf(good);
        expected.forEach((id, reason) -> assertThat(t.parts().counted("clipguard.dead.letters", "reason", reason.name()))
                .isEqualTo(expected.values().stream().filter(reason::equals).count()));
        assertThat(t.parts().counted("clipguard.verdicts.out")).isEqualTo(good.size());
    }

    @Test
    void aBatchIsScoredWhenFullOrWhenItsOldestUploadHasWaitedTheMaximumWait() throws Exception {
        DrivenTopology t = drive(3, Duration.ofMinutes(5), 2.0, List.of());
        byte[] photo = Files.readAllBytes(IMAGES.resolve("china.jpg"));
        t.upload("a", photo);
        t.upload("b", photo);
        assertThat(t.verdicts()).isEmpty();
        assertThat(t.parts().metrics().pending()).isEqualTo(2);

        t.upload("c", photo); // the third: a full batch is scored at once, whatever the clock says
        assertThat(values(t.verdicts())).extracting(ModerationVerdict::getUploadId).containsExactly("a", "b", "c");
        assertThat(t.parts().metrics().pending()).isZero();

        t.upload("d", photo);
        assertThat(t.verdicts()).isEmpty();
        t.flushWaitingBatch(); // five minutes later
        assertThat(values(t.verdicts())).extracting(ModerationVerdict::getUploadId).containsExactly("d");
        assertThat(t.parts().metrics().pending()).isZero();
        assertThat(t.parts().engine().batchStats().images()).as("one photo, encoded once: the rest are cache hits").isEqualTo(1);
    }

    @Test
    void anUploadThatArrivedWhileItsThreadWasBusyWaitsOnlyWhatIsLeftOfTheMaximumWait() throws Exception {
        // Wait 2 s, tick 500 ms: an upload dated 1.9 s ago (it arrived while the thread was blocked in a batch) is due
        // one tick after it is seen; one dated now, an hour ago (a backlog) or an hour ahead (a producer's clock) waits
        // the whole 2 s from when it is seen. Each case on a fresh driver: every move of the driver's clock is at least
        // a tick, so moves add up ahead of the system clock, by which the processor dates uploads.
        DrivenTopology t = drive(2, Duration.ofSeconds(2), 2.0, List.of());
        byte[] photo = Files.readAllBytes(IMAGES.resolve("china.jpg"));
        t.upload(TestClients.inline("late", photo), Instant.now().minusMillis(1900));
        t.wallClockToNowPlus(Duration.ofMillis(500));
        assertThat(values(t.verdicts())).extracting(ModerationVerdict::getUploadId).containsExactly("late");
        // The stage meters: it queued 1.9 s before its thread took it.
        var queued = t.parts().meters().get(ModerationMetrics.STAGE_TIMER).tag("stage", "queued").timer();
        assertThat(queued.count()).isEqualTo(1);
        assertThat(queued.max(TimeUnit.MILLISECONDS)).isBetween(1900.0, 60_000.0);
        assertThat(t.parts().meters().get(ModerationMetrics.STAGE_TIMER).tag("stage", "scored").timer().count()).isEqualTo(1);

        for (Duration dated : List.of(Duration.ZERO, Duration.ofHours(-1), Duration.ofHours(1))) {
            topology.close();
            t = drive(2, Duration.ofSeconds(2), 2.0, List.of());
            String id = "dated-" + dated;
            t.upload(TestClients.inline(id, photo), Instant.now().plus(dated));
            t.wallClockToNowPlus(Duration.ofSeconds(1));
            assertThat(t.verdicts()).as(id + " after 1 s").isEmpty();
            t.upload("next-to-" + id, photo); // a full batch leaves by size
            assertThat(values(t.verdicts())).extracting(ModerationVerdict::getUploadId).containsExactly(id, "next-to-" + id);
        }
    }

    @Test
    void aRecordOnDetectorHeadsSwitchesTheHeadUsedForLaterUploads() throws Exception {
        DrivenTopology t = drive(1, Duration.ofSeconds(30), 2.0, List.of());
        byte[] photo = Files.readAllBytes(IMAGES.resolve("grace_hopper.jpg"));
        t.upload("before", photo);
        ModerationVerdict before = values(t.verdicts()).getFirst();
        assertThat(before.getHeadVersion()).isEqualTo("random-seed0");
        float[] features = OutputRecords.vector(values(t.embeddings()).getFirst());

        Path v2 = TestModels.scaledHead(state.resolve("switch-v2.json"), "switch-v2", 64, -1.0);
        t.publishHead(v2, false);
        t.upload("published-only", photo);
        assertThat(values(t.verdicts()).getFirst().getHeadVersion()).as("published, not active").isEqualTo("random-seed0");

        t.publishHead(v2, true);
        assertThat(t.parts().heads().get().version()).isEqualTo("switch-v2");
        t.upload("after", photo);
        ModerationVerdict after = values(t.verdicts()).getFirst();
        LinearHead head = LinearHead.load(v2);
        assertThat(after.getHeadVersion()).isEqualTo("switch-v2");
        assertThat(after.getThreshold()).isEqualTo(head.threshold());
        ScoreOutcome.Scored expected = (ScoreOutcome.Scored) ScoringEngine.applyHead(head, features,
                !t.parts().engine().featuresNormalized());
        assertThat(after.getLlr()).isEqualTo(expected.llr());
        assertThat(after.getLlr()).isCloseTo(-before.getLlr() + 2 * head.bias(), Offset.offset(1e-6));
        assertThat(t.parts().counted("clipguard.head.activations")).isEqualTo(1);

        // A head that does not fit the backbone is refused; the serving one stays.
        t.publishHead(TestModels.scaledHead(state.resolve("misfit-32d.json"), "misfit-32d", 32, 1.0), true);
        assertThat(t.parts().heads().refusal()).hasValueSatisfying(r -> assertThat(r.version()).isEqualTo("misfit-32d"));
        t.upload("after-refusal", photo);
        assertThat(values(t.verdicts()).getFirst().getHeadVersion()).isEqualTo("switch-v2");
        assertThat(t.parts().counted("clipguard.head.refusals")).isEqualTo(1);
    }

    @Test
    void withBatchesInFlightTheThreadGoesOnAndVerdictsLeaveInInputOrder() throws Exception {
        // Batches of 4, two in flight, a maximum wait far beyond the test: every batch here is flushed for being full.
        topology = DrivenTopology.keepingBatchesInFlight(registry.url(),
                ModerationPipeline.settings("", 4, Duration.ofSeconds(60), 0.99).withBatchesInFlight(2), List.of(), state);
        DrivenTopology t = topology;
        List<Path> photos = List.of(IMAGES.resolve("grace_hopper.jpg"), IMAGES.resolve("china.jpg"),
                IMAGES.resolve("flower.jpg"), IMAGES.resolve("rgb_640x427.png"));
        List<String> ids = new ArrayList<>();
        Map<String, byte[]> byId = new LinkedHashMap<>();
        List<ModerationVerdict> verdicts = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            String id = "in-flight-" + i;
            byte[] bytes = Files.readAllBytes(photos.get(i % photos.size()));
            ids.add(id);
            byId.put(id, bytes);
            t.upload(id, bytes);
            if (i == 7) {
                // The second batch was handed to the engine by this very upload, and the call returned without it.
                verdicts.addAll(values(t.verdicts()));
                assertThat(verdicts.size()).as("verdicts after two full batches").isLessThanOrEqualTo(4);
                assertThat(t.parts().metrics().pending()).isGreaterThanOrEqualTo(4);
            }
        }
        // The third full batch found two in flight and waited for the oldest (unless it was forwarded earlier, being
        // done): the first four verdicts are out with no tick, and nothing is out of order.
        verdicts.addAll(values(t.verdicts()));
        assertThat(verdicts.size()).isBetween(4, 12);
        assertThat(verdicts).extracting(ModerationVerdict::getUploadId).containsExactlyElementsOf(ids.subList(0, verdicts.size()));

        io.clipguard.testing.Waits.await("the batches in flight forwarded by ticks").until(() -> {
            t.tick();
            verdicts.addAll(values(t.verdicts()));
            return verdicts.size() >= 12;
        });
        assertThat(verdicts).extracting(ModerationVerdict::getUploadId).containsExactlyElementsOf(ids);
        assertThat(values(t.embeddings())).extracting(ImageEmbedding::getUploadId).containsExactlyElementsOf(ids);
        assertThat(t.parts().metrics().pending()).isZero();
        List<ScoreOutcome> bare = t.parts().engine().scoreAll(ids.stream().map(byId::get).toList());
        for (int i = 0; i < ids.size(); i++) {
            assertThat(verdicts.get(i).getLlr()).isCloseTo(((ScoreOutcome.Scored) bare.get(i)).llr(), Offset.offset(1e-6));
        }
    }

    private static <K, V> List<V> values(List<TestRecord<K, V>> records) {
        return records.stream().map(TestRecord::value).toList();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
