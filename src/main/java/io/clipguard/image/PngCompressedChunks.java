package io.clipguard.image;

import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * PIL 9.4's decompression-bomb rules for a PNG's compressed chunks (PngImagePlugin), so that we refuse what the
 * reference refuses instead of scoring an image it has no score for. PIL reads these chunks whenever it opens and
 * loads a PNG (before and after the image data, up to IEND or an animation's next frame):
 * <ul>
 *   <li>{@code zTXt}, compressed {@code iTXt} and {@code iCCP} data may inflate to at most {@code MAX_TEXT_CHUNK}
 *       (1 MiB); beyond that PIL raises "Decompressed Data Too Large". Data that is not valid zlib is ignored, as PIL
 *       ignores it.</li>
 *   <li>The text values of {@code tEXt}, {@code zTXt} and {@code iTXt} chunks may add up to at most
 *       {@code MAX_TEXT_MEMORY} (64 MiB).</li>
 *   <li>A {@code zTXt} or {@code iCCP} chunk naming a compression method other than 0 is refused.</li>
 * </ul>
 * Inflating stops at the limit, so a bomb costs at most 1 MiB of output per chunk. One rule is ours, not PIL's: all
 * the chunks together may inflate to at most 64 MiB. PIL has no such total for ICC chunks, so a 50 MB file of
 * 50,000 small iCCP chunks would keep it (and a decode thread of ours) inflating 50 GB for minutes.
 */
final class PngCompressedChunks {
    static final int MAX_TEXT_CHUNK = 1 << 20;
    static final long MAX_TEXT_MEMORY = 64L * MAX_TEXT_CHUNK;

    static final long MAX_INFLATED = MAX_TEXT_MEMORY;

    private byte[] scratch; // allocated at the first compressed chunk: most PNGs have none
    private long textMemory;
    private long inflated;

    /** Checks one chunk of type {@code type} whose data is {@code d[start, start + length)}; it began at {@code chunkPos}. */
    void check(String type, byte[] d, int start, int length, int chunkPos) throws ImageDecodeException {
        int end = start + length;
        switch (type) {
            case "tEXt" -> {
                int nul = indexOfNul(d, start, end);
                if (nul != start) { // PIL skips a chunk without a keyword
                    countText(nul < 0 ? 0 : end - nul - 1, type, chunkPos);
                }
            }
            case "zTXt" -> {
                int nul = indexOfNul(d, start, end);
                if (nul < 0 || nul + 1 >= end) {
                    return; // no value: PIL inflates nothing and counts nothing
                }
                refuseMethod(d[nul + 1], type, chunkPos);
                long size = inflatedSize(d, nul + 2, end, type, chunkPos);
                if (nul != start) {
                    countText(size, type, chunkPos);
                }
                countInflated(size, type, chunkPos);
            }
            case "iTXt" -> {
                int nul = indexOfNul(d, start, end);
                if (nul < 0 || end - (nul + 1) < 2) {
                    return;
                }
                int flag = d[nul + 1] & 0xFF;
                int method = d[nul + 2] & 0xFF;
                int lang = indexOfNul(d, nul + 3, end);
                int translated = lang < 0 ? -1 : indexOfNul(d, lang + 1, end);
                if (translated < 0) {
                    return;
                }
                if (flag == 0) {
                    countText(end - translated - 1, type, chunkPos); // PIL counts UTF-8 characters; bytes bound them
                    return;
                }
                if (method != 0) {
                    return;
                }
                long size = inflatedSize(d, translated + 1, end, type, chunkPos);
                countText(size, type, chunkPos);
                countInflated(size, type, chunkPos);
            }
            case "iCCP" -> {
                // PIL reads the method at the separator itself (always 0 then); without one, at the last byte.
                int nul = indexOfNul(d, start, end);
                if (nul < 0) {
                    if (length == 0) {
                        throw new ImageDecodeException(ImageError.CORRUPT, "PNG iCCP chunk at byte " + chunkPos
                                + " is empty (PIL refuses it too)");
                    }
                    refuseMethod(d[end - 1], type, chunkPos);
                    countInflated(inflatedSize(d, Math.min(start + 1, end), end, type, chunkPos), type, chunkPos);
                } else {
                    countInflated(inflatedSize(d, Math.min(nul + 2, end), end, type, chunkPos), type, chunkPos);
                }
            }
            default -> {
            }
        }
    }

    private static int indexOfNul(byte[] d, int from, int end) {
        for (int i = from; i < end; i++) {
            if (d[i] == 0) {
                return i;
            }
        }
        return -1;
    }

    private static void refuseMethod(byte method, String type, int chunkPos) throws ImageDecodeException {
        if (method != 0) {
            throw new ImageDecodeException(ImageError.CORRUPT, "PNG " + type + " chunk at byte " + chunkPos
                    + " names compression method " + (method & 0xFF) + " (only 0 exists; PIL refuses it too)");
        }
    }

    private void countText(long size, String type, int chunkPos) throws ImageDecodeException {
        textMemory += size;
        if (textMemory > MAX_TEXT_MEMORY) {
            throw new ImageDecodeException(ImageError.TOO_LARGE, "PNG text chunks hold more than " + MAX_TEXT_MEMORY
                    + " bytes of text (reached at the " + type + " chunk at byte " + chunkPos
                    + "); PIL refuses that much text as a decompression bomb");
        }
    }

    private void countInflated(long size, String type, int chunkPos) throws ImageDecodeException {
        inflated += size;
        if (inflated > MAX_INFLATED) {
            throw new ImageDecodeException(ImageError.TOO_LARGE, "PNG compressed chunks inflate to more than "
                    + MAX_INFLATED + " bytes in all (reached at the " + type + " chunk at byte " + chunkPos
                    + "); refused as a decompression bomb");
        }
    }

    /**
     * Bytes the zlib data {@code d[from, end)} inflates to, as PIL's {@code _safe_zlib_decompress} sees it: refused
     * when the output reaches 1 MiB with input left over; data that is not zlib counts as nothing.
     */
    private long inflatedSize(byte[] d, int from, int end, String type, int chunkPos) throws ImageDecodeException {
        if (scratch == null) {
            scratch = new byte[64 * 1024];
        }
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(d, from, end - from);
            long total = 0;
            while (total < MAX_TEXT_CHUNK) {
                int n = inflater.inflate(scratch, 0, (int) Math.min(scratch.length, MAX_TEXT_CHUNK - total));
                total += n;
                if (n == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) {
                    return total;
                }
            }
            if (!inflater.finished() && inflater.getRemaining() > 0) {
                throw new ImageDecodeException(ImageError.TOO_LARGE, "PNG " + type + " chunk at byte " + chunkPos
                        + " inflates to more than " + MAX_TEXT_CHUNK + " bytes; PIL refuses it as a decompression bomb"
                        + " (Decompressed Data Too Large)");
            }
            return total;
        } catch (DataFormatException notZlib) {
            return 0;
        } finally {
            inflater.end();
        }
    }
}
