package io.clipguard.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class NativeResolutionPreprocessorTest {
    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};

    /**
     * The whole decoded image, CHW, each value computed here as torchvision does in float32: ToTensor's
     * {@code img.float().div(255)}, then Normalize's {@code sub_(mean).div_(std)}, one IEEE single operation each.
     */
    @Test
    void tensorIsTorchvisionsToTensorAndNormalizeOfTheWholeImage() throws Exception {
        RgbImage decoded = new ImageDecoder(ImageLimits.DEFAULT).decode(
                Files.readAllBytes(GoldenFixtures.ROOT.resolve("images/jpeg422_225x301.jpg")));
        NativeResolutionPreprocessor pre = new NativeResolutionPreprocessor(new NativeResolutionSpec(MEAN, STD, 0));
        RgbImage input = pre.prepare(decoded);
        assertThat(input).isSameAs(decoded); // no resize, no crop
        int w = decoded.width();
        int h = decoded.height();
        assertThat(w).isEqualTo(225);
        assertThat(h).isEqualTo(301);
        FloatBuffer tensor = FloatBuffer.allocate(2 * 3 * w * h);
        pre.normalizeInto(input, tensor, 1); // the second image of a batch of two
        byte[] rgb = decoded.rgb();
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float v = (float) (rgb[(y * w + x) * 3 + c] & 0xFF);
                    float t = v / 255f;
                    float expected = (t - MEAN[c]) / STD[c];
                    float actual = tensor.get(3 * w * h + (c * h + y) * w + x);
                    if (Float.floatToIntBits(actual) != Float.floatToIntBits(expected)) {
                        throw new AssertionError("channel " + c + " at " + x + "," + y + ": " + actual + " != "
                                + expected);
                    }
                }
            }
        }
    }

    @Test
    void cropSizeKeepsWithinTheCap() {
        assertThat(NativeResolutionPreprocessor.cropSize(1000, 800, 0)).containsExactly(1000, 800);
        assertThat(NativeResolutionPreprocessor.cropSize(1000, 800, 800_000)).containsExactly(1000, 800);
        assertThat(NativeResolutionPreprocessor.cropSize(1000, 800, 799_999)).containsExactly(999, 800);
        assertThat(NativeResolutionPreprocessor.cropSize(1000, 800, 1_000)).containsExactly(31, 31);
        // a side shorter than √cap is kept whole; the other uses the rest of the cap
        assertThat(NativeResolutionPreprocessor.cropSize(100, 100_000, 1_000_000)).containsExactly(100, 10_000);
        assertThat(NativeResolutionPreprocessor.cropSize(50_000, 40, 1_000_000)).containsExactly(25_000, 40);
        for (int[] wh : new int[][] {{4000, 3000}, {17, 9000}, {9000, 17}, {1001, 1001}}) {
            for (long cap : new long[] {1, 2, 3, 1_000, 999_999, 1_048_576}) {
                int[] size = NativeResolutionPreprocessor.cropSize(wh[0], wh[1], cap);
                assertThat((long) size[0] * size[1]).isLessThanOrEqualTo(Math.max(cap, 0));
                assertThat(size[0]).isBetween(1, wh[0]);
                assertThat(size[1]).isBetween(1, wh[1]);
            }
        }
    }

    /** torchvision CenterCrop offsets: int(round((size - crop) / 2)), Python's round half to even. */
    @Test
    void theCropIsTorchvisionsCenterCrop() {
        int w = 9;
        int h = 7;
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) i;
        }
        RgbImage image = new RgbImage(w, h, rgb);
        // cap 16: 4x4; left = round(5/2) = round(2.5) = 2 (half to even), top = round(3/2) = round(1.5) = 2
        RgbImage crop = new NativeResolutionPreprocessor(new NativeResolutionSpec(MEAN, STD, 16)).prepare(image);
        assertThat(crop.width()).isEqualTo(4);
        assertThat(crop.height()).isEqualTo(4);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                for (int c = 0; c < 3; c++) {
                    assertThat(crop.rgb()[(y * 4 + x) * 3 + c]).isEqualTo(rgb[((y + 2) * w + x + 2) * 3 + c]);
                }
            }
        }
    }
}
