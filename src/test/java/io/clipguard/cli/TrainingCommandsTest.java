package io.clipguard.cli;

import static io.clipguard.cli.ScoreCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.clipguard.cli.ScoreCommandTest.Run;
import io.clipguard.model.LinearHead;
import io.clipguard.model.ModelManifest;
import io.clipguard.model.TestModels;
import io.clipguard.training.FeaturesFolder;
import io.clipguard.training.Npy;
import java.awt.image.BufferedImage;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** embed -> train -> evaluate on real image files through the tiny model, and their error paths. */
class TrainingCommandsTest {
    static final Path SAMPLES = Path.of("samples", "training");
    static final Path FIXTURES = Path.of("src", "test", "resources", "training");

    @TempDir
    Path tmp;

    static List<CSVRecord> csv(Path file) throws Exception {
        try (Reader r = Files.newBufferedReader(file);
             CSVParser p = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
            return p.getRecords();
        }
    }

    /** samples/training plus a truncated JPEG in real/, copied so the test can add to it. */
    private Path labelledImages() throws Exception {
        Path images = tmp.resolve("images");
        try (Stream<Path> files = Files.walk(SAMPLES)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path target = images.resolve(SAMPLES.relativize(f).toString());
                Files.createDirectories(target.getParent());
                Files.copy(f, target);
            }
        }
        Files.copy(Path.of("samples", "uploads", "corrupt-truncated.jpg"), images.resolve("real/broken.jpg"));
        return images;
    }

    @Test
    void embedWritesFeaturesThatTheHeadScoresAsScoreDoes() throws Exception {
        Path images = labelledImages();
        Path features = tmp.resolve("features");
        Run embed = run("embed", "--input", images.toString(), "--output", features.toString(), "--device", "cpu",
                "--batch-size", "8");
        assertThat(embed.exitCode()).as(embed.err()).isZero();
        List<CSVRecord> index = csv(features.resolve("index.csv"));
        assertThat(index).hasSize(37);
        CSVRecord broken = index.stream().filter(r -> r.get("filename").equals("real/broken.jpg")).findFirst()
                .orElseThrow();
        assertThat(broken.get("row")).isEmpty();
        assertThat(broken.get("error")).startsWith("CORRUPT: ");
        Npy.Matrix matrix = Npy.read(features.resolve("features.npy"));
        assertThat(matrix.rows()).isEqualTo(36);
        assertThat(matrix.cols()).isEqualTo(64);
        FeaturesFolder.Info info = FeaturesFolder.read(features).info();
        assertThat(info.modelId()).isEqualTo("tiny-clip-test");
        assertThat(info.manifestSha256()).isEqualTo(ModelManifest.sha256Hex(TestModels.TINY.resolve("manifest.json")));
        assertThat(info.l2Normalized()).isFalse();

        // The raw features, normalised and put through the bundled head, give score's LLRs.
        Path scores = tmp.resolve("scores.csv");
        assertThat(run("score", "--input", images.toString(), "--output", scores.toString(), "--device", "cpu")
                .exitCode()).isZero();
        LinearHead head = LinearHead.load(TestModels.TINY.resolve("head.json"));
        List<CSVRecord> scored = csv(scores);
        for (CSVRecord r : index) {
            if (!r.get("row").isEmpty()) {
                int row = Integer.parseInt(r.get("row"));
                float[] f = java.util.Arrays.copyOfRange(matrix.data(), row * 64, row * 64 + 64);
                double expected = scored.stream().filter(s -> s.get("filename").equals(r.get("filename")))
                        .findFirst().map(s -> Double.parseDouble(s.get("llr"))).orElseThrow();
                assertThat(head.llr(f, true)).isCloseTo(expected, within(1e-9));
            }
        }
    }

    @Test
    void trainFromImagesAndFromFeaturesGivesTheSameByteIdenticalHead() throws Exception {
        Path images = labelledImages();
        Path features = tmp.resolve("features");
        assertThat(run("embed", "--input", images.toString(), "--output", features.toString(), "--device", "cpu")
                .exitCode()).isZero();
        Path fromFeatures1 = tmp.resolve("a.json");
        Path fromFeatures2 = tmp.resolve("b.json");
        Path fromImages = tmp.resolve("c.json");
        String[] common = {"--date", "2026-11-01", "--seed", "3", "--c-grid", "0.1,10,1000"};
        Run a = run(concat(new String[] {"train", "--input", features.toString(), "--output", fromFeatures1.toString()},
                common));
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(a.out()).contains("cv AUC").contains("0.1 ").contains("1000 ");
        assertThat(run(concat(new String[] {"train", "--input", features.toString(), "--output",
                fromFeatures2.toString()}, common)).exitCode()).isZero();
        Run c = run(concat(new String[] {"train", "--input", images.toString(), "--output", fromImages.toString(),
                "--device", "cpu"}, common));
        assertThat(c.exitCode()).as(c.err()).isZero();
        assertThat(Files.readAllBytes(fromFeatures2)).isEqualTo(Files.readAllBytes(fromFeatures1));
        LinearHead head = LinearHead.load(fromFeatures1, ModelManifest.load(TestModels.TINY));
        LinearHead viaImages = LinearHead.load(fromImages);
        assertThat(viaImages.weights()).isEqualTo(head.weights());
        assertThat(viaImages.training().listSha256()).isEqualTo(head.training().listSha256());
        assertThat(head.training().counts()).containsEntry("real", 12).containsEntry("smooth", 12)
                .containsEntry("stripes", 12);
        assertThat(head.training().date()).isEqualTo("2026-11-01");
        assertThat(head.training().seed()).isEqualTo(3);
        assertThat(head.training().cGrid()).containsExactly(0.1, 10.0, 1000.0);
        assertThat(head.training().cvAuc()).isBetween(0.0, 1.0);
        assertThat(head.version()).startsWith("2026-11-01-logreg-");
        assertThat(head.modelId()).isEqualTo("tiny-clip-test");

        // serve it: evaluate scores the images with the new head on the fly
        Path eval = tmp.resolve("eval");
        Run e = run("evaluate", "--input", images.toString(), "--model-dir", TestModels.TINY.toString(), "--head",
                fromFeatures1.toString(), "--output-dir", eval.toString(), "--device", "cpu");
        assertThat(e.exitCode()).as(e.err()).isZero();
        assertThat(csv(eval.resolve("scores.csv"))).hasSize(37);
        List<CSVRecord> metrics = csv(eval.resolve("metrics.csv"));
        assertThat(metrics).hasSize(4);
        // trained on these very images: they are separated (the tiny tower is random, but 36 points in 64-d are not)
        assertThat(Double.parseDouble(metrics.getFirst().get("AVG"))).isGreaterThan(0.9);
    }

    @Test
    void theSameFeaturesWithASvmAndATargetFprGiveAThresholdFromTheRealScores() throws Exception {
        Path head = tmp.resolve("svm.json");
        Run r = run("train", "--input", FIXTURES.resolve("features-train").toString(), "--output", head.toString(),
                "--solver", "svm", "--c", "1", "--target-fpr", "0.05");
        assertThat(r.exitCode()).as(r.err()).isZero();
        LinearHead h = LinearHead.load(head);
        assertThat(h.training().solver()).isEqualTo("svm");
        assertThat(h.training().targetFpr()).isEqualTo(0.05);
        assertThat(h.threshold()).isNotEqualTo(0.0);
        assertThat(h.training().counts()).containsEntry("real", 180).containsEntry("gen", 120);
        assertThat(h.training().priorLogOdds()).isCloseTo(Math.log(120.0 / 180.0), within(1e-12));
    }

    @Test
    void clearErrorsForFeaturesOfAnotherModelOneClassAndBadOptions() throws Exception {
        Path other = TestModels.copyTiny(tmp.resolve("other-model"));
        TestModels.editJson(other.resolve("manifest.json"), m -> m.put("id", "another-model"));
        Run wrongModel = run("train", "--input", FIXTURES.resolve("features-train").toString(), "--output",
                tmp.resolve("h.json").toString(), "--model-dir", other.toString());
        assertThat(wrongModel.exitCode()).isEqualTo(3);
        assertThat(wrongModel.err()).contains("computed with model 'tiny-clip-test'").contains("'another-model'")
                .contains("--model-dir");

        Path features = tmp.resolve("features");
        Files.createDirectories(features);
        for (String f : List.of("features.npy", "index.csv", "features.json")) {
            Files.copy(FIXTURES.resolve("features-train").resolve(f), features.resolve(f));
        }
        TestModels.editJson(features.resolve("features.json"), m -> m.put("model_sha256", "0".repeat(64)));
        Run wrongExport = run("train", "--input", features.toString(), "--output", tmp.resolve("h.json").toString());
        assertThat(wrongExport.exitCode()).isEqualTo(3);
        assertThat(wrongExport.err()).contains("would not fit this backbone");

        Path oneClass = tmp.resolve("one.csv");
        Files.writeString(oneClass, "filename,typ\n" + Stream.of("real-00", "real-01", "real-02", "real-03",
                "real-04", "real-05").map(n -> "../../" + SAMPLES.resolve("real/" + n + ".jpg").toAbsolutePath()
                + ",real\n").reduce("", String::concat));
        Run single = run("train", "--input", oneClass.toString(), "--output", tmp.resolve("h.json").toString(),
                "--device", "cpu");
        assertThat(single.exitCode()).isEqualTo(1);
        assertThat(single.err()).contains("one class only");

        Path unlabelled = tmp.resolve("nolabels.csv");
        Files.writeString(unlabelled, "filename\nx.jpg\n");
        Run noTyp = run("train", "--input", unlabelled.toString(), "--output", tmp.resolve("h.json").toString());
        assertThat(noTyp.exitCode()).isEqualTo(3);
        assertThat(noTyp.err()).contains("no 'typ' column");

        Run both = run("train", "--input", unlabelled.toString(), "--output", "h.json", "--c", "1", "--c-grid", "1,2");
        assertThat(both.exitCode()).isEqualTo(2);
        assertThat(both.err()).contains("--c or --c-grid, not both");
        assertThat(Files.exists(tmp.resolve("h.json"))).isFalse();
    }

    @Test
    void evaluateMatchesScikitLearnOnAScoreCsvAndDrawsTheCharts() throws Exception {
        Path out = tmp.resolve("eval");
        Run r = run("evaluate", "--input", FIXTURES.resolve("scores.csv").toString(), "--output-dir", out.toString(),
                "--scores", "llr,other", "--log-fpr");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("alpha").contains("AVG").contains("tpr@1%fpr");
        List<String> lines = Files.readAllLines(out.resolve("metrics.csv"));
        assertThat(lines.getFirst()).isEqualTo("score,metric,alpha,beta,gamma,AVG");
        assertThat(lines.stream().skip(1).map(l -> l.substring(0, l.indexOf(',', l.indexOf(',') + 1))))
                .containsExactly("llr,auc", "llr,bacc", "llr,tpr@1%fpr", "llr,tpr@5%fpr", "other,auc", "other,bacc",
                        "other,tpr@1%fpr", "other,tpr@5%fpr");
        // scikit-learn's roc_auc_score and balanced_accuracy_score; 'other' is a probability: threshold 0.5 below
        List<CSVRecord> expected = csv(FIXTURES.resolve("scores-expected.csv"));
        List<CSVRecord> ours = csv(out.resolve("metrics.csv"));
        double[] maxDelta = new double[2]; // auc, bacc: printed so the parity can be quoted
        int[] cells = new int[2];
        for (CSVRecord e : expected) {
            if (e.get("score").equals("other") && e.get("metric").equals("bacc")) {
                continue; // checked with its own threshold below
            }
            CSVRecord o = find(ours, e.get("score"), e.get("metric"));
            for (String col : List.of("alpha", "beta", "gamma", "AVG")) {
                double delta = Math.abs(Double.parseDouble(o.get(col)) - Double.parseDouble(e.get(col)));
                int m = e.get("metric").equals("auc") ? 0 : 1;
                maxDelta[m] = Math.max(maxDelta[m], delta);
                cells[m]++;
                assertThat(Double.parseDouble(o.get(col))).as(e.get("score") + " " + e.get("metric") + " " + col)
                        .isCloseTo(Double.parseDouble(e.get(col)), within(1e-9));
            }
        }
        Path half = tmp.resolve("eval-half");
        assertThat(run("evaluate", "--input", FIXTURES.resolve("scores.csv").toString(), "--output-dir",
                half.toString(), "--scores", "other", "--threshold", "0.5").exitCode()).isZero();
        CSVRecord otherBacc = find(expected, "other", "bacc");
        CSVRecord oursBacc = find(csv(half.resolve("metrics.csv")), "other", "bacc");
        for (String col : List.of("alpha", "beta", "gamma", "AVG")) {
            maxDelta[1] = Math.max(maxDelta[1],
                    Math.abs(Double.parseDouble(oursBacc.get(col)) - Double.parseDouble(otherBacc.get(col))));
            cells[1]++;
            assertThat(Double.parseDouble(oursBacc.get(col))).isCloseTo(Double.parseDouble(otherBacc.get(col)),
                    within(1e-9));
        }
        System.out.printf(java.util.Locale.ROOT, "evaluate vs scikit-learn: max |Δ| roc_auc_score %.3g (%d cells),"
                + " balanced_accuracy_score %.3g (%d cells)%n", maxDelta[0], cells[0], maxDelta[1], cells[1]);
        for (String png : List.of("roc.png", "llr-histogram.png", "reliability.png")) {
            BufferedImage image = ImageIO.read(out.resolve(png).toFile());
            assertThat(image.getWidth()).as(png).isEqualTo(900);
            assertThat(image.getHeight()).as(png).isEqualTo(600);
            assertThat(Files.size(out.resolve(png))).as(png).isGreaterThan(10_000); // axes, curves, legend: not blank
        }
    }

    @Test
    void evaluateSaysWhatIsMissing() throws Exception {
        Path csv = tmp.resolve("s.csv");
        Files.writeString(csv, "filename,typ,llr\na.jpg,real,0.1\nb.jpg,real,0.3\n");
        Run onlyReal = run("evaluate", "--input", csv.toString(), "--output-dir", tmp.resolve("o").toString());
        assertThat(onlyReal.exitCode()).isEqualTo(3);
        assertThat(onlyReal.err()).contains("every row has typ 'real'");
        Run noColumn = run("evaluate", "--input", csv.toString(), "--output-dir", tmp.resolve("o").toString(),
                "--scores", "llr,other");
        assertThat(noColumn.err()).contains("no 'other' column");
    }

    private static CSVRecord find(List<CSVRecord> records, String score, String metric) {
        return records.stream().filter(r -> r.get("score").equals(score) && r.get("metric").equals(metric))
                .findFirst().orElseThrow();
    }

    private static String[] concat(String[] a, String[] b) {
        return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
    }
}
