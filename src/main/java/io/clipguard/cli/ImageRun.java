package io.clipguard.cli;

import io.clipguard.cli.ImageInputs.InputRow;
import io.clipguard.image.ImageLimits;
import io.clipguard.scoring.FailureReason;
import io.clipguard.scoring.ScoringEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiFunction;
import java.util.function.Function;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Streams an image list through the engine: reads each file on the calling thread (sequential I/O, size checked
 * before reading), keeps a bounded window of images in flight so batches fill, and hands every row's result back in
 * input order, with a progress bar. Shared by score, embed, train and evaluate.
 */
final class ImageRun {
    private ImageRun() {}

    /** Receives each row's result, in input order. */
    interface RowSink<R> {
        void accept(InputRow row, R result) throws IOException;
    }

    private record Pending<R>(InputRow row, CompletableFuture<R> result) {}

    /**
     * Runs every row through {@code submit} and returns the seconds it took (after the model was loaded).
     *
     * @param failed builds a row's result from a reason and a message when its file cannot be read
     */
    static <R> double run(List<InputRow> rows, ScoringEngine engine, boolean progress, String task,
                          Function<byte[], CompletableFuture<R>> submit, BiFunction<String, String, R> failed,
                          RowSink<R> sink) throws IOException {
        // A sliding window of in-flight images: enough to fill batches, bounded so memory is too.
        int window = Math.max(4 * engine.info().maxBatchSize(), 2 * engine.config().decodeThreads());
        return run(rows, engine, window, progress, task, (row, bytes) -> submit.apply(bytes), failed, sink);
    }

    /**
     * As {@link #run(List, ScoringEngine, boolean, String, Function, BiFunction, RowSink)} with {@code window} rows in
     * flight, and {@code submit} told which row the bytes are (a command that makes several images of each row).
     */
    static <R> double run(List<InputRow> rows, ScoringEngine engine, int window, boolean progress, String task,
                          BiFunction<InputRow, byte[], CompletableFuture<R>> submit,
                          BiFunction<String, String, R> failed, RowSink<R> sink) throws IOException {
        ProgressBar bar = progress ? progressBar(task, rows.size()) : null;
        long start = System.nanoTime();
        ImageLimits limits = engine.config().imageLimits();
        Deque<Pending<R>> inFlight = new ArrayDeque<>();
        try {
            for (InputRow row : rows) {
                inFlight.add(new Pending<>(row, submit(row, limits, submit, failed)));
                while (inFlight.size() >= window) {
                    drainOne(inFlight, sink, bar);
                }
            }
            while (!inFlight.isEmpty()) {
                drainOne(inFlight, sink, bar);
            }
        } finally {
            if (bar != null) {
                bar.close();
            }
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static <R> void drainOne(Deque<Pending<R>> inFlight, RowSink<R> sink, ProgressBar bar) throws IOException {
        Pending<R> pending = inFlight.poll();
        sink.accept(pending.row(), pending.result().join());
        if (bar != null) {
            bar.step();
        }
    }

    /** Reads the file here and submits its bytes; a missing, unreadable or oversized file fails without the engine. */
    private static <R> CompletableFuture<R> submit(InputRow row, ImageLimits limits,
                                                   BiFunction<InputRow, byte[], CompletableFuture<R>> submit,
                                                   BiFunction<String, String, R> failed) {
        Path file = row.file();
        if (row.filename().isBlank()) {
            return CompletableFuture.completedFuture(failed.apply("NOT_FOUND", "empty filename"));
        }
        try {
            if (!Files.exists(file)) {
                return CompletableFuture.completedFuture(failed.apply("NOT_FOUND", "no such file: " + file));
            }
            if (!Files.isRegularFile(file)) {
                return CompletableFuture.completedFuture(failed.apply("READ_ERROR", "not a regular file: " + file));
            }
            long size = Files.size(file);
            if (size > limits.maxEncodedBytes()) { // refused before reading it into memory
                return CompletableFuture.completedFuture(failed.apply(FailureReason.TOO_LARGE.name(), "file of "
                        + size + " bytes is over the " + limits.maxEncodedBytes() + "-byte limit"));
            }
            return submit.apply(row, Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return CompletableFuture.completedFuture(failed.apply("NOT_FOUND", "no such file: " + file));
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.completedFuture(failed.apply("READ_ERROR", e.toString()));
        }
    }

    private static ProgressBar progressBar(String task, int total) {
        return new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250).showSpeed().setUnit(" img", 1)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
    }
}
