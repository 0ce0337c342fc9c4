package io.clipguard.image;

// PLACEHOLDER until the image branch is merged (contract signature only; deleted on merge; never shipped).
public record PreprocessSpec(int resizeShorterSide, int cropSize, float[] mean, float[] std) {
    public static final PreprocessSpec CLIP_224 = new PreprocessSpec(224, 224,
            new float[] {0.48145466f, 0.4578275f, 0.40821073f}, new float[] {0.26862954f, 0.26130258f, 0.27577711f});
}
