package io.clipguard.cli;

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
import io.clipguard.model.ModelLoadException;
import io.clipguard.scoring.EngineConfig;
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
                "", "Exit codes: 0 report written, 2 usage error, 3 the input, model, head or impairments could not be"
                + " loaded, or the output could not be written."})
public final class RobustnessCommand implements Callable<Integer> {
    static final String REPORT_CSV = "robustness.csv";
    static final String REPORT_PNG = "robustness.png";
    static final String REPORT_MD = "robustness.md";
    static final String SCORES_DIR = "scores";
    static final String PARTIAL_SUFFIX = ".partial";
    /** The score column the metrics are computed on; with fusion, one per detector and "fusion". */
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
        EngineConfig engineConfig;
        try {
            engineConfig = engineOptions.config(head);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
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
        try (ScoringEngine engine = ScoringEngine.open(engineConfig)) {
            Report report = run(engine, inputs, impairments, partial, err);
            report.write(partial, engine.info(), inputs.rows().size());
            out.print(report.summary());
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
    private Report run(ScoringEngine engine, InputList inputs, List<Impairment> impairments, Path partial,
                       PrintWriter err) throws IOException {
        int n = inputs.rows().size();
        double[][] scores = new double[impairments.size()][n];
        int[] errors = new int[impairments.size()];
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
                csv.printRecord(header);
            }
            // Rows in flight: each makes one scoring request per impairment, so a few rows fill the batches; the
            // decoded originals they hold are what bounds memory.
            int window = Math.max(2 * engine.config().decodeThreads(),
                    (4 * engine.info().maxBatchSize() + impairments.size() - 1) / impairments.size());
            int[] rowIndex = {0};
            double seconds = ImageRun.run(inputs.rows(), engine, window, engineOptions.showProgress(), "Robustness",
                    (row, bytes) -> impairAndScore(engine, pool, row, bytes, impairments),
                    (reason, message) -> failedForAll(impairments.size(), reason, message),
                    (row, cells) -> {
                        int i = rowIndex[0]++;
                        for (int k = 0; k < impairments.size(); k++) {
                            Cell cell = cells.get(k);
                            write(writers.get(k), row, impairments.get(k), cell);
                            scores[k][i] = cell.result().ok() ? Double.parseDouble(cell.result().llr()) : Double.NaN;
                            errors[k] += cell.result().ok() ? 0 : 1;
                        }
                    });
            err.printf(Locale.ROOT, "%d images x %d impairments (with the original) in %.1f s on %s with model %s,"
                    + " head %s%n", n, impairments.size(), seconds, engine.info().device(), engine.info().modelId(),
                    engine.info().headVersion());
        } finally {
            pool.shutdownNow();
            for (CSVPrinter csv : writers) {
                csv.close();
            }
        }
        return Report.compute(inputs.typs(), impairments, scores, errors, engine.info().threshold(), seed);
    }

    /** Decodes once on the pool, then each impairment on the pool and its image through the engine, in order. */
    private CompletableFuture<List<Cell>> impairAndScore(ScoringEngine engine, ExecutorService pool, InputRow row,
                                                         byte[] bytes, List<Impairment> impairments) {
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
                        .thenCompose(impaired -> (impaired.pixels() != null ? engine.submitDecoded(impaired.pixels())
                                : engine.submit(impaired.encoded()))
                                .thenApply(outcome -> new Cell(impaired.drawn(), RowResult.of(outcome))))
                        .exceptionally(e -> failedCell(e)));
            }
            return CompletableFuture.allOf(cells.toArray(CompletableFuture[]::new))
                    .thenApply(done -> cells.stream().map(CompletableFuture::join).toList());
        }).exceptionally(e -> {
            Cell failed = failedCell(e);
            return failedForAll(impairments.size(), failed.result().reason(),
                    failed.result().error().substring(failed.result().reason().length() + 2));
        });
    }

    private static Impaired apply(Impairment impairment, RgbImage original, ImageContext context) {
        try {
            return impairment.apply(original, context);
        } catch (ImpairmentException e) {
            throw new CompletionException(e);
        }
    }

    private static Cell failedCell(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        return switch (cause) {
            case ImpairmentException e -> new Cell(Map.of(), RowResult.failed(e.reason(), e.getMessage()));
            case ImageDecodeException e -> new Cell(Map.of(), RowResult.failed(e.error().name(), e.getMessage()));
            default -> new Cell(Map.of(), RowResult.failed("IMPAIRMENT_FAILED", cause.toString()));
        };
    }

    private static List<Cell> failedForAll(int count, String reason, String message) {
        Cell cell = new Cell(Map.of(), RowResult.failed(reason, message));
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
        csv.printRecord(record);
    }

    /** The metrics per impairment, in the order run, the original first. */
    record Report(List<Impairment> impairments, List<DetectionReport> reports, int[] errors, double threshold,
                  long seed) {
        static Report compute(List<String> typs, List<Impairment> impairments, double[][] scores, int[] errors,
                              double threshold, long seed) {
            List<DetectionReport> reports = new ArrayList<>();
            for (int k = 0; k < impairments.size(); k++) {
                try {
                    reports.add(DetectionReport.compute(typs, Map.of(SCORE_COLUMN, scores[k]), threshold));
                } catch (IllegalArgumentException e) {
                    if (k == 0) { // the originals themselves lack a class: nothing to compare against
                        throw new IllegalArgumentException("the unimpaired images give no metrics: " + e.getMessage()
                                + " (see scores/original.csv for the rows that failed)", e);
                    }
                    reports.add(null); // every image of a class failed this impairment (too small): NaN metrics
                }
            }
            return new Report(impairments, reports, errors, threshold, seed);
        }

        double value(int k, String metric) {
            if (reports.get(k) == null) {
                return Double.NaN;
            }
            return reports.get(k).rows().stream().filter(r -> r.metric().equals(metric)).findFirst().orElseThrow()
                    .average();
        }

        /** Families in order of first appearance, each with the indices of its impairments. */
        Map<String, List<Integer>> families() {
            Map<String, List<Integer>> families = new LinkedHashMap<>();
            for (int k = 1; k < impairments.size(); k++) {
                families.computeIfAbsent(impairments.get(k).family(), f -> new ArrayList<>()).add(k);
            }
            return families;
        }

        /** The family whose lowest AVG AUC is the lowest, or null when only the original ran. */
        String worstFamily() {
            return families().entrySet().stream()
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
                List<Integer> members = families().get(worst);
                int k = members.stream().filter(i -> !Double.isNaN(value(i, "auc")))
                        .min(Comparator.comparingDouble(i -> value(i, "auc"))).orElse(members.get(0));
                s.append(String.format(Locale.ROOT, "worst family: %s (AVG AUC down to %.3f at %s, %+.3f vs the"
                        + " original)%n", worst, value(k, "auc"), impairments.get(k).spec(),
                        value(k, "auc") - original));
            }
            return s.toString();
        }

        void write(Path folder, EngineInfo info, int images) throws IOException {
            List<String> generators = reports.get(0).generators();
            try (BufferedWriter writer = Files.newBufferedWriter(folder.resolve(REPORT_CSV), StandardCharsets.UTF_8);
                 CSVPrinter csv = new CSVPrinter(writer, CSVFormat.DEFAULT)) {
                List<String> header = new ArrayList<>(List.of("impairment", "score", "metric"));
                header.addAll(generators);
                header.add("AVG");
                csv.printRecord(header);
                for (int k = 0; k < impairments.size(); k++) {
                    if (reports.get(k) == null) {
                        for (String metric : DetectionReport.METRICS) {
                            List<String> record = new ArrayList<>(List.of(impairments.get(k).spec(), SCORE_COLUMN,
                                    metric));
                            generators.forEach(g -> record.add("NaN"));
                            record.add("NaN");
                            csv.printRecord(record);
                        }
                        continue;
                    }
                    for (DetectionReport.Row row : reports.get(k).rows()) {
                        List<String> record = new ArrayList<>(List.of(impairments.get(k).spec(), row.score(),
                                row.metric()));
                        generators.forEach(g -> record.add(Double.toString(row.byGenerator().get(g))));
                        record.add(Double.toString(row.average()));
                        csv.printRecord(record);
                    }
                }
            }
            List<EvaluationCharts.RobustnessPanel> panels = new ArrayList<>();
            for (Map.Entry<String, List<Integer>> family : families().entrySet()) {
                Map<String, double[]> series = new LinkedHashMap<>();
                for (String g : generators) {
                    series.put(g, family.getValue().stream().mapToDouble(k -> auc(k, g)).toArray());
                }
                series.put("AVG", family.getValue().stream().mapToDouble(k -> value(k, "auc")).toArray());
                List<String> strengths = family.getValue().stream().map(k -> impairments.get(k).strength())
                        .map(st -> st.isEmpty() ? "(drawn)" : st).toList();
                panels.add(new EvaluationCharts.RobustnessPanel(family.getKey(), strengths, series, value(0, "auc")));
            }
            EvaluationCharts.robustness(folder.resolve(REPORT_PNG), String.format(Locale.ROOT,
                    "AUC under impairments — model %s, head %s, %d images (unimpaired AVG AUC %.3f)", info.modelId(),
                    info.headVersion(), images, value(0, "auc")), "AUC", panels);
            String md = "# Robustness report\n\n"
                    + String.format(Locale.ROOT, "Model `%s`, head `%s`, %d images, generators %s, DMID seed %d;"
                    + " balanced accuracy at threshold %s.%n%n", info.modelId(), info.headVersion(), images,
                    generators, seed, threshold)
                    + "![AUC per impairment family](" + REPORT_PNG + ")\n\n```\n" + summary() + "```\n\n"
                    + "All metrics per generator: `" + REPORT_CSV + "`; per image: `" + SCORES_DIR
                    + "/<impairment>.csv`.\n";
            Files.writeString(folder.resolve(REPORT_MD), md, StandardCharsets.UTF_8);
        }

        private double auc(int k, String generator) {
            if (reports.get(k) == null) {
                return Double.NaN;
            }
            return reports.get(k).rows().stream().filter(r -> r.metric().equals("auc")).findFirst().orElseThrow()
                    .byGenerator().get(generator);
        }
    }
}
