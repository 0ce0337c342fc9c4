package io.clipguard.image;

import static io.clipguard.image.ByteFields.ascii;
import static io.clipguard.image.ByteFields.uint16Le;

/**
 * A WebP's image size, read without decoding from its first chunk: the VP8 frame header (lossy), the VP8L header
 * (lossless) or the VP8X canvas (extended: alpha, animation, metadata). An animation decodes as its first frame on
 * that canvas (PIL's frame 0), so the canvas is the size to check against the limits.
 */
record WebpHeader(int width, int height) {

    /** The size, or null where the first chunk is none of the three or is malformed (the decoder then says why). */
    static WebpHeader parse(byte[] d) {
        if (d.length < 30) {
            return null;
        }
        if (ascii(d, 12, "VP8 ")) {
            // 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height (the top 2 bits are an upscale hint).
            if ((d[23] & 0xFF) != 0x9D || d[24] != 0x01 || d[25] != 0x2A) {
                return null;
            }
            return new WebpHeader(uint16Le(d, 26) & 0x3FFF, uint16Le(d, 28) & 0x3FFF);
        }
        if (ascii(d, 12, "VP8L")) {
            // Signature 0x2f, then width - 1 and height - 1 in 14 bits each.
            if (d[20] != 0x2F) {
                return null;
            }
            int bits = uint16Le(d, 21) | uint16Le(d, 23) << 16;
            return new WebpHeader((bits & 0x3FFF) + 1, ((bits >>> 14) & 0x3FFF) + 1);
        }
        if (ascii(d, 12, "VP8X")) {
            // Canvas width - 1 and height - 1, 24 bits each.
            return new WebpHeader((uint16Le(d, 24) | (d[26] & 0xFF) << 16) + 1,
                    (uint16Le(d, 27) | (d[29] & 0xFF) << 16) + 1);
        }
        return null;
    }
}
