package io.clipguard.image;

import java.util.Arrays;

/**
 * What {@link NativeResolutionPreprocessor} does: the whole image at its own size, {@code ToTensor()} and
 * {@code Normalize(mean, std)}, no resize; above {@code maxPixels} (0 = no cap) a centre crop of at most that many
 * pixels. Arrays are copied in and out.
 */
public record NativeResolutionSpec(float[] mean, float[] std, long maxPixels) {
    public NativeResolutionSpec {
        ChannelNormalization.check(mean, std);
        if (maxPixels < 0) {
            throw new IllegalArgumentException("maxPixels must be >= 0 (0 = no cap), got " + maxPixels);
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** The same preprocessing with another pixel cap (0 = none), e.g. a per-detector override. */
    public NativeResolutionSpec withMaxPixels(long cap) {
        return new NativeResolutionSpec(mean, std, cap);
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NativeResolutionSpec n && n.maxPixels == maxPixels && Arrays.equals(n.mean, mean)
                && Arrays.equals(n.std, std);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Long.hashCode(maxPixels) + Arrays.hashCode(mean)) + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return "NativeResolutionSpec[mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + ", maxPixels="
                + (maxPixels == 0 ? "none" : maxPixels) + "]";
    }
}
