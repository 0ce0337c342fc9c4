package io.clipguard.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.clipguard.image.DecodeMode;
import io.clipguard.inference.Device;
import io.clipguard.image.ImageDecoder;
import io.clipguard.image.LargeJpegs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fast decode mode against exact on the scores: every golden image plus phone-sized JPEGs through the whole engine, in
 * both modes; max |ΔLLR| stays within 1 % of the spread of the exact LLRs. Runs on the committed tiny tower, and on the
 * ViT-B/16-shaped random tower when tools/make-bench-models has made it (target/bench-models, not committed).
 */
class FastDecodeLlrDriftTest {
    static Stream<Path> models() {
        Path vitB16 = Path.of("target/bench-models/vit-b-16-random-seed0");
        return Files.isRegularFile(vitB16.resolve("manifest.json"))
                ? Stream.of(Path.of("models/tiny-clip-test"), vitB16) : Stream.of(Path.of("models/tiny-clip-test"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void fastModeLlrsStayWithinOnePercentOfTheSpread(Path model) throws Exception {
        assumeTrue(ImageDecoder.nativeDecoderAvailable(), "fast mode needs the native JPEG decoder");
        Map<String, byte[]> images = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(Path.of("src/test/resources/golden/images"))) {
            for (Path f : files.sorted().toList()) {
                images.put(f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        images.putAll(LargeJpegs.all());
        List<String> names = new ArrayList<>(images.keySet());
        double[] exact = llrs(model, DecodeMode.EXACT, images.values());
        double[] fast = llrs(model, DecodeMode.FAST, images.values());
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (double v : exact) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        double spread = max - min;
        double worst = 0;
        String worstName = "";
        for (int i = 0; i < names.size(); i++) {
            double delta = Math.abs(fast[i] - exact[i]);
            if (delta > worst) {
                worst = delta;
                worstName = names.get(i);
            }
        }
        System.out.printf(Locale.ROOT, "%s: %d images, exact LLR spread %.5g, fast max |ΔLLR| %.3g (%.3f %% of the spread,"
                + " %s)%n", model.getFileName(), names.size(), spread, worst, 100 * worst / spread, worstName);
        assertThat(spread).isGreaterThan(0);
        assertThat(worst).as("fast mode changes some score (large JPEGs are decoded scaled)").isGreaterThan(0);
        assertThat(worst).as("max |ΔLLR| (worst " + worstName + ") vs 1 % of the spread").isLessThanOrEqualTo(0.01 * spread);
    }

    private static double[] llrs(Path model, DecodeMode mode, java.util.Collection<byte[]> images) throws Exception {
        EngineConfig config = EngineConfig.builder(model).device(Device.CPU).decodeMode(mode).maxBatchSize(8).build();
        try (ScoringEngine engine = ScoringEngine.open(config)) {
            List<ScoreOutcome> outcomes = engine.scoreAll(new ArrayList<>(images));
            double[] llr = new double[outcomes.size()];
            for (int i = 0; i < llr.length; i++) {
                assertThat(outcomes.get(i)).isInstanceOf(ScoreOutcome.Scored.class);
                llr[i] = ((ScoreOutcome.Scored) outcomes.get(i)).llr();
            }
            return llr;
        }
    }
}
