package io.clipguard.cli;

import io.clipguard.cli.options.FusionOptions;
import io.clipguard.cli.ImageInputs.InputList;
import io.clipguard.cli.ImageInputs.InputRow;
import io.clipguard.inference.BatchListener;
import io.clipguard.model.ModelLoadException;
import io.clipguard.scoring.DetectorScore;
import io.clipguard.scoring.DetectorSet;
import io.clipguard.scoring.EngineInfo;
import io.clipguard.scoring.FusedOutcome;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Scores a list of images into a CSV, like the reference implementation's main.py: one output row per input row, same
 * order; a bad or missing input gets a row with an error and the run goes on.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Score images and write one CSV row per input: filename, the input's other columns, llr,"
                + " probability, label (synthetic|real), error.",
                "A failed row has empty llr/probability/label and an error such as 'CORRUPT: ...' or 'NOT_FOUND: ...'.",
                "With --model-dir given more than once (a detector set, as the reference's --models), llr is the"
                + " --fusion of the detectors' logits, probability σ(llr), and one more column per detector, named"
                + " by its model id in the given order, holds its logit (empty where it failed on the image; the"
                + " error column then says why, and the fusion uses the others)."},
        footer = {"", "Examples:",
                "  tools/clipguard score --input data/list.csv --output scores.csv",
                "  tools/clipguard score --input photos/ --output scores.csv --model-dir models/clip-vit-l14-commonpool",
                "  tools/clipguard score --input photos/ --output scores.csv --model-dir models/clip-vit-l14-commonpool"
                        + " --model-dir models/corvi2023-res50nodown --fusion soft_or_prob",
                "", "Exit codes: 0 at least one image scored (or no inputs), 1 every input failed (the CSV still lists"
                + " why), 2 usage error, 3 the model, head or input list could not be loaded."})
public final class ScoreCommand implements Callable<Integer> {
    static final List<String> RESULT_COLUMNS = List.of("llr", "probability", "label", "error");

    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "CSV|DIR",
            description = "A CSV with a 'filename' column (paths relative to the CSV's folder; other columns, e.g. typ,"
                    + " are copied to the output), or a folder: every regular file below it, sorted by path.")
    Path input;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "CSV", description = "Output CSV (overwritten).")
    Path output;

    @Option(names = "--head", paramLabel = "JSON", description = "Linear head file (default: <model-dir>/head.json).")
    Path head;

    @Mixin
    EngineOptions engineOptions;

    @Mixin
    FusionOptions fusionOptions;

    /** A row's result cells; {@code detectors}: one logit cell per detector of a set of several, else none. */
    record RowResult(String llr, String probability, String label, String error, List<String> detectors) {
        static RowResult of(ScoreOutcome outcome) {
            return switch (outcome) {
                case ScoreOutcome.Scored s -> new RowResult(Double.toString(s.llr()), Double.toString(s.probability()),
                        s.synthetic() ? "synthetic" : "real", "", List.of());
                case ScoreOutcome.Failed f -> failed(f.reason().name(), f.message());
            };
        }

        /** The fused row: today's cells from the fused outcome, the detectors' logits, their failures in error. */
        static RowResult of(FusedOutcome fused, int detectorCount) {
            RowResult row = of(fused.outcome());
            if (detectorCount == 1) {
                return row;
            }
            List<String> cells = new ArrayList<>();
            List<String> failures = new ArrayList<>();
            for (DetectorScore d : fused.detectors()) {
                cells.add(d.scored() ? Double.toString(d.logit()) : "");
                if (!d.scored() && row.ok()) {
                    failures.add(d.detectorId() + " " + d.errorText());
                }
            }
            return new RowResult(row.llr, row.probability, row.label,
                    row.ok() ? String.join("; ", failures) : row.error, cells);
        }

        static RowResult failed(String reason, String message) {
            return new RowResult("", "", "", reason + ": " + message, List.of());
        }

        /** A row that failed before any detector ran, with an empty logit cell per detector of a set of several. */
        static RowResult failed(String reason, String message, int detectorCount) {
            return new RowResult("", "", "", reason + ": " + message,
                    detectorCount == 1 ? List.of() : java.util.Collections.nCopies(detectorCount, ""));
        }

        /** Has a score (a fused row may still name a detector that failed in its error cell). */
        boolean ok() {
            return !llr.isEmpty();
        }

        String reason() {
            return ok() ? "" : error.substring(0, error.indexOf(':'));
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        InputList inputs;
        try {
            inputs = ImageInputs.read(input, RESULT_COLUMNS);
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
        int scored;
        try (DetectorSet set = DetectorSet.open(detectors, fusionOptions.fusion, fusionOptions.threshold,
                id -> BatchListener.NONE)) {
            scored = writeScores(set, inputs, output, engineOptions.showProgress(), err);
        } catch (ModelLoadException e) {
            err.println("error: " + e.getMessage());
            return ClipguardCli.EXIT_LOAD_ERROR;
        } catch (IOException e) {
            err.println("error: cannot write " + output + ": " + e);
            return ClipguardCli.EXIT_LOAD_ERROR;
        }
        err.flush();
        return scored == 0 && !inputs.rows().isEmpty() ? 1 : 0;
    }

    /** {@link #writeScores(DetectorSet, InputList, Path, boolean, PrintWriter)} with one engine. */
    static int writeScores(ScoringEngine engine, InputList inputs, Path output, boolean progress, PrintWriter err)
            throws IOException {
        return writeScores(DetectorSet.single(engine), inputs, output, progress, err);
    }

    /**
     * Scores every row into the CSV {@code output} (filename, carried columns, llr, probability, label, error, and with
     * several detectors one logit column per detector), prints a summary line to {@code err}, and returns how many
     * images were scored.
     */
    static int writeScores(DetectorSet set, InputList inputs, Path output, boolean progress, PrintWriter err)
            throws IOException {
        Map<String, Integer> errorsByReason = new TreeMap<>();
        int[] scored = {0};
        int detectorCount = set.detectors().size();
        try (BufferedWriter writer = newWriter(output);
             CSVPrinter csv = new CSVPrinter(writer, CSVFormat.DEFAULT)) {
            List<String> header = new ArrayList<>();
            header.add(ImageInputs.FILENAME_COLUMN);
            header.addAll(inputs.carriedColumns());
            header.addAll(RESULT_COLUMNS);
            header.addAll(detectorColumns(set));
            csv.printRecord(header);
            ScoringEngine first = set.detectors().getFirst().engine();
            double seconds = ImageRun.run(inputs.rows(), first, progress, "Scoring",
                    bytes -> set.submit(bytes).thenApply(fused -> RowResult.of(fused, detectorCount)),
                    (reason, message) -> RowResult.failed(reason, message, detectorCount), (row, result) -> {
                        write(csv, row, result);
                        if (result.ok()) {
                            scored[0]++;
                        } else {
                            errorsByReason.merge(result.reason(), 1, Integer::sum);
                        }
                    });
            csv.flush();
            int failed = inputs.rows().size() - scored[0];
            err.printf("%d scored, %d errors%s in %.1f s (%.1f images/s, mean batch %.1f) on %s with %s -> %s%n",
                    scored[0], failed, failed == 0 ? "" : " " + errorsByReason, seconds,
                    inputs.rows().size() / seconds, first.batchStats().meanBatchSize(), first.info().device(),
                    describe(set), output);
        }
        return scored[0];
    }

    /** The per-detector logit columns after {@link #RESULT_COLUMNS}: each detector's id with several, else none. */
    static List<String> detectorColumns(DetectorSet set) {
        return set.detectors().size() == 1 ? List.of() : set.detectors().stream().map(DetectorSet.Detector::id).toList();
    }

    /** "model A, head H" per detector, joined by " + ", and the fusion rule with several (for summary lines). */
    static String describe(DetectorSet set) {
        StringBuilder models = new StringBuilder();
        for (DetectorSet.Detector d : set.detectors()) {
            EngineInfo info = d.engine().info();
            models.append(models.isEmpty() ? "" : " + ").append("model ").append(info.modelId())
                    .append(info.headVersion() == null ? "" : ", head " + info.headVersion());
        }
        return models + (set.detectors().size() == 1 ? "" : ", fused by " + set.fusion().ruleName());
    }

    /** Opens {@code file} for writing, creating its folder. */
    static BufferedWriter newWriter(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        return Files.newBufferedWriter(file, StandardCharsets.UTF_8);
    }

    private static void write(CSVPrinter csv, InputRow row, RowResult result) throws IOException {
        List<String> record = new ArrayList<>();
        record.add(row.filename());
        record.addAll(row.carried());
        record.add(result.llr());
        record.add(result.probability());
        record.add(result.label());
        record.add(result.error());
        record.addAll(result.detectors());
        csv.printRecord(record);
    }
}
