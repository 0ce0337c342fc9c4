package io.clipguard.image;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Whether JPEG, PNG and WebP may decode natively (through {@link OpenCvDecoder}) in this JVM, decided once, the way
 * Lucene's {@code VectorizationProvider} picks its implementation: the first decoder made loads the OpenCV natives,
 * one log line says which path images take and why, and every decode asks this decision instead of probing again.
 * Loading can only fail for the whole process (no natives for the platform, a broken cache), so there is nothing to
 * retry per image. The per-image reasons to use ImageIO anyway ({@link DecodeFallback}) are decided by
 * {@link NativePlan} on top of this.
 */
final class NativeDecoding {
    private static final Logger LOG = Logger.getLogger(NativeDecoding.class.getName());
    private static final NativeDecoding INSTANCE = decide();

    private final boolean usable;
    private final String description;

    private NativeDecoding(boolean usable, String description) {
        this.usable = usable;
        this.description = description;
    }

    /** The decision, made (natives loaded, line logged) at the first call. */
    static NativeDecoding get() {
        return INSTANCE;
    }

    private static NativeDecoding decide() {
        try {
            OpenCvDecoder.load();
        } catch (Throwable e) { // UnsatisfiedLinkError, NoClassDefFoundError, ... : decode with ImageIO instead
            NativeDecoding imageIoOnly = new NativeDecoding(false, "ImageIO only: OpenCV natives unavailable (" + e
                    + "); JPEG, PNG and WebP decode through ImageIO, with the same pixels but slower");
            LOG.log(Level.WARNING, imageIoOnly.description);
            return imageIoOnly;
        }
        NativeDecoding nativeDecoding = new NativeDecoding(true,
                "native decoding via OpenCV (libjpeg-turbo, libpng, libwebp)");
        LOG.info(nativeDecoding.description);
        return nativeDecoding;
    }

    /** Whether the natives loaded: JPEG, PNG and WebP may go to {@link OpenCvDecoder}. */
    boolean usable() {
        return usable;
    }

    /** The line logged: which path images take and, for ImageIO only, why. */
    @Override
    public String toString() {
        return description;
    }
}
