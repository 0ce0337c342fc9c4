package io.clipguard.image;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.image.GoldenFixtures.Difference;
import io.clipguard.image.GoldenFixtures.Fixture;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Decode + resizeAndCrop against PIL 9.4 + torchvision 0.14 on every golden fixture; and full-size decoded pixels
 * against PIL's convert("RGB") for the lossless formats. Prints per-format identical-sample fractions.
 */
@Execution(ExecutionMode.SAME_THREAD)
class GoldenParityTest {
    private static final ImageDecoder DECODER = new ImageDecoder(ImageLimits.DEFAULT);
    private static final ClipPreprocessor PREPROCESSOR = new ClipPreprocessor(PreprocessSpec.CLIP_224);
    private static final Map<String, long[]> CROP_STATS = new ConcurrentHashMap<>();
    private static final Map<String, long[]> FULL_STATS = new ConcurrentHashMap<>();

    static List<Fixture> fixtures() {
        return GoldenFixtures.all();
    }

    static List<Fixture> fullSizeFixtures() {
        return GoldenFixtures.all().stream().filter(f -> f.fullSize().toFile().isFile()).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void cropMatchesPil(Fixture fixture) throws Exception {
        RgbImage decoded = DECODER.decode(fixture.bytes());
        assertThat(decoded.width()).as("width").isEqualTo(fixture.width());
        assertThat(decoded.height()).as("height").isEqualTo(fixture.height());

        RgbImage crop = PREPROCESSOR.resizeAndCrop(decoded);
        Difference d = Difference.between(crop, GoldenFixtures.readReferencePng(fixture.crop()));
        record(CROP_STATS, fixture.format(), d);
        System.out.printf("crop  %-36s identical %.5f  max |diff| %d%n", fixture.name(), d.identicalFraction(), d.maxAbs());
        assertThat(d.maxAbs()).as("largest difference from PIL's crop").isLessThanOrEqualTo(1);
        assertThat(d.identicalFraction()).as("fraction of samples identical to PIL's crop").isGreaterThanOrEqualTo(0.999);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fullSizeFixtures")
    void fullSizeDecodeEqualsPil(Fixture fixture) throws Exception {
        Difference d = Difference.between(DECODER.decode(fixture.bytes()),
                GoldenFixtures.readReferencePng(fixture.fullSize()));
        record(FULL_STATS, fixture.format(), d);
        assertThat(d.identical()).as("identical samples of " + d.samples()).isEqualTo(d.samples());
    }

    private static void record(Map<String, long[]> stats, String format, Difference d) {
        stats.merge(format, new long[] {d.samples(), d.identical(), d.maxAbs(), 1, d.sumAbs()},
                (a, b) -> new long[] {a[0] + b[0], a[1] + b[1], Math.max(a[2], b[2]), a[3] + b[3], a[4] + b[4]});
    }

    @AfterAll
    static void printSummary() {
        print("resize+crop vs PIL/torchvision", CROP_STATS);
        print("full-size decode vs PIL (PNG, GIF, BMP, WebP)", FULL_STATS);
    }

    private static void print(String title, Map<String, long[]> stats) {
        System.out.println("== " + title + " ==");
        new TreeMap<>(stats).forEach((format, s) -> System.out.printf(
                "  %-14s %2d images  identical %.6f  max |diff| %d  mean |diff| %.4f%n",
                format, s[3], (double) s[1] / s[0], s[2], (double) s[4] / s[0]));
    }
}
