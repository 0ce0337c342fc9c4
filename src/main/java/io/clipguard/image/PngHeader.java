package io.clipguard.image;

import static io.clipguard.image.ByteFields.ascii;
import static io.clipguard.image.ByteFields.uint32Be;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * What a PNG's chunks declare, read without decoding: the IHDR fields that choose the decoder and bound its memory,
 * whether the image is animated, and whether the chunk stream itself is sound (every CRC matching, IEND reached, the
 * compressed chunks within PIL's limits). Checked before any decoder runs, because neither decoder checks all of it:
 * the JDK's reader ignores CRCs and libpng skips over-limit chunks that PIL refuses.
 *
 * @param width  IHDR's width, unsigned 32 bits (may exceed an int: the caller refuses it)
 * @param height IHDR's height, likewise
 */
record PngHeader(long width, long height, int bitDepth, int colorType) {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    static boolean hasSignature(byte[] d) {
        return d.length >= 8 && Arrays.equals(d, 0, 8, SIGNATURE, 0, 8);
    }

    /** IHDR, which must be the first chunk (CRCs already checked by {@link #checkChunks}); null where it is not. */
    static PngHeader parse(byte[] d) {
        if (d.length < 33 || !ascii(d, 12, "IHDR")) {
            return null;
        }
        return new PngHeader(uint32Be(d, 16), uint32Be(d, 20), d[24] & 0xFF, d[25] & 0xFF);
    }

    /** 16-bit gray, with or without alpha (colour types 0 and 4). */
    boolean sixteenBitGray() {
        return bitDepth == 16 && (colorType == 0 || colorType == 4);
    }

    /** Whether an acTL chunk comes before the image data (chunk lengths already checked by {@link #checkChunks}). */
    static boolean isAnimated(byte[] d) {
        int pos = 8;
        while (pos + 12 <= d.length) {
            int n = (int) uint32Be(d, pos);
            if (ascii(d, pos + 4, "acTL")) {
                return true;
            }
            if (ascii(d, pos + 4, "IDAT") || ascii(d, pos + 4, "IEND")) {
                return false;
            }
            pos += 12 + n;
        }
        return false;
    }

    /**
     * The JDK's PNG reader never checks chunk CRCs (and reads a truncated IDAT as far as it goes), so walk the chunks:
     * every CRC must match and the stream must reach IEND. On the way, PIL's limits on compressed text and ICC chunks
     * ({@link PngCompressedChunks}): libpng skips such a chunk with a warning, where PIL refuses the image.
     */
    static void checkChunks(byte[] d) throws ImageDecodeException {
        CRC32 crc = new CRC32();
        PngCompressedChunks compressed = new PngCompressedChunks();
        boolean imageData = false;
        boolean nextFrame = false; // PIL stops reading chunks at an animation's next frame
        int pos = 8;
        while (true) {
            if (pos + 12 > d.length) {
                throw new ImageDecodeException(ImageError.CORRUPT, "PNG is truncated at byte " + pos + " of "
                        + d.length + " (no IEND chunk)");
            }
            long length = uint32Be(d, pos);
            if (length > d.length - pos - 12L) {
                throw new ImageDecodeException(ImageError.CORRUPT, "PNG chunk at byte " + pos + " claims " + length
                        + " bytes but the file ends first (truncated)");
            }
            int n = (int) length;
            String type = new String(d, pos + 4, 4, StandardCharsets.ISO_8859_1);
            crc.reset();
            crc.update(d, pos + 4, 4 + n);
            if (crc.getValue() != uint32Be(d, pos + 8 + n)) {
                throw new ImageDecodeException(ImageError.CORRUPT, "PNG chunk '" + type + "' at byte " + pos
                        + " has a bad CRC (file damaged)");
            }
            if (type.equals("IEND")) {
                return;
            }
            imageData |= type.equals("IDAT");
            nextFrame |= imageData && type.equals("fcTL");
            if (!nextFrame) {
                compressed.check(type, d, pos + 8, n, pos);
            }
            pos += 12 + n;
        }
    }
}
