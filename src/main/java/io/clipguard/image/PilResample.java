package io.clipguard.image;

/**
 * PIL 9.4's resampler (libImaging/Resample.c), reproduced bit for bit for 8-bit RGB with its bicubic filter (cubic
 * kernel, a = -0.5, support 2) or its Lanczos filter (a = 3, support 3): antialiased (support times the scale when
 * shrinking), coefficients normalised to sum 1 then turned into 22-bit fixed point, each pass rounding from
 * 1 &lt;&lt; 21 and clipping to uint8; horizontal pass first, a pass skipped where that side keeps its size.
 *
 * <p>Unlike PIL it can compute only a window of the output (the centre crop): every output sample depends only on its
 * own coefficients, so the window's samples are identical to the full resize's.
 */
public final class PilResample {
    static final int PRECISION_BITS = 32 - 8 - 2;
    static final int HALF = 1 << (PRECISION_BITS - 1);

    /** PIL's resampling filters that we reproduce, with their support (in input pixels, before antialiasing). */
    public enum Filter {
        /** {@code Image.BICUBIC}: what torchvision's Resize and our CLIP preprocessing use. */
        BICUBIC(2.0),
        /** {@code Image.LANCZOS} (formerly {@code ANTIALIAS}): truncated sinc, a = 3. */
        LANCZOS(3.0);

        final double support;

        Filter(double support) {
            this.support = support;
        }

        double weight(double x) {
            return this == BICUBIC ? bicubic(x) : lanczos(x);
        }
    }

    private PilResample() {
    }

    /** {@code image.resize((outWidth, outHeight), filter)} in PIL 9.4, the whole output. */
    public static RgbImage resize(RgbImage image, int outWidth, int outHeight, Filter filter) {
        return resizeWindow(image, outWidth, outHeight, 0, 0, outWidth, outHeight, filter);
    }

    /**
     * The window {@code (left, top, width, height)} of PIL's {@code image.resize((outWidth, outHeight), filter)},
     * computing only the samples inside it.
     */
    static RgbImage resizeWindow(RgbImage image, int outW, int outH, int left, int top, int width, int height,
                                 Filter filter) {
        int inW = image.width();
        int inH = image.height();
        boolean horizontal = outW != inW;
        boolean vertical = outH != inH;
        byte[] in = image.rgb();
        int rowLength = width * 3;

        // Input rows the vertical pass reads (or the window's rows themselves when the height is unchanged).
        Coefficients vCoeffs = vertical ? coefficients(filter, inH, outH, top, height) : null;
        int rowFirst = vertical ? vCoeffs.firstInput() : top;
        int rowCount = vertical ? vCoeffs.endInput() - rowFirst : height;

        if (!horizontal) {
            byte[] rows = new byte[rowCount * rowLength];
            for (int y = 0; y < rowCount; y++) {
                System.arraycopy(in, ((rowFirst + y) * inW + left) * 3, rows, y * rowLength, rowLength);
            }
            if (!vertical) {
                return new RgbImage(width, height, rows);
            }
            return verticalPass(rows, rowLength, rowFirst, vCoeffs, width, height);
        }
        byte[] rows = new byte[rowCount * rowLength];
        ResamplePasses.chosen().horizontal(in, inW, rowFirst, rowCount, coefficients(filter, inW, outW, left, width),
                rows);
        if (!vertical) {
            return new RgbImage(width, height, rows);
        }
        return verticalPass(rows, rowLength, rowFirst, vCoeffs, width, height);
    }

    private static RgbImage verticalPass(byte[] rows, int rowLength, int rowFirst, Coefficients vCoeffs, int width,
                                         int height) {
        byte[] out = new byte[height * rowLength];
        ResamplePasses.chosen().vertical(rows, rowLength, rowFirst, vCoeffs, out);
        return new RgbImage(width, height, out);
    }

    /** Fixed-point coefficients of output samples {@code first .. first+count-1} of a resize inSize to outSize. */
    static final class Coefficients {
        final int ksize;
        /** For output i: first input sample at {@code bounds[2i]}, tap count at {@code bounds[2i+1]}. */
        final int[] bounds;
        /** Taps of output i at {@code k[i*ksize ..]}. */
        final int[] k;

        private Coefficients(int ksize, int[] bounds, int[] k) {
            this.ksize = ksize;
            this.bounds = bounds;
            this.k = k;
        }

        int firstInput() {
            int min = Integer.MAX_VALUE;
            for (int i = 0; i < bounds.length; i += 2) {
                min = Math.min(min, bounds[i]);
            }
            return min;
        }

        int endInput() {
            int max = 0;
            for (int i = 0; i < bounds.length; i += 2) {
                max = Math.max(max, bounds[i] + bounds[i + 1]);
            }
            return max;
        }
    }

    /** Resample.c lanczos_filter: sinc(x) * sinc(x / 3) on [-3, 3); StrictMath.sin is fdlibm's, as exact as libm's. */
    private static double lanczos(double x) {
        if (-3.0 <= x && x < 3.0) {
            return sinc(x) * sinc(x / 3);
        }
        return 0.0;
    }

    private static double sinc(double x) {
        if (x == 0.0) {
            return 1.0;
        }
        x = x * Math.PI;
        return StrictMath.sin(x) / x;
    }

    private static double bicubic(double x) {
        final double a = -0.5;
        if (x < 0.0) {
            x = -x;
        }
        if (x < 1.0) {
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        }
        if (x < 2.0) {
            return (((x - 5) * x + 8) * x - 4) * a;
        }
        return 0.0;
    }

    /** Bicubic {@link #coefficients(Filter, int, int, int, int)}. */
    static Coefficients coefficients(int inSize, int outSize, int first, int count) {
        return coefficients(Filter.BICUBIC, inSize, outSize, first, count);
    }

    /** Resample.c precompute_coeffs + normalize_coeffs_8bpc, for a window of the outputs. */
    static Coefficients coefficients(Filter filter, int inSize, int outSize, int first, int count) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filter.support * filterScale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] bounds = new int[count * 2];
        int[] k = new int[count * ksize];
        double[] weights = new double[ksize];
        for (int i = 0; i < count; i++) {
            int xx = first + i;
            double center = (xx + 0.5) * scale;
            double ss = 1.0 / filterScale;
            int xmin = (int) (center - support + 0.5);
            if (xmin < 0) {
                xmin = 0;
            }
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) {
                xmax = inSize;
            }
            xmax -= xmin;
            double ww = 0.0;
            for (int x = 0; x < xmax; x++) {
                double w = filter.weight((x + xmin - center + 0.5) * ss);
                weights[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++) {
                double w = ww != 0.0 ? weights[x] / ww : weights[x];
                k[i * ksize + x] = w < 0 ? (int) (-0.5 + w * (1 << PRECISION_BITS)) : (int) (0.5 + w * (1 << PRECISION_BITS));
            }
            bounds[2 * i] = xmin;
            bounds[2 * i + 1] = xmax;
        }
        return new Coefficients(ksize, bounds, k);
    }

    static int clip8(int v) {
        v >>= PRECISION_BITS;
        return v < 0 ? 0 : (v > 255 ? 255 : v);
    }

    /**
     * Horizontal pass over input rows {@code rowFirst .. rowFirst+rowCount-1} of an interleaved RGB image
     * {@code inWidth} wide; writes {@code cols} (the coefficient window) RGB samples per row into {@code out}, uint8 as
     * PIL's intermediate image.
     *
     * <p>Why two channels share a long: the taps are strided and start at irregular columns, so this scalar pass (as
     * PIL's is) pays for its multiplies ({@link PanamaResamplePasses} vectorises across each pixel's taps and channels
     * instead). Red and blue of each row are packed as {@code R + B * 2^32};
     * one 64-bit multiply-add then does both channels. Each channel's sum fits in an int (PIL sums in int32), so the
     * low half of the packed sum is red's sum exactly and the rest, shifted down, is blue's: the same integers as PIL.
     */
    static void horizontal(byte[] in, int inWidth, int rowFirst, int rowCount, Coefficients c, byte[] out) {
        int cols = c.bounds.length / 2;
        int[] bounds = c.bounds;
        int[] k = c.k;
        int ksize = c.ksize;
        int x0 = c.firstInput();
        int span = c.endInput() - x0;
        long[] redBlue = new long[span];
        int[] green = new int[span];
        int o = 0;
        for (int y = 0; y < rowCount; y++) {
            for (int x = 0, s = ((rowFirst + y) * inWidth + x0) * 3; x < span; x++, s += 3) {
                redBlue[x] = (in[s] & 0xFF) | (long) (in[s + 2] & 0xFF) << 32;
                green[x] = in[s + 1] & 0xFF;
            }
            for (int col = 0; col < cols; col++) {
                int s = bounds[2 * col] - x0;
                int taps = bounds[2 * col + 1];
                int kk = col * ksize;
                long rb = 0;
                int g = HALF;
                for (int t = 0; t < taps; t++) {
                    int w = k[kk + t];
                    rb += redBlue[s + t] * w;
                    g += green[s + t] * w;
                }
                int r = (int) rb;
                out[o] = (byte) clip8(r + HALF);
                out[o + 1] = (byte) clip8(g);
                out[o + 2] = (byte) clip8((int) ((rb - r) >> 32) + HALF);
                o += 3;
            }
        }
    }

    /**
     * Vertical pass: {@code in} holds rows of {@code rowLength} uint8 samples starting at input row
     * {@code inRowFirst}; writes one output row per coefficient-window entry into {@code out}. The accumulation runs
     * row by row over a whole line, which the JIT vectorises (a long[] accumulator: the form that vectorised when
     * the input was an int[], which an int[] accumulator might have aliased); integer sums are order-independent and stay within int
     * range, so results match PIL's per-pixel int loop.
     */
    static void vertical(byte[] in, int rowLength, int inRowFirst, Coefficients c, byte[] out) {
        int rows = c.bounds.length / 2;
        long[] acc = new long[rowLength];
        for (int r = 0; r < rows; r++) {
            java.util.Arrays.fill(acc, HALF);
            int ymin = c.bounds[2 * r] - inRowFirst;
            int taps = c.bounds[2 * r + 1];
            for (int t = 0; t < taps; t++) {
                int w = c.k[r * c.ksize + t];
                int s = (ymin + t) * rowLength;
                for (int j = 0; j < rowLength; j++) {
                    acc[j] += (in[s + j] & 0xFF) * w;
                }
            }
            int o = r * rowLength;
            for (int j = 0; j < rowLength; j++) {
                out[o + j] = (byte) clip8((int) acc[j]);
            }
        }
    }
}
