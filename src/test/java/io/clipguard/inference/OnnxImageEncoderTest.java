package io.clipguard.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.clipguard.image.ClipPreprocessor;
import io.clipguard.image.ImageDecoder;
import io.clipguard.image.ImageLimits;
import io.clipguard.image.RgbImage;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.ModelManifest;
import io.clipguard.model.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxImageEncoderTest {
    static final List<String> PHOTOS = List.of("grace_hopper.jpg", "china.jpg", "flower.jpg", "rgb_640x427.png",
            "webp_lossy_400x300.webp");
    /** No NVIDIA device node: the CUDA provider cannot start here (CI and the dev machines have no GPU). */
    static final boolean NO_GPU = !Files.exists(Path.of("/dev/nvidia0"));

    static ModelManifest manifest;
    static OnnxImageEncoder encoder;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() throws Exception {
        manifest = ModelManifest.load(TestModels.TINY);
        encoder = OnnxImageEncoder.open(TestModels.TINY, manifest, Device.CPU, 1, 8);
    }

    @AfterAll
    static void close() {
        encoder.close();
    }

    /** Real images decoded and cropped by the image package, as the engine feeds them. */
    static List<RgbImage> crops(List<String> names) throws Exception {
        ModelManifest manifest = ModelManifest.load(TestModels.TINY);
        ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        ClipPreprocessor pre = new ClipPreprocessor(manifest.preprocessSpec());
        List<RgbImage> crops = new ArrayList<>();
        for (String name : names) {
            crops.add(pre.resizeAndCrop(decoder.decode(Files.readAllBytes(TestModels.GOLDEN_IMAGES.resolve(name)))));
        }
        return crops;
    }

    @Test
    void matchesTheExportersPyTorchOutputs() throws Exception {
        ExportVerification.Samples samples = ExportVerification.load(TestModels.TINY.resolve("verification.json"));
        ExportVerification.Result result = ExportVerification.verify(encoder, samples);
        assertThat(result.values()).isEqualTo(2 * 64);
        assertThat(result.passed()).as(result.summary()).isTrue();
        assertThat(result.maxAbsDiff()).isLessThan(1e-4);
    }

    @Test
    void batchedFeaturesEqualSingleImageFeatures() throws Exception {
        List<RgbImage> crops = crops(PHOTOS);
        float[][] batched = encoder.encode(crops);
        assertThat(batched).hasNumberOfRows(PHOTOS.size());
        for (int i = 0; i < crops.size(); i++) {
            float[] single = encoder.encode(List.of(crops.get(i)))[0];
            assertThat(single).hasSize(64);
            for (int j = 0; j < 64; j++) {
                assertThat(Math.abs(batched[i][j] - single[j])).as("image %d feature %d", i, j).isLessThanOrEqualTo(1e-5f);
            }
        }
        // different photos give different features (the model is not constant)
        assertThat(batched[0]).isNotEqualTo(batched[1]);
    }

    /**
     * Dynamic int8 quantisation scales a MatMul's activations by one range over the whole input tensor, so in a batch
     * an image's features would depend on its batch neighbours. The encoder runs such a model one image per run: an
     * upload scores the same whichever uploads share its batch.
     */
    @Test
    void int8FeaturesDoNotDependOnTheBatchNeighbours() throws Exception {
        Path int8 = Path.of("models", "tiny-clip-test-int8");
        try (OnnxImageEncoder quantised = OnnxImageEncoder.open(int8, ModelManifest.load(int8), Device.CPU, 1, 8)) {
            assertThat(quantised.runsImagesOneByOne()).isTrue();
            assertThat(encoder.runsImagesOneByOne()).isFalse();
            List<RgbImage> crops = crops(PHOTOS);
            float[][] batched = quantised.encode(crops);
            for (int i = 0; i < crops.size(); i++) {
                assertThat(batched[i]).as(PHOTOS.get(i)).isEqualTo(quantised.encode(List.of(crops.get(i)))[0]);
            }
            assertThat(batched[0]).isNotEqualTo(batched[1]);
        }
    }

    @Test
    void listsLongerThanTheMaxBatchRunAsSeveralBatches() throws Exception {
        List<RgbImage> one = crops(List.of("china.jpg"));
        List<RgbImage> many = new ArrayList<>();
        for (int i = 0; i < 19; i++) {
            many.add(one.getFirst());
        }
        float[][] features = encoder.encode(many); // max batch 8: runs 8 + 8 + 3
        float[] reference = encoder.encode(one)[0];
        for (float[] f : features) {
            for (int j = 0; j < 64; j++) {
                assertThat(Math.abs(f[j] - reference[j])).isLessThanOrEqualTo(1e-5f);
            }
        }
    }

    @Test
    void autoFallsBackToCpuAndCudaFailsFastWithTheReason() throws Exception {
        try (OnnxImageEncoder auto = OnnxImageEncoder.open(TestModels.TINY, manifest, Device.AUTO, 1, 2)) {
            if (NO_GPU) {
                assertThat(auto.device()).isEqualTo("CPU");
                assertThat(auto.cudaUnavailableReason()).hasValueSatisfying(r -> assertThat(r).isNotBlank());
                String reason = auto.cudaUnavailableReason().orElseThrow();
                assertThatThrownBy(() -> OnnxImageEncoder.open(TestModels.TINY, manifest, Device.CUDA, 1, 2))
                        .isInstanceOf(ModelLoadException.class)
                        .hasMessageContaining("CUDA").hasMessageContaining(reason).hasMessageContaining("cpu");
                // the CPU session AUTO fell back to really works
                assertThat(auto.encode(crops(List.of("china.jpg")))[0]).hasSize(64);
            } else {
                assertThat(auto.device()).isEqualTo("CUDA:0");
                assertThat(auto.cudaUnavailableReason()).isEmpty();
            }
        }
    }

    @Test
    void refusesAManifestWhoseInputNameDiffersFromTheModel() {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        TestModels.editJson(dir.resolve("manifest.json"), j -> j.with("input").put("name", "input"));
        assertThatThrownBy(() -> OnnxImageEncoder.open(dir, ModelManifest.load(dir), Device.CPU, 1, 2))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("manifest says input 'input' float32 [-1,3,224,224] but")
                .hasMessageContaining("has 'pixel_values' float32 [-1,3,224,224]");
    }

    @Test
    void refusesAManifestWhoseDtypeOrDimDiffersFromTheModel() {
        Path dir = TestModels.copyTiny(tmp.resolve("fp16"));
        TestModels.editJson(dir.resolve("manifest.json"), j -> {
            j.with("input").put("dtype", "float16");
            j.with("output").put("dtype", "float16");
        });
        assertThatThrownBy(() -> OnnxImageEncoder.open(dir, ModelManifest.load(dir), Device.CPU, 1, 2))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("manifest says input 'pixel_values' float16")
                .hasMessageContaining("has 'pixel_values' float32");
        Path dim = TestModels.copyTiny(tmp.resolve("dim"));
        TestModels.editJson(dim.resolve("manifest.json"), j -> j.with("output").put("dim", 1024));
        assertThatThrownBy(() -> OnnxImageEncoder.open(dim, ModelManifest.load(dim), Device.CPU, 1, 2))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("manifest says output 'features' float32 [-1,1024]")
                .hasMessageContaining("'features' float32 [-1,64]");
    }

    @Test
    void refusesAFileThatIsNotAnOnnxModel() throws Exception {
        Path dir = TestModels.copyTiny(tmp.resolve("garbage"));
        Files.writeString(dir.resolve("model.onnx"), "not a protobuf");
        TestModels.editJson(dir.resolve("manifest.json"), j -> j.putNull("sha256"));
        assertThatThrownBy(() -> OnnxImageEncoder.open(dir, ModelManifest.load(dir), Device.CPU, 1, 2))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("ONNX Runtime cannot load").hasMessageContaining("export_clip_onnx.py");
    }

    /**
     * src/test/resources/models/tiny-clip-test-fp16: the tiny tower exported in float16 (fp16 input and output) by
     * {@code tools/export_clip_onnx.py --random-init --seed 0 --arch tiny --dtype fp16 --out
     * src/test/resources/models/tiny-clip-test-fp16 --model-id tiny-clip-test-fp16 --write-samples
     * src/test/resources/models/tiny-clip-test-fp16/verification.json}.
     */
    static final Path TINY_FP16 = Path.of("src", "test", "resources", "models", "tiny-clip-test-fp16");

    @Test
    void fp16ModelsTakeAndReturnHalfPrecisionTensors() throws Exception {
        ModelManifest fp16 = ModelManifest.load(TINY_FP16);
        assertThat(fp16.input().dtype()).isEqualTo(io.clipguard.model.TensorDType.FLOAT16);
        try (OnnxImageEncoder half = OnnxImageEncoder.open(TINY_FP16, fp16, Device.CPU, 1, 4)) {
            ExportVerification.Result result = ExportVerification.verify(half,
                    ExportVerification.load(TINY_FP16.resolve("verification.json")));
            assertThat(result.passed()).as(result.summary()).isTrue();
            // same weights as the fp32 model: features of real photos agree to fp16 precision
            List<RgbImage> crops = crops(PHOTOS);
            float[][] h = half.encode(crops);
            float[][] f = encoder.encode(crops);
            for (int i = 0; i < crops.size(); i++) {
                for (int j = 0; j < 64; j++) {
                    assertThat(Math.abs(h[i][j] - f[i][j])).as("image %d feature %d", i, j)
                            .isLessThanOrEqualTo(0.02f + 0.01f * Math.abs(f[i][j]));
                }
            }
            assertThat(h[0]).isNotEqualTo(f[0]); // really computed in half precision
        }
    }

    @Test
    void refusesCropsOfTheWrongSize() {
        RgbImage small = new RgbImage(10, 10, new byte[300]);
        assertThatThrownBy(() -> encoder.encode(List.of(small)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10x10");
    }
}
