package io.clipguard.image;

/**
 * Sample conversions to 8-bit RGB exactly as PIL 9.4 + libjpeg-turbo compute them. JPEG rasters arrive raw (no colour
 * conversion, no ICC) so that we can apply libjpeg's own integer tables and PIL's own CMYK formula.
 */
final class PilColorConversions {
    private static final int SCALEBITS = 16;
    private static final int ONE_HALF = 1 << (SCALEBITS - 1);
    // libjpeg jdcolor.c build_ycc_rgb_table, indexed by the chroma sample (0..255).
    private static final int[] CR_R = new int[256];
    private static final int[] CB_B = new int[256];
    private static final int[] CR_G = new int[256];
    private static final int[] CB_G = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int x = i - 128;
            CR_R[i] = (fix(1.40200) * x + ONE_HALF) >> SCALEBITS;
            CB_B[i] = (fix(1.77200) * x + ONE_HALF) >> SCALEBITS;
            CR_G[i] = -fix(0.71414) * x;
            CB_G[i] = -fix(0.34414) * x + ONE_HALF;
        }
    }

    private PilColorConversions() {
    }

    private static int fix(double x) {
        return (int) (x * (1L << SCALEBITS) + 0.5);
    }

    private static int clamp8(int v) {
        return v < 0 ? 0 : (v > 255 ? 255 : v);
    }

    /** libjpeg's YCbCr to RGB over {@code n} pixels of packed Y, Cb, Cr samples; {@code rgb} may be {@code ycc} itself. */
    static void ycbcrToRgb(byte[] ycc, byte[] rgb, int n) {
        for (int i = 0; i < n * 3; i += 3) {
            int y = ycc[i] & 0xFF;
            int cb = ycc[i + 1] & 0xFF;
            int cr = ycc[i + 2] & 0xFF;
            rgb[i] = (byte) clamp8(y + CR_R[cr]);
            rgb[i + 1] = (byte) clamp8(y + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
            rgb[i + 2] = (byte) clamp8(y + CB_B[cb]);
        }
    }

    /**
     * PIL's Convert.c cmyk2rgb: {@code nk - c*nk/255} with its MULDIV255 rounding, on PIL-side (already un-inverted)
     * CMYK values.
     */
    private static void cmykToRgb(int c, int m, int y, int k, byte[] out, int o) {
        int nk = 255 - k;
        out[o] = (byte) (nk - mulDiv255(c, nk));
        out[o + 1] = (byte) (nk - mulDiv255(m, nk));
        out[o + 2] = (byte) (nk - mulDiv255(y, nk));
    }

    private static int mulDiv255(int a, int b) {
        int tmp = a * b + 128;
        return ((tmp >> 8) + tmp) >> 8;
    }

    /**
     * Adobe CMYK as stored in the file, {@code n} pixels of packed C, M, Y, K samples: PIL reads it as "CMYK;I" (every
     * sample inverted), then cmyk2rgb.
     */
    static void storedCmykToRgb(byte[] cmyk, byte[] rgb, int n) {
        for (int i = 0, o = 0; o < n * 3; i += 4, o += 3) {
            cmykToRgb(255 - (cmyk[i] & 0xFF), 255 - (cmyk[i + 1] & 0xFF), 255 - (cmyk[i + 2] & 0xFF),
                    255 - (cmyk[i + 3] & 0xFF), rgb, o);
        }
    }

    /**
     * Adobe YCCK, {@code n} pixels of packed Y, Cb, Cr, K samples: libjpeg converts YCC to inverted RGB = CMYK (K passed
     * through); PIL then inverts all four ("CMYK;I") so C = clamp(R), and applies cmyk2rgb.
     */
    static void storedYcckToRgb(byte[] ycck, byte[] rgb, int n) {
        for (int i = 0, o = 0; o < n * 3; i += 4, o += 3) {
            int yy = ycck[i] & 0xFF;
            int cb = ycck[i + 1] & 0xFF;
            int cr = ycck[i + 2] & 0xFF;
            int c = clamp8(yy + CR_R[cr]);
            int m = clamp8(yy + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
            int y = clamp8(yy + CB_B[cb]);
            cmykToRgb(c, m, y, 255 - (ycck[i + 3] & 0xFF), rgb, o);
        }
    }
}
