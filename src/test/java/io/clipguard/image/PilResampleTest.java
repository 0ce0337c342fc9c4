package io.clipguard.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The horizontal pass, which packs red and blue into one long, against PIL's per-channel int32 loop written out
 * plainly here: random photos-like noise, flat white and a 0/255 checkerboard (the largest overshoots of the cubic's
 * negative lobes, so both clips and negative sums occur), shrinking and enlarging, at many sizes and windows.
 */
class PilResampleTest {
    @Test
    void horizontalPassEqualsPilsPerChannelLoop() {
        Random random = new Random(7);
        for (int trial = 0; trial < 300; trial++) {
            int inWidth = 1 + random.nextInt(1200);
            int rows = 1 + random.nextInt(6);
            int outWidth = 1 + random.nextInt(400);
            int first = random.nextInt(outWidth);
            int count = 1 + random.nextInt(outWidth - first);
            byte[] image = image(random, trial, inWidth * rows * 3);
            PilResample.Coefficients c = PilResample.coefficients(inWidth, outWidth, first, count);
            byte[] packed = new byte[rows * count * 3];
            PilResample.horizontal(image, inWidth, 0, rows, c, packed);
            assertThat(packed).as("trial %d: %d -> %d, window %d+%d", trial, inWidth, outWidth, first, count)
                    .isEqualTo(pilLoop(image, inWidth, rows, c));
        }
    }

    /** Interleaved RGB by trial: random noise, flat white, or a 0/255 checkerboard of pixels. */
    static byte[] image(Random random, int trial, int length) {
        byte[] image = new byte[length];
        switch (trial % 3) {
            case 0 -> random.nextBytes(image);
            case 1 -> java.util.Arrays.fill(image, (byte) 255);
            default -> {
                for (int i = 0; i < image.length; i++) {
                    image[i] = (byte) (((i / 3) % 2 == 0) ? 255 : 0);
                }
            }
        }
        return image;
    }

    /** Resample.c ImagingResampleHorizontal_8bpc for RGB, restricted to the coefficient window. */
    private static byte[] pilLoop(byte[] image, int inWidth, int rows, PilResample.Coefficients c) {
        int cols = c.bounds.length / 2;
        byte[] out = new byte[rows * cols * 3];
        for (int y = 0; y < rows; y++) {
            for (int col = 0; col < cols; col++) {
                for (int channel = 0; channel < 3; channel++) {
                    int sum = 1 << 21;
                    for (int t = 0; t < c.bounds[2 * col + 1]; t++) {
                        int x = c.bounds[2 * col] + t;
                        sum += (image[(y * inWidth + x) * 3 + channel] & 0xFF) * c.k[col * c.ksize + t];
                    }
                    out[(y * cols + col) * 3 + channel] = (byte) Math.clamp(sum >> 22, 0, 255);
                }
            }
        }
        return out;
    }
}
