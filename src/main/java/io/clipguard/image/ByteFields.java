package io.clipguard.image;

/**
 * Fixed-width fields of encoded image headers, read straight from the file's bytes: ASCII tags (magic numbers, chunk
 * types), PNG's big-endian 32-bit integers and WebP's little-endian 16-bit ones. The header classes and format
 * sniffing share these so that each reads a field the same way; callers check the data is long enough first, except
 * for {@link #ascii}, which answers false past the end.
 */
final class ByteFields {
    private ByteFields() {
    }

    /** Whether {@code d} holds the ASCII text {@code s} at {@code offset}; false where {@code d} ends first. */
    static boolean ascii(byte[] d, int offset, String s) {
        if (offset + s.length() > d.length) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (d[offset + i] != (byte) s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** The big-endian unsigned 32-bit integer at {@code p}. */
    static long uint32Be(byte[] d, int p) {
        return ((long) (d[p] & 0xFF) << 24) | ((d[p + 1] & 0xFF) << 16) | ((d[p + 2] & 0xFF) << 8) | (d[p + 3] & 0xFF);
    }

    /** The little-endian unsigned 16-bit integer at {@code p}. */
    static int uint16Le(byte[] d, int p) {
        return (d[p] & 0xFF) | (d[p + 1] & 0xFF) << 8;
    }
}
