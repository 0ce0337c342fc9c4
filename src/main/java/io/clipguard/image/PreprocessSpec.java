package io.clipguard.image;

import java.util.Arrays;

/**
 * What {@link ClipPreprocessor} does: torchvision {@code Resize(resizeShorterSide, BICUBIC)}, {@code CenterCrop(cropSize)},
 * {@code ToTensor()}, {@code Normalize(mean, std)}. Arrays are copied in and out, so a spec cannot change after creation.
 */
public record PreprocessSpec(int resizeShorterSide, int cropSize, float[] mean, float[] std) {
    /** CLIP's preprocessing (open_clip / OpenAI): 224, 224, CLIP mean/std. */
    public static final PreprocessSpec CLIP_224 = new PreprocessSpec(224, 224,
            new float[] {0.48145466f, 0.4578275f, 0.40821073f},
            new float[] {0.26862954f, 0.26130258f, 0.27577711f});

    public PreprocessSpec {
        if (resizeShorterSide <= 0 || cropSize <= 0 || cropSize > resizeShorterSide) {
            throw new IllegalArgumentException("need 0 < cropSize <= resizeShorterSide, got resize " + resizeShorterSide
                    + ", crop " + cropSize);
        }
        ChannelNormalization.check(mean, std);
        mean = mean.clone();
        std = std.clone();
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
        return o instanceof PreprocessSpec p && p.resizeShorterSide == resizeShorterSide && p.cropSize == cropSize
                && Arrays.equals(p.mean, mean) && Arrays.equals(p.std, std);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * resizeShorterSide + cropSize) + Arrays.hashCode(mean)) + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return "PreprocessSpec[resize=" + resizeShorterSide + ", crop=" + cropSize + ", mean=" + Arrays.toString(mean)
                + ", std=" + Arrays.toString(std) + "]";
    }
}
