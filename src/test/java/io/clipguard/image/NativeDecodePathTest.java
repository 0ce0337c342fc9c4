package io.clipguard.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.clipguard.image.GoldenFixtures.Fixture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Which decoder each image goes through (native libjpeg-turbo/libpng/libwebp or ImageIO, with the fallback reason), and
 * hostile files through the native path: truncated, bit-flipped, with huge declared sizes. Pixel parity with PIL is
 * GoldenParityTest's job; this test makes sure that parity was measured on the native path.
 */
class NativeDecodePathTest {
    @BeforeAll
    static void nativesLoad() {
        boolean linuxX64 = System.getProperty("os.name").toLowerCase().contains("linux")
                && System.getProperty("os.arch").matches("amd64|x86_64");
        if (linuxX64) {
            assertThat(ImageDecoder.nativeDecoderAvailable()).as("OpenCV natives load on linux-x86_64").isTrue();
        }
        assumeTrue(ImageDecoder.nativeDecoderAvailable(), "no OpenCV natives for this platform");
    }

    private static DecodeFallback pathOf(Fixture fixture) throws ImageDecodeException {
        ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        decoder.decode(fixture.bytes());
        DecodeCounters c = decoder.counters();
        Map<DecodeFallback, Long> fallbacks = c.fallbacks();
        long total = c.nativeDecodes() + fallbacks.values().stream().mapToLong(Long::longValue).sum();
        assertThat(total).as("one decode counted once").isEqualTo(1);
        return fallbacks.entrySet().stream().filter(e -> e.getValue() == 1).map(Map.Entry::getKey).findFirst().orElse(null);
    }

    @Test
    void goldenJpegsPngsAndWebpsDecodeNativelyExceptWhatPilConvertsItsOwnWay() throws Exception {
        for (Fixture f : GoldenFixtures.all()) {
            DecodeFallback expected = switch (f.format()) {
                case "JPEG" -> f.mode().equals("CMYK") ? DecodeFallback.JPEG_CMYK : null;
                case "PNG" -> f.mode().equals("I") ? DecodeFallback.PNG_16BIT_GRAY : null;
                case "WEBP-LOSSY", "WEBP-LOSSLESS" -> null;
                default -> DecodeFallback.FORMAT_NOT_NATIVE;
            };
            assertThat(pathOf(f)).as(f.toString()).isEqualTo(expected);
        }
    }

    @Test
    void jpegWithoutEoiGoesToImageIoWhichCallsTruncationCorrupt() throws Exception {
        ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        byte[] truncated = Files.readAllBytes(GoldenFixtures.ROOT.resolve("bad/truncated_half.jpg"));
        ImageDecodeException e = catchThrowableOfType(ImageDecodeException.class, () -> decoder.decode(truncated));
        assertThat(e.error()).isEqualTo(ImageError.CORRUPT);
        assertThat(decoder.counters().fallbacks(DecodeFallback.JPEG_NO_EOI)).isEqualTo(1);
    }

    @Test
    void damagedJpegsPngsAndWebpsThroughTheNativeDecoderNeverCrash() throws Exception {
        ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        Random random = new Random(7);
        String[] samples = {"progressive_640x427.jpg", "china.jpg", "jpeg422_225x301.jpg", "gray_301x225.jpg",
                "rgb_640x427.png", "palette_trns_225x301.png", "rgba16_130x100.png", "gray_alpha_150x260.png",
                "webp_lossy_400x300.webp", "webp_lossless_257x190.webp", "webp_lossless_alpha_225x301.webp"};
        int attempts = 0;
        for (String name : samples) {
            byte[] original = Files.readAllBytes(GoldenFixtures.ROOT.resolve("images").resolve(name));
            boolean png = name.endsWith(".png");
            for (int trial = 0; trial < 25; trial++) {
                byte[] damaged = original.clone();
                for (int i = 0; i < 1 + trial % 8; i++) {
                    damaged[20 + random.nextInt(damaged.length - 22)] ^= (byte) (1 << random.nextInt(8));
                }
                // Keep the damage past the native path's gates: PNG chunk CRCs recomputed, JPEG EOI kept or restored
                // (a WebP's only gate is its header, which the damage above leaves alone).
                byte[] cut = Arrays.copyOf(damaged, 40 + random.nextInt(damaged.length - 40));
                byte[][] inputs = png ? new byte[][] {fixCrcs(damaged), fixCrcs(truncatePng(original, random))}
                        : name.endsWith(".webp") ? new byte[][] {damaged, cut} : new byte[][] {damaged, withEoi(cut)};
                for (byte[] input : inputs) {
                    attempts++;
                    try {
                        RgbImage image = decoder.decode(input);
                        assertThat(image.rgb()).hasSize(image.width() * image.height() * 3);
                    } catch (ImageDecodeException e) {
                        assertThat(e.error()).as(name).isIn(ImageError.CORRUPT, ImageError.UNSUPPORTED_FORMAT,
                                ImageError.TOO_LARGE);
                    }
                }
            }
        }
        DecodeCounters c = decoder.counters();
        System.out.println("damaged inputs: " + attempts + "; " + c);
        assertThat(c.nativeDecodes() + c.fallbacks(DecodeFallback.NATIVE_REJECTED))
                .as("damaged files that reached the native decoder").isGreaterThan(attempts / 2);
    }

    @Test
    void hugeDeclaredJpegSizeIsRefusedBeforeTheNativeDecoderRuns() throws Exception {
        byte[] jpeg = Files.readAllBytes(GoldenFixtures.ROOT.resolve("images/china.jpg"));
        int sof = sofPayload(jpeg);
        jpeg[sof + 1] = (byte) 0xEA; // height 60000
        jpeg[sof + 2] = (byte) 0x60;
        jpeg[sof + 3] = (byte) 0xEA; // width 60000
        jpeg[sof + 4] = (byte) 0x60;
        assertRefusedBeforeDecoding(jpeg, "60000x60000");
    }

    private static void assertRefusedBeforeDecoding(byte[] image, String declaredSize) {
        ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        ImageDecodeException e = catchThrowableOfType(ImageDecodeException.class, () -> decoder.decode(image));
        assertThat(e.error()).isEqualTo(ImageError.TOO_LARGE);
        assertThat(e.getMessage()).contains(declaredSize);
        assertThat(decoder.counters().nativeDecodes()).isZero();
    }

    @Test
    void jpegWhoseFrameIsSmallerThanItsHeaderSaysIsNotTakenAsThatSize() throws Exception {
        // Header says 640x427 but the data is cut short and EOI appended: libjpeg fills the rest, so the image decodes
        // at the declared size (PIL would say truncated; with EOI present both produce an image) or fails typed.
        byte[] jpeg = Files.readAllBytes(GoldenFixtures.ROOT.resolve("images/china.jpg"));
        byte[] cut = withEoi(Arrays.copyOf(jpeg, jpeg.length / 3));
        try {
            RgbImage image = new ImageDecoder(ImageLimits.DEFAULT).decode(cut);
            assertThat(image.width()).isEqualTo(640);
            assertThat(image.height()).isEqualTo(427);
        } catch (ImageDecodeException e) {
            assertThat(e.error()).isEqualTo(ImageError.CORRUPT);
        }
    }

    @Test
    void hugeDeclaredWebpCanvasIsRefusedBeforeTheNativeDecoderRuns() throws Exception {
        byte[] webp = Files.readAllBytes(Path.of("src/test/resources/webp/animated_2frames_64x48.webp"));
        for (int i = 24; i < 30; i++) {
            webp[i] = (byte) 0xFF; // VP8X canvas 16777216 x 16777216
        }
        assertRefusedBeforeDecoding(webp, "16777216x16777216");
    }

    /**
     * WebPs the golden set lacks, each beside PIL 9.4's {@code Image.open(..).convert("RGB")} of it saved as PNG: an
     * animation (two lossless 64x48 frames of seeded noise, save_all=True; PIL opens the first frame, and webp-imageio
     * refuses animations with UNSUPPORTED_FEATURE), a lossy WebP with alpha (VP8X + ALPH, quality 80), and an
     * animation whose first frame is smaller than the canvas and offset (tools/make_webp_offset_frame.py: PIL shows the
     * rest of the canvas as black, not the declared background).
     */
    @ParameterizedTest
    @ValueSource(strings = {"animated_2frames_64x48", "lossy_alpha_120x80", "offset_first_frame_96x64"})
    void webpDecodesNativelyAsPilDoes(String name) throws Exception {
        Path dir = Path.of("src/test/resources/webp");
        byte[] webp = Files.readAllBytes(dir.resolve(name + ".webp"));
        ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        RgbImage image = decoder.decode(webp);
        assertThat(decoder.counters().nativeDecodes()).isEqualTo(1);
        RgbImage pil = decoder.decode(Files.readAllBytes(dir.resolve(name + ".pil-rgb.png")));
        assertThat(image.width()).isEqualTo(pil.width());
        assertThat(image.height()).isEqualTo(pil.height());
        assertThat(image.rgb()).isEqualTo(pil.rgb());
    }

    @Test
    void offsetFirstFrameLeavesTheRestOfTheCanvasBlack() throws Exception {
        byte[] webp = Files.readAllBytes(Path.of("src/test/resources/webp/offset_first_frame_96x64.webp"));
        RgbImage image = new ImageDecoder(ImageLimits.DEFAULT).decode(webp);
        assertThat(pixel(image, 25, 15)).containsExactly(200, 30, 60); // inside the 40x30 frame at (20, 10)
        assertThat(pixel(image, 0, 0)).containsExactly(0, 0, 0);
        assertThat(pixel(image, 70, 50)).containsExactly(0, 0, 0); // the second (green, full-canvas) frame is not shown
    }

    private static int[] pixel(RgbImage image, int x, int y) {
        int i = (y * image.width() + x) * 3;
        return new int[] {image.rgb()[i] & 0xFF, image.rgb()[i + 1] & 0xFF, image.rgb()[i + 2] & 0xFF};
    }

    @Test
    void gifWhoseLogicalScreenIs65535SquaredIsRefusedAsPilDoes() throws Exception {
        byte[] gif = Files.readAllBytes(GoldenFixtures.ROOT.resolve("images/gif_320x240.gif"));
        gif[6] = (byte) 0xFF;
        gif[7] = (byte) 0xFF;
        gif[8] = (byte) 0xFF;
        gif[9] = (byte) 0xFF;
        ImageDecodeException e = catchThrowableOfType(ImageDecodeException.class,
                () -> new ImageDecoder(ImageLimits.DEFAULT).decode(gif));
        assertThat(e.error()).isEqualTo(ImageError.TOO_LARGE);
        assertThat(e.getMessage()).contains("65535x65535");
    }

    static int sofPayload(byte[] jpeg) {
        for (int i = 2; i + 1 < jpeg.length; i++) {
            if ((jpeg[i] & 0xFF) == 0xFF && ((jpeg[i + 1] & 0xFF) == 0xC0 || (jpeg[i + 1] & 0xFF) == 0xC2)) {
                return i + 4;
            }
        }
        throw new IllegalArgumentException("no SOF0/SOF2 marker");
    }

    private static byte[] withEoi(byte[] data) {
        byte[] out = Arrays.copyOf(data, data.length + 2);
        out[data.length] = (byte) 0xFF;
        out[data.length + 1] = (byte) 0xD9;
        return out;
    }

    /** Drops the end of the IDAT data but keeps a well-formed chunk list (so only the decoder sees the damage). */
    private static byte[] truncatePng(byte[] png, Random random) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(png, 0, 8);
        int pos = 8;
        while (pos + 12 <= png.length) {
            int n = (png[pos] & 0xFF) << 24 | (png[pos + 1] & 0xFF) << 16 | (png[pos + 2] & 0xFF) << 8 | (png[pos + 3] & 0xFF);
            String type = new String(png, pos + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            int keep = type.equals("IDAT") ? random.nextInt(n + 1) : n;
            out.write(keep >>> 24);
            out.write(keep >>> 16);
            out.write(keep >>> 8);
            out.write(keep);
            out.write(png, pos + 4, 4 + keep);
            out.write(new byte[4], 0, 4); // CRC fixed below
            pos += 12 + n;
        }
        return out.toByteArray();
    }

    /** Recomputes every chunk CRC, so that damage inside chunks passes the CRC gate and reaches libpng. */
    private static byte[] fixCrcs(byte[] png) {
        byte[] out = png.clone();
        int pos = 8;
        CRC32 crc = new CRC32();
        while (pos + 12 <= out.length) {
            long n = (out[pos] & 0xFFL) << 24 | (out[pos + 1] & 0xFF) << 16 | (out[pos + 2] & 0xFF) << 8 | (out[pos + 3] & 0xFF);
            if (n > out.length - pos - 12) {
                break;
            }
            crc.reset();
            crc.update(out, pos + 4, 4 + (int) n);
            long v = crc.getValue();
            int c = pos + 8 + (int) n;
            out[c] = (byte) (v >>> 24);
            out[c + 1] = (byte) (v >>> 16);
            out[c + 2] = (byte) (v >>> 8);
            out[c + 3] = (byte) v;
            pos += 12 + (int) n;
        }
        return out;
    }
}
