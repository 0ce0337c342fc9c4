package io.clipguard.image;

import java.nio.FloatBuffer;

// PLACEHOLDER until the image branch is merged (contract signature only; deleted on merge; never shipped).
public final class ClipPreprocessor {
    private final PreprocessSpec spec;

    public ClipPreprocessor(PreprocessSpec spec) {
        this.spec = spec;
    }

    public RgbImage resizeAndCrop(RgbImage image) {
        int s = spec.cropSize();
        byte[] out = new byte[s * s * 3];
        for (int y = 0; y < s; y++) for (int x = 0; x < s; x++) {
            int sx = x * image.width() / s, sy = y * image.height() / s;
            System.arraycopy(image.rgb(), (sy * image.width() + sx) * 3, out, (y * s + x) * 3, 3);
        }
        return new RgbImage(s, s, out);
    }

    public void normalizeInto(RgbImage crop, FloatBuffer tensor, int index) {
        int plane = crop.width() * crop.height();
        int base = index * 3 * plane;
        byte[] rgb = crop.rgb();
        for (int c = 0; c < 3; c++) {
            float m = spec.mean()[c], sd = spec.std()[c];
            for (int i = 0; i < plane; i++) {
                tensor.put(base + c * plane + i, ((rgb[i * 3 + c] & 0xff) / 255f - m) / sd);
            }
        }
    }
}
