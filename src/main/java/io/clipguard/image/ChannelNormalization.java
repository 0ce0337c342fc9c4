package io.clipguard.image;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * torchvision's {@code ToTensor()} then {@code Normalize(mean, std)} of an 8-bit RGB image, written CHW into a float
 * tensor: {@code (v / 255f - mean[c]) / std[c]} in float32, the same operations in the same order as torchvision, so
 * bit-identical to its tensor. A 256-entry table per channel; the one home of this arithmetic for every preprocessor.
 */
final class ChannelNormalization {
    private final float[][] table = new float[3][256];

    ChannelNormalization(float[] mean, float[] std) {
        check(mean, std);
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                table[c][v] = ((float) v / 255f - mean[c]) / std[c];
            }
        }
    }

    static void check(float[] mean, float[] std) {
        if (mean == null || std == null || mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("mean and std need one value per RGB channel");
        }
        for (float s : std) {
            if (!(s > 0)) {
                throw new IllegalArgumentException("std values must be positive: " + Arrays.toString(std));
            }
        }
    }

    /** Writes {@code image} at element offset {@code index × 3 × width × height}: a batch of same-sized images. */
    void writeInto(RgbImage image, FloatBuffer tensor, int index) {
        int plane = Math.multiplyExact(image.width(), image.height());
        long end = ((long) index + 1) * 3 * plane;
        if (index < 0 || end > tensor.limit()) {
            throw new IndexOutOfBoundsException("tensor of " + tensor.limit() + " floats has no room for image "
                    + index + " (needs " + end + ")");
        }
        int base = Math.toIntExact((long) index * 3 * plane);
        byte[] rgb = image.rgb();
        float[] r = table[0];
        float[] g = table[1];
        float[] b = table[2];
        for (int p = 0, s = 0; p < plane; p++, s += 3) {
            tensor.put(base + p, r[rgb[s] & 0xFF]);
            tensor.put(base + plane + p, g[rgb[s + 1] & 0xFF]);
            tensor.put(base + 2 * plane + p, b[rgb[s + 2] & 0xFF]);
        }
    }
}
