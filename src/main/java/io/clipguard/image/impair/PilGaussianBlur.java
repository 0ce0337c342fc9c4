package io.clipguard.image.impair;

import io.clipguard.image.RgbImage;

/**
 * Pillow 9.4's {@code ImageFilter.GaussianBlur(radius)} (libImaging/BoxBlur.c), bit for bit: not a true Gaussian but
 * an extended box blur (Gwosdek et al., SSVM 2011) of 3 passes along the rows, then 3 along the columns. The box
 * radius comes from {@code radius} in C float arithmetic; each pass sums in fixed point (24 fractional bits, the two
 * fractional edge pixels weighted {@code fw}) and rounds to uint8. Edges repeat the first and last pixel.
 *
 * <p>Pillow blurs each row, transposes, blurs each row again and transposes back. Here the passes run along the
 * columns of a sample grid ({@link BoxBlurPasses}, SIMD across the columns): the image is transposed first (pixel
 * columns become rows, so the row blur runs down them), then transposed back for the column blur. Each pass rounds
 * per sample and per line exactly as Pillow's does, so the order of lines does not change a byte.
 */
final class PilGaussianBlur {
    private static final int PASSES = 3;
    /** Pixels per side of the tiles the transposes copy, so that both the reads and the writes stay in cache. */
    private static final int TILE = 32;

    private PilGaussianBlur() {}

    /** ImagingGaussianBlur(imOut, imIn, radius, 3) on an RGB image. */
    static RgbImage blur(RgbImage image, float radius) {
        return blur(image, radius, BoxBlurPasses.chosen());
    }

    static RgbImage blur(RgbImage image, float radius, BoxBlurPasses passes) {
        float boxRadius = boxRadius(radius, PASSES);
        int r = (int) boxRadius;
        int[] weights = weights(boxRadius);
        int w = image.width();
        int h = image.height();
        byte[] a = new byte[image.rgb().length];
        byte[] b = new byte[a.length];
        // Along x: as a grid of w lines (one per pixel column) of h * 3 samples, each of its columns one of Pillow's
        // rows' channels.
        transpose(image.rgb(), w, h, a);
        byte[] blurred = runPasses(passes, a, b, w, h * 3, r, weights);
        byte[] other = blurred == a ? b : a;
        // Along y: back to h lines of w * 3 samples.
        transpose(blurred, h, w, other);
        return new RgbImage(w, h, runPasses(passes, other, blurred, h, w * 3, r, weights));
    }

    /** {@link #PASSES} passes, alternating between the two buffers; returns the one holding the result. */
    private static byte[] runPasses(BoxBlurPasses passes, byte[] first, byte[] second, int lines, int rowLength,
                                    int radius, int[] weights) {
        byte[] src = first;
        byte[] dst = second;
        for (int pass = 0; pass < PASSES; pass++) {
            passes.pass(src, dst, lines, rowLength, radius, weights[0], weights[1]);
            byte[] t = src;
            src = dst;
            dst = t;
        }
        return src;
    }

    /**
     * out[x][y][c] = in[y][x][c]: {@code in} holds {@code h} lines of {@code w} RGB pixels, {@code out} gets
     * {@code w} lines of {@code h}; in tiles.
     */
    private static void transpose(byte[] in, int w, int h, byte[] out) {
        for (int y0 = 0; y0 < h; y0 += TILE) {
            int y1 = Math.min(y0 + TILE, h);
            for (int x0 = 0; x0 < w; x0 += TILE) {
                int x1 = Math.min(x0 + TILE, w);
                for (int x = x0; x < x1; x++) {
                    for (int y = y0, s = (y0 * w + x) * 3, o = (x * h + y0) * 3; y < y1; y++, s += w * 3, o += 3) {
                        out[o] = in[s];
                        out[o + 1] = in[s + 1];
                        out[o + 2] = in[s + 2];
                    }
                }
            }
        }
    }

    /** ImagingGaussianBlur's box radius, in C float arithmetic as BoxBlur.c writes it. */
    static float boxRadius(float radius, int passes) {
        float sigma2 = radius * radius / passes;
        float bigL = (float) Math.sqrt(12.0 * sigma2 + 1.0);
        float l = (float) Math.floor((bigL - 1.0) / 2.0);
        float a = (2 * l + 1) * (l * (l + 1) - 3 * sigma2);
        a /= 6 * (sigma2 - (l + 1) * (l + 1));
        return l + a;
    }

    /**
     * ImagingLineBoxBlur8's weights {ww, fw}: {@code ww = (UINT32)(1 << 24) / (floatRadius * 2 + 1)} (a float
     * division, truncated) for each whole sample of the window, {@code fw} for each of the two fractional edge ones.
     */
    static int[] weights(float boxRadius) {
        int radius = (int) boxRadius;
        long ww = (long) (16777216f / (boxRadius * 2 + 1));
        long fw = ((1L << 24) - (radius * 2L + 1) * ww) / 2;
        return new int[] {(int) ww, (int) fw};
    }
}
