package io.clipguard.image;

import java.nio.FloatBuffer;

/**
 * The reference preprocessing (torchvision 0.14 on PIL 9.4 images): {@code Resize(size, BICUBIC)} with the shorter side
 * to {@code size} and the longer to {@code int(size * long / short)}, {@code CenterCrop(crop)} with Python's
 * round-half-even offsets, {@code ToTensor()} and {@code Normalize(mean, std)} in float32.
 *
 * <p>Thread-safe and stateless apart from the spec; resizing computes only the pixels inside the crop window.
 */
public final class ClipPreprocessor implements ImagePreprocessor {
    private final PreprocessSpec spec;
    private final ChannelNormalization normalization;

    public ClipPreprocessor(PreprocessSpec spec) {
        this.spec = spec;
        this.normalization = new ChannelNormalization(spec.mean(), spec.std());
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

    @Override
    public RgbImage prepare(RgbImage decoded) throws ImageDecodeException {
        return resizeAndCrop(decoded);
    }

    /** Fast mode keeps the shorter side at least twice the resize target before the exact bicubic. */
    @Override
    public int fastDecodeShorterSide() {
        return 2 * spec.resizeShorterSide();
    }

    /** ÷255, (x-mean)/std, CHW, written straight into `tensor` at element offset index*3*crop*crop. */
    @Override
    public void normalizeInto(RgbImage crop, FloatBuffer tensor, int index) {
        int size = spec.cropSize();
        if (crop.width() != size || crop.height() != size) {
            throw new IllegalArgumentException("expected a " + size + "x" + size + " crop, got " + crop.width() + "x"
                    + crop.height() + " (use resizeAndCrop first)");
        }
        normalization.writeInto(crop, tensor, index);
    }
}
