package io.clipguard.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class ClipPreprocessorTest {
    private static final String TENSOR_FIXTURE = "china.jpg";
    private final ClipPreprocessor preprocessor = new ClipPreprocessor(PreprocessSpec.CLIP_224);

    @Test
    void normalizeIntoEqualsTorchvisionFloats() throws Exception {
        RgbImage crop = preprocessor.resizeAndCrop(new ImageDecoder(ImageLimits.DEFAULT)
                .decode(Files.readAllBytes(GoldenFixtures.ROOT.resolve("images").resolve(TENSOR_FIXTURE))));
        ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(GoldenFixtures.ROOT.resolve("tensors")
                .resolve(TENSOR_FIXTURE + ".f32"))).order(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer expected = raw.asFloatBuffer();
        int n = 3 * 224 * 224;
        assertThat(expected.remaining()).isEqualTo(n);

        // Write as image 2 of a batch of 3, to check the offset and that neighbours are untouched.
        FloatBuffer batch = ByteBuffer.allocateDirect(3 * n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int i = 0; i < batch.capacity(); i++) {
            batch.put(i, Float.NaN);
        }
        preprocessor.normalizeInto(crop, batch, 1);
        int mismatches = 0;
        for (int i = 0; i < n; i++) {
            if (Float.floatToIntBits(batch.get(n + i)) != Float.floatToIntBits(expected.get(i))) {
                mismatches++;
            }
        }
        assertThat(mismatches).as("float32 values differing from torchvision's").isZero();
        assertThat(batch.get(0)).isNaN();
        assertThat(batch.get(n - 1)).isNaN();
        assertThat(batch.get(2 * n)).isNaN();
        assertThat(batch.position()).as("absolute puts leave the position alone").isZero();
    }

    @Test
    void normalizeIntoRejectsWrongSizeAndMissingRoom() {
        RgbImage small = new RgbImage(10, 10, new byte[300]);
        FloatBuffer tensor = FloatBuffer.allocate(3 * 224 * 224);
        assertThatThrownBy(() -> preprocessor.normalizeInto(small, tensor, 0)).isInstanceOf(IllegalArgumentException.class);
        RgbImage crop = new RgbImage(224, 224, new byte[224 * 224 * 3]);
        assertThatThrownBy(() -> preprocessor.normalizeInto(crop, tensor, 1)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void outputIsAlwaysTheCropSizeWhateverTheAspect() throws Exception {
        int[][] sizes = {{1, 1}, {1, 5000}, {5000, 1}, {223, 225}, {224, 224}, {225, 224}, {449, 224}, {97, 61}};
        for (int[] s : sizes) {
            byte[] rgb = new byte[s[0] * s[1] * 3];
            for (int i = 0; i < rgb.length; i++) {
                rgb[i] = (byte) (i * 31);
            }
            RgbImage out = preprocessor.resizeAndCrop(new RgbImage(s[0], s[1], rgb));
            assertThat(out.width()).as("%dx%d", s[0], s[1]).isEqualTo(224);
            assertThat(out.height()).isEqualTo(224);
        }
    }

    /**
     * torchvision makes the long side int(224 * long / short): for 1 x 9,586,981 that is 2,147,483,744, past PIL's
     * 32-bit sizes (the reference fails with OverflowError), so there is no reference score and the image is refused
     * as TOO_LARGE; one pixel shorter still fits and is cropped.
     */
    @Test
    void resizedLongSideBeyond32BitsIsRefusedAsTooLarge() throws Exception {
        RgbImage fits = new RgbImage(1, 9_586_980, new byte[9_586_980 * 3]);
        assertThat(preprocessor.resizeAndCrop(fits).width()).isEqualTo(224);

        for (RgbImage tooLong : new RgbImage[] {new RgbImage(1, 9_586_981, new byte[9_586_981 * 3]),
                new RgbImage(9_586_981, 1, new byte[9_586_981 * 3])}) {
            assertThatThrownBy(() -> preprocessor.resizeAndCrop(tooLong))
                    .isInstanceOfSatisfying(ImageDecodeException.class,
                            e -> assertThat(e.error()).isEqualTo(ImageError.TOO_LARGE))
                    .hasMessageContaining("would be 2147483744 px long");
        }
    }

    @Test
    void exact224IsReturnedUnchangedAndFlatColourStaysFlat() throws Exception {
        byte[] rgb = new byte[224 * 224 * 3];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) (i % 251);
        }
        assertThat(preprocessor.resizeAndCrop(new RgbImage(224, 224, rgb)).rgb()).isEqualTo(rgb);

        byte[] flat = new byte[640 * 427 * 3];
        for (int i = 0; i < flat.length; i += 3) {
            flat[i] = (byte) 200;
            flat[i + 1] = 17;
            flat[i + 2] = (byte) 255;
        }
        byte[] out = preprocessor.resizeAndCrop(new RgbImage(640, 427, flat)).rgb();
        for (int i = 0; i < out.length; i += 3) {
            assertThat(new int[] {out[i] & 0xFF, out[i + 1] & 0xFF, out[i + 2] & 0xFF}).containsExactly(200, 17, 255);
        }
    }

    @Test
    void specIsImmutable() {
        float[] mean = PreprocessSpec.CLIP_224.mean();
        mean[0] = 99f;
        assertThat(PreprocessSpec.CLIP_224.mean()[0]).isEqualTo(0.48145466f);
        assertThatThrownBy(() -> new PreprocessSpec(224, 256, mean, mean)).isInstanceOf(IllegalArgumentException.class);
    }
}
