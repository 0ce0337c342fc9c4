package io.clipguard.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.inference.Device;
import io.clipguard.model.ModelManifest;
import io.clipguard.model.TensorDType;
import io.clipguard.model.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * models/tiny-clip-test-int8 (the tiny tower's weight MatMuls quantised by ONNX Runtime, tools/export_clip_onnx.py
 * --dtype int8) loads like any model folder, float32 in and out, and scores every golden image close to the fp32
 * folder with the same head: max |ΔLLR| within 2 % of the spread, no label flipped.
 */
class Int8ModelTest {
    static final Path INT8 = Path.of("models", "tiny-clip-test-int8");

    @Test
    void theManifestSaysFloat32TensorsAndRecordsTheQuantisation() throws Exception {
        ModelManifest manifest = ModelManifest.load(INT8);
        assertThat(manifest.input().dtype()).isEqualTo(TensorDType.FLOAT32);
        assertThat(manifest.output().dtype()).isEqualTo(TensorDType.FLOAT32);
        ModelManifest.Quantization q = manifest.provenance().quantization();
        assertThat(q.opTypes()).containsExactly("MatMul");
        assertThat(q.perChannel()).isTrue();
        assertThat(q.reduceRange()).isFalse();
        assertThat(q.weightType()).isEqualTo("QInt8");
        assertThat(q.activationType()).isEqualTo("QUInt8");
        assertThat(manifest.precision()).isEqualTo("int8 (QInt8 MatMul weights per channel, QUInt8 activations,"
                + " onnxruntime " + q.onnxruntime() + ")");
        // the fp32 folder: no quantisation, and the int8 graph is much smaller than it
        assertThat(ModelManifest.load(TestModels.TINY).provenance().quantization()).isNull();
        assertThat(ModelManifest.load(TestModels.TINY).precision()).isEqualTo("float32");
        assertThat(Files.size(INT8.resolve("model.onnx"))).isLessThan(Files.size(TestModels.TINY.resolve("model.onnx")) * 6 / 10);
    }

    @Test
    void layersKeptFloatAreNamedInThePrecision(@TempDir Path tmp) throws Exception {
        Path dir = TestModels.copyModel(INT8, tmp.resolve("m"));
        TestModels.editJson(dir.resolve("manifest.json"), j -> j.with("provenance").with("quantization")
                .putArray("kept_float").add("qkv").add("mlp-out"));
        ModelManifest manifest = ModelManifest.load(dir);
        ModelManifest.Quantization q = manifest.quantization();
        assertThat(q.keptFloat()).containsExactly("qkv", "mlp-out");
        assertThat(q.keptFloat("mlp-out")).isTrue();
        assertThat(q.keptFloat("mlp-in")).isFalse();
        assertThat(ModelManifest.load(INT8).quantization().keptFloat("mlp-out")).isFalse(); // no kept_float: none
        assertThat(manifest.precision()).isEqualTo("int8 (QInt8 MatMul weights per channel, QUInt8 activations,"
                + " qkv+mlp-out kept float, onnxruntime " + q.onnxruntime() + ")");
    }

    @Test
    void goldenImagesScoreCloseToTheFp32Model() throws Exception {
        List<Path> files;
        try (Stream<Path> list = Files.list(TestModels.GOLDEN_IMAGES)) {
            files = list.sorted().toList();
        }
        List<byte[]> images = new ArrayList<>();
        for (Path f : files) {
            images.add(Files.readAllBytes(f));
        }
        List<ScoreOutcome> fp32 = scoreAll(TestModels.TINY, images);
        List<ScoreOutcome> int8 = scoreAll(INT8, images);

        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (ScoreOutcome o : fp32) {
            assertThat(o).isInstanceOf(ScoreOutcome.Scored.class);
            min = Math.min(min, ((ScoreOutcome.Scored) o).llr());
            max = Math.max(max, ((ScoreOutcome.Scored) o).llr());
        }
        double spread = max - min;
        double worst = 0;
        String worstName = "";
        for (int i = 0; i < files.size(); i++) {
            String name = files.get(i).getFileName().toString();
            assertThat(int8.get(i)).as(name).isInstanceOf(ScoreOutcome.Scored.class);
            ScoreOutcome.Scored a = (ScoreOutcome.Scored) fp32.get(i);
            ScoreOutcome.Scored b = (ScoreOutcome.Scored) int8.get(i);
            assertThat(b.synthetic()).as("label of " + name + " (fp32 LLR %s, int8 %s)", a.llr(), b.llr())
                    .isEqualTo(a.synthetic());
            if (Math.abs(b.llr() - a.llr()) > worst) {
                worst = Math.abs(b.llr() - a.llr());
                worstName = name;
            }
        }
        System.out.printf(Locale.ROOT, "int8 vs fp32 over %d golden images: spread %.4g, max |ΔLLR| %.3g (%.3f %%, %s)%n",
                files.size(), spread, worst, 100 * worst / spread, worstName);
        assertThat(files).hasSizeGreaterThanOrEqualTo(30);
        assertThat(spread).isGreaterThan(1); // both labels present (the tiny head spreads photos over about ±2)
        assertThat(worst).as("int8 changes the scores: it is really quantised").isGreaterThan(1e-4);
        assertThat(worst).as("max |ΔLLR| (worst " + worstName + ") vs 2 % of the spread").isLessThanOrEqualTo(0.02 * spread);
    }

    private static List<ScoreOutcome> scoreAll(Path model, List<byte[]> images) throws Exception {
        try (ScoringEngine engine = ScoringEngine.open(EngineConfig.builder(model).device(Device.CPU).build())) {
            return engine.scoreAll(images);
        }
    }
}
