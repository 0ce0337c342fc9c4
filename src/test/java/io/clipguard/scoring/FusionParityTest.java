package io.clipguard.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.clipguard.inference.BatchListener;
import io.clipguard.inference.Device;
import io.clipguard.model.TestModels;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;

/**
 * Parity with the reference's fused system (tools/reference_fusion.py, docs/fidelity.md): the hand-made cases of
 * fusion-cases.csv (extremes and failed detectors, exact to float64) and the golden images through both detectors.
 */
class FusionParityTest {
    static final Path CASES = Path.of("src/test/resources/fusion/fusion-cases.csv");
    static final Path GOLDEN = Path.of("src/test/resources/golden/reference-fusion.csv");

    static List<CSVRecord> csv(Path file) throws Exception {
        try (Reader r = Files.newBufferedReader(file)) {
            return CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(r).getRecords();
        }
    }

    /** Every rule on every case within 1e-9 of the exact value; a failed detector is left out; none scored: failure. */
    @Test
    void handMadeCasesIncludingExtremesAndFailedDetectors() throws Exception {
        List<CSVRecord> rows = csv(CASES);
        assertThat(rows).hasSizeGreaterThanOrEqualTo(40);
        int checked = 0;
        for (CSVRecord row : rows) {
            int n = Integer.parseInt(row.get("detectors"));
            List<DetectorScore> scores = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                String cell = row.get("x" + i);
                scores.add(cell.equals("failed")
                        ? new DetectorScore("d" + i, "m" + i, null, null, false, FailureReason.TOO_LARGE, "over its limit")
                        : new DetectorScore("d" + i, "m" + i, null, Double.parseDouble(cell), false, null, null));
            }
            for (Fusion rule : Fusion.values()) {
                String expected = row.get(rule.ruleName());
                ScoreOutcome fused = DetectorSet.fuse(scores, rule, 0);
                if (expected.isEmpty()) {
                    assertThat(fused).as(row.get("case") + " " + rule.ruleName())
                            .isInstanceOfSatisfying(ScoreOutcome.Failed.class,
                                    f -> assertThat(f.reason()).isEqualTo(FailureReason.TOO_LARGE));
                } else {
                    double value = Double.parseDouble(expected);
                    assertThat(fused).as(row.get("case") + " " + rule.ruleName())
                            .isInstanceOfSatisfying(ScoreOutcome.Scored.class,
                                    s -> assertThat(s.llr()).isCloseTo(value, within(1e-9)));
                }
                checked++;
            }
        }
        assertThat(checked).isEqualTo(rows.size() * 6);
    }

    /**
     * Both detectors on the golden images as the engine runs them: each logit within 1e-4 of that detector's logit
     * spread over the images, the six rules over the reference's logits within 1e-9 of its fused values, and the
     * engine's own fused score within what its logits' difference allows.
     */
    @Test
    void goldenImagesThroughBothDetectors() throws Exception {
        List<CSVRecord> rows = csv(GOLDEN);
        double[] spread = new double[2];
        String[] columns = {"tiny-clip-test", "tiny-res50nodown-test"};
        for (int c = 0; c < 2; c++) {
            int col = c;
            double max = rows.stream().mapToDouble(r -> Double.parseDouble(r.get(columns[col]))).max().orElseThrow();
            double min = rows.stream().mapToDouble(r -> Double.parseDouble(r.get(columns[col]))).min().orElseThrow();
            spread[c] = max - min;
        }
        double[] worst = new double[2];
        try (DetectorSet set = DetectorSet.open(List.of(
                new DetectorSet.DetectorSpec(null, config(TestModels.TINY)),
                new DetectorSet.DetectorSpec(null, config(TestModels.TINY_RES50))),
                Fusion.SOFT_OR_PROB, 0, id -> BatchListener.NONE)) {
            for (CSVRecord row : rows) {
                double[] reference = {Double.parseDouble(row.get(columns[0])), Double.parseDouble(row.get(columns[1]))};
                for (Fusion rule : Fusion.values()) {
                    assertThat(rule.apply(reference)).as(row.get("filename") + " " + rule.ruleName())
                            .isCloseTo(Double.parseDouble(row.get(rule.ruleName())), within(1e-9));
                }
                FusedOutcome fused = set.submit(TestModels.read(TestModels.GOLDEN_IMAGES.resolve(row.get("filename"))))
                        .join();
                for (int c = 0; c < 2; c++) {
                    DetectorScore d = fused.detectors().get(c);
                    assertThat(d.scored()).as(row.get("filename") + " " + d.errorText()).isTrue();
                    worst[c] = Math.max(worst[c], Math.abs(d.logit() - reference[c]));
                }
                double ours = ((ScoreOutcome.Scored) fused.outcome()).llr();
                // soft_or's derivative in each logit is at most 1 (σ-weighted), so its error is at most the sum
                assertThat(ours).as(row.get("filename")).isCloseTo(Double.parseDouble(row.get("soft_or_prob")),
                        within(1e-4 * (spread[0] + spread[1])));
            }
        }
        assertThat(worst[0]).as("max |CLIP logit - reference|").isLessThanOrEqualTo(1e-4 * spread[0]);
        assertThat(worst[1]).as("max |res50nodown logit - reference|").isLessThanOrEqualTo(1e-4 * spread[1]);
    }

    private static EngineConfig config(Path model) {
        return EngineConfig.builder(model).device(Device.CPU).maxBatchSize(4).mergeWindow(Duration.ofMillis(5))
                .intraOpThreads(2).decodeThreads(2).build();
    }
}
