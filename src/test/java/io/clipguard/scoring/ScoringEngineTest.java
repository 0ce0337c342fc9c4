package io.clipguard.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clipguard.image.ClipPreprocessor;
import io.clipguard.image.ImageDecoder;
import io.clipguard.image.ImageLimits;
import io.clipguard.inference.Device;
import io.clipguard.inference.OnnxImageEncoder;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.ModelManifest;
import io.clipguard.model.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScoringEngineTest {
    static final List<String> PHOTOS = List.of("grace_hopper.jpg", "china.jpg", "flower.jpg", "jpeg422_225x301.jpg",
            "gif_320x240.gif", "bmp24_333x222.bmp");
    static ScoringEngine engine;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() throws Exception {
        engine = ScoringEngine.open(EngineConfig.builder(TestModels.TINY).device(Device.CPU).maxBatchSize(4)
                .mergeWindow(Duration.ofMillis(20)).intraOpThreads(1).decodeThreads(2).build());
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        EngineConfig c = EngineConfig.defaults(Path.of("models/x"));
        assertThat(c.headFile()).isEqualTo(Path.of("models/x/head.json"));
        assertThat(c.device()).isEqualTo(Device.AUTO);
        assertThat(c.maxBatchSize()).isEqualTo(32);
        assertThat(c.mergeWindow()).isEqualTo(Duration.ofMillis(5));
        assertThat(c.intraOpThreads()).isZero();
        assertThat(c.decodeThreads()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(c.imageLimits()).isEqualTo(ImageLimits.DEFAULT);
    }

    @Test
    void infoDescribesTheServedModel() {
        EngineInfo info = engine.info();
        assertThat(info.modelId()).isEqualTo("tiny-clip-test");
        assertThat(info.headVersion()).isEqualTo("random-seed0");
        assertThat(info.device()).isEqualTo("CPU");
        assertThat(info.featureDim()).isEqualTo(64);
        assertThat(info.maxBatchSize()).isEqualTo(4);
    }

    /** LLR recomputed here from the raw ONNX features and head.json read independently: w·f/‖f‖ + b. */
    @Test
    void llrIsTheHeadAppliedToTheNormalisedFeatures() throws Exception {
        List<byte[]> images = new ArrayList<>();
        for (String name : PHOTOS) {
            images.add(TestModels.read(TestModels.GOLDEN_IMAGES.resolve(name)));
        }
        List<ScoreOutcome> outcomes = engine.scoreAll(images);

        ModelManifest manifest = ModelManifest.load(TestModels.TINY);
        JsonNode head = new ObjectMapper().readTree(TestModels.TINY.resolve("head.json").toFile());
        ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        ClipPreprocessor pre = new ClipPreprocessor(manifest.preprocessSpec());
        try (OnnxImageEncoder encoder = OnnxImageEncoder.open(TestModels.TINY, manifest, Device.CPU, 1, 1)) {
            for (int i = 0; i < images.size(); i++) {
                float[] f = encoder.encode(List.of(pre.resizeAndCrop(decoder.decode(images.get(i)))))[0];
                double norm = Math.sqrt(Arrays.stream(toDoubles(f)).map(v -> v * v).sum());
                double sum = head.get("bias").asDouble();
                for (int j = 0; j < f.length; j++) {
                    sum += head.get("weights").get(j).asDouble() * f[j] / norm;
                }
                double llr = sum;
                double p = 1 / (1 + Math.exp(-(head.get("calibration").get("a").asDouble() * llr
                        + head.get("calibration").get("b").asDouble())));
                assertThat(outcomes.get(i)).as(PHOTOS.get(i)).isInstanceOfSatisfying(ScoreOutcome.Scored.class, s -> {
                    assertThat(s.llr()).isCloseTo(llr, within(1e-5));
                    assertThat(s.probability()).isCloseTo(p, within(1e-6));
                    assertThat(s.synthetic()).isEqualTo(llr > head.get("threshold").asDouble());
                });
            }
        }
        // a random head still separates these photos: not every score is the same
        assertThat(outcomes.stream().mapToDouble(o -> ((ScoreOutcome.Scored) o).llr()).distinct().count())
                .isEqualTo(PHOTOS.size());
    }

    @Test
    void badInputsGetTypedFailuresAndNeverAnException() throws Exception {
        List<byte[]> inputs = List.of(
                new byte[0],
                TestModels.read(TestModels.GOLDEN_BAD.resolve("text.jpg")),
                TestModels.read(TestModels.GOLDEN_BAD.resolve("random_4k.bin")),
                TestModels.read(TestModels.GOLDEN_BAD.resolve("truncated_header.jpg")),
                TestModels.read(TestModels.GOLDEN_BAD.resolve("bomb_60000x60000.png")),
                TestModels.read(TestModels.GOLDEN_IMAGES.resolve("china.jpg")));
        List<ScoreOutcome> outcomes = engine.scoreAll(inputs);
        assertThat(reason(outcomes.get(0))).isEqualTo(FailureReason.EMPTY);
        assertThat(reason(outcomes.get(1))).isEqualTo(FailureReason.UNSUPPORTED_FORMAT);
        assertThat(reason(outcomes.get(2))).isEqualTo(FailureReason.UNSUPPORTED_FORMAT);
        assertThat(reason(outcomes.get(3))).isEqualTo(FailureReason.CORRUPT);
        assertThat(reason(outcomes.get(4))).isEqualTo(FailureReason.TOO_LARGE);
        assertThat(outcomes.get(5)).isInstanceOf(ScoreOutcome.Scored.class);
        for (ScoreOutcome o : outcomes.subList(0, 5)) {
            assertThat(((ScoreOutcome.Failed) o).message()).isNotBlank();
        }
        assertThat(reason(engine.submit(null).get(10, TimeUnit.SECONDS))).isEqualTo(FailureReason.EMPTY);
    }

    @Test
    void concurrentCallersShareBatchesAndGetTheirOwnScores() throws Exception {
        List<Integer> batchSizes = java.util.Collections.synchronizedList(new ArrayList<>());
        byte[] china = TestModels.read(TestModels.GOLDEN_IMAGES.resolve("china.jpg"));
        byte[] flower = TestModels.read(TestModels.GOLDEN_IMAGES.resolve("flower.jpg"));
        ScoreOutcome.Scored chinaAlone = (ScoreOutcome.Scored) engine.scoreAll(List.of(china)).getFirst();
        ScoreOutcome.Scored flowerAlone = (ScoreOutcome.Scored) engine.scoreAll(List.of(flower)).getFirst();
        try (ScoringEngine shared = ScoringEngine.open(EngineConfig.builder(TestModels.TINY).device(Device.CPU)
                     .maxBatchSize(8).mergeWindow(Duration.ofMillis(200)).intraOpThreads(1).decodeThreads(2).build(),
                (size, wait, run, failure) -> batchSizes.add(size));
             java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(12)) {
            List<java.util.concurrent.Future<ScoreOutcome>> results = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                byte[] image = i % 2 == 0 ? china : flower;
                results.add(callers.submit(() -> shared.submit(image).get(30, TimeUnit.SECONDS)));
            }
            for (int i = 0; i < 12; i++) {
                ScoreOutcome.Scored expected = i % 2 == 0 ? chinaAlone : flowerAlone;
                assertThat(results.get(i).get(30, TimeUnit.SECONDS)).isInstanceOfSatisfying(ScoreOutcome.Scored.class,
                        s -> assertThat(s.llr()).isCloseTo(expected.llr(), within(1e-5)));
            }
            assertThat(shared.batchStats().images()).isEqualTo(12);
            assertThat(batchSizes.stream().mapToInt(Integer::intValue).max().orElse(0)).isGreaterThan(1);
        }
    }

    @Test
    void aClosedEngineAnswersWithAFailureNotAnException() throws Exception {
        ScoringEngine closed = ScoringEngine.open(EngineConfig.builder(TestModels.TINY).device(Device.CPU)
                .decodeThreads(1).intraOpThreads(1).build());
        closed.close();
        ScoreOutcome outcome = closed.submit(TestModels.read(TestModels.GOLDEN_IMAGES.resolve("china.jpg")))
                .get(10, TimeUnit.SECONDS);
        assertThat(outcome).isInstanceOfSatisfying(ScoreOutcome.Failed.class, f -> {
            assertThat(f.reason()).isEqualTo(FailureReason.ENGINE_UNAVAILABLE);
            assertThat(f.message()).contains("shut down");
        });
    }

    @Test
    void openRefusesAHeadForAnotherModel() {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        TestModels.editJson(dir.resolve("head.json"), j -> j.put("model_id", "clip-vit-l14-commonpool"));
        assertThatThrownBy(() -> ScoringEngine.open(EngineConfig.builder(dir).device(Device.CPU).build()))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("clip-vit-l14-commonpool").hasMessageContaining("tiny-clip-test");
    }

    private static FailureReason reason(ScoreOutcome o) {
        assertThat(o).isInstanceOf(ScoreOutcome.Failed.class);
        return ((ScoreOutcome.Failed) o).reason();
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
