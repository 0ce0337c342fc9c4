package io.clipguard.cli;

import static io.clipguard.cli.ScoreCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.clipguard.cli.ScoreCommandTest.Run;
import io.clipguard.cli.ScoreFusionCommandTest.Table;
import io.clipguard.evaluation.DetectionReport;
import io.clipguard.inference.Device;
import io.clipguard.model.TestModels;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.Fusion;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code robustness} with two detectors (--model-dir twice, as score): llr is the fusion of the detectors' columns row
 * by row, every detector has its row set in robustness.csv computed from its own column, and the originals' logits are
 * what each detector alone gives the image.
 */
class RobustnessFusionCommandTest {
    static final List<String> DETECTORS = List.of("tiny-clip-test", "tiny-res50nodown-test");
    static final List<String> IMPAIRMENTS = List.of("original", "jpeg:70", "resize:0.5", "crop:0.5+blur:1");

    @TempDir
    Path tmp;

    @Test
    void fusedColumnIsTheRuleOfTheDetectorColumnsAndEachDetectorHasItsRows() throws Exception {
        Path golden = TestModels.GOLDEN_IMAGES.toAbsolutePath();
        Path list = tmp.resolve("list.csv");
        Files.writeString(list, "filename,typ\n" + golden.resolve("jpeg422_225x301.jpg") + ",real\n"
                + golden.resolve("rgb16_160x120.png") + ",real\n" + golden.resolve("gif_320x240.gif") + ",gen\n"
                + golden.resolve("webp_lossy_400x300.webp") + ",gen\n");
        Path impairments = tmp.resolve("impairments.txt");
        Files.writeString(impairments, String.join("\n", IMPAIRMENTS.subList(1, IMPAIRMENTS.size())) + "\n");
        Path out = tmp.resolve("report");

        Run result = run("robustness", "--input", list.toString(), "--output-dir", out.toString(), "--impairments",
                impairments.toString(), "--device", "cpu", "--threads", "1", "--no-progress",
                "--model-dir", TestModels.TINY.toString(), "--model-dir", TestModels.TINY_RES50.toString(),
                "--fusion", "lse_logit");
        assertThat(result.exitCode()).as(result.err()).isZero();
        assertThat(result.out()).contains("score llr: the lse_logit fusion of the detectors",
                "score tiny-clip-test: this detector alone", "score tiny-res50nodown-test: this detector alone");

        List<String> typs = List.of("real", "real", "gen", "gen");
        List<CSVRecord> report = TrainingCommandsTest.csv(out.resolve("robustness.csv"));
        // A row set per (impairment, score column): llr first, then each detector in the given order.
        List<String> expectedOrder = new ArrayList<>();
        for (String impairment : IMPAIRMENTS) {
            for (String column : List.of("llr", DETECTORS.get(0), DETECTORS.get(1))) {
                DetectionReport.METRICS.forEach(m -> expectedOrder.add(impairment + "|" + column + "|" + m));
            }
        }
        assertThat(report).extracting(r -> r.get("impairment") + "|" + r.get("score") + "|" + r.get("metric"))
                .containsExactlyElementsOf(expectedOrder);

        try (ScoringEngine clip = ScoringEngine.open(EngineConfig.builder(TestModels.TINY).device(Device.CPU)
                .intraOpThreads(1).build());
             ScoringEngine res50 = ScoringEngine.open(EngineConfig.builder(TestModels.TINY_RES50)
                     .device(Device.CPU).intraOpThreads(1).build())) {
            for (String impairment : IMPAIRMENTS) {
                Table scores = ScoreFusionCommandTest.read(out.resolve("scores")
                        .resolve(impairment.replace(':', '-') + ".csv"));
                assertThat(scores.header()).endsWith("llr", "probability", "label", "error", DETECTORS.get(0),
                        DETECTORS.get(1));
                assertThat(scores.rows()).hasSize(4);
                double[][] columns = new double[3][4];
                for (int i = 0; i < 4; i++) {
                    CSVRecord row = scores.rows().get(i);
                    assertThat(row.get("error")).as(impairment + " " + row.get("filename")).isEmpty();
                    double c = Double.parseDouble(row.get(DETECTORS.get(0)));
                    double r = Double.parseDouble(row.get(DETECTORS.get(1)));
                    double fused = Fusion.LSE_LOGIT.apply(c, r);
                    assertThat(Double.parseDouble(row.get("llr"))).as(impairment + " " + row.get("filename"))
                            .isEqualTo(fused);
                    assertThat(Double.parseDouble(row.get("probability"))).isEqualTo(Fusion.sigmoid(fused));
                    assertThat(row.get("label")).isEqualTo(fused > 0 ? "synthetic" : "real");
                    columns[0][i] = fused;
                    columns[1][i] = c;
                    columns[2][i] = r;
                    if (impairment.equals("original")) { // decoded once, scored decoded: as each detector alone
                        byte[] bytes = Files.readAllBytes(Path.of(row.get("filename")));
                        assertThat(c).isEqualTo(((ScoreOutcome.Scored) clip.scoreAll(List.of(bytes)).getFirst())
                                .llr());
                        assertThat(r).isCloseTo(((ScoreOutcome.Scored) res50.scoreAll(List.of(bytes)).getFirst())
                                .llr(), within(1e-6));
                    }
                }
                // Each column's rows in robustness.csv are evaluate's metrics on that column (the fusion at 0, the
                // CLIP head at its threshold, the logit model at 0).
                double[] thresholds = {0, clip.info().threshold(), 0};
                List<String> names = List.of("llr", DETECTORS.get(0), DETECTORS.get(1));
                for (int k = 0; k < 3; k++) {
                    DetectionReport expected = DetectionReport.compute(typs, Map.of(names.get(k), columns[k]),
                            thresholds[k]);
                    for (DetectionReport.Row row : expected.rows()) {
                        CSVRecord ours = report.stream().filter(r -> r.get("impairment").equals(impairment)
                                && r.get("score").equals(row.score()) && r.get("metric").equals(row.metric()))
                                .findFirst().orElseThrow();
                        assertThat(Double.parseDouble(ours.get("AVG"))).as(impairment + " " + row.score() + " "
                                + row.metric()).isEqualTo(row.average());
                    }
                }
            }
        }
        assertThat(ImageIO.read(out.resolve("robustness.png").toFile()).getWidth()).isGreaterThan(400);
        assertThat(Files.readString(out.resolve("robustness.md"))).contains("fused by `lse_logit`",
                "![AUC of the fusion (llr) per impairment family](robustness.png)", "score tiny-res50nodown-test");
    }

    /**
     * The fused report on samples/training against tools/reference_robustness.py with both model folders and
     * --fusion soft_or_prob (Pillow impairments, both detectors in PyTorch, the reference's fusion formula): every
     * cell of robustness.csv within 1e-9, every image's fused llr and detector logits within 1e-4.
     */
    @Test
    void fusedReportEqualsThePillowReference() throws Exception {
        Path out = tmp.resolve("fused");
        Run result = run("robustness", "--input", "samples/training", "--output-dir", out.toString(), "--device",
                "cpu", "--no-progress", "--model-dir", TestModels.TINY.toString(), "--model-dir",
                TestModels.TINY_RES50.toString(), "--fusion", "soft_or_prob");
        assertThat(result.exitCode()).as(result.err()).isZero();

        List<CSVRecord> ours = TrainingCommandsTest.csv(out.resolve("robustness.csv"));
        List<CSVRecord> reference = TrainingCommandsTest.csv(RobustnessCommandTest.FIXTURES
                .resolve("reference-robustness-fused-soft_or_prob.csv"));
        assertThat(ours).hasSize(reference.size()).hasSize(22 * 3 * DetectionReport.METRICS.size());
        double worstCell = 0;
        for (int i = 0; i < ours.size(); i++) {
            CSVRecord a = ours.get(i);
            CSVRecord b = reference.get(i);
            String cell = a.get("impairment") + " " + a.get("score") + " " + a.get("metric");
            assertThat(cell).isEqualTo(b.get("impairment") + " " + b.get("score") + " " + b.get("metric"));
            for (String column : List.of("smooth", "stripes", "AVG")) {
                assertThat(Double.parseDouble(a.get(column))).as(cell + " " + column)
                        .isCloseTo(Double.parseDouble(b.get(column)), within(1e-9));
                worstCell = Math.max(worstCell, Math.abs(Double.parseDouble(a.get(column))
                        - Double.parseDouble(b.get(column))));
            }
        }

        Map<String, CSVRecord> referenceScores = new HashMap<>();
        for (CSVRecord r : TrainingCommandsTest.csv(RobustnessCommandTest.FIXTURES
                .resolve("reference-robustness-fused-soft_or_prob-llr.csv"))) {
            referenceScores.put(r.get("impairment") + "|" + r.get("filename"), r);
        }
        Map<String, Double> worst = new HashMap<>();
        List<String> impairments = ours.stream().map(r -> r.get("impairment")).distinct().toList();
        for (String impairment : impairments) {
            List<CSVRecord> rows = TrainingCommandsTest.csv(out.resolve("scores")
                    .resolve(impairment.replace(':', '-') + ".csv"));
            assertThat(rows).hasSize(36);
            for (CSVRecord row : rows) {
                CSVRecord expected = referenceScores.get(impairment + "|" + row.get("filename"));
                assertThat(row.get("error")).as(impairment + " " + row.get("filename")).isEmpty();
                for (String column : List.of("llr", DETECTORS.get(0), DETECTORS.get(1))) {
                    worst.merge(column, Math.abs(Double.parseDouble(row.get(column))
                            - Double.parseDouble(expected.get(column))), Math::max);
                }
            }
        }
        assertThat(impairments).hasSize(22);
        assertThat(worst).as("max |score - reference| per column over every image and impairment")
                .allSatisfy((column, difference) -> assertThat(difference).as(column).isLessThan(1e-4));
        System.out.println("fused robustness vs reference: max |metric difference| " + worstCell
                + ", max |score difference| " + worst);
    }
}
