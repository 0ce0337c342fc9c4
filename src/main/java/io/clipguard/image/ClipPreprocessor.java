package io.clipguard.image;

import java.nio.FloatBuffer;

/**
 * The reference preprocessing (torchvision 0.14 on PIL 9.4 images): {@code Resize(size, BICUBIC)} with the shorter side
 * to {@code size} and the longer to {@code int(size * long / short)}, {@code CenterCrop(crop)} with Python's
 * round-half-even offsets, {@code ToTensor()} and {@code Normalize(mean, std)} in float32.
 *
 * <p>Thread-safe and stateless apart from the spec; resizing computes only the pixels inside the crop window.
 */
public final class ClipPreprocessor {
    private final PreprocessSpec spec;
    /** normalised[c][v] = (v / 255f - mean[c]) / std[c], in float32 exactly as torchvision computes it. */
    private final float[][] normalised = new float[3][256];

    public ClipPreprocessor(PreprocessSpec spec) {
        this.spec = spec;
        float[] mean = spec.mean();
        float[] std = spec.std();
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                normalised[c][v] = ((float) v / 255f - mean[c]) / std[c];
            }
        }
    }

    public PreprocessSpec spec() {
        return spec;
    }

    /**
     * PIL-exact bicubic resize (shorter side → spec size, torchvision truncation rule) + center crop; uint8 result
     * cropSize².
     *
     * @throws ImageDecodeException TOO_LARGE when the resized long side would pass 2^31 - 1 pixels (a shape like
     *                              1 × 10,000,000): PIL cannot represent that size, so the reference has no score for it
     */
    public RgbImage resizeAndCrop(RgbImage image) throws ImageDecodeException {
        int inW = image.width();
        int inH = image.height();
        int shorter = spec.resizeShorterSide();
        int crop = spec.cropSize();
        // torchvision _compute_resized_output_size: new_long = int(size * long / short) (float division, truncated).
        double resizedLong = (double) shorter * Math.max(inW, inH) / Math.min(inW, inH);
        if (resizedLong > Integer.MAX_VALUE) {
            throw new ImageDecodeException(ImageError.TOO_LARGE, "a " + inW + "x" + inH + " image resized to "
                    + shorter + " px on its shorter side would be " + (long) resizedLong + " px long, more than the"
                    + " reference resize (PIL, 32-bit sizes) can make; such a shape has no reference score");
        }
        int outW = inW <= inH ? shorter : (int) resizedLong;
        int outH = inW <= inH ? (int) resizedLong : shorter;
        // torchvision center_crop: int(round((size - crop) / 2.0)), Python's round = half to even = Math.rint.
        int top = (int) Math.rint((outH - crop) / 2.0);
        int left = (int) Math.rint((outW - crop) / 2.0);

        return PilResample.resizeWindow(image, outW, outH, left, top, crop, crop, PilResample.Filter.BICUBIC);
    }

    /** ÷255, (x-mean)/std, CHW, written straight into `tensor` at element offset index*3*crop*crop. */
    public void normalizeInto(RgbImage crop, FloatBuffer tensor, int index) {
        int size = spec.cropSize();
        if (crop.width() != size || crop.height() != size) {
            throw new IllegalArgumentException("expected a " + size + "x" + size + " crop, got " + crop.width() + "x"
                    + crop.height() + " (use resizeAndCrop first)");
        }
        int plane = size * size;
        long end = ((long) index + 1) * 3 * plane;
        if (index < 0 || end > tensor.limit()) {
            throw new IndexOutOfBoundsException("tensor of " + tensor.limit() + " floats has no room for image "
                    + index + " (needs " + end + ")");
        }
        int base = index * 3 * plane;
        byte[] rgb = crop.rgb();
        float[] r = normalised[0];
        float[] g = normalised[1];
        float[] b = normalised[2];
        for (int p = 0, s = 0; p < plane; p++, s += 3) {
            tensor.put(base + p, r[rgb[s] & 0xFF]);
            tensor.put(base + plane + p, g[rgb[s + 1] & 0xFF]);
            tensor.put(base + 2 * plane + p, b[rgb[s + 2] & 0xFF]);
        }
    }
}
