package io.clipguard.image.impair;

import io.clipguard.image.RgbImage;

/**
 * Pillow 9.4's {@code ImageFilter.GaussianBlur(radius)} (libImaging/BoxBlur.c), bit for bit: not a true Gaussian but
 * an extended box blur (Gwosdek et al., SSVM 2011) of 3 passes along the rows, then 3 along the columns. The box
 * radius comes from {@code radius} in C float arithmetic; each pass sums in fixed point (24 fractional bits, the two
 * fractional edge pixels weighted {@code fw}) and rounds to uint8. Edges repeat the first and last pixel.
 */
final class PilGaussianBlur {
    private static final int PASSES = 3;

    private PilGaussianBlur() {}

    /** ImagingGaussianBlur(imOut, imIn, radius, 3) on an RGB image. */
    static RgbImage blur(RgbImage image, float radius) {
        float boxRadius = boxRadius(radius, PASSES);
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
