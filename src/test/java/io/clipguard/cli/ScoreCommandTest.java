package io.clipguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.inference.Device;
import io.clipguard.model.TestModels;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import java.io.PrintWriter;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ScoreCommandTest {
    @TempDir
    Path tmp;

    record Run(int exitCode, String out, String err) {}

    static Run run(String... args) {
        CommandLine cli = ClipguardCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    static List<CSVRecord> readCsv(Path file) throws Exception {
        try (Reader r = Files.newBufferedReader(file);
             CSVParser p = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
            assertThat(p.getHeaderNames()).containsSubsequence("filename", "llr", "probability", "label", "error");
            return p.getRecords();
        }
    }

    private Path copy(Path from, Path to) throws Exception {
        Files.createDirectories(to.getParent());
        return Files.copy(from, to);
    }

    @Test
    void csvWithGoodAndBadInputsGivesOneRowPerInputInOrder() throws Exception {
        Path imgs = tmp.resolve("imgs");
        copy(TestModels.GOLDEN_IMAGES.resolve("china.jpg"), imgs.resolve("china.jpg"));
        copy(TestModels.GOLDEN_IMAGES.resolve("grace_hopper.jpg"), imgs.resolve("nested/grace.jpg"));
        Files.write(imgs.resolve("empty.jpg"), new byte[0]);
        copy(TestModels.GOLDEN_BAD.resolve("truncated_header.jpg"), imgs.resolve("truncated.jpg"));
        Files.writeString(imgs.resolve("notes.jpg"), "this is a text file, not a JPEG\n");
        byte[] noise = new byte[5000];
        new Random(1).nextBytes(noise);
        Files.write(imgs.resolve("noise.png"), noise);
        Path csv = tmp.resolve("list.csv");
        Files.writeString(csv, "\uFEFF" + """
                filename,typ
                imgs/china.jpg,real
                imgs/empty.jpg,fake
                imgs/truncated.jpg,real
                imgs/notes.jpg,fake
                imgs/noise.png,fake
                imgs/missing.jpg,real
                imgs/nested/grace.jpg,real
                """);
        Path out = tmp.resolve("out.csv");

        Run run = run("score", "--input", csv.toString(), "--output", out.toString(), "--device", "cpu",
                "--batch-size", "4", "--threads", "1");

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<CSVRecord> rows = readCsv(out);
        assertThat(rows).extracting(r -> r.get("filename")).containsExactly("imgs/china.jpg", "imgs/empty.jpg",
                "imgs/truncated.jpg", "imgs/notes.jpg", "imgs/noise.png", "imgs/missing.jpg", "imgs/nested/grace.jpg");
        assertThat(rows).extracting(r -> r.get("typ")).containsExactly("real", "fake", "real", "fake", "fake", "real",
                "real");
        assertThat(rows).extracting(r -> r.get("error").replaceFirst(":.*", "")).containsExactly("", "EMPTY",
                "CORRUPT", "UNSUPPORTED_FORMAT", "UNSUPPORTED_FORMAT", "NOT_FOUND", "");
        for (CSVRecord failed : List.of(rows.get(1), rows.get(2), rows.get(3), rows.get(4), rows.get(5))) {
            assertThat(failed.get("llr")).isEmpty();
            assertThat(failed.get("probability")).isEmpty();
            assertThat(failed.get("label")).isEmpty();
        }
        assertThat(rows.get(5).get("error")).contains("missing.jpg");

        // the scores are the engine's scores for those bytes
        try (ScoringEngine engine = ScoringEngine.open(EngineConfig.builder(TestModels.TINY).device(Device.CPU)
                .intraOpThreads(1).build())) {
            List<ScoreOutcome> expected = engine.scoreAll(List.of(Files.readAllBytes(imgs.resolve("china.jpg")),
                    Files.readAllBytes(imgs.resolve("nested/grace.jpg"))));
            for (int i = 0; i < 2; i++) {
                CSVRecord row = rows.get(i == 0 ? 0 : 6);
                ScoreOutcome.Scored s = (ScoreOutcome.Scored) expected.get(i);
                assertThat(Double.parseDouble(row.get("llr"))).isEqualTo(s.llr());
                assertThat(Double.parseDouble(row.get("probability"))).isEqualTo(s.probability());
                assertThat(row.get("label")).isEqualTo(s.synthetic() ? "synthetic" : "real");
            }
        }
        assertThat(run.err()).contains("2 scored, 5 errors").contains("images/s");
    }

    @Test
    void folderInputIsWalkedRecursivelyInSortedOrder() throws Exception {
        Path dir = tmp.resolve("photos");
        copy(TestModels.GOLDEN_IMAGES.resolve("flower.jpg"), dir.resolve("b/flower.jpg"));
        copy(TestModels.GOLDEN_IMAGES.resolve("china.jpg"), dir.resolve("a.jpg"));
        copy(TestModels.GOLDEN_IMAGES.resolve("webp_lossy_400x300.webp"), dir.resolve("b/a/x.webp"));
        Files.writeString(dir.resolve("readme.txt"), "not an image");
        Path out = tmp.resolve("out.csv");

        Run run = run("score", "--input", dir.toString(), "-o", out.toString(), "--device", "cpu", "--no-progress");

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<CSVRecord> rows = readCsv(out);
        assertThat(rows).extracting(r -> r.get("filename"))
                .containsExactly("a.jpg", "b/a/x.webp", "b/flower.jpg", "readme.txt");
        assertThat(rows.subList(0, 3)).allSatisfy(r -> {
            assertThat(r.get("error")).isEmpty();
            assertThat(r.get("label")).isIn("real", "synthetic");
            assertThat(Double.parseDouble(r.get("probability"))).isBetween(0.0, 1.0);
        });
        assertThat(rows.get(3).get("error")).startsWith("UNSUPPORTED_FORMAT:");
    }

    @Test
    void manyInputsStreamThroughTheWindowInOrder() throws Exception {
        // more rows than the in-flight window (4 x batch 2 = 8) so rows are written while others are still scored
        Path dir = tmp.resolve("many");
        List<String> names = new ArrayList<>();
        String[] sources = {"china.jpg", "flower.jpg", "grace_hopper.jpg", "jpeg_224x224.jpg"};
        for (int i = 0; i < 30; i++) {
            String name = String.format("img%02d.jpg", i);
            copy(TestModels.GOLDEN_IMAGES.resolve(sources[i % sources.length]), dir.resolve(name));
            names.add(name);
        }
        Path out = tmp.resolve("out.csv");
        Run run = run("score", "--input", dir.toString(), "-o", out.toString(), "--device", "cpu", "--batch-size", "2",
                "--decode-threads", "2");
        assertThat(run.exitCode()).as(run.err()).isZero();
        List<CSVRecord> rows = readCsv(out);
        assertThat(rows).extracting(r -> r.get("filename")).containsExactlyElementsOf(names);
        for (int i = 4; i < rows.size(); i++) { // same source image ⇒ same score, whatever batch it ran in
            assertThat(Double.parseDouble(rows.get(i).get("llr")))
                    .isCloseTo(Double.parseDouble(rows.get(i % 4).get("llr")), org.assertj.core.api.Assertions.within(1e-5));
        }
    }

    @Test
    void exitsWithOneWhenEveryInputFailsAndThreeWhenTheModelCannotLoad() throws Exception {
        Path csv = tmp.resolve("list.csv");
        Files.writeString(csv, "filename\nnope1.jpg\nnope2.jpg\n");
        Path out = tmp.resolve("out.csv");
        Run allFailed = run("score", "--input", csv.toString(), "-o", out.toString(), "--device", "cpu");
        assertThat(allFailed.exitCode()).isEqualTo(1);
        assertThat(readCsv(out)).hasSize(2).allSatisfy(r -> assertThat(r.get("error")).startsWith("NOT_FOUND:"));

        Run noModel = run("score", "--input", csv.toString(), "-o", out.toString(), "--model-dir",
                tmp.resolve("no-model").toString());
        assertThat(noModel.exitCode()).isEqualTo(ClipguardCli.EXIT_LOAD_ERROR);
        assertThat(noModel.err()).contains("does not exist");

        Files.writeString(csv, "path\nx.jpg\n");
        Run noColumn = run("score", "--input", csv.toString(), "-o", out.toString());
        assertThat(noColumn.exitCode()).isEqualTo(ClipguardCli.EXIT_LOAD_ERROR);
        assertThat(noColumn.err()).contains("no 'filename' column");
    }

    @Test
    void everyCommandHasHelp() {
        for (String[] args : List.of(new String[] {"--help"}, new String[] {"score", "--help"},
                new String[] {"verify-model", "--help"})) {
            Run run = run(args);
            assertThat(run.exitCode()).isZero();
            assertThat(run.out()).contains("Usage: clipguard");
        }
        assertThat(run("score", "--help").out()).contains("--input").contains("--model-dir").contains("--device")
                .contains("--batch-size").contains("--merge-window-ms").contains("--threads")
                .contains("--decode-threads").contains("--head")
                .doesNotContain("--max-queue-delay-ms"); // the old name works (below) but is not advertised
        assertThat(run("score", "--bogus").exitCode()).isEqualTo(2);
    }

    @Test
    void theOldMaxQueueDelayFlagStillSetsTheMergeWindowAndWarnsOnce() throws Exception {
        Path imgs = tmp.resolve("imgs");
        copy(TestModels.GOLDEN_IMAGES.resolve("china.jpg"), imgs.resolve("china.jpg"));
        Path out = tmp.resolve("scores.csv");
        Run old = run("score", "--input", imgs.toString(), "--output", out.toString(), "--device", "cpu", "--threads", "1",
                "--max-queue-delay-ms", "7", "--no-progress");
        assertThat(old.exitCode()).as(old.err()).isZero();
        assertThat(old.err().lines().filter(l -> l.contains("deprecated")).toList())
                .containsExactly("clipguard: --max-queue-delay-ms is deprecated, use --merge-window-ms (same meaning)");
        assertThat(readCsv(out)).singleElement().satisfies(row -> assertThat(row.get("llr")).isNotEmpty());

        assertThat(mergeWindow("--merge-window-ms", "7")).isEqualTo(java.time.Duration.ofMillis(7));
        assertThat(mergeWindow("--max-queue-delay-ms", "7")).isEqualTo(java.time.Duration.ofMillis(7));
        assertThat(mergeWindow()).isEqualTo(EngineConfig.DEFAULT_MERGE_WINDOW);
        assertThat(mergeWindow("--max-queue-delay-ms", "9", "--merge-window-ms", "7")).isEqualTo(java.time.Duration.ofMillis(7));
    }

    /** The engine's merge window that {@code score} with these extra options would use. */
    private static java.time.Duration mergeWindow(String... options) {
        List<String> args = new ArrayList<>(List.of("score", "--input", "in.csv", "--output", "out.csv"));
        args.addAll(List.of(options));
        CommandLine cli = ClipguardCli.commandLine();
        cli.setErr(new PrintWriter(new StringWriter()));
        ScoreCommand score = (ScoreCommand) cli.parseArgs(args.toArray(String[]::new)).subcommand().commandSpec().userObject();
        return score.engineOptions.config(null).mergeWindow();
    }
}
