package io.clipguard.image;

import java.nio.FloatBuffer;

/**
 * The reference's preprocessing of a native-resolution detector (its res50nodown): the whole image, {@code ToTensor()}
 * and {@code Normalize(mean, std)} in float32 exactly as torchvision computes them; no resize, no crop.
 *
 * <p>With a pixel cap ({@link NativeResolutionSpec#maxPixels()}), an image of more pixels is centre-cropped (see
 * {@link #cropSize}) so that the model's cost and the tensor's memory stay bounded; the caller records that the
 * detector saw a crop. Offsets as torchvision's {@code CenterCrop}: {@code int(round((size - crop) / 2))}, round half
 * to even. Thread-safe.
 */
public final class NativeResolutionPreprocessor implements ImagePreprocessor {
    private final NativeResolutionSpec spec;
    private final ChannelNormalization normalization;

    public NativeResolutionPreprocessor(NativeResolutionSpec spec) {
        this.spec = spec;
        this.normalization = new ChannelNormalization(spec.mean(), spec.std());
    }

    public NativeResolutionSpec spec() {
        return spec;
    }

    /** The image itself, or its centre crop of {@link #cropSize} when it has more pixels than the cap. */
    @Override
    public RgbImage prepare(RgbImage decoded) {
        int[] size = cropSize(decoded.width(), decoded.height(), spec.maxPixels());
        int cropW = size[0];
        int cropH = size[1];
        if (cropW == decoded.width() && cropH == decoded.height()) {
            return decoded;
        }
        int top = (int) Math.rint((decoded.height() - cropH) / 2.0);
        int left = (int) Math.rint((decoded.width() - cropW) / 2.0);
        byte[] in = decoded.rgb();
        byte[] out = new byte[Math.multiplyExact(cropW * cropH, 3)];
        int rowLength = cropW * 3;
        for (int y = 0; y < cropH; y++) {
            System.arraycopy(in, ((top + y) * decoded.width() + left) * 3, out, y * rowLength, rowLength);
        }
        return new RgbImage(cropW, cropH, out);
    }

    /**
     * {@code {width, height}} of what a {@code width × height} image becomes under a cap of {@code maxPixels}
     * (0 = no cap): unchanged when it fits; otherwise a square of side ⌊√maxPixels⌋, except that a side already
     * shorter than that is kept whole and the other side gets ⌊maxPixels / kept side⌋ (a thin image keeps its full
     * width and uses the whole cap). The result never has more than {@code maxPixels} pixels.
     */
    public static int[] cropSize(int width, int height, long maxPixels) {
        if (maxPixels <= 0 || (long) width * height <= maxPixels) {
            return new int[] {width, height};
        }
        long side = (long) Math.sqrt((double) maxPixels);
        while (side * side > maxPixels) {
            side--;
        }
        while ((side + 1) * (side + 1) <= maxPixels) {
            side++;
        }
        if (width <= side) {
            return new int[] {width, (int) Math.min(height, maxPixels / width)};
        }
        if (height <= side) {
            return new int[] {(int) Math.min(width, maxPixels / height), height};
        }
        return new int[] {(int) side, (int) side};
    }

    @Override
    public void normalizeInto(RgbImage prepared, FloatBuffer tensor, int index) {
        normalization.writeInto(prepared, tensor, index);
    }

    @Override
    public int fastDecodeShorterSide() {
        return 0;
    }
}
