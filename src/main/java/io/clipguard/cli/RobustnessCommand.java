package io.clipguard.cli;

import io.clipguard.cli.options.FusionOptions;
import io.clipguard.cli.ImageInputs.InputList;
import io.clipguard.cli.ImageInputs.InputRow;
import io.clipguard.cli.ScoreCommand.RowResult;
import io.clipguard.evaluation.DetectionReport;
import io.clipguard.evaluation.EvaluationCharts;
import io.clipguard.image.ImageDecodeException;
import io.clipguard.image.RgbImage;
import io.clipguard.image.impair.ImageContext;
import io.clipguard.image.impair.Impaired;
import io.clipguard.image.impair.Impairment;
import io.clipguard.image.impair.ImpairmentException;
import io.clipguard.image.impair.Impairments;
import io.clipguard.inference.BatchListener;
import io.clipguard.model.ModelLoadException;
import io.clipguard.scoring.DetectorSet;
import io.clipguard.scoring.EngineInfo;
import io.clipguard.scoring.ScoringEngine;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The paper's robustness claim measured on the user's own labelled images: every image decoded once, each impairment
 * applied to the decoded original (a codec's output decoded again as an upload is), scored through the same engine
 * path as {@code score}, and the metrics of {@code evaluate} per impairment.
 */
@Command(name = "robustness", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure how the detector's metrics fall as images are impaired (re-compressed, resized,"
                + " cropped, blurred, shared on social media, the DMimageDetection test operations).",
                "Input as for evaluate: a folder with real/ and one folder per generator, or a CSV with filename and"
                + " typ (typ=real: real photograph). Each image is decoded once; every impairment is applied to the"
                + " decoded original, pixel-identical to Pillow 9.4 (see docs/robustness.md), re-encoded where it is a"
                + " codec and decoded again, then scored exactly as an upload is.",
                "Writes to --output-dir: robustness.csv (impairment,score,metric,<generators>,AVG; metrics auc, bacc,"
                + " tpr@1%%fpr, tpr@5%%fpr; the unimpaired 'original' first), robustness.png (AUC per family against"
                + " strength), robustness.md (the summary beside the picture) and scores/<impairment>.csv (per image,"
                + " as score writes them, with the DMID draws). An image too small for an impairment gets an error"
                + " row there (TOO_SMALL: ...) and is left out of that impairment's metrics.",
                "Detectors and fusion as in score: with --model-dir given more than once, llr is the --fusion of the"
                + " detectors' logits and every detector has its own logit column in scores/<impairment>.csv;"
                + " robustness.csv and the summary have a row set per score column (llr, the fusion, then each"
                + " detector by id, at its own threshold) and robustness.png shows the fusion.",
                "The run writes into <output-dir>.partial and renames it to --output-dir only when everything is"
                + " written: an output folder is complete or absent. A run that fails or is stopped leaves the"
                + " .partial folder, which the next run deletes and redoes (no resume)."},
        footer = {"", "Impairments (--impairments FILE: one a line, '#' comments, 'default' for the default set):",
                "  jpeg:Q webp:Q (quality 1..100)   resize:S (scale)   crop:F (centre, F of each side)   blur:R (Gaussian)",
                "  social:1 (long side <= 2048, JPEG 85)   social:2 (1024, JPEG 75)   dmid   chains: resize:0.5+jpeg:70",
                "  default: jpeg:95,90,80,70,60,50 resize:1.5,0.75,0.5,0.25 crop:0.9,0.75,0.5 blur:0.5,1,2 webp:80,50"
                        + " social:1,2 dmid",
                "", "Examples:",
                "  tools/clipguard robustness --input samples/training --output-dir robustness/",
                "  tools/clipguard robustness --input data/list.csv --model-dir models/clip-vit-l14-commonpool"
                        + " --head heads/mine.json --output-dir rob/ --impairments my-impairments.txt --seed 7",
                "  tools/clipguard robustness --input data/list.csv --model-dir models/clip-vit-l14-commonpool"
                        + " --model-dir models/corvi2023-res50nodown --fusion soft_or_prob --max-pixels 1048576"
                        + " --output-dir rob/",
                "", "Exit codes: 0 report written, 2 usage error, 3 the input, model, head or impairments could not be"
                + " loaded, or the output could not be written."})
public final class RobustnessCommand implements Callable<Integer> {
    static final String REPORT_CSV = "robustness.csv";
    static final String REPORT_PNG = "robustness.png";
    static final String REPORT_MD = "robustness.md";
    static final String SCORES_DIR = "scores";
    static final String PARTIAL_SUFFIX = ".partial";
    /** The score column of the verdict (with several detectors, their fusion); each detector's id follows it. */
    static final String SCORE_COLUMN = "llr";

    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "DIR|CSV",
            description = "Labelled images: a folder with real/ and <generator>/ subfolders, or a CSV with filename"
                    + " and typ columns.")
    Path input;

    @Option(names = "--output-dir", required = true, paramLabel = "DIR",
            description = "Where the report goes (replaced when it holds an earlier robustness report).")
    Path outputDir;

    @Option(names = "--impairments", defaultValue = "default", paramLabel = "default|FILE",
            description = "The impairments (default: ${DEFAULT-VALUE}, the set listed below).")
    String impairmentsOption;

    @Option(names = "--seed", defaultValue = "0",
            description = "Seed of the per-image DMID draws: image i draws from java.util.Random(31 * seed +"
                    + " filename.hashCode()) (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--head", paramLabel = "JSON", description = "Linear head file (default: <model-dir>/head.json).")
    Path head;

    @Mixin
    EngineOptions engineOptions;

    @Mixin
    FusionOptions fusionOptions;

    /** One image's result under one impairment: the draws it made and the scoring's cells. */
    record Cell(Map<String, String> drawn, RowResult result) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        InputList inputs;
        List<Impairment> impairments = new ArrayList<>();
        impairments.add(Impairment.ORIGINAL);
        try {
            inputs = ImageInputs.readLabelled(input, ScoreCommand.RESULT_COLUMNS);
            DetectionReport.generators(inputs.typs());
            impairments.addAll(Impairments.read(impairmentsOption));
        } catch (IOException | IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return ClipguardCli.EXIT_LOAD_ERROR;
        }
        List<DetectorSet.DetectorSpec> detectors;
        try {
            detectors = engineOptions.detectorSpecsOrExit(head);
        } catch (EngineOptions.CommandExit e) {
            return e.report(err);
        }
        Path target = outputDir.toAbsolutePath().normalize();
        Path partial = target.resolveSibling(target.getFileName() + PARTIAL_SUFFIX);
        try {
            checkReplaceable(target);
            deleteTree(partial); // a run that failed or was stopped before: redone from the start
            Files.createDirectories(partial.resolve(SCORES_DIR));
        } catch (IOException e) {
            err.println("error: " + e.getMessage());
            return ClipguardCli.EXIT_LOAD_ERROR;
        }
        try (DetectorSet set = DetectorSet.open(detectors, fusionOptions.fusion, fusionOptions.threshold,
                id -> BatchListener.NONE)) {
            Report report = run(set, inputs, impairments, partial, err);
            report.write(partial, set, inputs.rows().size());
            out.print(report.summary(set.fusion().ruleName()));
            out.flush();
            deleteTree(target);
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            err.println("robustness report -> " + target);
            err.flush();
            return 0;
        } catch (ModelLoadException | IllegalArgumentException e) {
            deleteTree(partial);
            err.println("error: " + e.getMessage());
            return ClipguardCli.EXIT_LOAD_ERROR;
        } catch (IOException | UncheckedIOException e) {
            err.println("error: cannot write the report: " + e + " (the incomplete output stays in " + partial
                    + "; the next run deletes it)");
            return ClipguardCli.EXIT_LOAD_ERROR;
        }
    }

    /** Refuses to replace a folder that is not empty and holds no earlier report: it is not ours to delete. */
    private static void checkReplaceable(Path target) throws IOException {
        if (!Files.isDirectory(target)) {
            if (Files.exists(target)) {
                throw new IOException("--output-dir " + target + " exists and is not a folder");
            }
            return;
        }
        try (Stream<Path> entries = Files.list(target)) {
            if (entries.findAny().isPresent() && !Files.isRegularFile(target.resolve(REPORT_CSV))) {
                throw new IOException("--output-dir " + target + " is not empty and holds no " + REPORT_CSV
                        + "; choose a new or empty folder (an earlier robustness report is replaced)");
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Impairs and scores every row; writes scores/<impairment>.csv as rows complete; returns the report. */
    private Report run(DetectorSet set, InputList inputs, List<Impairment> impairments, Path partial,
                       PrintWriter err) throws IOException {
        int n = inputs.rows().size();
        ScoringEngine engine = set.detectors().getFirst().engine(); // decodes; its settings are every detector's
        int detectorCount = set.detectors().size();
        List<String> detectorColumns = ScoreCommand.detectorColumns(set);
        List<String> columns = new ArrayList<>(List.of(SCORE_COLUMN));
        columns.addAll(detectorColumns);
        double[][][] scores = new double[columns.size()][impairments.size()][n]; // [column][impairment][row]
        List<CSVPrinter> writers = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(engine.config().decodeThreads(),
                r -> Thread.ofPlatform().name("clipguard-impair").daemon(true).unstarted(r));
        try {
            for (Impairment impairment : impairments) {
                BufferedWriter writer = Files.newBufferedWriter(partial.resolve(SCORES_DIR)
                        .resolve(impairment.fileName() + ".csv"), StandardCharsets.UTF_8);
                CSVPrinter csv = new CSVPrinter(writer, CSVFormat.DEFAULT);
                writers.add(csv);
                List<String> header = new ArrayList<>();
                header.add(ImageInputs.FILENAME_COLUMN);
                header.addAll(inputs.carriedColumns());
                header.addAll(impairment.drawnColumns());
                header.addAll(ScoreCommand.RESULT_COLUMNS);
                header.addAll(detectorColumns);
                csv.printRecord(header);
            }
            // Rows in flight: each makes one scoring request per impairment, so a few rows fill the batches; the
            // decoded originals they hold are what bounds memory.
            int window = Math.max(2 * engine.config().decodeThreads(),
                    (4 * engine.info().maxBatchSize() + impairments.size() - 1) / impairments.size());
            int[] rowIndex = {0};
            double seconds = ImageRun.run(inputs.rows(), engine, window, engineOptions.showProgress(), "Robustness",
                    (row, bytes) -> impairAndScore(set, pool, row, bytes, impairments),
                    (reason, message) -> failedForAll(impairments.size(), reason, message, detectorCount),
                    (row, cells) -> {
                        int i = rowIndex[0]++;
                        for (int k = 0; k < impairments.size(); k++) {
                            RowResult result = cells.get(k).result();
                            write(writers.get(k), row, impairments.get(k), cells.get(k));
                            scores[0][k][i] = number(result.llr());
                            for (int d = 0; d < detectorColumns.size(); d++) {
                                scores[d + 1][k][i] = number(result.detectors().get(d));
                            }
                        }
                    });
            err.printf(Locale.ROOT, "%d images x %d impairments (with the original) in %.1f s on %s with %s%n", n,
                    impairments.size(), seconds, engine.info().device(), ScoreCommand.describe(set));
        } finally {
            pool.shutdownNow();
            for (CSVPrinter csv : writers) {
                csv.close();
            }
        }
        List<ColumnReport> reports = new ArrayList<>();
        for (int c = 0; c < columns.size(); c++) {
            // The fusion at the set's threshold (one detector: its head's); each detector's logit at its own.
            double threshold = c > 0 ? set.detectors().get(c - 1).engine().info().threshold()
                    : detectorCount > 1 ? set.threshold() : engine.info().threshold();
            reports.add(ColumnReport.compute(columns.get(c), inputs.typs(), impairments, scores[c], threshold, c == 0));
        }
        return new Report(impairments, reports, seed);
    }

    /** A score cell as a number; NaN where empty (the image or the detector failed: left out of the metrics). */
    private static double number(String cell) {
        return cell.isEmpty() ? Double.NaN : Double.parseDouble(cell);
    }

    /** Decodes once on the pool, then each impairment on the pool and its image through the detectors, in order. */
    private CompletableFuture<List<Cell>> impairAndScore(DetectorSet set, ExecutorService pool, InputRow row,
                                                         byte[] bytes, List<Impairment> impairments) {
        ScoringEngine engine = set.detectors().getFirst().engine();
        int detectorCount = set.detectors().size();
        ImageContext context = new ImageContext(row.filename(), seed, engine.decoder(),
                engine.config().imageLimits());
        return CompletableFuture.supplyAsync(() -> {
            try {
                return engine.decoder().decode(bytes);
            } catch (ImageDecodeException e) {
                throw new CompletionException(e);
            }
        }, pool).thenCompose(original -> {
            List<CompletableFuture<Cell>> cells = new ArrayList<>();
            for (Impairment impairment : impairments) {
                cells.add(CompletableFuture.supplyAsync(() -> apply(impairment, original, context), pool)
                        .thenCompose(impaired -> (impaired.pixels() != null ? set.submitDecoded(impaired.pixels())
                                : set.submit(impaired.encoded()))
                                .thenApply(fused -> new Cell(impaired.drawn(), RowResult.of(fused, detectorCount))))
                        .exceptionally(e -> failedCell(e, detectorCount)));
            }
            return CompletableFuture.allOf(cells.toArray(CompletableFuture[]::new))
                    .thenApply(done -> cells.stream().map(CompletableFuture::join).toList());
        }).exceptionally(e -> {
            Cell failed = failedCell(e, detectorCount);
            return failedForAll(impairments.size(), failed.result().reason(),
                    failed.result().error().substring(failed.result().reason().length() + 2), detectorCount);
        });
    }

    private static Impaired apply(Impairment impairment, RgbImage original, ImageContext context) {
        try {
            return impairment.apply(original, context);
        } catch (ImpairmentException e) {
            throw new CompletionException(e);
        }
    }

    private static Cell failedCell(Throwable error, int detectorCount) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        return switch (cause) {
            case ImpairmentException e -> new Cell(Map.of(), RowResult.failed(e.reason(), e.getMessage(),
                    detectorCount));
            case ImageDecodeException e -> new Cell(Map.of(), RowResult.failed(e.error().name(), e.getMessage(),
                    detectorCount));
            default -> new Cell(Map.of(), RowResult.failed("IMPAIRMENT_FAILED", cause.toString(), detectorCount));
        };
    }

    private static List<Cell> failedForAll(int count, String reason, String message, int detectorCount) {
        Cell cell = new Cell(Map.of(), RowResult.failed(reason, message, detectorCount));
        return java.util.Collections.nCopies(count, cell);
    }

    private static void write(CSVPrinter csv, InputRow row, Impairment impairment, Cell cell) throws IOException {
        List<String> record = new ArrayList<>();
        record.add(row.filename());
        record.addAll(row.carried());
        for (String column : impairment.drawnColumns()) {
            record.add(cell.drawn().getOrDefault(column, ""));
        }
        RowResult r = cell.result();
        record.addAll(List.of(r.llr(), r.probability(), r.label(), r.error()));
        record.addAll(r.detectors());
        csv.printRecord(record);
    }

    /** One score column's metrics per impairment, in the order run, the original first. */
    record ColumnReport(String column, List<Impairment> impairments, List<DetectionReport> reports, int[] errors,
                        double threshold) {
        /**
         * @param scores  [impairment][row], NaN where the column has no score (left out, counted in errors)
         * @param primary the verdict's column: without metrics on the originals the run has nothing to compare
         */
        static ColumnReport compute(String column, List<String> typs, List<Impairment> impairments, double[][] scores,
                                    double threshold, boolean primary) {
            List<DetectionReport> reports = new ArrayList<>();
            int[] errors = new int[impairments.size()];
            for (int k = 0; k < impairments.size(); k++) {
                errors[k] = (int) java.util.Arrays.stream(scores[k]).filter(Double::isNaN).count();
                try {
                    reports.add(DetectionReport.compute(typs, Map.of(column, scores[k]), threshold));
                } catch (IllegalArgumentException e) {
                    if (k == 0 && primary) { // the originals themselves lack a class: nothing to compare against
                        throw new IllegalArgumentException("the unimpaired images give no metrics: " + e.getMessage()
                                + " (see scores/original.csv for the rows that failed)", e);
                    }
                    reports.add(null); // every image of a class failed this impairment (too small): NaN metrics
                }
            }
            return new ColumnReport(column, impairments, reports, errors, threshold);
        }

        double value(int k, String metric) {
            if (reports.get(k) == null) {
                return Double.NaN;
            }
            return reports.get(k).rows().stream().filter(r -> r.metric().equals(metric)).findFirst().orElseThrow()
                    .average();
        }

        double auc(int k, String generator) {
            if (reports.get(k) == null) {
                return Double.NaN;
            }
            return reports.get(k).rows().stream().filter(r -> r.metric().equals("auc")).findFirst().orElseThrow()
                    .byGenerator().get(generator);
        }

        /** The family whose lowest AVG AUC is the lowest, or null when only the original ran. */
        String worstFamily() {
            return families(impairments).entrySet().stream()
                    .min(Comparator.comparingDouble(e -> e.getValue().stream().mapToDouble(k -> value(k, "auc"))
                            .filter(v -> !Double.isNaN(v)).min().orElse(1)))
                    .map(Map.Entry::getKey).orElse(null);
        }

        String summary() {
            StringBuilder s = new StringBuilder();
            int width = Math.max(12, impairments.stream().mapToInt(i -> i.spec().length()).max().orElse(0) + 2);
            s.append(String.format(Locale.ROOT, "%-" + width + "s %8s %8s %8s %7s%n", "impairment", "AVG AUC",
                    "vs orig", "AVG bacc", "errors"));
            double original = value(0, "auc");
            for (int k = 0; k < impairments.size(); k++) {
                double auc = value(k, "auc");
                s.append(String.format(Locale.ROOT, "%-" + width + "s %8.3f %+8.3f %8.3f %7d%n",
                        impairments.get(k).spec(), auc, auc - original, value(k, "bacc"), errors[k]));
            }
            String worst = worstFamily();
            if (worst != null) {
                List<Integer> members = families(impairments).get(worst);
                int k = members.stream().filter(i -> !Double.isNaN(value(i, "auc")))
                        .min(Comparator.comparingDouble(i -> value(i, "auc"))).orElse(members.get(0));
                s.append(String.format(Locale.ROOT, "worst family: %s (AVG AUC down to %.3f at %s, %+.3f vs the"
                        + " original)%n", worst, value(k, "auc"), impairments.get(k).spec(),
                        value(k, "auc") - original));
            }
            return s.toString();
        }
    }

    /** Families in order of first appearance, each with the indices of its impairments (the original left out). */
    static Map<String, List<Integer>> families(List<Impairment> impairments) {
        Map<String, List<Integer>> families = new LinkedHashMap<>();
        for (int k = 1; k < impairments.size(); k++) {
            families.computeIfAbsent(impairments.get(k).family(), f -> new ArrayList<>()).add(k);
        }
        return families;
    }

    /**
     * The metrics of every score column: the verdict's llr first (with several detectors, their fusion), then each
     * detector's logit.
     */
    record Report(List<Impairment> impairments, List<ColumnReport> columns, long seed) {
        ColumnReport primary() {
            return columns.getFirst();
        }

        /** One column: its table. Several: a table per column, each headed by what the column is. */
        String summary(String fusionRule) {
            if (columns.size() == 1) {
                return primary().summary();
            }
            StringBuilder s = new StringBuilder();
            for (ColumnReport column : columns) {
                s.append(s.isEmpty() ? "" : "\n").append(column == primary()
                        ? "score " + SCORE_COLUMN + ": the " + fusionRule + " fusion of the detectors"
                        : "score " + column.column() + ": this detector alone").append(String.format(Locale.ROOT,
                        " (bacc at threshold %s)%n", column.threshold())).append(column.summary());
            }
            return s.toString();
        }

        void write(Path folder, DetectorSet set, int images) throws IOException {
            ColumnReport primary = primary();
            List<String> generators = primary.reports().get(0).generators();
            try (BufferedWriter writer = Files.newBufferedWriter(folder.resolve(REPORT_CSV), StandardCharsets.UTF_8);
                 CSVPrinter csv = new CSVPrinter(writer, CSVFormat.DEFAULT)) {
                List<String> header = new ArrayList<>(List.of("impairment", "score", "metric"));
                header.addAll(generators);
                header.add("AVG");
                csv.printRecord(header);
                for (int k = 0; k < impairments.size(); k++) {
                    for (ColumnReport column : columns) {
                        DetectionReport report = column.reports().get(k);
                        if (report == null) {
                            for (String metric : DetectionReport.METRICS) {
                                List<String> record = new ArrayList<>(List.of(impairments.get(k).spec(),
                                        column.column(), metric));
                                generators.forEach(g -> record.add("NaN"));
                                record.add("NaN");
                                csv.printRecord(record);
                            }
                            continue;
                        }
                        for (DetectionReport.Row row : report.rows()) {
                            List<String> record = new ArrayList<>(List.of(impairments.get(k).spec(), row.score(),
                                    row.metric()));
                            generators.forEach(g -> record.add(Double.toString(row.byGenerator().get(g))));
                            record.add(Double.toString(row.average()));
                            csv.printRecord(record);
                        }
                    }
                }
            }
            List<EvaluationCharts.RobustnessPanel> panels = new ArrayList<>();
            for (Map.Entry<String, List<Integer>> family : families(impairments).entrySet()) {
                Map<String, double[]> series = new LinkedHashMap<>();
                for (String g : generators) {
                    series.put(g, family.getValue().stream().mapToDouble(k -> primary.auc(k, g)).toArray());
                }
                series.put("AVG", family.getValue().stream().mapToDouble(k -> primary.value(k, "auc")).toArray());
                List<String> strengths = family.getValue().stream().map(k -> impairments.get(k).strength())
                        .map(st -> st.isEmpty() ? "(drawn)" : st).toList();
                panels.add(new EvaluationCharts.RobustnessPanel(family.getKey(), strengths, series,
                        primary.value(0, "auc")));
            }
            boolean several = columns.size() > 1;
            EngineInfo info = set.detectors().getFirst().engine().info();
            String ids = String.join(" + ", set.detectors().stream().map(DetectorSet.Detector::id).toList());
            String rule = set.fusion().ruleName();
            String title = several
                    ? String.format(Locale.ROOT, "AUC of the fusion (llr = %s of %s) under impairments — %d images"
                    + " (unimpaired AVG AUC %.3f)", rule, ids, images, primary.value(0, "auc"))
                    : String.format(Locale.ROOT, "AUC under impairments — model %s, head %s, %d images (unimpaired"
                    + " AVG AUC %.3f)", info.modelId(), info.headVersion(), images, primary.value(0, "auc"));
            EvaluationCharts.robustness(folder.resolve(REPORT_PNG), title, several ? "AUC of the fusion" : "AUC",
                    panels);
            String heading = several
                    ? String.format(Locale.ROOT, "Detectors %s, fused by `%s` into llr; %d images, generators %s,"
                    + " DMID seed %d; balanced accuracy at threshold %s for llr and at each detector's own (%s).%n%n",
                    String.join(" + ", set.detectors().stream().map(d -> "`" + d.id() + "`"
                            + (d.engine().info().headVersion() == null ? ""
                            : " (head `" + d.engine().info().headVersion() + "`)")).toList()), rule, images,
                    generators, seed, primary.threshold(), String.join(", ", columns.subList(1, columns.size())
                            .stream().map(c -> c.column() + " " + c.threshold()).toList()))
                    : String.format(Locale.ROOT, "Model `%s`, head `%s`, %d images, generators %s, DMID seed %d;"
                    + " balanced accuracy at threshold %s.%n%n", info.modelId(), info.headVersion(), images,
                    generators, seed, primary.threshold());
            String md = "# Robustness report\n\n" + heading
                    + (several ? "![AUC of the fusion (llr) per impairment family](" : "![AUC per impairment family](")
                    + REPORT_PNG + ")\n\n```\n" + summary(rule) + "```\n\n"
                    + "All metrics per generator" + (several ? " and score column" : "") + ": `" + REPORT_CSV
                    + "`; per image: `" + SCORES_DIR + "/<impairment>.csv`.\n";
            Files.writeString(folder.resolve(REPORT_MD), md, StandardCharsets.UTF_8);
        }
    }
}
