package io.clipguard.cli;

import io.clipguard.cli.options.FusionOptions;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.cli.ImageInputs.InputList;
import io.clipguard.cli.kafka.DecisionsOptions;
import io.clipguard.evaluation.BinaryMetrics;
import io.clipguard.evaluation.DetectionReport;
import io.clipguard.evaluation.EvaluationCharts;
import io.clipguard.model.LinearHead;
import io.clipguard.model.ModelLoadException;
import io.clipguard.review.DecisionLog;
import io.clipguard.review.ReviewedUploads;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import io.clipguard.inference.BatchListener;
import io.clipguard.scoring.DetectorSet;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeMap;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The reference's compute_metrics.py for our outputs: per-generator metrics, metrics.csv and charts. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure a detector: for every generator type against the real rows, AUC, balanced accuracy at"
                + " the threshold, and TPR at 1 %% and 5 %% FPR, with their mean over generators (AVG).",
                "Input: a score CSV as written by score, with a typ column (typ=real: real photograph); or images"
                + " (a folder with real/ and <generator>/ subfolders, or a CSV with filename and typ) scored on the"
                + " fly when --input is a folder or --head or --model-dir is given (their scores.csv is kept in"
                + " --output-dir).",
                "Writes to --output-dir: metrics.csv (score,metric,<each typ except real, sorted>,AVG; one row per"
                + " score column and metric: auc, bacc, tpr@1%%fpr, tpr@5%%fpr), roc.png, llr-histogram.png (first"
                + " score column), reliability.png (the probability column, else σ of the first score column).",
                "--decisions measures on the uploads moderators reviewed (moderation-decisions; typ = real, or the"
                + " generator name given with an AI_GENERATED decision, else unnamed; UNSURE left out): with --head,"
                + " that head applied to their stored vectors in image-embeddings (no backbone); without, the live"
                + " verdicts in moderation-verdicts (the last one the service wrote per upload, or of --head-version)."
                + " Their scores.csv is kept in --output-dir."},
        footer = {"", "Examples:",
                "  tools/clipguard evaluate --input scores.csv --output-dir eval/",
                "  tools/clipguard evaluate --input scores.csv --output-dir eval/ --scores llr,other --threshold 0.5",
                "  tools/clipguard evaluate --input samples/training --model-dir models/tiny-clip-test"
                        + " --head heads/demo.json --output-dir eval/",
                "  tools/clipguard evaluate --decisions --head heads/extended.json --output-dir eval/decisions/",
                "  tools/clipguard evaluate --decisions --since 2026-12-01 --output-dir eval/live/",
                "  tools/clipguard evaluate --input samples/training --model-dir models/tiny-clip-test"
                        + " --model-dir models/tiny-res50nodown-test --fusion soft_or_prob --output-dir eval/"
                        + "   (rows for llr, the fusion, and for each detector)",
                "", "Exit codes: 0 metrics written, 2 usage error, 3 the input, model or head could not be loaded or"
                + " lacks what the metrics need."})
public final class EvaluateCommand implements Callable<Integer> {
    static final String SCORES_FILE = "scores.csv";
    static final String PROBABILITY_COLUMN = "probability";

    @Spec
    CommandSpec spec;

    @Option(names = "--input", paramLabel = "CSV|DIR",
            description = "Score CSV with typ, or labelled images (see above); not with --decisions.")
    Path input;

    @Option(names = "--output-dir", required = true, paramLabel = "DIR", description = "Where the metrics and charts go.")
    Path outputDir;

    @Option(names = "--scores", split = ",", defaultValue = "llr", paramLabel = "COL,...",
            description = "Score columns to compare, higher = more likely synthetic (default: ${DEFAULT-VALUE}).")
    List<String> scoreColumns;

    @Option(names = "--threshold", paramLabel = "T",
            description = "Balanced accuracy counts score > T as synthetic (default: the head's threshold when"
                    + " scoring images, else 0, the LLR's).")
    Double threshold;

    @Option(names = "--head", paramLabel = "JSON", description = "Head to score images with (default:"
            + " <model-dir>/head.json).")
    Path head;

    @Option(names = "--log-fpr", description = "Draw roc.png with a logarithmic false-positive axis.")
    boolean logFpr;

    @Mixin
    EngineOptions engineOptions;

    @Mixin
    DecisionsOptions decisions;

    @Option(names = "--verdicts-topic", defaultValue = io.clipguard.contracts.Topics.VERDICTS,
            description = "With --decisions and no --head: where the verdicts are (default ${DEFAULT-VALUE}).")
    String verdictsTopic;

    @Option(names = "--head-version", paramLabel = "V", description = "With --decisions and no --head: the verdicts of"
            + " this head version (rescored or live) instead of the live service's.")
    String headVersion;

    @Mixin
    FusionOptions fusionOptions;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        Path scores = input;
        double cutoff = threshold != null ? threshold : 0.0;
        if (decisions.enabled() || input == null || !decisions.givenWithoutDecisions().isEmpty() || headVersion != null) {
            String usage = input == null && !decisions.enabled() ? "give --input or --decisions"
                    : !decisions.enabled() ? "--head-version measures verdicts on decisions: add --decisions"
                    : input != null && decisions.enabled() ? "give --input or --decisions, not both"
                    : !decisions.givenWithoutDecisions().isEmpty() ? decisions.givenWithoutDecisions()
                    + " select decisions: add --decisions"
                    : head != null && headVersion != null ? "--head-version picks live verdicts; with --head the head"
                    + " is applied to the stored vectors: give one of them" : null;
            if (usage != null) {
                err.println("error: " + usage);
                return 2;
            }
            try {
                decisions.filter();
            } catch (IllegalArgumentException e) {
                err.println("error: " + e.getMessage());
                return 2;
            }
            try {
                Files.createDirectories(outputDir);
                scores = outputDir.resolve(SCORES_FILE);
                cutoff = scoreDecisions(scores, err);
                evaluate(scores, cutoff, out, err);
            } catch (IOException | IllegalArgumentException | IllegalStateException | ModelLoadException e) {
                err.println("error: " + e.getMessage());
                return ClipguardCli.EXIT_LOAD_ERROR;
            }
            return 0;
        }
        try {
            Files.createDirectories(outputDir);
            boolean scoreImages = Files.isDirectory(input) || head != null
                    || spec.commandLine().getParseResult().hasMatchedOption("--model-dir");
            if (scoreImages) {
                InputList inputs = ImageInputs.readLabelled(input, ScoreCommand.RESULT_COLUMNS);
                scores = outputDir.resolve(SCORES_FILE);
                try (DetectorSet set = DetectorSet.open(engineOptions.detectorSpecs(head), fusionOptions.fusion,
                        fusionOptions.threshold, id -> BatchListener.NONE)) {
                    ScoreCommand.writeScores(set, inputs, scores, engineOptions.showProgress(), err);
                    boolean several = set.detectors().size() > 1;
                    cutoff = threshold != null ? threshold
                            : several ? set.threshold() : set.detectors().getFirst().engine().info().threshold();
                    if (several && !spec.commandLine().getParseResult().hasMatchedOption("--scores")) {
                        // one row set for the fusion (llr) and one per detector column, to compare them
                        scoreColumns = new ArrayList<>(List.of("llr"));
                        set.detectors().forEach(d -> scoreColumns.add(d.id()));
                    }
                }
            }
            evaluate(scores, cutoff, out, err);
        } catch (IOException | IllegalArgumentException | ModelLoadException e) {
            err.println("error: " + e.getMessage());
            return ClipguardCli.EXIT_LOAD_ERROR;
        }
        return 0;
    }

    /**
     * Writes the reviewed uploads' scores (filename = upload id, typ, llr, probability) to {@code scoreCsv}: of
     * {@code --head} on their stored vectors, else of their verdicts. Returns the threshold for balanced accuracy.
     */
    private double scoreDecisions(Path scoreCsv, PrintWriter err) throws IOException, ModelLoadException {
        DecisionLog.Filter filter = decisions.filter();
        List<String[]> rows = new ArrayList<>();
        double cutoff;
        if (head != null) {
            LinearHead linearHead = LinearHead.load(head);
            ReviewedUploads.Joined joined = decisions.read(engineOptions.showProgress(), reading ->
                    reading.uploads().join(filter, linearHead.modelId(), linearHead.dim(), reading.progress()));
            for (ReviewedUploads.Row row : joined.rows()) {
                switch (ScoringEngine.applyHead(linearHead, row.vector(), !row.l2Normalized())) {
                    case ScoreOutcome.Scored s -> rows.add(new String[]{row.uploadId(), row.typ(), Double.toString(s.llr()),
                            Double.toString(s.probability())});
                    // an empty score: evaluate leaves the row out of the figures and counts it
                    case ScoreOutcome.Failed f -> rows.add(new String[]{row.uploadId(), row.typ(), "", ""});
                }
            }
            err.println("decisions: " + joined.rows().size() + " reviewed uploads with a vector of " + linearHead.modelId()
                    + " " + joined.counts() + ", scored with head " + linearHead.version() + leftOut(joined.skipped()));
            cutoff = threshold != null ? threshold : linearHead.threshold();
        } else {
            Map<String, Long> skipped = new TreeMap<>();
            Map<String, String> typs = new TreeMap<>();
            Map<String, ModerationVerdict> verdicts = decisions.read(engineOptions.showProgress(), reading -> {
                ReviewedUploads.Labelled labelled = reading.uploads().labelled(filter, reading.progress());
                skipped.putAll(labelled.skipped());
                typs.putAll(labelled.typs());
                return reading.uploads().verdicts(verdictsTopic, typs.keySet(), headVersion, reading.progress());
            });
            java.util.Set<Double> thresholds = new java.util.TreeSet<>();
            Map<String, Integer> counts = new TreeMap<>();
            typs.forEach((id, typ) -> {
                ModerationVerdict v = verdicts.get(id);
                if (v == null) {
                    skipped.merge(headVersion == null ? "no live verdict" : "no verdict of head " + headVersion, 1L, Long::sum);
                    return;
                }
                rows.add(new String[]{id, typ, Double.toString(v.getLlr()), Double.toString(v.getProbability())});
                thresholds.add(v.getThreshold());
                counts.merge(typ, 1, Integer::sum);
            });
            err.println("decisions: " + rows.size() + " reviewed uploads with a verdict " + counts + leftOut(skipped));
            if (threshold != null) {
                cutoff = threshold;
            } else if (thresholds.size() <= 1) {
                cutoff = thresholds.isEmpty() ? 0.0 : thresholds.iterator().next();
            } else {
                throw new IllegalArgumentException("the verdicts carry several thresholds " + thresholds + " (several head"
                        + " versions): give --threshold, or --head-version to measure one head");
            }
        }
        try (CSVPrinter csv = new CSVPrinter(Files.newBufferedWriter(scoreCsv, StandardCharsets.UTF_8), CSVFormat.DEFAULT)) {
            csv.printRecord("filename", ImageInputs.TYP_COLUMN, "llr", PROBABILITY_COLUMN);
            for (String[] row : rows) {
                csv.printRecord((Object[]) row);
            }
        }
        return cutoff;
    }

    private static String leftOut(Map<String, Long> skipped) {
        return skipped.isEmpty() ? "" : "; left out: " + String.join(", ", DecisionLog.describe(skipped));
    }

    private void evaluate(Path scoreCsv, double cutoff, PrintWriter out, PrintWriter err) throws IOException {
        ScoreTable table = ScoreTable.read(scoreCsv, scoreColumns);
        DetectionReport report = DetectionReport.compute(table.typs(), table.scores(), cutoff);
        out.print(report.format());
        out.printf("balanced accuracy at threshold %s; %d rows, %d without a score left out%n",
                TrainCommand.number(cutoff), table.typs().size(), table.missing());
        out.flush();
        report.writeCsv(outputDir.resolve("metrics.csv"));

        String primary = scoreColumns.getFirst();
        Map<String, List<BinaryMetrics.RocPoint>> curves = new LinkedHashMap<>();
        for (String column : scoreColumns) {
            for (String generator : report.generators()) {
                DetectionReport.Subset s = DetectionReport.subset(table.typs(), table.scores().get(column), generator);
                curves.put(scoreColumns.size() == 1 ? generator : column + ": " + generator,
                        BinaryMetrics.roc(s.scores(), s.positive()));
            }
        }
        String name = scoreCsv.getFileName().toString();
        EvaluationCharts.roc(outputDir.resolve("roc.png"), "ROC per generator vs real — " + name, curves, logFpr);

        Map<String, double[]> byTyp = new LinkedHashMap<>();
        byTyp.put(DetectionReport.REAL, valuesOf(table, primary, DetectionReport.REAL));
        report.generators().forEach(g -> byTyp.put(g, valuesOf(table, primary, g)));
        EvaluationCharts.llrHistogram(outputDir.resolve("llr-histogram.png"), "Scores of real vs generated images — "
                + name, primary, byTyp, cutoff);

        double[] probability = table.probability() != null ? table.probability()
                : java.util.Arrays.stream(table.scores().get(primary)).map(s -> 1 / (1 + Math.exp(-s))).toArray();
        boolean[] positive = new boolean[table.typs().size()];
        for (int i = 0; i < positive.length; i++) {
            positive[i] = !table.typs().get(i).equals(DetectionReport.REAL);
        }
        EvaluationCharts.reliability(outputDir.resolve("reliability.png"), "Calibration — "
                + (table.probability() != null ? PROBABILITY_COLUMN : "σ(" + primary + ")") + ", " + name,
                probability, positive);
        err.println("metrics.csv, roc.png, llr-histogram.png, reliability.png -> " + outputDir);
    }

    private static double[] valuesOf(ScoreTable table, String column, String typ) {
        double[] all = table.scores().get(column);
        List<Double> values = new ArrayList<>();
        for (int i = 0; i < all.length; i++) {
            if (table.typs().get(i).equals(typ) && !Double.isNaN(all[i])) {
                values.add(all[i]);
            }
        }
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** A score CSV's typ column, score columns (NaN where empty: the image failed) and probability column if any. */
    record ScoreTable(List<String> typs, Map<String, double[]> scores, double[] probability, int missing) {
        static ScoreTable read(Path csv, List<String> columns) throws IOException {
            try (BufferedReader reader = Files.newBufferedReader(csv, StandardCharsets.UTF_8);
                 CSVParser parser = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true)
                         .setIgnoreSurroundingSpaces(true).get().parse(ImageInputs.skipByteOrderMark(reader))) {
                List<String> header = parser.getHeaderNames();
                List<String> needed = new ArrayList<>(columns);
                needed.add(ImageInputs.TYP_COLUMN);
                for (String column : needed) {
                    if (!header.contains(column)) {
                        throw new IOException(csv + " has no '" + column + "' column (columns: " + header + "); a"
                                + " score CSV needs typ (real or the generator) and the --scores columns");
                    }
                }
                List<CSVRecord> records = parser.getRecords();
                List<String> typs = records.stream().map(r -> r.get(ImageInputs.TYP_COLUMN)).toList();
                Map<String, double[]> scores = new LinkedHashMap<>();
                int missing = 0;
                for (String column : columns) {
                    double[] values = parse(csv, records, column);
                    missing = Math.max(missing, (int) java.util.Arrays.stream(values).filter(Double::isNaN).count());
                    scores.put(column, values);
                }
                double[] probability = header.contains(PROBABILITY_COLUMN)
                        ? parse(csv, records, PROBABILITY_COLUMN) : null;
                return new ScoreTable(typs, scores, probability, missing);
            }
        }

        private static double[] parse(Path csv, List<CSVRecord> records, String column) throws IOException {
            double[] values = new double[records.size()];
            for (int i = 0; i < values.length; i++) {
                String cell = records.get(i).isSet(column) ? records.get(i).get(column) : "";
                try {
                    values[i] = cell.isEmpty() ? Double.NaN : Double.parseDouble(cell);
                } catch (NumberFormatException e) {
                    throw new IOException(csv + " line " + (i + 2) + ": " + column + " '" + cell + "' is not a number");
                }
                if (Double.isInfinite(values[i])) {
                    throw new IOException(csv + " line " + (i + 2) + ": " + column + " is infinite");
                }
            }
            return values;
        }
    }
}
