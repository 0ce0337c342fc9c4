package io.clipguard.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
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
}
