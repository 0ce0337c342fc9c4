package io.clipguard.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.ImageIO;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * PNGs whose text or ICC chunks PIL 9.4 refuses (decompression bombs, unknown compression methods) are refused, and
 * the ones it accepts decode as the image without them. Each case's expected outcome is what PIL 9.4's
 * {@code Image.open(..).convert("RGB")} did with the same chunks (same types, keywords, sizes and places, built with
 * Python's zlib; checked by hand on 2026-11-29 with /usr/bin/python3), except the one rule of ours marked below.
 */
class PngCompressedChunksTest {
    private static final int MIB = 1 << 20;

    enum Case {
        // PIL: accepts.
        ZTXT_INFLATING_TO_EXACTLY_1_MIB(null, before(ztxt("k", 'a', MIB))),
        ZTXT_INFLATING_TO_1_MIB_MINUS_1(null, before(ztxt("k", 'a', MIB - 1))),
        ZTXT_THAT_IS_NOT_ZLIB(null, before(chunk("zTXt", concat(latin1("k\0\0"), new byte[] {0x78, (byte) 0x9c},
                filled(5000, (byte) 0xFF))))),
        ITXT_BOMB_WITH_UNKNOWN_METHOD(null, before(chunk("iTXt", concat(latin1("k\0\1\1en\0\0"), deflate('a', 2 * MIB))))),
        SIXTY_ZTXT_OF_A_MILLION_BYTES(null, before(repeat(60))),
        SIXTY_ICCP_OF_A_MILLION_BYTES(null, before(repeatIcc(60))),
        // PIL: ValueError "Decompressed Data Too Large" / "Too much memory used in text chunks".
        ZTXT_BOMB(ImageError.TOO_LARGE, before(ztxt("k", 'a', 2 * MIB))),
        ZTXT_BOMB_WITHOUT_KEYWORD(ImageError.TOO_LARGE, before(ztxt("", 'a', 2 * MIB))),
        ZTXT_BOMB_AFTER_THE_IMAGE_DATA(ImageError.TOO_LARGE, after(ztxt("k", 'a', 2 * MIB))),
        ITXT_BOMB(ImageError.TOO_LARGE, before(chunk("iTXt", concat(latin1("k\0\1\0en\0\0"), deflate('a', 2 * MIB))))),
        ICCP_BOMB(ImageError.TOO_LARGE, before(chunk("iCCP", concat(latin1("icc\0\0"), deflate('\0', 8 * MIB))))),
        SIXTY_EIGHT_ZTXT_OF_A_MILLION_BYTES(ImageError.TOO_LARGE, before(repeat(68))),
        // Ours, not PIL's (which would inflate them all): compressed chunks inflating past 64 MiB in all.
        SIXTY_EIGHT_ICCP_OF_A_MILLION_BYTES(ImageError.TOO_LARGE, before(repeatIcc(68))),
        // PIL: SyntaxError / IndexError, reported as "cannot identify image file".
        ZTXT_WITH_METHOD_1(ImageError.CORRUPT, before(chunk("zTXt", concat(latin1("k\0\1"), deflate('a', 10))))),
        ICCP_WITHOUT_SEPARATOR_ENDING_IN_7(ImageError.CORRUPT, before(chunk("iCCP", latin1("abc\7")))),
        EMPTY_ICCP(ImageError.CORRUPT, before(chunk("iCCP", new byte[0])));

        final ImageError expected;
        final byte[] png;

        Case(ImageError expected, byte[] png) {
            this.expected = expected;
            this.png = png;
        }
    }

    @ParameterizedTest
    @EnumSource(Case.class)
    void refusesWhatPilRefusesAndDecodesTheRest(Case c) throws Exception {
        ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        if (c.expected == null) {
            assertThat(decoder.decode(c.png).rgb()).isEqualTo(decoder.decode(BASE).rgb());
        } else {
            ImageDecodeException e = catchThrowableOfType(ImageDecodeException.class, () -> decoder.decode(c.png));
            assertThat(e).as("%s is refused", c).isNotNull();
            assertThat(e.error()).isEqualTo(c.expected);
            assertThat(e.getMessage()).contains(c.expected == ImageError.TOO_LARGE ? "decompression bomb" : "PIL refuses");
        }
    }

    // ---- building the PNGs: a real 3x4 RGB PNG from ImageIO, with chunks inserted before or after its IDAT ----

    private static final byte[] BASE = basePng();
    private static final int AFTER_IHDR = 8 + 12 + 13;

    private static byte[] basePng() {
        BufferedImage image = new BufferedImage(3, 4, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 3; x++) {
                image.setRGB(x, y, (x * 80) << 16 | (y * 60) << 8 | 100);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    private static byte[] before(byte[] chunks) {
        return concat(Arrays.copyOf(BASE, AFTER_IHDR), chunks, Arrays.copyOfRange(BASE, AFTER_IHDR, BASE.length));
    }

    private static byte[] after(byte[] chunks) {
        int iend = BASE.length - 12;
        return concat(Arrays.copyOf(BASE, iend), chunks, Arrays.copyOfRange(BASE, iend, BASE.length));
    }

    private static byte[] repeat(int count) {
        byte[][] chunks = new byte[count][];
        for (int i = 0; i < count; i++) {
            chunks[i] = ztxt("k" + i, 'a', 1_000_000);
        }
        return concat(chunks);
    }

    private static byte[] repeatIcc(int count) {
        byte[] icc = chunk("iCCP", concat(latin1("icc\0\0"), deflate('\0', 1_000_000)));
        byte[][] chunks = new byte[count][];
        Arrays.fill(chunks, icc);
        return concat(chunks);
    }

    private static byte[] ztxt(String keyword, char fill, int inflatedSize) {
        return chunk("zTXt", concat(latin1(keyword + "\0\0"), deflate(fill, inflatedSize)));
    }

    private static byte[] deflate(char fill, int size) {
        Deflater deflater = new Deflater(9);
        deflater.setInput(filled(size, (byte) fill));
        deflater.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[64 * 1024];
        while (!deflater.finished()) {
            out.write(buffer, 0, deflater.deflate(buffer));
        }
        deflater.end();
        return out.toByteArray();
    }

    private static byte[] chunk(String type, byte[] data) {
        byte[] typeBytes = latin1(type);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        return concat(uint32(data.length), typeBytes, data, uint32(crc.getValue()));
    }

    private static byte[] uint32(long v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    private static byte[] filled(int size, byte value) {
        byte[] b = new byte[size];
        Arrays.fill(b, value);
        return b;
    }

    private static byte[] latin1(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
