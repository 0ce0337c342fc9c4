package io.clipguard.image.impair;

import io.clipguard.image.PanamaSpecies;
import io.clipguard.image.VectorizationChoice;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link BoxBlurPasses} on the Vector API: lanes across the columns (Pillow's lines), the same int arithmetic per lane
 * as the scalar pass, so the same bytes. Columns left over below a full vector go through the scalar loop.
 *
 * <p>Only loaded, by name, by {@link BoxBlurPasses}' choice when {@code jdk.incubator.vector} is in the boot layer.
 */
final class PanamaBoxBlurPasses implements BoxBlurPasses, VectorizationChoice.Vectorized {
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

    @Override
    public void pass(byte[] src, byte[] dst, int lines, int rowLength, int radius, int ww, int fw) {
        int lanes = INT.length();
        int bound = INT.loopBound(rowLength);
        int last = lines - 1;
        int[] acc = new int[rowLength];
        for (int j = 0; j < rowLength; j++) {
            acc[j] = (radius + 1) * (src[j] & 0xFF);
        }
        for (int i = 0; i < radius; i++) {
            int s = Math.min(i, last) * rowLength;
            int j = 0;
            for (; j < bound; j += lanes) {
                IntVector.fromArray(INT, acc, j).add(samples(src, s + j)).intoArray(acc, j);
            }
            for (; j < rowLength; j++) {
                acc[j] += src[s + j] & 0xFF;
            }
        }
        for (int y = 0; y < lines; y++) {
            int add = Math.min(y + radius, last) * rowLength;
            int sub = Math.max(y - radius - 1, 0) * rowLength;
            int far = Math.min(y + radius + 1, last) * rowLength;
            int o = y * rowLength;
            int j = 0;
            for (; j < bound; j += lanes) {
                IntVector leaving = samples(src, sub + j);
                IntVector a = IntVector.fromArray(INT, acc, j).add(samples(src, add + j)).sub(leaving);
                a.intoArray(acc, j);
                // The top byte of a uint32: 0..255, so narrowing to bytes keeps it (as uint8).
                IntVector saved = a.mul(ww).add(leaving.add(samples(src, far + j)).mul(fw)).add(1 << 23)
                        .lanewise(VectorOperators.LSHR, 24);
                ((ByteVector) saved.convertShape(VectorOperators.I2B, BYTE, 0)).intoArray(dst, o + j);
            }
            for (; j < rowLength; j++) {
                int leaving = src[sub + j] & 0xFF;
                int a = acc[j] + (src[add + j] & 0xFF) - leaving;
                acc[j] = a;
                dst[o + j] = (byte) ((a * ww + (leaving + (src[far + j] & 0xFF)) * fw + (1 << 23)) >>> 24);
            }
        }
    }

    /** {@link #INT}'s lanes of uint8 samples from {@code offset}: bytes widened, sign bits masked off. */
    private static IntVector samples(byte[] src, int offset) {
        return ((IntVector) ByteVector.fromArray(BYTE, src, offset).convertShape(VectorOperators.B2I, INT, 0)).and(0xFF);
    }
}
