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
                .hasMessageContaining("field 'l2_normalize' is \"both\" (one of [\"engine\", \"graph\"] expected)");
    }

    @Test
    void readChecksTheManifestWithoutTheModelFile() throws Exception {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        Files.delete(dir.resolve("model.onnx"));
        ModelManifest m = ModelManifest.read(dir);
        assertThat(m.id()).isEqualTo("tiny-clip-test");
        assertThat(m.featureDim()).isEqualTo(64);
    }
}
