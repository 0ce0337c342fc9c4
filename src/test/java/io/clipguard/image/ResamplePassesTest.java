package io.clipguard.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The Panama (SIMD) passes against the scalar ones, explicitly both, on random noise, flat white and 0/255
 * checkerboards (the cubic's largest overshoots, so both clips occur): tiny images, widths and row counts that are not
 * multiples of the vector length (so the scalar tails and leftover row blocks run), shrinking and enlarging.
 * Surefire starts the JVM with {@code --add-modules jdk.incubator.vector}, so the Panama implementation is also the one
 * chosen; a child JVM started without it chooses, and logs, the scalar one.
 */
class ResamplePassesTest {
    private final ResamplePasses panama = new PanamaResamplePasses();

    @Test
    void panamaIsChosenWhenTheModuleIsPresent() {
        assertThat(ModuleLayer.boot().findModule("jdk.incubator.vector")).isPresent();
        assertThat(ResamplePasses.chosen()).isInstanceOf(PanamaResamplePasses.class);
    }

    @Test
    void scalarIsChosenAndSaidSoWithoutTheModule() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), PrintChoice.class.getName())
                .redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(1, TimeUnit.MINUTES)).isTrue();
        assertThat(output).contains("bicubic resampling: scalar (module jdk.incubator.vector not present")
                .contains("chosen: scalar").doesNotContain("incubator modules");
    }

    /** Main of the child JVM above: prints the choice (its init logs the reason). */
    static final class PrintChoice {
        public static void main(String[] args) {
            System.out.println("chosen: " + ResamplePasses.chosen());
        }
    }

    @Test
    void horizontalPassesAreIdentical() {
        Random random = new Random(11);
        for (int trial = 0; trial < 400; trial++) {
            int inWidth = trial < 20 ? 1 + trial % 4 : 1 + random.nextInt(1200);
            int rows = 1 + random.nextInt(trial % 2 == 0 ? 5 : 70);
            int outWidth = 1 + random.nextInt(trial % 4 == 0 ? 4 * inWidth : 400);
            int first = random.nextInt(outWidth);
            int count = 1 + random.nextInt(outWidth - first);
            byte[] image = PilResampleTest.image(random, trial, inWidth * (rows + 3) * 3);
            int rowFirst = random.nextInt(4);
            PilResample.Coefficients c = PilResample.coefficients(inWidth, outWidth, first, count);
            byte[] scalar = new byte[rows * count * 3];
            byte[] simd = new byte[rows * count * 3];
            ResamplePasses.SCALAR.horizontal(image, inWidth, rowFirst, rows, c, scalar);
            panama.horizontal(image, inWidth, rowFirst, rows, c, simd);
            assertThat(simd).as("trial %d: %d -> %d, window %d+%d, rows %d+%d", trial, inWidth, outWidth, first, count,
                    rowFirst, rows).isEqualTo(scalar);
        }
    }

    /**
     * The Panama horizontal pass (lanes across taps x channels, four output pixels reduced together) at the widths the
     * benchmarks resize, with their tap counts: the 12 MP photo (57 taps), 1080p and 1024² (21), 640×427 (9) and
     * 512² (11) to 224, and odd widths, 1-pixel inputs and outputs, enlargements (5 taps), windows that are not a
     * multiple of four pixels; the rows run to the image's last (whose spare lanes would read past the array, so the
     * scalar pass takes them), each on noise, white and a 0/255 checkerboard.
     */
    @Test
    void horizontalPassIsIdenticalAtTheBenchmarksTapCounts() {
        int[][] resizes = { // inWidth, outWidth, first, count (the centre crop's window where the benchmarks use one)
                {4032, 298, 37, 224}, {1920, 398, 87, 224}, {1024, 224, 0, 224}, {640, 336, 56, 224},
                {512, 224, 0, 224}, {427, 224, 0, 224}, {333, 97, 0, 97}, {333, 97, 5, 86}, {1, 5, 0, 5},
                {7, 1, 0, 1}, {2, 1, 0, 1}, {100, 301, 0, 301}, {100, 301, 11, 223}, {225, 224, 1, 222}};
        Random random = new Random(17);
        for (int[] resize : resizes) {
            int inWidth = resize[0];
            PilResample.Coefficients c = PilResample.coefficients(inWidth, resize[1], resize[2], resize[3]);
            for (int trial = 0; trial < 3; trial++) {
                int height = 1 + random.nextInt(9);
                int rowFirst = random.nextInt(height);
                int rows = height - rowFirst;
                byte[] image = PilResampleTest.image(random, trial, inWidth * height * 3);
                byte[] scalar = new byte[rows * resize[3] * 3];
                byte[] simd = new byte[scalar.length];
                ResamplePasses.SCALAR.horizontal(image, inWidth, rowFirst, rows, c, scalar);
                panama.horizontal(image, inWidth, rowFirst, rows, c, simd);
                assertThat(simd).as("%d -> %d, window %d+%d, %d taps, rows %d..%d of %d, trial %d", inWidth, resize[1],
                        resize[2], resize[3], c.ksize, rowFirst, height - 1, height, trial).isEqualTo(scalar);
            }
        }
    }

    @Test
    void verticalPassesAreIdentical() {
        Random random = new Random(13);
        for (int trial = 0; trial < 400; trial++) {
            int inHeight = trial < 20 ? 1 + trial % 4 : 1 + random.nextInt(900);
            int rowLength = 3 * (1 + random.nextInt(trial % 2 == 0 ? 7 : 300));
            int outHeight = 1 + random.nextInt(trial % 4 == 0 ? 4 * inHeight : 400);
            int first = random.nextInt(outHeight);
            int count = 1 + random.nextInt(outHeight - first);
            PilResample.Coefficients c = PilResample.coefficients(inHeight, outHeight, first, count);
            int rowFirst = c.firstInput();
            byte[] rows = PilResampleTest.image(random, trial, (c.endInput() - rowFirst) * rowLength);
            byte[] scalar = new byte[count * rowLength];
            byte[] simd = new byte[count * rowLength];
            ResamplePasses.SCALAR.vertical(rows, rowLength, rowFirst, c, scalar);
            panama.vertical(rows, rowLength, rowFirst, c, simd);
            assertThat(simd).as("trial %d: %d -> %d, window %d+%d, row length %d", trial, inHeight, outHeight, first,
                    count, rowLength).isEqualTo(scalar);
        }
    }
}
