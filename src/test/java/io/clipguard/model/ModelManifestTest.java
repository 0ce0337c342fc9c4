package io.clipguard.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelManifestTest {
    @TempDir
    Path tmp;

    @Test
    void loadsTheBundledTinyModel() throws Exception {
        ModelManifest m = ModelManifest.load(TestModels.TINY);
        assertThat(m.id()).isEqualTo("tiny-clip-test");
        assertThat(m.featureDim()).isEqualTo(64);
        assertThat(m.input().name()).isEqualTo("pixel_values");
        assertThat(m.input().dtype()).isEqualTo(TensorDType.FLOAT32);
        assertThat(m.input().shape()).containsExactly(-1, 3, 224, 224);
        assertThat(m.engineNormalizes()).isTrue();
        assertThat(m.preprocessSpec().cropSize()).isEqualTo(224);
        assertThat(m.preprocessSpec().mean()).containsExactly(0.48145466f, 0.4578275f, 0.40821073f);
        // the manifest's sha256 is the real digest of the committed model.onnx
        assertThat(ModelManifest.sha256Hex(m.onnxFile(TestModels.TINY))).isEqualTo(m.sha256());
    }

    @Test
    void refusesAModelFileWhoseDigestDiffers() throws Exception {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        String good = ModelManifest.load(dir).sha256();
        String wrong = "0".repeat(64);
        TestModels.editJson(dir.resolve("manifest.json"), j -> j.put("sha256", wrong));
        assertThatThrownBy(() -> ModelManifest.load(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(good).hasMessageContaining(wrong).hasMessageContaining("re-export");
    }

    @Test
    void nullDigestSkipsTheCheck() throws Exception {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        TestModels.editJson(dir.resolve("manifest.json"), j -> j.putNull("sha256"));
        assertThat(ModelManifest.load(dir).sha256()).isNull();
    }

    @Test
    void missingFolderManifestAndModelFileAreNamed() throws Exception {
        assertThatThrownBy(() -> ModelManifest.load(tmp.resolve("nope")))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("does not exist");
        Files.createDirectories(tmp.resolve("empty"));
        assertThatThrownBy(() -> ModelManifest.load(tmp.resolve("empty")))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("no manifest.json");
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        Files.delete(dir.resolve("model.onnx"));
        assertThatThrownBy(() -> ModelManifest.load(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("model.onnx").hasMessageContaining("export_clip_onnx.py");
    }

    @Test
    void unknownFormatIsRefused() {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        TestModels.editJson(dir.resolve("manifest.json"), j -> j.put("format", "clipguard-model/v9"));
        assertThatThrownBy(() -> ModelManifest.load(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("clipguard-model/v9").hasMessageContaining("clipguard-model/v1");
    }

    @Test
    void badDtypeIsRefused() {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        TestModels.editJson(dir.resolve("manifest.json"), j -> j.with("input").put("dtype", "int8"));
        assertThatThrownBy(() -> ModelManifest.load(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("int8").hasMessageContaining("float32 or float16");
    }

    @Test
    void inputShapeMustMatchTheCropSize() {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        TestModels.editJson(dir.resolve("manifest.json"), j -> j.with("preprocess").with("crop").put("size", 336));
        assertThatThrownBy(() -> ModelManifest.load(dir))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("[-1, 3, 336, 336]");
    }

    @Test
    void malformedJsonSaysWhere() throws Exception {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        Files.writeString(dir.resolve("manifest.json"), "{\n \"format\": \"clipguard-model/v1\",\n \"id\": }");
        assertThatThrownBy(() -> ModelManifest.load(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("manifest.json is not a model manifest: it is not valid JSON (line 3")
                .hasMessageContaining("see docs/models.md");
    }

    @Test
    void aWrongFieldIsNamedWithWhatItShouldBe() {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        TestModels.editJson(dir.resolve("manifest.json"), j -> j.with("output").put("dim", "sixty-four"));
        assertThatThrownBy(() -> ModelManifest.load(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("is not a model manifest: field 'output.dim' is \"sixty-four\" (a number expected)");
        TestModels.editJson(dir.resolve("manifest.json"), j -> j.with("output").remove("dim"));
        assertThatThrownBy(() -> ModelManifest.load(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("is not a model manifest: field 'output.dim' is missing (a number)");
        TestModels.editJson(dir.resolve("manifest.json"), j -> {
            j.with("output").put("dim", 64);
            j.put("l2_normalize", "both");
        });
        assertThatThrownBy(() -> ModelManifest.load(dir))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("field 'l2_normalize' is \"both\" (one of [\"engine\", \"graph\", \"none\"] expected)");
    }

    @Test
    void readChecksTheManifestWithoutTheModelFile() throws Exception {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        Files.delete(dir.resolve("model.onnx"));
        ModelManifest m = ModelManifest.read(dir);
        assertThat(m.id()).isEqualTo("tiny-clip-test");
        assertThat(m.featureDim()).isEqualTo(64);
    }

    @Test
    void aLogitModelAtNativeResolutionLoads() throws Exception {
        ModelManifest m = ModelManifest.load(TestModels.TINY_RES50);
        assertThat(m.outputsLogit()).isTrue();
        assertThat(m.output().kind()).isEqualTo(ModelManifest.OutputKind.LOGIT);
        assertThat(m.featureDim()).isEqualTo(1);
        assertThat(m.nativeResolution()).isTrue();
        assertThat(m.imageSize()).isZero();
        assertThat(m.input().shape()).containsExactly(-1, 3, -1, -1);
        assertThat(m.l2Normalize()).isEqualTo(ModelManifest.L2Normalize.NONE);
        assertThat(m.engineNormalizes()).isFalse();
        assertThat(m.nativeSpec().mean()).containsExactly(0.485f, 0.456f, 0.406f);
        assertThat(m.nativeSpec().std()).containsExactly(0.229f, 0.224f, 0.225f);
        assertThat(m.nativeSpec().maxPixels()).isZero(); // null in the file: no cap
        assertThatThrownBy(m::preprocessSpec).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aManifestWithoutOutputKindIsAFeaturesModel() throws Exception {
        ModelManifest m = ModelManifest.load(TestModels.TINY); // written before output.kind existed
        assertThat(m.output().kind()).isEqualTo(ModelManifest.OutputKind.FEATURES);
        assertThat(m.outputsLogit()).isFalse();
        assertThat(m.nativeResolution()).isFalse();
    }

    @Test
    void maxPixelsIsReadAndChecked() throws Exception {
        Path dir = TestModels.copyModel(TestModels.TINY_RES50, tmp.resolve("r"));
        TestModels.editJson(dir.resolve("manifest.json"), j -> j.with("preprocess").put("max_pixels", 1_000_000));
        assertThat(ModelManifest.load(dir).nativeSpec().maxPixels()).isEqualTo(1_000_000);
        TestModels.editJson(dir.resolve("manifest.json"), j -> j.with("preprocess").put("max_pixels", 0));
        assertThatThrownBy(() -> ModelManifest.load(dir)).isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("max_pixels must be null (no cap) or positive");
    }

    @Test
    void inconsistentLogitManifestsAreRefusedWithTheRule() {
        Path dir = TestModels.copyModel(TestModels.TINY_RES50, tmp.resolve("r"));
        TestModels.editJson(dir.resolve("manifest.json"), j -> j.put("l2_normalize", "engine"));
        assertThatThrownBy(() -> ModelManifest.load(dir)).isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("a logit model has l2_normalize \"none\", got engine");
        TestModels.editJson(dir.resolve("manifest.json"), j -> {
            j.put("l2_normalize", "none");
            j.with("output").put("dim", 2);
        });
        assertThatThrownBy(() -> ModelManifest.load(dir)).isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("a logit output has dim 1, got 2");
        TestModels.editJson(dir.resolve("manifest.json"), j -> {
            j.with("output").put("dim", 1);
            j.withArray("/input/shape").set(2, 224);
        });
        assertThatThrownBy(() -> ModelManifest.load(dir)).isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("must be [-1, 3, -1, -1]");
        Path clip = TestModels.copyTiny(tmp.resolve("c"));
        TestModels.editJson(clip.resolve("manifest.json"), j -> j.put("l2_normalize", "none"));
        assertThatThrownBy(() -> ModelManifest.load(clip)).isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("a features model needs l2_normalize engine or graph");
        TestModels.editJson(clip.resolve("manifest.json"), j -> {
            j.put("l2_normalize", "engine");
            j.with("preprocess").put("max_pixels", 5);
        });
        assertThatThrownBy(() -> ModelManifest.load(clip)).isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("max_pixels applies only to native-resolution models");
    }
}
