package io.clipguard.testing;

import io.clipguard.avro.FailureReason;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;

/** The bad inputs every part of the product must answer with a typed error, built from real bytes. */
public final class BadImages {
    private BadImages() {}

    /** name → (bytes, the reason they must be refused with). */
    public static Map<String, Map.Entry<byte[], FailureReason>> all(byte[] realJpeg) {
        Map<String, Map.Entry<byte[], FailureReason>> bad = new LinkedHashMap<>();
        bad.put("empty", Map.entry(new byte[0], FailureReason.EMPTY));
        bad.put("truncated-jpeg", Map.entry(Arrays.copyOf(realJpeg, realJpeg.length / 3), FailureReason.CORRUPT));
        bad.put("text-named-jpg", Map.entry("this is not an image, just text in a .jpg\n".getBytes(StandardCharsets.UTF_8),
                FailureReason.UNSUPPORTED_FORMAT));
        byte[] random = new byte[4096];
        new Random(42).nextBytes(random);
        random[0] = 0x13; // not accidentally a magic number
        bad.put("random-bytes", Map.entry(random, FailureReason.UNSUPPORTED_FORMAT));
        bad.put("png-claims-60000x60000", Map.entry(png(60000, 60000, true), FailureReason.TOO_LARGE));
        bad.put("png-broken-crc", Map.entry(png(16, 16, false), FailureReason.CORRUPT));
        return bad;
    }

    /** A small valid-looking 8-bit RGB PNG whose header declares width × height; optionally with a wrong IDAT CRC. */
    public static byte[] png(int width, int height, boolean validCrc) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0).array(), true);
        // Deflate stream of one zero row's worth is enough for a header-only check; for 16x16 it is the full image.
        java.util.zip.Deflater deflater = new java.util.zip.Deflater();
        byte[] raw = new byte[Math.min(height, 16) * (1 + Math.min(width, 16) * 3)];
        deflater.setInput(raw);
        deflater.finish();
        byte[] buf = new byte[1024];
        int n = deflater.deflate(buf);
        chunk(out, "IDAT", Arrays.copyOf(buf, n), validCrc);
        chunk(out, "IEND", new byte[0], true);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data, boolean validCrc) {
        byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(typeBytes);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        int value = (int) crc.getValue() ^ (validCrc ? 0 : 0x5a5a5a5a);
        out.writeBytes(ByteBuffer.allocate(4).putInt(value).array());
    }
}
