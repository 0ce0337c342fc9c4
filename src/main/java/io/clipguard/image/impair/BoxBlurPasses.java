package io.clipguard.image.impair;

import io.clipguard.image.VectorizationChoice;

/**
 * One pass of Pillow's box blur (BoxBlur.c ImagingLineBoxBlur8) over many lines at once, behind one interface so that
 * a SIMD implementation can stand in for the scalar one. Both give the same bytes: C's UINT32 arithmetic (Java's int
 * wraps the same way modulo 2^32, and the result is its top byte), only the lanes differ. Chosen once, at first use,
 * by {@link VectorizationChoice}.
 *
 * <p>Layout: {@code src} holds {@code lines} rows of {@code rowLength} uint8 samples; each column {@code j} is one of
 * Pillow's lines, blurred along the rows. Columns are independent, so they go in SIMD lanes, with contiguous loads.
 * Pillow's three edge cases (the window reaching past the first or last sample) are one rule here: a sample index
 * outside the line is clamped to it, which is what each of its branches computes.
 */
interface BoxBlurPasses {
    /**
     * One pass from {@code src} to {@code dst} (distinct arrays): for each column, {@code acc} is the window sum,
     * {@code dst[y] = (acc * ww + (far samples) * fw + 2^23) >>> 24} as SAVE(ADD_FAR(...)) computes it.
     *
     * @param radius the box radius's integer part; {@code ww}, {@code fw} the fixed-point weights of the whole and
     *               the two fractional edge samples ({@link PilGaussianBlur#weights})
     */
    void pass(byte[] src, byte[] dst, int lines, int rowLength, int radius, int ww, int fw);

    /** The implementation this JVM uses. */
    static BoxBlurPasses chosen() {
        return Choice.CHOSEN;
    }

    /** The loops in plain Java (the JIT may vectorise some of them; the Panama ones do so for sure). */
    BoxBlurPasses SCALAR = new BoxBlurPasses() {
        @Override
        public void pass(byte[] src, byte[] dst, int lines, int rowLength, int radius, int ww, int fw) {
            int last = lines - 1;
            int[] acc = new int[rowLength];
            for (int j = 0; j < rowLength; j++) {
                acc[j] = (radius + 1) * (src[j] & 0xFF);
            }
            // The window before sample 0: r + 1 copies of the first sample, then samples 0 .. r-1 (clamped).
            for (int i = 0; i < radius; i++) {
                int s = Math.min(i, last) * rowLength;
                for (int j = 0; j < rowLength; j++) {
                    acc[j] += src[s + j] & 0xFF;
                }
            }
            for (int y = 0; y < lines; y++) {
                int add = Math.min(y + radius, last) * rowLength;
                int sub = Math.max(y - radius - 1, 0) * rowLength;
                int far = Math.min(y + radius + 1, last) * rowLength;
                int o = y * rowLength;
                for (int j = 0; j < rowLength; j++) {
                    int leaving = src[sub + j] & 0xFF;
                    int a = acc[j] + (src[add + j] & 0xFF) - leaving;
                    acc[j] = a;
                    dst[o + j] = (byte) ((a * ww + (leaving + (src[far + j] & 0xFF)) * fw + (1 << 23)) >>> 24);
                }
            }
        }

        @Override
        public String toString() {
            return "scalar";
        }
    };

    /** Holder: the choice is made, and logged, on first use only. */
    final class Choice {
        static final BoxBlurPasses CHOSEN = VectorizationChoice.choose("Gaussian blur", SCALAR,
                () -> (BoxBlurPasses) Class.forName(BoxBlurPasses.class.getPackageName() + ".PanamaBoxBlurPasses")
                        .getDeclaredConstructor().newInstance());

        private Choice() {
        }
    }
}
