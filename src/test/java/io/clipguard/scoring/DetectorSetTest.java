package io.clipguard.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.clipguard.image.ImageDecoder;
import io.clipguard.image.ImageLimits;
import io.clipguard.image.NativeResolutionPreprocessor;
import io.clipguard.image.NativeResolutionSpec;
import io.clipguard.image.RgbImage;
import io.clipguard.inference.BatchListener;
import io.clipguard.inference.Device;
import io.clipguard.inference.ExportVerification;
import io.clipguard.inference.OnnxImageEncoder;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.ModelManifest;
import io.clipguard.model.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The logit model (tiny res50nodown) through the engine, and two detectors fused by {@link DetectorSet}. */
class DetectorSetTest {
    static final List<String> PHOTOS = List.of("grace_hopper.jpg", "china.jpg", "jpeg422_225x301.jpg",
            "gif_320x240.gif");
    static ScoringEngine res50;
    static OnnxImageEncoder reference;

    static EngineConfig.Builder config(Path model) {
        return EngineConfig.builder(model).device(Device.CPU).maxBatchSize(4).mergeWindow(Duration.ofMillis(20))
                .intraOpThreads(1).decodeThreads(2);
    }

    @BeforeAll
    static void open() throws Exception {
        res50 = ScoringEngine.open(config(TestModels.TINY_RES50).build());
        ModelManifest manifest = ModelManifest.load(TestModels.TINY_RES50);
        reference = OnnxImageEncoder.open(TestModels.TINY_RES50, manifest, Device.CPU, 1, 1);
    }

    @AfterAll
    static void close() {
        res50.close();
        reference.close();
    }

    static byte[] photo(String name) {
        return TestModels.read(TestModels.GOLDEN_IMAGES.resolve(name));
    }

    /** The exporter's PyTorch logits at two image sizes, through the session as the engine opens it. */
    @Test
    void theExportMatchesPyTorchAtTwoSizes() throws Exception {
        for (String file : List.of("verification.json", "verification.37x71.json")) {
            var result = ExportVerification.verify(reference,
                    ExportVerification.load(TestModels.TINY_RES50.resolve(file)));
            assertThat(result.passed()).as(file + ": " + result).isTrue();
        }
    }

    @Test
    void aLogitModelScoresWithItsLogitAndNoHead() {
        EngineInfo info = res50.info();
        assertThat(info.modelId()).isEqualTo("tiny-res50nodown-test");
        assertThat(info.headVersion()).isNull();
        assertThat(info.threshold()).isZero();
        assertThat(info.featureDim()).isEqualTo(1);
        assertThat(res50.configuredHead()).isNull();
        ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        List<ScoreOutcome> outcomes = res50.scoreAll(PHOTOS.stream().map(DetectorSetTest::photo).toList());
        for (int i = 0; i < PHOTOS.size(); i++) {
            RgbImage whole = decode(decoder, photo(PHOTOS.get(i)));
            double logit = reference.encode(List.of(whole))[0][0]; // the whole image at native size, batch of one
            assertThat(outcomes.get(i)).as(PHOTOS.get(i)).isInstanceOfSatisfying(ScoreOutcome.Scored.class, s -> {
                assertThat(s.llr()).isEqualTo(logit);
                assertThat(s.probability()).isCloseTo(1 / (1 + Math.exp(-logit)), within(1e-12));
                assertThat(s.synthetic()).isEqualTo(logit > 0);
            });
        }
    }

    /**
     * Images of different sizes in one merge window run as batches of one size each, and each gets exactly the logit
     * it gets alone; images of one size share a batch.
     */
    @Test
    void imagesAreBatchedBySize() throws Exception {
        List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());
        byte[] china = photo("china.jpg");
        byte[] gif = photo("gif_320x240.gif");
        double chinaAlone = ((ScoreOutcome.Scored) res50.scoreAll(List.of(china)).getFirst()).llr();
        double gifAlone = ((ScoreOutcome.Scored) res50.scoreAll(List.of(gif)).getFirst()).llr();
        try (ScoringEngine batching = ScoringEngine.open(config(TestModels.TINY_RES50).maxBatchSize(8)
                .mergeWindow(Duration.ofMillis(500)).decodeThreads(6).build(), (size, wait, run, failure) -> sizes.add(size))) {
            List<CompletableFuture<ScoreOutcome>> futures = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                futures.add(batching.submit(i % 2 == 0 ? china : gif));
            }
            for (int i = 0; i < 6; i++) {
                assertThat(((ScoreOutcome.Scored) futures.get(i).join()).llr())
                        .isCloseTo(i % 2 == 0 ? chinaAlone : gifAlone, within(1e-5));
            }
            assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(6);
            assertThat(sizes).anySatisfy(size -> assertThat(size).isGreaterThan(1));
        }
    }

    /** Over the pixel cap the detector sees torchvision's centre crop of at most that many pixels, and says so. */
    @Test
    void thePixelCapCropsAndMarksIt() throws Exception {
        byte[] china = photo("china.jpg"); // 640x427
        long cap = 200 * 150;
        try (ScoringEngine capped = ScoringEngine.open(config(TestModels.TINY_RES50).maxPixels(cap).build())) {
            EmbedOutcome big = capped.embed(china).join();
            EmbedOutcome small = capped.embed(photo("bilevel_120x90.png")).join();
            RgbImage crop = new NativeResolutionPreprocessor(new NativeResolutionSpec(new float[] {0.485f, 0.456f,
                    0.406f}, new float[] {0.229f, 0.224f, 0.225f}, cap)).prepare(decode(new ImageDecoder(
                    ImageLimits.DEFAULT), china));
            assertThat((long) crop.width() * crop.height()).isLessThanOrEqualTo(cap);
            assertThat(big).isInstanceOfSatisfying(EmbedOutcome.Embedded.class, e -> {
                assertThat(e.cropped()).isTrue();
                assertThat(e.features()[0]).isEqualTo(reference.encode(List.of(crop))[0][0]);
            });
            assertThat(small).isInstanceOfSatisfying(EmbedOutcome.Embedded.class, e -> assertThat(e.cropped()).isFalse());
        }
    }

    @Test
    void twoDetectorsGiveTheirLogitsAndTheFusion() throws Exception {
        try (DetectorSet set = DetectorSet.open(List.of(
                new DetectorSet.DetectorSpec(null, config(TestModels.TINY).build()),
                new DetectorSet.DetectorSpec(null, config(TestModels.TINY_RES50).build())),
                Fusion.SOFT_OR_PROB, 0, id -> BatchListener.NONE);
             ScoringEngine clip = ScoringEngine.open(config(TestModels.TINY).build())) {
            assertThat(set.detectors()).extracting(DetectorSet.Detector::id)
                    .containsExactly("tiny-clip-test", "tiny-res50nodown-test");
            for (String name : PHOTOS) {
                FusedOutcome fused = set.submit(photo(name)).join();
                double clipLlr = ((ScoreOutcome.Scored) clip.scoreAll(List.of(photo(name))).getFirst()).llr();
                double resLlr = ((ScoreOutcome.Scored) res50.scoreAll(List.of(photo(name))).getFirst()).llr();
                assertThat(fused.detectors()).hasSize(2);
                DetectorScore c = fused.detectors().get(0);
                DetectorScore r = fused.detectors().get(1);
                assertThat(c.logit()).isCloseTo(clipLlr, within(1e-6));
                assertThat(c.headVersion()).isEqualTo("random-seed0");
                assertThat(r.logit()).isCloseTo(resLlr, within(1e-6));
                assertThat(r.headVersion()).isNull();
                assertThat(r.cropped()).isFalse();
                double expected = Fusion.SOFT_OR_PROB.apply(c.logit(), r.logit());
                assertThat(fused.outcome()).isInstanceOfSatisfying(ScoreOutcome.Scored.class, s -> {
                    assertThat(s.llr()).isEqualTo(expected);
                    assertThat(s.probability()).isEqualTo(Fusion.sigmoid(expected));
                    assertThat(s.synthetic()).isEqualTo(expected > 0);
                });
                assertThat(fused.features()).isNotNull();
                assertThat(fused.features().features()).hasSize(64);
            }
        }
    }

    /** A detector's own size limit fails it alone: the fusion uses the other logit and the entry says why. */
    @Test
    void aDetectorThatFailsIsMarkedAndTheOthersAreFused() throws Exception {
        try (DetectorSet set = DetectorSet.open(List.of(
                new DetectorSet.DetectorSpec("clip", config(TestModels.TINY).build()),
                new DetectorSet.DetectorSpec("corvi", config(TestModels.TINY_RES50)
                        .imageLimits(new ImageLimits(ImageLimits.DEFAULT.maxEncodedBytes(), 100_000)).build())),
                Fusion.MEAN_LOGIT, 0, id -> BatchListener.NONE)) {
            FusedOutcome big = set.submit(photo("china.jpg")).join(); // 273,280 pixels: over corvi's limit
            assertThat(big.detectors().get(0).scored()).isTrue();
            DetectorScore corvi = big.detectors().get(1);
            assertThat(corvi.detectorId()).isEqualTo("corvi");
            assertThat(corvi.logit()).isNull();
            assertThat(corvi.failure()).isEqualTo(FailureReason.TOO_LARGE);
            assertThat(corvi.errorText()).startsWith("TOO_LARGE: ");
            assertThat(((ScoreOutcome.Scored) big.outcome()).llr()).isEqualTo(big.detectors().get(0).logit());

            FusedOutcome broken = set.submit(TestModels.read(TestModels.GOLDEN_BAD.resolve("truncated_header.jpg"))).join();
            assertThat(broken.outcome()).isInstanceOfSatisfying(ScoreOutcome.Failed.class,
                    f -> assertThat(f.reason()).isEqualTo(FailureReason.CORRUPT));
            assertThat(broken.detectors()).allSatisfy(d -> assertThat(d.scored()).isFalse());
        }
    }

    @Test
    void setsRefuseDuplicateIdsAndTwoFeatureDetectors() {
        assertThatThrownBy(() -> DetectorSet.open(List.of(
                new DetectorSet.DetectorSpec("a", config(TestModels.TINY_RES50).build()),
                new DetectorSet.DetectorSpec("a", config(TestModels.TINY_RES50).build())),
                Fusion.MAX_LOGIT, 0, id -> BatchListener.NONE))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("detector id 'a' is given twice");
        assertThatThrownBy(() -> DetectorSet.open(List.of(
                new DetectorSet.DetectorSpec("a", config(TestModels.TINY).build()),
                new DetectorSet.DetectorSpec("b", config(TestModels.TINY).build())),
                Fusion.MAX_LOGIT, 0, id -> BatchListener.NONE))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("at most one CLIP (features) detector");
        assertThatThrownBy(() -> ScoringEngine.openFeaturesOnly(config(TestModels.TINY_RES50).build()))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("CLIP detector only");
    }

    private static RgbImage decode(ImageDecoder decoder, byte[] bytes) {
        try {
            return decoder.decode(bytes);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
