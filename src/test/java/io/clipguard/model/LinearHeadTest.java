package io.clipguard.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LinearHeadTest {
    @TempDir
    Path tmp;

    @Test
    void llrIsTheDotProductWithTheNormalisedFeaturesPlusBias() throws Exception {
        ModelManifest manifest = ModelManifest.load(TestModels.TINY);
        LinearHead head = LinearHead.load(TestModels.TINY.resolve("head.json"), manifest);
        JsonNode json = new ObjectMapper().readTree(TestModels.TINY.resolve("head.json").toFile());
        assertThat(head.dim()).isEqualTo(64).isEqualTo(json.get("weights").size());

        float[] f = new float[64];
        Random random = new Random(7);
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) (random.nextGaussian() * 3);
        }
        double norm = 0;
        for (float v : f) {
            norm += v * (double) v;
        }
        norm = Math.sqrt(norm);
        double expected = json.get("bias").asDouble();
        double raw = json.get("bias").asDouble();
        for (int i = 0; i < f.length; i++) {
            expected += json.get("weights").get(i).asDouble() * f[i] / norm;
            raw += json.get("weights").get(i).asDouble() * f[i];
        }
        assertThat(head.llr(f, true)).isCloseTo(expected, within(1e-6));
        assertThat(head.llr(f, false)).isCloseTo(raw, within(1e-5));

        double a = json.get("calibration").get("a").asDouble();
        double b = json.get("calibration").get("b").asDouble();
        assertThat(head.probability(expected)).isCloseTo(1 / (1 + Math.exp(-(a * expected + b))), within(1e-12));
        double threshold = json.get("threshold").asDouble();
        assertThat(head.isSynthetic(threshold + 1e-9)).isTrue();
        assertThat(head.isSynthetic(threshold)).isFalse();
    }

    @Test
    void zeroFeaturesGiveTheBiasNotNaN() throws Exception {
        LinearHead head = LinearHead.load(TestModels.TINY.resolve("head.json"));
        assertThat(head.llr(new float[64], true)).isEqualTo(head.bias());
    }

    @Test
    void refusesAHeadTrainedForAnotherModel() throws Exception {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        TestModels.editJson(dir.resolve("head.json"), j -> j.put("model_id", "clip-vit-l14-commonpool"));
        ModelManifest manifest = ModelManifest.load(dir);
        assertThatThrownBy(() -> LinearHead.load(dir.resolve("head.json"), manifest))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("'clip-vit-l14-commonpool'").hasMessageContaining("'tiny-clip-test'")
                .hasMessageContaining("--head").hasMessageContaining("--model-dir");
    }

    @Test
    void refusesAHeadOfTheWrongDimension() throws Exception {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        TestModels.editJson(dir.resolve("head.json"), j -> ((ArrayNode) j.get("weights")).remove(0));
        ModelManifest manifest = ModelManifest.load(dir);
        assertThatThrownBy(() -> LinearHead.load(dir.resolve("head.json"), manifest))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("63 weights").hasMessageContaining("64-d").hasMessageContaining("retrain");
    }

    @Test
    void refusesUnknownFormatAndMissingFile() {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        TestModels.editJson(dir.resolve("head.json"), j -> j.put("format", "sklearn-pickle"));
        assertThatThrownBy(() -> LinearHead.load(dir.resolve("head.json")))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("sklearn-pickle");
        assertThatThrownBy(() -> LinearHead.load(dir.resolve("missing.json")))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("does not exist");
    }

    /** Real malformed head files: the message names the field, what it should be and the file's shape; no Jackson internals. */
    @Test
    void aFileThatIsNotAHeadSaysWhichFieldIsWrong() throws Exception {
        assertNotAHead(write("not-json.json", "hello"), "it is not valid JSON (line 1, column 1: Unrecognized token 'hello'");
        assertNotAHead(write("empty.json", ""), "it is empty");
        assertNotAHead(write("array.json", "[1, 2]"), "it holds a JSON array, not an object");
        assertNotAHead(write("trailing.json", Files.readString(TestModels.TINY.resolve("head.json")) + " {}"),
                "there is more text after its JSON value (line 79)");
        assertNotAHead(write("twice.json", Files.readString(TestModels.TINY.resolve("head.json")).replaceFirst("\\{", "{\"bias\": 1,")),
                "it is not valid JSON (line 71, column 9: Duplicate field 'bias')");
        assertNotAHead(edited("no-format.json", j -> j.remove("format")), "field 'format' is missing (\"clipguard-head/v1\")");
        assertNotAHead(edited("no-bias.json", j -> j.remove("bias")), "field 'bias' is missing (a number)");
        assertNotAHead(edited("null-bias.json", j -> j.putNull("bias")), "field 'bias' is null (a number expected)");
        assertNotAHead(edited("text-bias.json", j -> j.put("bias", "abc")), "field 'bias' is \"abc\" (a number expected)");
        assertNotAHead(edited("array-bias.json", j -> j.putArray("bias").add(1)), "field 'bias' is a JSON array (a number expected)");
        assertNotAHead(edited("text-weight.json", j -> ((ArrayNode) j.get("weights")).set(3, "a")),
                "field 'weights[3]' is \"a\" (a number expected)");
        assertNotAHead(edited("null-weight.json", j -> ((ArrayNode) j.get("weights")).setNull(5)),
                "field 'weights[5]' is null (a number expected)");
        assertNotAHead(edited("text-weights.json", j -> j.put("weights", "abc")),
                "field 'weights' is \"abc\" (an array of numbers expected)");
        assertNotAHead(edited("object-weights.json", j -> j.putObject("weights")),
                "field 'weights' is an object (an array of numbers expected)");
        assertNotAHead(edited("text-calibration.json", j -> j.put("calibration", "q")),
                "field 'calibration' is \"q\" (an object expected)");
        assertNotAHead(edited("half-calibration.json", j -> j.with("calibration").remove("b")),
                "field 'calibration.b' is missing (a number)");

        Path empty = edited("empty-weights.json", j -> j.putArray("weights"));
        assertThatThrownBy(() -> LinearHead.load(empty)).isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(empty + ": 'weights' is empty; a head has one weight per feature")
                .hasMessageContaining("see docs/models.md");
        Path manifest = TestModels.TINY.resolve("manifest.json");
        assertThatThrownBy(() -> LinearHead.load(manifest)).isInstanceOf(ModelLoadException.class)
                .hasMessageStartingWith(manifest + ": unknown format \"clipguard-model/v1\"; expected 'clipguard-head/v1'. A head"
                        + " file is {");
    }

    @Test
    void theFitRuleNamesWhatDoesNotFit() throws Exception {
        LinearHead head = LinearHead.load(TestModels.TINY.resolve("head.json"));
        assertThat(head.misfit("tiny-clip-test", 64)).isEmpty();
        assertThat(head.misfit("tiny-clip-test", 1024)).hasValueSatisfying(m -> {
            assertThat(m.otherModel()).isFalse();
            assertThat(m.reason()).isEqualTo("it has 64 weights but model 'tiny-clip-test' outputs 1024-d features");
        });
        assertThat(head.misfit("clip-vit-l14-commonpool", 64)).hasValueSatisfying(m -> {
            assertThat(m.otherModel()).isTrue();
            assertThat(m.reason()).isEqualTo("it was trained for model_id 'tiny-clip-test' but the backbone is 'clip-vit-l14-commonpool'");
        });
    }

    private static void assertNotAHead(Path file, String problem) {
        assertThatThrownBy(() -> LinearHead.load(file)).isInstanceOf(ModelLoadException.class)
                .hasMessageStartingWith(file + " is not a head file: " + problem)
                .hasMessageContaining(". A head file is {\"format\": \"clipguard-head/v1\", \"model_id\"")
                .hasMessageEndingWith("see docs/models.md")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("DeserializationFeature", "`", "io.clipguard", "Jackson"));
    }

    private Path write(String name, String text) throws Exception {
        return Files.writeString(tmp.resolve(name), text);
    }

    private Path edited(String name, java.util.function.Consumer<com.fasterxml.jackson.databind.node.ObjectNode> edit) throws Exception {
        Path file = Files.copy(TestModels.TINY.resolve("head.json"), tmp.resolve(name));
        TestModels.editJson(file, edit);
        return file;
    }
}
