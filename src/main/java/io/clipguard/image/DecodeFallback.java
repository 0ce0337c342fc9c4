package io.clipguard.image;

/**
 * Why an image was decoded by the ImageIO decoders (JDK, TwelveMonkeys, libwebp through webp-imageio) instead of the
 * native libjpeg-turbo / libpng / libwebp path. Each gives the same pixels as PIL; the native path is only faster.
 * Counted in {@link DecodeCounters}.
 */
public enum DecodeFallback {
    /** The OpenCV natives are not there for this platform or failed to load. */
    NATIVE_UNAVAILABLE,
    /** GIF and BMP always go through ImageIO. */
    FORMAT_NOT_NATIVE,
    /** 4-component JPEG: OpenCV converts CMYK/YCCK its own way, PIL keeps the inverted Adobe samples. */
    JPEG_CMYK,
    /** 12- or 16-bit JPEG samples, or a height defined later by a DNL marker. */
    JPEG_UNUSUAL_FRAME,
    /** The JPEG does not end with its EOI marker: truncated (libjpeg would fill grey silently) or trailing data. */
    JPEG_NO_EOI,
    /** 16-bit grayscale PNG: PIL opens it as mode I and clips at 255, libpng keeps the high byte. */
    PNG_16BIT_GRAY,
    /** Animated PNG (acTL chunk): OpenCV reads the animation's first frame, PIL the default image. */
    PNG_ANIMATED,
    /** The native decoder could not decode it; ImageIO decides and says why. */
    NATIVE_REJECTED
}
