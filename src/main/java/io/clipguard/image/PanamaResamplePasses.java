package io.clipguard.image;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ResamplePasses} on the Vector API, with the same int32 sums as PIL (products and sums stay within int range,
 * and integer addition is order-independent), then the same shift by 22 and clip to 0..255: identical bytes.
 *
 * <p>Vertical pass: lanes across x, every lane of a row vector takes the same tap weight. Horizontal pass: the taps of
 * one output column start at irregular, strided input columns, so lanes go across rows instead; each block of
 * {@code lanes} rows is transposed into per-channel planes (plane[x * lanes + row]) so that one tap is one contiguous
 * vector load for all of them. Rows left over below a full block go through the scalar pass.
 *
 * <p>Only loaded, by name, by {@link ResamplePasses}' choice when {@code jdk.incubator.vector} is in the boot layer.
 */
final class PanamaResamplePasses implements ResamplePasses, VectorizationChoice.Vectorized {
    private static final VectorSpecies<Integer> INT = IntVector.SPECIES_PREFERRED;
    /** Bytes with as many lanes as {@link #INT}, for the narrowing store (null when no such shape exists). */
    private static final VectorSpecies<Byte> BYTE = INT.length() >= 8
            ? ByteVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(INT.length() * 8)) : null;

    /** Lanes of the preferred int vector; the choice wants at least 8 (the narrowest byte vector is 64 bits). */
    @Override
    public int lanes() {
        return INT.length();
    }

    @Override
    public String toString() {
        return "Panama SIMD (" + INT.length() + " int lanes, " + INT.vectorBitSize() + "-bit)";
    }

    private static IntVector clip8(IntVector sum) {
        return sum.lanewise(VectorOperators.ASHR, PilResample.PRECISION_BITS).max(0).min(255);
    }

    @Override
    public void horizontal(byte[] in, int inWidth, int rowFirst, int rowCount, PilResample.Coefficients c, int[] out) {
        int lanes = INT.length();
        int cols = c.bounds.length / 2;
        int[] bounds = c.bounds;
        int[] k = c.k;
        int ksize = c.ksize;
        int x0 = c.firstInput();
        int span = c.endInput() - x0;
        int[] red = new int[span * lanes];
        int[] green = new int[span * lanes];
        int[] blue = new int[span * lanes];
        int[] rowOffsets = new int[lanes];
        for (int row = 0; row < lanes; row++) {
            rowOffsets[row] = row * cols * 3;
        }
        int[] rowStart = new int[lanes];
        int y = 0;
        for (; y + lanes <= rowCount; y += lanes) {
            for (int row = 0; row < lanes; row++) {
                rowStart[row] = ((rowFirst + y + row) * inWidth + x0) * 3;
            }
            // Column by column, so that the planes are written sequentially (row by row would stride through them all).
            for (int x = 0, p = 0; x < span; x++) {
                for (int row = 0; row < lanes; row++, p++) {
                    int s = rowStart[row] + 3 * x;
                    red[p] = in[s] & 0xFF;
                    green[p] = in[s + 1] & 0xFF;
                    blue[p] = in[s + 2] & 0xFF;
                }
            }
            for (int col = 0; col < cols; col++) {
                int p = (bounds[2 * col] - x0) * lanes;
                int taps = bounds[2 * col + 1];
                int kk = col * ksize;
                IntVector r = IntVector.broadcast(INT, PilResample.HALF);
                IntVector g = r;
                IntVector b = r;
                for (int t = 0; t < taps; t++, p += lanes) {
                    int w = k[kk + t];
                    r = r.add(IntVector.fromArray(INT, red, p).mul(w));
                    g = g.add(IntVector.fromArray(INT, green, p).mul(w));
                    b = b.add(IntVector.fromArray(INT, blue, p).mul(w));
                }
                // Lane row goes to out row y + row: scattered straight into the rows' interleaved RGB.
                int o = y * cols * 3 + col * 3;
                clip8(r).intoArray(out, o, rowOffsets, 0);
                clip8(g).intoArray(out, o + 1, rowOffsets, 0);
                clip8(b).intoArray(out, o + 2, rowOffsets, 0);
            }
        }
        if (y < rowCount) {
            int[] rest = new int[(rowCount - y) * cols * 3];
            PilResample.horizontal(in, inWidth, rowFirst + y, rowCount - y, c, rest);
            System.arraycopy(rest, 0, out, y * cols * 3, rest.length);
        }
    }

    @Override
    public void vertical(int[] in, int rowLength, int inRowFirst, PilResample.Coefficients c, byte[] out) {
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
                    sum = sum.add(IntVector.fromArray(INT, in, s).mul(c.k[kk + t]));
                }
                // Values are 0..255 after the clip, so narrowing to bytes keeps them (as uint8).
                ((ByteVector) clip8(sum).convertShape(VectorOperators.I2B, BYTE, 0)).intoArray(out, o + j);
            }
            for (; j < rowLength; j++) {
                int sum = PilResample.HALF;
                for (int t = 0, s = ymin * rowLength + j; t < taps; t++, s += rowLength) {
                    sum += in[s] * c.k[kk + t];
                }
                out[o + j] = (byte) PilResample.clip8(sum);
            }
        }
    }
}
