package io.clipguard.image;

/**
 * How the native path would decode one image, read from its header alone: the output size and IDCT reduction, or the
 * {@link DecodeFallback} that sends it to ImageIO instead. Planning also refuses a header over the limits, before any
 * decoder allocates. The checks run in a fixed order (structure, size limits, what PIL decodes differently, natives
 * loaded), so each image is counted under the first reason that applies, and refused for size even where the natives
 * are missing.
 *
 * @param fallback  null when the native path decodes it
 * @param reduction the JPEG IDCT scale divisor (1, 2, 4 or 8); 1 for every other format
 */
record NativePlan(DecodeFallback fallback, int width, int height, int reduction) {

    private static NativePlan fallBack(DecodeFallback reason) {
        return new NativePlan(reason, 0, 0, 1);
    }

    /**
     * The last check for every format, after those that hold wherever it runs: the one decision on the natives
     * ({@link NativeDecoding}) sends all that got this far to ImageIO where they did not load.
     */
    private static NativePlan ifUsable(NativeDecoding nativeDecoding, int width, int height, int reduction) {
        return nativeDecoding.usable() ? new NativePlan(null, width, height, reduction)
                : fallBack(DecodeFallback.NATIVE_UNAVAILABLE);
    }

    long pixels() {
        return (long) width * height;
    }

    /** The plan for a JPEG, PNG or WebP ({@code format} must be one of them; the others never decode natively). */
    static NativePlan of(ImageFormat format, byte[] encoded, DecodeMode mode, int minShorterSide, ImageLimits limits,
                         NativeDecoding nativeDecoding) throws ImageDecodeException {
        return switch (format) {
            case JPEG -> jpeg(encoded, mode, minShorterSide, limits, nativeDecoding);
            case PNG -> png(encoded, limits, nativeDecoding);
            case WEBP -> webp(encoded, limits, nativeDecoding);
            default -> throw new IllegalArgumentException(format + " has no native decoder");
        };
    }

    private static NativePlan jpeg(byte[] encoded, DecodeMode mode, int minShorterSide, ImageLimits limits,
                                   NativeDecoding nativeDecoding) throws ImageDecodeException {
        JpegHeader header = JpegHeader.parse(encoded);
        if (header == null || header.colorSpace() == null) {
            return fallBack(DecodeFallback.NATIVE_REJECTED); // ImageIO says what is wrong
        }
        if (header.width() == 0 || header.height() == 0 || header.precision() != 8) {
            return fallBack(DecodeFallback.JPEG_UNUSUAL_FRAME);
        }
        limits.checkPixels(ImageFormat.JPEG, header.width(), header.height());
        if (header.colorSpace() == JpegColorSpace.CMYK || header.colorSpace() == JpegColorSpace.YCCK) {
            return fallBack(DecodeFallback.JPEG_CMYK);
        }
        if (!JpegHeader.endsWithEoi(encoded)) {
            return fallBack(DecodeFallback.JPEG_NO_EOI);
        }
        int reduction = mode == DecodeMode.FAST ? idctReduction(header.width(), header.height(), minShorterSide) : 1;
        // libjpeg's scaled output size: ceil(size / reduction).
        return ifUsable(nativeDecoding, ceilDiv(header.width(), reduction), ceilDiv(header.height(), reduction),
                reduction);
    }

    /** The largest of 1, 2, 4, 8 that keeps the shorter side at least {@code minShorterSide}. */
    static int idctReduction(int width, int height, int minShorterSide) {
        int shorter = Math.min(width, height);
        int reduction = 1;
        while (reduction < 8 && minShorterSide > 0 && ceilDiv(shorter, reduction * 2) >= minShorterSide) {
            reduction *= 2;
        }
        return reduction;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** PNG (chunks already checked): 16-bit gray and animated PNGs go to ImageIO. */
    private static NativePlan png(byte[] encoded, ImageLimits limits, NativeDecoding nativeDecoding)
            throws ImageDecodeException {
        PngHeader header = PngHeader.parse(encoded);
        if (header == null) {
            return fallBack(DecodeFallback.NATIVE_REJECTED);
        }
        if (header.width() > Integer.MAX_VALUE || header.height() > Integer.MAX_VALUE) {
            throw new ImageDecodeException(ImageError.TOO_LARGE, "PNG header declares " + header.width() + "x"
                    + header.height() + ", over the limit of " + limits.maxPixels()
                    + " pixels (ImageLimits.maxPixels); refused before decoding");
        }
        int width = (int) header.width();
        int height = (int) header.height();
        limits.checkPixels(ImageFormat.PNG, width, height);
        if (header.sixteenBitGray()) {
            return fallBack(DecodeFallback.PNG_16BIT_GRAY);
        }
        if (PngHeader.isAnimated(encoded)) {
            return fallBack(DecodeFallback.PNG_ANIMATED);
        }
        return ifUsable(nativeDecoding, width, height, 1);
    }

    /**
     * WebP: an animation decodes natively too, as its first frame on the canvas (PIL's frame 0); webp-imageio cannot
     * decode animations.
     */
    private static NativePlan webp(byte[] encoded, ImageLimits limits, NativeDecoding nativeDecoding)
            throws ImageDecodeException {
        WebpHeader header = WebpHeader.parse(encoded);
        if (header == null) {
            return fallBack(DecodeFallback.NATIVE_REJECTED);
        }
        limits.checkPixels(ImageFormat.WEBP, header.width(), header.height());
        return ifUsable(nativeDecoding, header.width(), header.height(), 1);
    }
}
