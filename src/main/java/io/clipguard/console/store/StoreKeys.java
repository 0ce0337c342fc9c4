package io.clipguard.console.store;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Key layouts of the console's stores. Keys are strings whose parts are joined by {@code \u0000}, which sorts before
 * every other character, so a prefix scan over {@code part\u0000} never runs into a longer part. Time parts are
 * reverse timestamps ({@code Long.MAX_VALUE - millis} as 16 lower-case hex digits): an ascending scan, which is what
 * the stores iterate fastest, yields the newest first.
 */
public final class StoreKeys {
    static final char SEP = '\u0000';
    /** Upper bound of a prefix scan: every key that starts with the prefix sorts below prefix + this. */
    static final char END = '\uffff';

    private StoreKeys() {}

    static String join(String... parts) {
        return String.join(String.valueOf(SEP), parts);
    }

    static String reverseTime(long epochMillis) {
        return String.format("%016x", Long.MAX_VALUE - Math.max(0, epochMillis));
    }

    static long timeOfReverse(String reverse) {
        return Long.MAX_VALUE - Long.parseUnsignedLong(reverse, 16);
    }

    /** A queue cursor as it travels in a URL: the merged key of the last row shown, base64url. */
    public static String encodeCursor(String key) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(key.getBytes(StandardCharsets.UTF_8));
    }

    /** The cursor's key, or null when it is not one this console made (a typed-in or stale value starts over). */
    public static String decodeCursor(String cursor) {
        if (cursor == null || cursor.isBlank() || cursor.length() > 2048) {
            return null;
        }
        try {
            String key = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            return key.indexOf(SEP) == 16 ? key : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
