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
            int[] scalar = new int[rows * count * 3];
            int[] simd = new int[rows * count * 3];
            ResamplePasses.SCALAR.horizontal(image, inWidth, rowFirst, rows, c, scalar);
            panama.horizontal(image, inWidth, rowFirst, rows, c, simd);
            assertThat(simd).as("trial %d: %d -> %d, window %d+%d, rows %d+%d", trial, inWidth, outWidth, first, count,
                    rowFirst, rows).isEqualTo(scalar);
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
            byte[] bytes = PilResampleTest.image(random, trial, (c.endInput() - rowFirst) * rowLength);
            int[] rows = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                rows[i] = bytes[i] & 0xFF;
            }
            byte[] scalar = new byte[count * rowLength];
            byte[] simd = new byte[count * rowLength];
            ResamplePasses.SCALAR.vertical(rows, rowLength, rowFirst, c, scalar);
            panama.vertical(rows, rowLength, rowFirst, c, simd);
            assertThat(simd).as("trial %d: %d -> %d, window %d+%d, row length %d", trial, inHeight, outHeight, first,
                    count, rowLength).isEqualTo(scalar);
        }
    }
}
