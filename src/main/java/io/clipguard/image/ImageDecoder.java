package io.clipguard.image;

// PLACEHOLDER until the image branch is merged (contract signature only; deleted on merge; never shipped).
public final class ImageDecoder {
    private final ImageLimits limits;

    public ImageDecoder(ImageLimits limits) {
        this.limits = limits;
    }

    public RgbImage decode(byte[] encoded) throws ImageDecodeException {
        if (encoded.length == 0) throw new ImageDecodeException(ImageError.EMPTY, "empty input (0 bytes)");
        if (encoded.length > limits.maxEncodedBytes()) throw new ImageDecodeException(ImageError.TOO_LARGE, "too large");
        java.awt.image.BufferedImage img;
        try {
            img = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(encoded));
        } catch (Exception e) {
            throw new ImageDecodeException(ImageError.CORRUPT, "corrupt: " + e.getMessage(), e);
        }
        if (img == null) throw new ImageDecodeException(ImageError.UNSUPPORTED_FORMAT, "not a recognised image format");
        int w = img.getWidth(), h = img.getHeight();
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) {
            int p = img.getRGB(x, y), i = (y * w + x) * 3;
            rgb[i] = (byte) (p >> 16); rgb[i + 1] = (byte) (p >> 8); rgb[i + 2] = (byte) p;
        }
        return new RgbImage(w, h, rgb);
    }
}
