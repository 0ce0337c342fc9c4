package io.clipguard.cli;

import io.clipguard.cli.ImageInputs.InputList;
import io.clipguard.cli.ImageInputs.InputRow;
import io.clipguard.model.ModelLoadException;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.EngineInfo;
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
                "A failed row has empty llr/probability/label and an error such as 'CORRUPT: ...' or 'NOT_FOUND: ...'."},
        footer = {"", "Examples:",
                "  tools/clipguard score --input data/list.csv --output scores.csv",
                "  tools/clipguard score --input photos/ --output scores.csv --model-dir models/clip-vit-l14-commonpool",
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

    /** A row's result cells. */
    record RowResult(String llr, String probability, String label, String error) {
        static RowResult of(ScoreOutcome outcome) {
            return switch (outcome) {
                case ScoreOutcome.Scored s -> new RowResult(Double.toString(s.llr()), Double.toString(s.probability()),
                        s.synthetic() ? "synthetic" : "real", "");
                case ScoreOutcome.Failed f -> failed(f.reason().name(), f.message());
            };
        }

        static RowResult failed(String reason, String message) {
            return new RowResult("", "", "", reason + ": " + message);
        }

        boolean ok() {
            return error.isEmpty();
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
        EngineConfig engineConfig;
        try {
            engineConfig = engineOptions.config(head);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        int scored;
        try (ScoringEngine engine = ScoringEngine.open(engineConfig)) {
            scored = writeScores(engine, inputs, output, engineOptions.showProgress(), err);
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

    /**
     * Scores every row into the CSV {@code output} (filename, carried columns, llr, probability, label, error), prints
     * a summary line to {@code err}, and returns how many images were scored.
     */
    static int writeScores(ScoringEngine engine, InputList inputs, Path output, boolean progress, PrintWriter err)
            throws IOException {
        Map<String, Integer> errorsByReason = new TreeMap<>();
        int[] scored = {0};
        try (BufferedWriter writer = newWriter(output);
             CSVPrinter csv = new CSVPrinter(writer, CSVFormat.DEFAULT)) {
            EngineInfo info = engine.info();
            List<String> header = new ArrayList<>();
            header.add(ImageInputs.FILENAME_COLUMN);
            header.addAll(inputs.carriedColumns());
            header.addAll(RESULT_COLUMNS);
            csv.printRecord(header);
            double seconds = ImageRun.run(inputs.rows(), engine, progress, "Scoring",
                    bytes -> engine.submit(bytes).thenApply(RowResult::of), RowResult::failed, (row, result) -> {
                        write(csv, row, result);
                        if (result.ok()) {
                            scored[0]++;
                        } else {
                            errorsByReason.merge(result.reason(), 1, Integer::sum);
                        }
                    });
            csv.flush();
            int failed = inputs.rows().size() - scored[0];
            err.printf("%d scored, %d errors%s in %.1f s (%.1f images/s, mean batch %.1f) on %s with model %s,"
                    + " head %s -> %s%n", scored[0], failed, failed == 0 ? "" : " " + errorsByReason, seconds,
                    inputs.rows().size() / seconds, engine.batchStats().meanBatchSize(), info.device(), info.modelId(),
                    info.headVersion(), output);
        }
        return scored[0];
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
        csv.printRecord(record);
    }
}
