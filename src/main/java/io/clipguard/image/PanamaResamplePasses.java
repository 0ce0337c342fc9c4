package io.clipguard.image;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ResamplePasses} on the Vector API, with the same int32 sums as PIL (products and sums stay within int range,
 * and integer addition is order-independent), then the same shift by 22 and clip to 0..255: identical bytes.
 *
 * <p>Vertical pass: lanes across x, every lane of a row vector takes the same tap weight. Horizontal pass: lanes
 * across the taps and channels of one output pixel, whose input span is contiguous in the interleaved row (see
 * {@link #horizontal}).
 *
 * <p>Only loaded, by name, by {@link ResamplePasses}' choice when {@code jdk.incubator.vector} is in the boot layer.
 */
final class PanamaResamplePasses implements ResamplePasses, VectorizationChoice.Vectorized {
    private static final VectorSpecies<Integer> INT = PanamaSpecies.INT;
    private static final VectorSpecies<Byte> BYTE = PanamaSpecies.BYTE;

    @Override
    public int lanes() {
        return INT.length();
    }

    @Override
    public String toString() {
        return PanamaSpecies.describe();
    }

    /** {@link #INT}'s lanes of uint8 samples from {@code offset}, zero-extended. */
    private static IntVector samples(byte[] in, int offset) {
        return (IntVector) ByteVector.fromArray(BYTE, in, offset).convertShape(VectorOperators.ZERO_EXTEND_B2I, INT, 0);
    }

    private static IntVector clip8(IntVector sum) {
        return sum.lanewise(VectorOperators.ASHR, PilResample.PRECISION_BITS).max(0).min(255);
    }

    /**
     * Pixels per chunk of taps and output pixels per block: the largest power of two whose three channels fit the int
     * lanes (4 on 16 lanes, 2 on 8), so that lane i of a chunk always holds channel i mod 3 (the spare lanes take a
     * zero coefficient), and one block's sums fill one vector, interleaved as the output row is.
     */
    private static final int GROUP = Integer.highestOneBit(Math.max(1, INT.length() / 3));
    private static final int CHUNK_SAMPLES = GROUP * 3;
    /** The pairwise reduction's shuffles and masks per level (see {@link #pairSums}); levels 1 and 2 (GROUP 2 or 4). */
    private static final VectorShuffle<Integer> DOWN_1 = groupShift(1);
    private static final VectorShuffle<Integer> UP_1 = groupShift(-1);
    private static final VectorMask<Integer> SECOND_1 = secondOfPairs(1);
    private static final VectorShuffle<Integer> DOWN_2 = groupShift(2);
    private static final VectorShuffle<Integer> UP_2 = groupShift(-2);
    private static final VectorMask<Integer> SECOND_2 = secondOfPairs(2);
    /** HALF in the block's lanes: PIL's rounding constant, once per output sample. */
    private static final IntVector ROUNDING = IntVector.zero(INT).blend(PilResample.HALF,
            INT.indexInRange(0, CHUNK_SAMPLES));

    /** Lane i takes lane i + 3 * groups (wrapping; the wrapped lanes are don't-cares). */
    private static VectorShuffle<Integer> groupShift(int groups) {
        return VectorShuffle.fromOp(INT, i -> Math.floorMod(i + 3 * groups, INT.length()));
    }

    /** The groups of three lanes k with k mod 2s &gt;= s. */
    private static VectorMask<Integer> secondOfPairs(int stride) {
        boolean[] second = new boolean[INT.length()];
        for (int i = 0; i < second.length; i++) {
            second[i] = (i / 3) % (2 * stride) >= stride;
        }
        return VectorMask.fromArray(INT, second, 0);
    }

    /**
     * One level (stride s, in groups of three lanes) of a horizontal add of several pixels' vectors at once, without
     * transposing: group k of the result is p's groups k + (k + s) where k mod 2s &lt; s, else q's groups (k - s) + k.
     * Each level halves the groups per pixel; after log2(GROUP) levels, group k holds the whole sum of the k-th pixel
     * fed in, i.e. the vector is the block's sums interleaved as the output row is.
     */
    private static IntVector pairSums(IntVector p, IntVector q, VectorShuffle<Integer> down, VectorShuffle<Integer> up,
                                      VectorMask<Integer> second) {
        return p.add(p.rearrange(down)).blend(q.add(q.rearrange(up)), second);
    }

    /**
     * Lanes across the taps and channels of an output pixel: its input span is contiguous bytes of the interleaved
     * row, so each chunk of {@link #GROUP} taps is one byte load, zero-extended to ints, times a coefficient vector laid
     * out once per resize (each tap's coefficient repeated for its three channels, zero in the spare lanes). The
     * products of a pixel's chunks add up in one vector; then the vectors of {@link #GROUP} neighbouring output pixels
     * are reduced together ({@link #pairSums}) into one vector that is their interleaved RGB sums, rounded, shifted,
     * clipped and stored in one go. No transposition: the cost follows the taps read, not rows times span. Spare
     * lanes read the bytes after the span (times zero), which is why the image's last row or rows, where that would
     * run past the array, go through the scalar pass.
     */
    @Override
    public void horizontal(byte[] in, int inWidth, int rowFirst, int rowCount, PilResample.Coefficients c, byte[] out) {
        int lanes = INT.length();
        int cols = c.bounds.length / 2;
        int[] bounds = c.bounds;
        int stride = (c.ksize + GROUP - 1) / GROUP * lanes;
        int[] chunked = new int[cols * stride];
        for (int col = 0; col < cols; col++) {
            for (int t = 0; t < bounds[2 * col + 1]; t++) {
                int w = c.k[col * c.ksize + t];
                int lane = col * stride + t / GROUP * lanes + t % GROUP * 3;
                chunked[lane] = w;
                chunked[lane + 1] = w;
                chunked[lane + 2] = w;
            }
        }
        // A pixel's last chunk ends before its row's end plus one vector; rows where that passes the array's end (the
        // image's last, or last few when it is very narrow) go through the scalar pass.
        int vectorRows = 0;
        while (vectorRows < rowCount && (rowFirst + vectorRows + 1) * inWidth * 3 + lanes <= in.length) {
            vectorRows++;
        }
        for (int y = 0; y < vectorRows; y++) {
            int rowStart = (rowFirst + y) * inWidth * 3;
            for (int col = 0, o = y * cols * 3; col < cols; col += GROUP, o += CHUNK_SAMPLES) {
                IntVector sums;
                if (GROUP == 4) {
                    IntVector p0 = pixelSums(in, rowStart, c, chunked, stride, col, cols);
                    IntVector p1 = pixelSums(in, rowStart, c, chunked, stride, col + 1, cols);
                    IntVector p2 = pixelSums(in, rowStart, c, chunked, stride, col + 2, cols);
                    IntVector p3 = pixelSums(in, rowStart, c, chunked, stride, col + 3, cols);
                    sums = pairSums(pairSums(p0, p1, DOWN_1, UP_1, SECOND_1), pairSums(p2, p3, DOWN_1, UP_1, SECOND_1),
                            DOWN_2, UP_2, SECOND_2);
                } else {
                    sums = pairSums(pixelSums(in, rowStart, c, chunked, stride, col, cols),
                            pixelSums(in, rowStart, c, chunked, stride, col + 1, cols), DOWN_1, UP_1, SECOND_1);
                }
                // 0..255 after the clip, so narrowing to bytes keeps them (as uint8).
                ByteVector samples = (ByteVector) clip8(sums.add(ROUNDING)).convertShape(VectorOperators.I2B, BYTE, 0);
                // Lanes past the block (and past the row, in a row's last block) land on places written after; at the
                // array's end they are masked off.
                if (o + lanes <= out.length) {
                    samples.intoArray(out, o);
                } else {
                    samples.intoArray(out, o, BYTE.indexInRange(0, out.length - o));
                }
            }
        }
        if (vectorRows < rowCount) {
            byte[] rest = new byte[(rowCount - vectorRows) * cols * 3];
            PilResample.horizontal(in, inWidth, rowFirst + vectorRows, rowCount - vectorRows, c, rest);
            System.arraycopy(rest, 0, out, vectorRows * cols * 3, rest.length);
        }
    }

    /** Output pixel {@code col}'s products summed over its chunks, per lane (zero past the window's last column). */
    private static IntVector pixelSums(byte[] in, int rowStart, PilResample.Coefficients c, int[] chunked, int stride,
                                       int col, int cols) {
        if (col >= cols) {
            return IntVector.zero(INT);
        }
        int s = rowStart + c.bounds[2 * col] * 3;
        int chunks = (c.bounds[2 * col + 1] + GROUP - 1) / GROUP;
        // Starts at zero made here: a constant vector entering the loop's phi kept C2 from intrinsifying the adds.
        IntVector acc = IntVector.zero(INT);
        for (int j = 0, kk = col * stride; j < chunks; j++, s += CHUNK_SAMPLES, kk += INT.length()) {
            acc = acc.add(samples(in, s).mul(IntVector.fromArray(INT, chunked, kk)));
        }
        return acc;
    }

    @Override
    public void vertical(byte[] in, int rowLength, int inRowFirst, PilResample.Coefficients c, byte[] out) {
        int lanes = INT.length();
        int rows = c.bounds.length / 2;
        int bound = INT.loopBound(rowLength);
        for (int r = 0; r < rows; r++) {
            int ymin = c.bounds[2 * r] - inRowFirst;
            int taps = c.bounds[2 * r + 1];
            int kk = r * c.ksize;
            int o = r * rowLength;
            int j = 0;
            for (; j < bound; j += lanes) {
                IntVector sum = IntVector.broadcast(INT, PilResample.HALF);
                for (int t = 0, s = ymin * rowLength + j; t < taps; t++, s += rowLength) {
                    sum = sum.add(samples(in, s).mul(c.k[kk + t]));
                }
                // Values are 0..255 after the clip, so narrowing to bytes keeps them (as uint8).
                ((ByteVector) clip8(sum).convertShape(VectorOperators.I2B, BYTE, 0)).intoArray(out, o + j);
            }
            for (; j < rowLength; j++) {
                int sum = PilResample.HALF;
                for (int t = 0, s = ymin * rowLength + j; t < taps; t++, s += rowLength) {
                    sum += (in[s] & 0xFF) * c.k[kk + t];
                }
                out[o + j] = (byte) PilResample.clip8(sum);
            }
        }
    }
}
