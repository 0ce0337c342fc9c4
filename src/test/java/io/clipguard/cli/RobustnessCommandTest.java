package io.clipguard.cli;

import static io.clipguard.cli.TrainingCommandsTest.csv;
import static io.clipguard.cli.ScoreCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.clipguard.cli.ScoreCommandTest.Run;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code robustness} end to end with the tiny tower: its metrics and LLRs against tools/reference_robustness.py
 * (Pillow impairments, PyTorch reference scoring), the per-image CSVs with DMID's draws and typed too-small rows, the
 * picture, and an output folder that is complete or absent.
 */
class RobustnessCommandTest {
    static final Path FIXTURES = Path.of("src/test/resources/robustness");

    @TempDir
    Path tmp;

    @Test
    void metricsAndScoresEqualThePillowReference() throws Exception {
        Path out = tmp.resolve("report");
        Run result = run("robustness", "--input", "samples/training", "--output-dir", out.toString(), "--device",
                "cpu", "--no-progress");
        assertThat(result.exitCode()).as(result.err()).isZero();
        assertThat(result.out()).contains("original", "dmid", "worst family:");
        assertThat(tmp.resolve("report.partial")).doesNotExist();

        // robustness.csv: every cell within 1e-9 of the script's, rows in the same order.
        List<CSVRecord> ours = csv(out.resolve("robustness.csv"));
        List<CSVRecord> reference = csv(FIXTURES.resolve("reference-robustness.csv"));
        assertThat(ours).hasSize(reference.size()).hasSize(22 * 4);
        for (int i = 0; i < ours.size(); i++) {
            CSVRecord a = ours.get(i);
            CSVRecord b = reference.get(i);
            assertThat(a.get("impairment") + a.get("metric")).isEqualTo(b.get("impairment") + b.get("metric"));
            for (String column : List.of("smooth", "stripes", "AVG")) {
                assertThat(Double.parseDouble(a.get(column))).as(a.get("impairment") + " " + a.get("metric") + " "
                        + column).isCloseTo(Double.parseDouble(b.get(column)), within(1e-9));
            }
        }

        // Per-image LLRs within 1e-4 of the reference, and DMID's draws written beside them.
        Map<String, Double> referenceLlr = new HashMap<>();
        Map<String, String> referenceDraws = new HashMap<>();
        for (CSVRecord r : csv(FIXTURES.resolve("reference-robustness-llr.csv"))) {
            referenceLlr.put(r.get("impairment") + "|" + r.get("filename"), Double.parseDouble(r.get("llr")));
            referenceDraws.put(r.get("impairment") + "|" + r.get("filename"), r.get("drawn"));
        }
        double worst = 0;
        for (String impairment : List.of("original", "jpeg:50", "resize:0.25", "crop:0.5", "blur:2", "webp:50",
                "social:2", "dmid")) {
            List<CSVRecord> rows = csv(out.resolve("scores").resolve(impairment.replace(':', '-') + ".csv"));
            assertThat(rows).hasSize(36);
            for (CSVRecord row : rows) {
                String key = impairment + "|" + row.get("filename");
                assertThat(row.get("error")).isEmpty();
                worst = Math.max(worst, Math.abs(Double.parseDouble(row.get("llr")) - referenceLlr.get(key)));
                if (impairment.equals("dmid")) {
                    assertThat("dmid_side=" + row.get("dmid_side") + " dmid_x=" + row.get("dmid_x") + " dmid_y="
                            + row.get("dmid_y") + " dmid_quality=" + row.get("dmid_quality") + " dmid_filter="
                            + row.get("dmid_filter")).isEqualTo(referenceDraws.get(key));
                }
            }
        }
        assertThat(worst).as("max |LLR - reference|").isLessThan(1e-4);

        BufferedImage png = ImageIO.read(out.resolve("robustness.png").toFile());
        assertThat(png.getWidth()).isGreaterThan(1000);
        assertThat(Files.readString(out.resolve("robustness.md"))).contains("![AUC per impairment family]"
                + "(robustness.png)", "worst family:", "tiny-clip-test");

        // A second run replaces the earlier report; a foreign non-empty folder is refused, untouched.
        Path foreign = tmp.resolve("foreign");
        Files.createDirectories(foreign);
        Files.writeString(foreign.resolve("notes.txt"), "mine");
        Run refused = run("robustness", "--input", "samples/training", "--output-dir", foreign.toString(),
                "--device", "cpu", "--no-progress");
        assertThat(refused.exitCode()).isEqualTo(3);
        assertThat(refused.err()).contains("not empty", "robustness.csv");
        assertThat(foreign.resolve("notes.txt")).exists();
    }

    @Test
    void tooSmallImagesGetTypedRowsAndChainsRunFromAFile() throws Exception {
        Path list = tmp.resolve("list.csv");
        Path golden = Path.of("src/test/resources/golden/images").toAbsolutePath();
        Files.writeString(list, "filename,typ\n" + golden.resolve("jpeg422_225x301.jpg") + ",real\n"
                + golden.resolve("jpeg444_97x61.jpg") + ",gen\n" + golden.resolve("no-such.jpg") + ",gen\n"
                + golden.resolve("flower.jpg") + ",gen\n");
        Path impairments = tmp.resolve("impairments.txt");
        Files.writeString(impairments, "# the fixtures' chains\nresize:0.5+jpeg:70\ncrop:0.5+blur:2\ndmid\n");
        Path out = tmp.resolve("small");
        Run result = run("robustness", "--input", list.toString(), "--output-dir", out.toString(), "--impairments",
                impairments.toString(), "--device", "cpu", "--no-progress");
        assertThat(result.exitCode()).as(result.err()).isZero();

        List<CSVRecord> dmid = csv(out.resolve("scores/dmid.csv"));
        assertThat(dmid).hasSize(4);
        assertThat(dmid.get(1).get("error")).startsWith("TOO_SMALL: dmid of a 97x61 image");
        assertThat(dmid.get(1).get("llr")).isEmpty();
        assertThat(dmid.get(2).get("error")).startsWith("NOT_FOUND");
        assertThat(dmid.get(0).get("dmid_side")).isNotEmpty();

        // The chains' LLRs equal the script's on the golden images (Pillow's outputs, reference scoring).
        Map<String, Double> reference = new HashMap<>();
        for (CSVRecord r : csv(FIXTURES.resolve("reference-llr.csv"))) {
            if (!r.get("llr").isEmpty()) {
                reference.put(r.get("image") + "|" + r.get("impairment"), Double.parseDouble(r.get("llr")));
            }
        }
        for (String chain : List.of("original", "resize:0.5+jpeg:70", "crop:0.5+blur:2")) {
            List<CSVRecord> rows = csv(out.resolve("scores").resolve(chain.replace(':', '-') + ".csv"));
            for (int i = 0; i < 2; i++) {
                String image = Path.of(rows.get(i).get("filename")).getFileName().toString();
                assertThat(Double.parseDouble(rows.get(i).get("llr"))).as(chain + " of " + image)
                        .isCloseTo(reference.get(image + "|" + chain), within(1e-4));
            }
        }
        assertThat(csv(out.resolve("robustness.csv"))).extracting(r -> r.get("impairment")).containsSubsequence(
                "original", "resize:0.5+jpeg:70", "crop:0.5+blur:2", "dmid");
    }

    @Test
    void badImpairmentsAreRefusedBeforeAnythingIsWritten() {
        Path out = tmp.resolve("never");
        Path impairments = tmp.resolve("bad.txt");
        Run result = run("robustness", "--input", "samples/training", "--output-dir", out.toString(),
                "--impairments", "no-such-file.txt", "--device", "cpu");
        assertThat(result.exitCode()).isEqualTo(3);
        assertThat(result.err()).contains("neither 'default' nor a file");
        assertThat(out).doesNotExist();
        assertThat(impairments).doesNotExist();

        // The detectors' options as in score: a bad value exits 2, a model folder that cannot be read 3.
        Run wrongId = run("robustness", "--input", "samples/training", "--output-dir", out.toString(), "--device",
                "cpu", "--max-pixels", "corvi=10");
        assertThat(wrongId.exitCode()).isEqualTo(2);
        assertThat(wrongId.err()).isEqualTo("error: --max-pixels names detector 'corvi', which is none of"
                + " [tiny-clip-test] (a detector's id is its model id)" + System.lineSeparator());
        Path missing = tmp.resolve("no-model");
        Run noModel = run("robustness", "--input", "samples/training", "--output-dir", out.toString(), "--device",
                "cpu", "--model-dir", missing.toString());
        assertThat(noModel.exitCode()).isEqualTo(3);
        assertThat(noModel.err()).startsWith("error: ").contains(missing.toString());
        assertThat(out).doesNotExist();
    }
}
