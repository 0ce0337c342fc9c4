package io.clipguard.cli;

import io.clipguard.image.ImageLimits;
import io.clipguard.model.ModelLoadException;
import io.clipguard.scoring.Device;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.EngineInfo;
import io.clipguard.scoring.FailureReason;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import java.io.BufferedWriter;
import java.io.Console;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;
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
    static final String FILENAME_COLUMN = "filename";

    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "CSV|DIR",
            description = "A CSV with a 'filename' column (paths relative to the CSV's folder; other columns, e.g. typ,"
                    + " are copied to the output), or a folder: every regular file below it, sorted by path.")
    Path input;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "CSV", description = "Output CSV (overwritten).")
    Path output;

    @Option(names = "--model-dir", defaultValue = "models/tiny-clip-test", paramLabel = "DIR",
            description = "Model folder with manifest.json and model.onnx (default: ${DEFAULT-VALUE}).")
    Path modelDir;

    @Option(names = "--head", paramLabel = "JSON", description = "Linear head file (default: <model-dir>/head.json).")
    Path head;

    @Option(names = "--batch-size", defaultValue = "" + EngineConfig.DEFAULT_MAX_BATCH_SIZE,
            description = "Max images per ONNX Runtime run (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--max-queue-delay-ms", defaultValue = "5",
            description = "Longest an image waits for its batch to fill, in ms (default: ${DEFAULT-VALUE}).")
    long maxQueueDelayMs;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cuda|cpu",
            description = "auto: CUDA if it loads, else CPU (logged); cuda: fail if CUDA cannot load; cpu."
                    + " Default: ${DEFAULT-VALUE}.")
    Device device;

    @Option(names = "--threads", defaultValue = "0",
            description = "ONNX Runtime intra-op threads; 0 = ORT default, one per physical core (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--decode-threads", description = "Threads decoding and resizing images (default: all processors).")
    Integer decodeThreads;

    @Mixin
    DecodeOptions decode = new DecodeOptions();

    @Option(names = "--progress", negatable = true,
            description = "Show a progress bar (default: only when attached to a terminal).")
    Boolean progress;

    /** One input row: its filename cell, the file it names, and the other columns to carry over. */
    record InputRow(String filename, Path file, List<String> carried) {}

    /** The rows to score, with the names of the carried columns. */
    record InputList(List<String> carriedColumns, List<InputRow> rows) {}

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

    private record Pending(InputRow row, CompletableFuture<RowResult> result) {}

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        InputList inputs;
        try {
            inputs = readInputs(input);
        } catch (IOException | IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return ClipguardCli.EXIT_LOAD_ERROR;
        }
        EngineConfig.Builder config = decode.applyTo(EngineConfig.builder(modelDir).device(device).maxBatchSize(batchSize)
                .maxQueueDelay(Duration.ofMillis(maxQueueDelayMs)).intraOpThreads(threads));
        if (head != null) {
            config.headFile(head);
        }
        if (decodeThreads != null) {
            config.decodeThreads(decodeThreads);
        }
        EngineConfig engineConfig;
        try {
            engineConfig = config.build();
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        Map<String, Integer> errorsByReason = new TreeMap<>();
        int scored = 0;
        try (ScoringEngine engine = ScoringEngine.open(engineConfig);
             BufferedWriter writer = newWriter(output);
             CSVPrinter csv = new CSVPrinter(writer, CSVFormat.DEFAULT)) {
            ProgressBar bar = showProgress() ? progressBar(inputs.rows().size()) : null;
            EngineInfo info = engine.info();
            List<String> header = new ArrayList<>();
            header.add(FILENAME_COLUMN);
            header.addAll(inputs.carriedColumns());
            header.addAll(RESULT_COLUMNS);
            csv.printRecord(header);
            long start = System.nanoTime(); // after loading the model: the rate is the scoring rate
            // A sliding window of in-flight images: enough to fill batches, bounded so memory is too.
            int window = Math.max(4 * info.maxBatchSize(), 2 * engineConfig.decodeThreads());
            Deque<Pending> inFlight = new ArrayDeque<>();
            ImageLimits limits = engineConfig.imageLimits();
            for (InputRow row : inputs.rows()) {
                inFlight.add(new Pending(row, submit(engine, row, limits)));
                while (inFlight.size() >= window) {
                    scored += write(csv, inFlight.poll(), errorsByReason, bar);
                }
            }
            while (!inFlight.isEmpty()) {
                scored += write(csv, inFlight.poll(), errorsByReason, bar);
            }
            csv.flush();
            double seconds = (System.nanoTime() - start) / 1e9;
            int failed = inputs.rows().size() - scored;
            if (bar != null) {
                bar.close();
            }
            err.printf("%d scored, %d errors%s in %.1f s (%.1f images/s, mean batch %.1f) on %s with model %s,"
                    + " head %s -> %s%n", scored, failed, failed == 0 ? "" : " " + errorsByReason, seconds,
                    inputs.rows().size() / seconds, engine.batchStats().meanBatchSize(), info.device(), info.modelId(),
                    info.headVersion(), output);
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

    private static BufferedWriter newWriter(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        return Files.newBufferedWriter(file, StandardCharsets.UTF_8);
    }

    /** Reads the file on this thread (sequential I/O), decodes and scores on the engine. Never fails. */
    private static CompletableFuture<RowResult> submit(ScoringEngine engine, InputRow row, ImageLimits limits) {
        Path file = row.file();
        if (row.filename().isBlank()) {
            return CompletableFuture.completedFuture(RowResult.failed("NOT_FOUND", "empty filename"));
        }
        try {
            if (!Files.exists(file)) {
                return CompletableFuture.completedFuture(RowResult.failed("NOT_FOUND", "no such file: " + file));
            }
            if (!Files.isRegularFile(file)) {
                return CompletableFuture.completedFuture(RowResult.failed("READ_ERROR", "not a regular file: " + file));
            }
            long size = Files.size(file);
            if (size > limits.maxEncodedBytes()) { // refused before reading it into memory
                return CompletableFuture.completedFuture(RowResult.failed(FailureReason.TOO_LARGE.name(), "file of "
                        + size + " bytes is over the " + limits.maxEncodedBytes() + "-byte limit"));
            }
            return engine.submit(Files.readAllBytes(file)).thenApply(RowResult::of);
        } catch (NoSuchFileException e) {
            return CompletableFuture.completedFuture(RowResult.failed("NOT_FOUND", "no such file: " + file));
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.completedFuture(RowResult.failed("READ_ERROR", e.toString()));
        }
    }

    private static int write(CSVPrinter csv, Pending pending, Map<String, Integer> errorsByReason, ProgressBar bar)
            throws IOException {
        RowResult result = pending.result().join();
        List<String> record = new ArrayList<>();
        record.add(pending.row().filename());
        record.addAll(pending.row().carried());
        record.add(result.llr());
        record.add(result.probability());
        record.add(result.label());
        record.add(result.error());
        csv.printRecord(record);
        if (bar != null) {
            bar.step();
        }
        if (!result.ok()) {
            errorsByReason.merge(result.reason(), 1, Integer::sum);
            return 0;
        }
        return 1;
    }

    /** A CSV with a filename column, or a folder walked recursively (regular files, sorted by relative path). */
    static InputList readInputs(Path input) throws IOException {
        if (Files.isDirectory(input)) {
            try (Stream<Path> walk = Files.walk(input)) {
                List<InputRow> rows = walk.filter(Files::isRegularFile)
                        .map(p -> new InputRow(input.relativize(p).toString().replace('\\', '/'), p, List.of()))
                        .sorted((a, b) -> a.filename().compareTo(b.filename()))
                        .toList();
                return new InputList(List.of(), rows);
            }
        }
        if (!Files.isRegularFile(input)) {
            throw new IOException("--input " + input + " is neither a CSV file nor a folder");
        }
        Path base = input.toAbsolutePath().getParent();
        try (Reader reader = skipByteOrderMark(Files.newBufferedReader(input, StandardCharsets.UTF_8));
             CSVParser parser = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true)
                     .setIgnoreSurroundingSpaces(true).get().parse(reader)) {
            List<String> columns = parser.getHeaderNames();
            if (!columns.contains(FILENAME_COLUMN)) {
                throw new IOException(input + " has no '" + FILENAME_COLUMN + "' column (columns: " + columns
                        + "); the first line must be a header naming the image paths' column 'filename'");
            }
            Set<String> ours = Set.copyOf(RESULT_COLUMNS);
            List<String> carried = columns.stream().filter(c -> !c.equals(FILENAME_COLUMN) && !ours.contains(c)).toList();
            List<InputRow> rows = new ArrayList<>();
            for (CSVRecord record : parser) {
                String filename = record.isMapped(FILENAME_COLUMN) && record.isSet(FILENAME_COLUMN)
                        ? record.get(FILENAME_COLUMN) : "";
                List<String> values = carried.stream().map(c -> record.isSet(c) ? record.get(c) : "").toList();
                rows.add(new InputRow(filename, base.resolve(filename), values));
            }
            return new InputList(carried, rows);
        }
    }

    /** Spreadsheet exports often start with a UTF-8 byte order mark, which would otherwise hide the header's name. */
    private static Reader skipByteOrderMark(java.io.BufferedReader reader) throws IOException {
        reader.mark(1);
        if (reader.read() != '\uFEFF') {
            reader.reset();
        }
        return reader;
    }

    private boolean showProgress() {
        if (progress != null) {
            return progress;
        }
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try { // Java 22+ returns a Console even when redirected; isTerminal() tells (absent on 21: then it is one)
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }

    private static ProgressBar progressBar(int total) {
        return new ProgressBarBuilder().setTaskName("Scoring").setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250).showSpeed().setUnit(" img", 1)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
    }
}
