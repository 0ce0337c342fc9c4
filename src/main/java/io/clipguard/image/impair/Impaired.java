package io.clipguard.image.impair;

import io.clipguard.image.ImageDecodeException;
import io.clipguard.image.RgbImage;
import java.util.Map;

/**
 * An impaired image: pixels, or the encoded bytes a codec wrote (to be decoded as an upload is), with the parameters
 * drawn at random for it (DMID), by column name, in draw order.
 */
public record Impaired(RgbImage pixels, byte[] encoded, Map<String, String> drawn) {
    public Impaired {
        if ((pixels == null) == (encoded == null)) {
            throw new IllegalArgumentException("an impaired image is either pixels or encoded bytes");
        }
        drawn = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(drawn));
    }

    /** The pixels, decoding the encoded bytes with {@code context}'s decoder where a codec came last. */
    public RgbImage decoded(ImageContext context) throws ImpairmentException {
        if (pixels != null) {
            return pixels;
        }
        try {
            return context.decoder().decode(encoded);
        } catch (ImageDecodeException e) {
            throw new ImpairmentException(e.error().name(), "decoding the re-encoded image failed: " + e.getMessage(), e);
        }
    }
}
