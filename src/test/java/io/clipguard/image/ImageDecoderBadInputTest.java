package io.clipguard.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Malformed input always ends in a typed {@link ImageDecodeException}, never an unchecked exception or a silent grey image. */
class ImageDecoderBadInputTest {
    private static final Path BAD = GoldenFixtures.ROOT.resolve("bad");
    private final ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);

    private static byte[] bad(String name) throws IOException {
        return Files.readAllBytes(BAD.resolve(name));
    }

    private ImageDecodeException failure(ImageDecoder d, byte[] data) {
        ImageDecodeException e = catchThrowableOfType(ImageDecodeException.class, () -> d.decode(data));
        assertThat(e).as("decode must throw ImageDecodeException").isNotNull();
        assertThat(e.getMessage()).isNotBlank();
        return e;
    }

    private ImageDecodeException failure(byte[] data) {
        return failure(decoder, data);
    }

    @Test
    void emptyAndNullAreEmpty() {
        assertThat(failure(new byte[0]).error()).isEqualTo(ImageError.EMPTY);
        assertThat(failure(null).error()).isEqualTo(ImageError.EMPTY);
    }

    @Test
    void textNamedJpgIsUnsupported() throws IOException {
        assertThat(failure(bad("text.jpg")).error()).isEqualTo(ImageError.UNSUPPORTED_FORMAT);
    }

    @Test
    void randomBytesAreUnsupported() throws IOException {
        assertThat(failure(bad("random_4k.bin")).error()).isEqualTo(ImageError.UNSUPPORTED_FORMAT);
    }

    @Test
    void textStartingWithBmIsNotTakenForABitmap() {
        byte[] text = "BMW sells cars; this is plain text and no bitmap header.".getBytes();
        assertThat(failure(text).error()).isEqualTo(ImageError.UNSUPPORTED_FORMAT);
    }

    @Test
    void truncatedJpegIsCorruptNotGrey() throws IOException {
        ImageDecodeException e = failure(bad("truncated_half.jpg"));
        assertThat(e.error()).isEqualTo(ImageError.CORRUPT);
        assertThat(e.getMessage()).containsIgnoringCase("premature end");
    }

    @Test
    void jpegCutInsideItsHeaderIsCorrupt() throws IOException {
        assertThat(failure(bad("truncated_header.jpg")).error()).isEqualTo(ImageError.CORRUPT);
    }

    @Test
    void everyPrefixOfAJpegFailsTypedOrDecodes() throws IOException {
        byte[] jpeg = Files.readAllBytes(GoldenFixtures.ROOT.resolve("images/jpeg444_97x61.jpg"));
        for (int n = 1; n < jpeg.length; n += 97) {
            byte[] prefix = Arrays.copyOf(jpeg, n);
            assertThat(failure(prefix).error()).as("prefix of %d bytes", n)
                    .isIn(ImageError.CORRUPT, ImageError.UNSUPPORTED_FORMAT);
        }
    }

    @Test
    void pngHeaderClaiming60000x60000IsRefusedBeforeDecoding() throws IOException {
        byte[] bomb = bad("bomb_60000x60000.png");
        assertThat(bomb.length).isLessThan(1024 * 1024);
        ImageDecodeException e = failure(bomb);
        assertThat(e.error()).isEqualTo(ImageError.TOO_LARGE);
        assertThat(e.getMessage()).contains("60000x60000");
    }

    @Test
    void webpHeaderClaiming16383x16383IsRefusedBeforeDecoding() throws Exception {
        // A lossless (VP8L) WebP whose header declares the format's largest size, 268 MP, followed by no real data.
        long bits = 16382L | (16382L << 14); // width-1, height-1; no alpha, version 0
        java.nio.ByteBuffer vp8l = java.nio.ByteBuffer.allocate(5 + 64).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .put((byte) 0x2f).putInt((int) bits);
        java.nio.ByteBuffer riff = java.nio.ByteBuffer.allocate(20 + vp8l.capacity()).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .put("RIFF".getBytes()).putInt(12 + vp8l.capacity()).put("WEBP".getBytes())
                .put("VP8L".getBytes()).putInt(vp8l.capacity()).put(vp8l.array());
        ImageDecodeException e = failure(riff.array());
        assertThat(e.error()).isEqualTo(ImageError.TOO_LARGE);
        assertThat(e.getMessage()).contains("16383x16383");
    }

    @Test
    void pixelLimitComesFromTheConfiguredLimits() throws Exception {
        byte[] jpeg = Files.readAllBytes(GoldenFixtures.ROOT.resolve("images/china.jpg")); // 640x427
        ImageDecoder tight = new ImageDecoder(new ImageLimits(ImageLimits.DEFAULT.maxEncodedBytes(), 640L * 427 - 1));
        assertThat(failure(tight, jpeg).error()).isEqualTo(ImageError.TOO_LARGE);
        ImageDecoder exact = new ImageDecoder(new ImageLimits(ImageLimits.DEFAULT.maxEncodedBytes(), 640L * 427));
        assertThat(exact.decode(jpeg).width()).isEqualTo(640);
    }

    @Test
    void pngWithBrokenCrcIsCorrupt() throws IOException {
        ImageDecodeException e = failure(bad("bad_crc.png"));
        assertThat(e.error()).isEqualTo(ImageError.CORRUPT);
        assertThat(e.getMessage()).contains("CRC");
    }

    @Test
    void truncatedPngIsCorrupt() throws IOException {
        assertThat(failure(bad("truncated_half.png")).error()).isEqualTo(ImageError.CORRUPT);
    }

    @Test
    void encodedBytesOverTheLimitAreTooLarge() throws IOException {
        byte[] jpeg = Files.readAllBytes(GoldenFixtures.ROOT.resolve("images/china.jpg"));
        ImageDecoder small = new ImageDecoder(new ImageLimits(jpeg.length - 1, ImageLimits.DEFAULT.maxPixels()));
        ImageDecodeException e = failure(small, jpeg);
        assertThat(e.error()).isEqualTo(ImageError.TOO_LARGE);
        assertThat(e.getMessage()).contains(String.valueOf(jpeg.length));
    }

    @Test
    void damagedBytesInsideEveryFormatNeverEscapeAsUncheckedExceptions() throws IOException {
        String[] samples = {"webp_lossless_257x190.webp", "webp_lossy_400x300.webp", "gif_320x240.gif",
                "bmp24_333x222.bmp", "progressive_640x427.jpg", "rgb16_160x120.png"};
        java.util.Random random = new java.util.Random(42);
        for (String name : samples) {
            byte[] original = Files.readAllBytes(GoldenFixtures.ROOT.resolve("images").resolve(name));
            for (int trial = 0; trial < 20; trial++) {
                byte[] damaged = original.clone();
                for (int i = 0; i < 8; i++) {
                    damaged[16 + random.nextInt(damaged.length - 16)] = (byte) random.nextInt(256);
                }
                byte[] cut = Arrays.copyOf(damaged, 16 + random.nextInt(damaged.length - 16));
                for (byte[] input : new byte[][] {damaged, cut}) {
                    try {
                        RgbImage image = decoder.decode(input);
                        assertThat(image.rgb()).hasSize(image.width() * image.height() * 3);
                    } catch (ImageDecodeException e) {
                        assertThat(e.error()).as(name).isNotNull();
                    }
                }
            }
        }
    }
}
