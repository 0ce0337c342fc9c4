package io.clipguard.image;

/**
 * Limits checked before any pixel buffer is allocated: the encoded size, and the pixel count read from the header.
 */
public record ImageLimits(long maxEncodedBytes, long maxPixels) {
    /** 50 MB encoded, 100 megapixels (PIL's own decompression-bomb error threshold is ~179 MP). */
    public static final ImageLimits DEFAULT = new ImageLimits(50L * 1024 * 1024, 100_000_000L);
}
