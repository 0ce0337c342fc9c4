package io.clipguard.image;

import java.util.Locale;

/**
 * How images are decoded before the resize. {@link #EXACT}: every pixel as PIL decodes it (the reference's scores).
 * {@link #FAST}: large JPEGs are decoded at 1/2, 1/4 or 1/8 scale inside libjpeg's IDCT (as PIL's
 * {@code Image.draft} does), keeping the shorter side at least twice the resize target, then resized exactly; the crop
 * drifts by a few levels from the reference, other formats and small JPEGs are decoded exactly.
 */
public enum DecodeMode {
    EXACT, FAST;

    /** "exact" or "fast" (any case). */
    public static DecodeMode parse(String text) {
        for (DecodeMode mode : values()) {
            if (mode.name().equalsIgnoreCase(text.trim())) {
                return mode;
            }
        }
        throw new IllegalArgumentException("decode mode must be exact or fast, got '" + text + "'");
    }

    /** The lower-case name used in settings, options and verdicts. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
