package io.clipguard.image;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * How images were decoded since the decoder was made: native decodes (full scale and DCT-scaled) and every
 * fallback to ImageIO by reason. Plain counters so that the image package needs no metrics library; the service
 * exports them.
 */
public final class DecodeCounters {
    private final LongAdder nativeDecodes = new LongAdder();
    private final LongAdder scaledDecodes = new LongAdder();
    private final Map<DecodeFallback, LongAdder> fallbacks = new EnumMap<>(DecodeFallback.class);

    DecodeCounters() {
        for (DecodeFallback reason : DecodeFallback.values()) {
            fallbacks.put(reason, new LongAdder());
        }
    }

    void nativeDecode(boolean scaled) {
        nativeDecodes.increment();
        if (scaled) {
            scaledDecodes.increment();
        }
    }

    void fallback(DecodeFallback reason) {
        fallbacks.get(reason).increment();
    }

    /** Images decoded by libjpeg-turbo / libpng / libwebp through OpenCV. */
    public long nativeDecodes() {
        return nativeDecodes.sum();
    }

    /** Of those, JPEGs decoded at reduced scale in the IDCT (fast mode). */
    public long scaledDecodes() {
        return scaledDecodes.sum();
    }

    public long fallbacks(DecodeFallback reason) {
        return fallbacks.get(reason).sum();
    }

    /** Every reason with its count (zeros included). */
    public Map<DecodeFallback, Long> fallbacks() {
        Map<DecodeFallback, Long> copy = new EnumMap<>(DecodeFallback.class);
        fallbacks.forEach((reason, count) -> copy.put(reason, count.sum()));
        return Collections.unmodifiableMap(copy);
    }

    @Override
    public String toString() {
        return "native " + nativeDecodes() + " (scaled " + scaledDecodes() + "), fallbacks " + fallbacks();
    }
}
