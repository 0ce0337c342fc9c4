package io.clipguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clipguard.model.TestModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyModelCommandTest {
    @TempDir
    Path tmp;

    @Test
    void theBundledModelMatchesItsPyTorchReference() {
        ScoreCommandTest.Run run = ScoreCommandTest.run("verify-model", "--model-dir", TestModels.TINY.toString(),
                "--samples", TestModels.TINY.resolve("verification.json").toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("PASS").contains("max |diff|").contains("128 values");
    }

    @Test
    void aPerturbedReferenceFailsWithTheMaxDifference() {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        TestModels.editJson(dir.resolve("verification.json"), j -> {
            ObjectNode expected = (ObjectNode) j.get("expected");
            ByteBuffer values = ByteBuffer.wrap(Base64.getDecoder().decode(expected.get("data").asText()))
                    .order(ByteOrder.LITTLE_ENDIAN);
            values.putFloat(5 * 4, values.getFloat(5 * 4) + 0.01f); // one feature off by 0.01
            expected.put("data", Base64.getEncoder().encodeToString(values.array()));
        });
        ScoreCommandTest.Run run = ScoreCommandTest.run("verify-model", "--model-dir", dir.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).contains("FAIL").contains("1 out of tolerance").containsPattern("max \\|diff\\| 0\\.0100");
    }

    @Test
    void samplesOfAnotherExportAreRefused() {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        TestModels.editJson(dir.resolve("verification.json"), j -> j.put("model_sha256", "ab".repeat(32)));
        ScoreCommandTest.Run run = ScoreCommandTest.run("verify-model", "--model-dir", dir.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("abab").contains("same export");
    }

    @Test
    void theInt8ExportComparedWithItsFp32OriginalOnTheGoldenImagesPasses() throws Exception {
        Path rows = tmp.resolve("rows.csv");
        ScoreCommandTest.Run run = compareInt8("--output", rows.toString());
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).contains("(tiny-clip-test, int8 (QInt8 MatMul weights per channel")
                .contains("36 images scored by both, 0 failed in both").contains("label flips: 0 of 36")
                .containsPattern("LLR drift: max [0-9.e-]+ \\(0\\.[0-9]+ % of the spread, [^)]+\\), median")
                .containsPattern("feature cosine: min 0\\.99")
                .contains("PASS: max drift").contains("<= 2.0 %").doesNotContain("what to do");
        List<String> lines = Files.readAllLines(rows);
        assertThat(lines).hasSize(37);
        assertThat(lines.getFirst()).isEqualTo("filename,llr_reference,llr_model,llr_drift,flipped,feature_cosine");
    }

    @Test
    void aDriftOverTheBoundFails() {
        ScoreCommandTest.Run run = compareInt8("--max-drift", "0.001");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).containsPattern("FAIL: max drift 0\\.[0-9]+ % > 0\\.001 %, flips 0 <= 0")
                .contains("what to do: export again with tools/export_clip_onnx.py --dtype int8 --int8-keep-float mlp-out")
                .contains("or serve " + TestModels.TINY + " (float32)");
    }

    @Test
    void anExportThatAlreadyKeepsMlpOutFloatIsToldToServeFp32() {
        Path dir = TestModels.copyModel(INT8, tmp.resolve("k"));
        TestModels.editJson(dir.resolve("manifest.json"), j -> j.with("provenance").with("quantization")
                .putArray("kept_float").add("mlp-out"));
        ScoreCommandTest.Run run = ScoreCommandTest.run("verify-model", "--model-dir", dir.toString(), "--compare-to",
                TestModels.TINY.toString(), "--input", TestModels.GOLDEN_IMAGES.toString(), "--no-progress",
                "--max-drift", "0.001");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).contains("mlp-out kept float").contains("FAIL: max drift")
                .contains("what to do: this int8 export already keeps mlp-out in float32; serve " + TestModels.TINY
                        + " (float32)");
    }

    @Test
    void aFlippedLabelIsNamedAndFails() throws Exception {
        // A head whose threshold lies between the two models' LLRs of the most drifting image: that label flips.
        Path rows = tmp.resolve("rows.csv");
        assertThat(compareInt8("--output", rows.toString()).exitCode()).isZero();
        String[] worst = null;
        for (String line : Files.readAllLines(rows).subList(1, 37)) {
            String[] cells = line.split(",");
            if (worst == null || Double.parseDouble(cells[3]) > Double.parseDouble(worst[3])) {
                worst = cells;
            }
        }
        double threshold = (Double.parseDouble(worst[1]) + Double.parseDouble(worst[2])) / 2;
        Path head = tmp.resolve("head.json");
        Files.copy(TestModels.TINY.resolve("head.json"), head);
        TestModels.editJson(head, j -> j.put("threshold", threshold));
        ScoreCommandTest.Run run = compareInt8("--head", head.toString());
        assertThat(run.exitCode()).as(run.out()).isEqualTo(1);
        assertThat(run.out()).contains("label flips: 1 of 36").contains("flipped: " + worst[0])
                .contains("FAIL").contains("flips 1 > 0");
    }

    @Test
    void compareToNeedsInput() {
        ScoreCommandTest.Run run = ScoreCommandTest.run("verify-model", "--model-dir", INT8.toString(), "--compare-to",
                TestModels.TINY.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--compare-to and --input go together");
    }

    @Test
    void aHeadOfAnotherDimensionIsRefused() {
        Path head = TestModels.scaledHead(tmp.resolve("head.json"), "wide", 65, 1.0);
        ScoreCommandTest.Run run = compareInt8("--head", head.toString());
        assertThat(run.exitCode()).isEqualTo(3);
        assertThat(run.err()).contains("65 weights");
    }

    static final Path INT8 = Path.of("models", "tiny-clip-test-int8");

    /** verify-model of the committed int8 tiny model against the fp32 one on the golden images, one image per run. */
    private static ScoreCommandTest.Run compareInt8(String... extra) {
        List<String> args = new ArrayList<>(List.of("verify-model", "--model-dir", INT8.toString(), "--compare-to",
                TestModels.TINY.toString(), "--input", TestModels.GOLDEN_IMAGES.toString(), "--batch-size", "1",
                "--no-progress"));
        args.addAll(List.of(extra));
        return ScoreCommandTest.run(args.toArray(String[]::new));
    }
}
