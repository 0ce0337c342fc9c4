package io.clipguard.image.impair;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.image.RgbImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The blur's passes (SIMD across columns, {@link BoxBlurPasses}) against Pillow's BoxBlur.c transcribed line by line
 * ({@link PillowLineBlur}, the form the Pillow fixtures of {@link ImpairmentParityTest} first checked), both the
 * Panama and the scalar implementation, on noise, flat and 0/255 checkerboard images: one-pixel lines, sides shorter
 * than the box (Pillow's other edge branch), widths that are not multiples of the vector length, small to large radii.
 * (Checked once more against Pillow 9.4 itself while writing: 40 random images 1x1 to 100x77, radii 0.5 to 90.)
 */
class PilGaussianBlurTest {
    private final BoxBlurPasses panama = new PanamaBoxBlurPasses();

    @Test
    void panamaIsChosenWhenTheModuleIsPresent() {
        assertThat(ModuleLayer.boot().findModule("jdk.incubator.vector")).isPresent();
        assertThat(BoxBlurPasses.chosen()).isInstanceOf(PanamaBoxBlurPasses.class);
    }

    @Test
    void scalarIsChosenAndSaidSoWithoutTheModule() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), PrintChoice.class.getName())
                .redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(1, TimeUnit.MINUTES)).isTrue();
        assertThat(output).contains("Gaussian blur: scalar (module jdk.incubator.vector not present")
                .contains("chosen: scalar");
    }

    /** Main of the child JVM above: prints the choice (its init logs the reason). */
    static final class PrintChoice {
        public static void main(String[] args) {
            System.out.println("chosen: " + BoxBlurPasses.chosen());
        }
    }

    @Test
    void bothPassesEqualPillowsLineBlur() {
        Random random = new Random(17);
        float[] radii = {0.1f, 0.5f, 1f, 2f, 3.7f, 10f, 41.5f};
        for (int trial = 0; trial < 300; trial++) {
            int w = trial < 16 ? 1 + trial % 4 : 1 + random.nextInt(trial % 10 == 0 ? 300 : 70);
            int h = trial < 16 ? 1 + trial / 4 : 1 + random.nextInt(trial % 10 == 5 ? 300 : 70);
            byte[] rgb = new byte[w * h * 3];
            switch (trial % 3) {
                case 0 -> random.nextBytes(rgb);
                case 1 -> java.util.Arrays.fill(rgb, (byte) (random.nextInt(256)));
                default -> {
                    for (int i = 0; i < rgb.length; i++) {
                        int p = i / 3;
                        rgb[i] = (byte) (((p % w) + (p / w)) % 2 == 0 ? 0 : 255);
                    }
                }
            }
            RgbImage image = new RgbImage(w, h, rgb);
            float radius = radii[trial % radii.length] * (trial % 2 == 0 ? 1f : 1.37f);
            byte[] pillow = PillowLineBlur.blur(image, radius).rgb();
            assertThat(PilGaussianBlur.blur(image, radius, BoxBlurPasses.SCALAR).rgb())
                    .as("scalar, trial %d: %dx%d radius %s", trial, w, h, radius).isEqualTo(pillow);
            assertThat(PilGaussianBlur.blur(image, radius, panama).rgb())
                    .as("panama, trial %d: %dx%d radius %s", trial, w, h, radius).isEqualTo(pillow);
        }
    }

    /** ImagingGaussianBlur as BoxBlur.c writes it: each row's line blur three times, transpose, again, transpose. */
    static final class PillowLineBlur {
        private static final int PASSES = 3;

        /** ImagingGaussianBlur(imOut, imIn, radius, 3) on an RGB image. */
        static RgbImage blur(RgbImage image, float radius) {
            float boxRadius = PilGaussianBlur.boxRadius(radius, PASSES);
            int w = image.width();
            int h = image.height();
            byte[] rgb = image.rgb();
            byte[] out = new byte[rgb.length];
            int[] plane = new int[w * h];
            int[] transposed = new int[w * h];
            int[] line = new int[Math.max(w, h)];
            for (int c = 0; c < 3; c++) {
                for (int p = 0; p < w * h; p++) {
                    plane[p] = rgb[p * 3 + c] & 0xFF;
                }
                for (int y = 0; y < h; y++) {
                    for (int pass = 0; pass < PASSES; pass++) {
                        lineBlur(plane, y * w, w, boxRadius, line);
                    }
                }
                // BoxBlur.c transposes and blurs rows again: the columns, as lines.
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        transposed[x * h + y] = plane[y * w + x];
                    }
                }
                for (int x = 0; x < w; x++) {
                    for (int pass = 0; pass < PASSES; pass++) {
                        lineBlur(transposed, x * h, h, boxRadius, line);
                    }
                }
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        out[(y * w + x) * 3 + c] = (byte) transposed[x * h + y];
                    }
                }
            }
            return new RgbImage(w, h, out);
        }

        /**
         * ImagingHorizontalBoxBlur on one line of {@code size} samples at {@code offset}, in place (through {@code tmp}),
         * as ImagingLineBoxBlur8 computes it. The accumulators are C's UINT32: {@code bulk} wraps modulo 2^32.
         */
        private static void lineBlur(int[] data, int offset, int size, float floatRadius, int[] tmp) {
            int radius = (int) floatRadius;
            long ww = (long) (16777216f / (floatRadius * 2 + 1)); // (UINT32)(1 << 24) / (floatRadius * 2 + 1)
            long fw = ((1L << 24) - (radius * 2L + 1) * ww) / 2;
            int edgeA = Math.min(radius + 1, size);
            int edgeB = Math.max(size - radius - 1, 0);
            int lastx = size - 1;

            long acc = (long) data[offset] * (radius + 1);
            for (int x = 0; x < edgeA - 1; x++) {
                acc += data[offset + x];
            }
            acc += (long) data[offset + lastx] * (radius - edgeA + 1);

            if (edgeA <= edgeB) {
                for (int x = 0; x < edgeA; x++) {
                    acc += data[offset + x + radius] - data[offset];
                    tmp[x] = save(acc, ww, fw, data[offset] + data[offset + x + radius + 1]);
                }
                for (int x = edgeA; x < edgeB; x++) {
                    acc += data[offset + x + radius] - data[offset + x - radius - 1];
                    tmp[x] = save(acc, ww, fw, data[offset + x - radius - 1] + data[offset + x + radius + 1]);
                }
                for (int x = edgeB; x <= lastx; x++) {
                    acc += data[offset + lastx] - data[offset + x - radius - 1];
                    tmp[x] = save(acc, ww, fw, data[offset + x - radius - 1] + data[offset + lastx]);
                }
            } else {
                for (int x = 0; x < edgeB; x++) {
                    acc += data[offset + x + radius] - data[offset];
                    tmp[x] = save(acc, ww, fw, data[offset] + data[offset + x + radius + 1]);
                }
                for (int x = edgeB; x < edgeA; x++) {
                    acc += data[offset + lastx] - data[offset];
                    tmp[x] = save(acc, ww, fw, data[offset] + data[offset + lastx]);
                }
                for (int x = edgeA; x <= lastx; x++) {
                    acc += data[offset + lastx] - data[offset + x - radius - 1];
                    tmp[x] = save(acc, ww, fw, data[offset + x - radius - 1] + data[offset + lastx]);
                }
            }
            System.arraycopy(tmp, 0, data, offset, size);
        }

        /** ADD_FAR then SAVE: {@code (UINT8)((acc * ww + far * fw + (1 << 23)) >> 24)} in UINT32 arithmetic. */
        private static int save(long acc, long ww, long fw, int far) {
            long bulk = (acc * ww + far * fw) & 0xFFFFFFFFL;
            return (int) (((bulk + (1 << 23)) & 0xFFFFFFFFL) >>> 24) & 0xFF;
        }
    }
}
