package io.clipguard.cli;

import static io.clipguard.cli.ScoreCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.cli.ScoreCommandTest.Run;
import io.clipguard.inference.Device;
import io.clipguard.model.TestModels;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.Fusion;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** score and evaluate with two detectors (--model-dir twice), the reference's fused run. */
class ScoreFusionCommandTest {
    @TempDir
    Path tmp;

    record Table(List<String> header, List<CSVRecord> rows) {}

    static Table read(Path file) throws Exception {
        try (Reader r = Files.newBufferedReader(file);
             CSVParser p = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
            return new Table(p.getHeaderNames(), p.getRecords());
        }
    }

    @Test
    void twoDetectorsAddTheirColumnsAndLlrIsTheFusion() throws Exception {
        Path imgs = tmp.resolve("imgs");
        Files.createDirectories(imgs);
        for (String name : List.of("china.jpg", "grace_hopper.jpg", "gif_320x240.gif")) {
            Files.copy(TestModels.GOLDEN_IMAGES.resolve(name), imgs.resolve(name));
        }
        Files.write(imgs.resolve("empty.jpg"), new byte[0]);
        Path out = tmp.resolve("out.csv");

        Run run = run("score", "--input", imgs.toString(), "--output", out.toString(), "--device", "cpu",
                "--threads", "1", "--model-dir", TestModels.TINY.toString(), "--model-dir",
                TestModels.TINY_RES50.toString(), "--fusion", "mean_prob");

        assertThat(run.exitCode()).as(run.err()).isZero();
        Table table = read(out);
        assertThat(table.header()).containsExactly("filename", "llr", "probability", "label", "error",
                "tiny-clip-test", "tiny-res50nodown-test");
        assertThat(table.rows()).extracting(r -> r.get("filename")).containsExactly("china.jpg", "empty.jpg",
                "gif_320x240.gif", "grace_hopper.jpg");
        try (ScoringEngine clip = ScoringEngine.open(EngineConfig.builder(TestModels.TINY).device(Device.CPU)
                .intraOpThreads(1).build());
             ScoringEngine res50 = ScoringEngine.open(EngineConfig.builder(TestModels.TINY_RES50).device(Device.CPU)
                     .intraOpThreads(1).build())) {
            for (CSVRecord row : table.rows()) {
                if (row.get("filename").equals("empty.jpg")) {
                    assertThat(row.get("llr")).isEmpty();
                    assertThat(row.get("tiny-clip-test")).isEmpty();
                    assertThat(row.get("tiny-res50nodown-test")).isEmpty();
                    assertThat(row.get("error")).startsWith("EMPTY: ");
                    continue;
                }
                byte[] bytes = Files.readAllBytes(imgs.resolve(row.get("filename")));
                double c = ((ScoreOutcome.Scored) clip.scoreAll(List.of(bytes)).getFirst()).llr();
                double r = ((ScoreOutcome.Scored) res50.scoreAll(List.of(bytes)).getFirst()).llr();
                assertThat(Double.parseDouble(row.get("tiny-clip-test"))).isEqualTo(c);
                assertThat(Double.parseDouble(row.get("tiny-res50nodown-test"))).isEqualTo(r);
                double fused = Fusion.MEAN_PROB.apply(c, r);
                assertThat(Double.parseDouble(row.get("llr"))).isEqualTo(fused);
                assertThat(Double.parseDouble(row.get("probability"))).isEqualTo(Fusion.sigmoid(fused));
                assertThat(row.get("label")).isEqualTo(fused > 0 ? "synthetic" : "real");
                assertThat(row.get("error")).isEmpty();
            }
        }
        assertThat(run.err()).contains("3 scored, 1 errors").contains("model tiny-clip-test, head random-seed0 +"
                + " model tiny-res50nodown-test").contains("fused by mean_prob");
    }

    @Test
    void aDetectorOverItsLimitIsNamedAndTheOtherScores() throws Exception {
        Path imgs = tmp.resolve("imgs");
        Files.createDirectories(imgs);
        Files.copy(TestModels.GOLDEN_IMAGES.resolve("china.jpg"), imgs.resolve("china.jpg"));
        Path out = tmp.resolve("out.csv");
        // a cap crops (no failure); the CSV is unchanged in shape
        Run capped = run("score", "--input", imgs.toString(), "--output", out.toString(), "--device", "cpu",
                "--model-dir", TestModels.TINY.toString(), "--model-dir", TestModels.TINY_RES50.toString(),
                "--max-pixels", "tiny-res50nodown-test=10000");
        assertThat(capped.exitCode()).as(capped.err()).isZero();
        assertThat(read(out).rows().getFirst().get("tiny-res50nodown-test")).isNotEmpty();

        Run wrongId = run("score", "--input", imgs.toString(), "--output", out.toString(), "--device", "cpu",
                "--model-dir", TestModels.TINY.toString(), "--max-pixels", "corvi=10");
        assertThat(wrongId.exitCode()).isEqualTo(2);
        assertThat(wrongId.err()).contains("--max-pixels names detector 'corvi', which is none of [tiny-clip-test]");

        Run badRule = run("score", "--input", imgs.toString(), "--output", out.toString(), "--fusion", "or");
        assertThat(badRule.exitCode()).isEqualTo(2);
        assertThat(badRule.err()).contains("unknown fusion rule 'or'").contains("soft_or_prob");
    }

    @Test
    void embedConcernsOneClipDetector() throws Exception {
        Run two = run("embed", "--input", TestModels.GOLDEN_IMAGES.resolve("china.jpg").getParent().toString(),
                "--output", tmp.resolve("f").toString(), "--model-dir", TestModels.TINY.toString(), "--model-dir",
                TestModels.TINY_RES50.toString());
        assertThat(two.exitCode()).isEqualTo(2);
        assertThat(two.err()).contains("give it once");
        Run logit = run("embed", "--input", TestModels.GOLDEN_IMAGES.toString(), "--output", tmp.resolve("f").toString(),
                "--model-dir", TestModels.TINY_RES50.toString());
        assertThat(logit.exitCode()).isEqualTo(ClipguardCli.EXIT_LOAD_ERROR);
        assertThat(logit.err()).contains("CLIP detector only");
    }

    @Test
    void evaluateGivesOneRowSetPerDetectorAndOneForTheFusion() throws Exception {
        Path eval = tmp.resolve("eval");
        Run e = run("evaluate", "--input", Path.of("samples/training").toString(), "--model-dir",
                TestModels.TINY.toString(), "--model-dir", TestModels.TINY_RES50.toString(), "--output-dir",
                eval.toString(), "--device", "cpu");
        assertThat(e.exitCode()).as(e.err()).isZero();
        Table metrics = read(eval.resolve("metrics.csv"));
        assertThat(metrics.rows()).extracting(r -> r.get("score")).containsExactly(
                "llr", "llr", "llr", "llr", "tiny-clip-test", "tiny-clip-test", "tiny-clip-test", "tiny-clip-test",
                "tiny-res50nodown-test", "tiny-res50nodown-test", "tiny-res50nodown-test", "tiny-res50nodown-test");
    }
}
