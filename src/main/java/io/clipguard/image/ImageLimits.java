package io.clipguard.image;

/**
 * Limits checked before any pixel buffer is allocated: the encoded size, and the pixel count read from the header.
 */
public record ImageLimits(long maxEncodedBytes, long maxPixels) {
    /** 50 MB encoded, 100 megapixels (PIL's own decompression-bomb error threshold is ~179 MP). */
    public static final ImageLimits DEFAULT = new ImageLimits(50L * 1024 * 1024, 100_000_000L);

    /** Refuses encoded data over {@link #maxEncodedBytes}, before it is even sniffed. */
    void checkEncodedSize(int bytes) throws ImageDecodeException {
        if (bytes > maxEncodedBytes) {
            throw new ImageDecodeException(ImageError.TOO_LARGE, "encoded image is " + bytes
                    + " bytes, over the limit of " + maxEncodedBytes + " bytes (ImageLimits.maxEncodedBytes)");
        }
    }

    /**
     * Refuses a header's size when it is empty or over {@link #maxPixels}, or when its RGB array would not fit a Java
     * array: checked before any decoder allocates for it.
     */
    void checkPixels(ImageFormat format, int width, int height) throws ImageDecodeException {
        long pixels = (long) width * height;
        if (width <= 0 || height <= 0) {
            throw new ImageDecodeException(ImageError.CORRUPT, format + " header declares an empty image (" + width
                    + "x" + height + ")");
        }
        if (pixels > maxPixels || pixels * 3 > Integer.MAX_VALUE - 16) {
            throw new ImageDecodeException(ImageError.TOO_LARGE, format + " header declares " + width + "x" + height
                    + " = " + pixels + " pixels, over the limit of " + maxPixels
                    + " (ImageLimits.maxPixels); refused before decoding");
        }
    }
}
