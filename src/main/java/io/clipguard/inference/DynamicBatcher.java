package io.clipguard.inference;

import io.clipguard.image.RgbImage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Merges concurrent encode requests into batched ONNX Runtime runs, like Triton's dynamic batcher: a request waits at
 * most {@code mergeWindow} (measured from the oldest waiting request) for others to join; a full batch runs at once.
 * One worker thread runs the batches (ORT parallelises inside a run); the queue is bounded, so producers block when
 * inference falls behind. Every request's future completes: with its features, or with an {@link InferenceException}
 * when its batch failed or the batcher closed.
 *
 * <p>Only images of one size share a run: a native-resolution model's images of another height or width than the
 * others in the merge window run as their own batch (grouped by size, in order of arrival), because padding them to
 * one shape would change the model's convolutions and average pool. A fixed-size model's crops always share one size.
 *
 * <p>Futures are completed on the worker thread: dependent stages added without an executor run there, so keep them
 * cheap or use the {@code *Async} variants.
 */
public final class DynamicBatcher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DynamicBatcher.class.getName());
    /** How long close() lets queued requests finish before failing the rest. */
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);

    private record Request(RgbImage crop, long enqueuedNanos, CompletableFuture<float[]> result) {}

    private final OnnxImageEncoder encoder;
    private final int maxBatchSize;
    private final long mergeWindowNanos;
    private final BlockingQueue<Request> queue;
    private final BatchListener listener;
    private final Thread worker;
    private volatile boolean accepting = true;

    private final LongAdder batches = new LongAdder();
    private final LongAdder images = new LongAdder();
    private final LongAdder failedBatches = new LongAdder();
    private final AtomicLongArray sizeCounts;

    /**
     * @param queueCapacity requests that may wait at once; {@link #submit} blocks beyond it (backpressure)
     */
    public DynamicBatcher(OnnxImageEncoder encoder, int maxBatchSize, Duration mergeWindow, int queueCapacity,
                          BatchListener listener) {
        if (maxBatchSize < 1 || maxBatchSize > encoder.maxBatchSize()) {
            throw new IllegalArgumentException("maxBatchSize must be in 1.." + encoder.maxBatchSize() + ", got "
                    + maxBatchSize);
        }
        if (mergeWindow.isNegative()) {
            throw new IllegalArgumentException("mergeWindow must not be negative: " + mergeWindow);
        }
        this.encoder = encoder;
        this.maxBatchSize = maxBatchSize;
        this.mergeWindowNanos = mergeWindow.toNanos();
        this.queue = new LinkedBlockingQueue<>(Math.max(queueCapacity, maxBatchSize));
        this.listener = listener == null ? BatchListener.NONE : listener;
        this.sizeCounts = new AtomicLongArray(maxBatchSize + 1);
        this.worker = Thread.ofPlatform().name("clipguard-inference").daemon(true).unstarted(this::runLoop);
        this.worker.start();
    }

    /**
     * Queues one crop (the model's input size, uint8) for encoding. Blocks while the queue is full. The future fails
     * with {@link InferenceException} if the batch fails or the batcher is closed.
     */
    public CompletableFuture<float[]> submit(RgbImage crop) {
        CompletableFuture<float[]> result = new CompletableFuture<>();
        if (!accepting) {
            result.completeExceptionally(closedError());
            return result;
        }
        Request request = new Request(crop, System.nanoTime(), result);
        try {
            queue.put(request);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            result.completeExceptionally(new InferenceException("interrupted while waiting for a place in the queue", e));
            return result;
        }
        // Closed while we were queueing: the worker may have finished already, so take it back and fail it ourselves.
        if (!accepting && queue.remove(request)) {
            result.completeExceptionally(closedError());
        }
        return result;
    }

    public BatchStats stats() {
        long[] counts = new long[sizeCounts.length()];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = sizeCounts.get(i);
        }
        return new BatchStats(batches.sum(), images.sum(), failedBatches.sum(), counts);
    }

    /** Requests waiting for a batch now. */
    public int queued() {
        return queue.size();
    }

    private void runLoop() {
        List<Request> batch = new ArrayList<>(maxBatchSize);
        while (accepting || !queue.isEmpty()) {
            try {
                Request first = queue.poll(50, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                long deadline = first.enqueuedNanos() + mergeWindowNanos;
                queue.drainTo(batch, maxBatchSize - batch.size());
                while (batch.size() < maxBatchSize && accepting) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    Request next = queue.poll(left, TimeUnit.NANOSECONDS);
                    if (next == null) {
                        break;
                    }
                    batch.add(next);
                    queue.drainTo(batch, maxBatchSize - batch.size());
                }
            } catch (InterruptedException e) {
                // close() interrupts only to cut waiting short; the loop condition decides whether to stop
            }
            if (!batch.isEmpty()) {
                for (List<Request> sameSize : bySize(batch)) {
                    runBatch(sameSize);
                }
                batch.clear();
            }
        }
    }

    /** The batch split into runs of one image size each, in order of each size's first arrival. */
    private static Collection<List<Request>> bySize(List<Request> batch) {
        RgbImage first = batch.getFirst().crop();
        if (batch.stream().allMatch(r -> r.crop().width() == first.width() && r.crop().height() == first.height())) {
            return List.of(batch);
        }
        Map<Long, List<Request>> groups = new LinkedHashMap<>();
        for (Request r : batch) {
            long size = ((long) r.crop().width() << 32) | r.crop().height();
            groups.computeIfAbsent(size, k -> new ArrayList<>()).add(r);
        }
        return groups.values();
    }

    private void runBatch(List<Request> batch) {
        long start = System.nanoTime();
        long queueWait = start - batch.getFirst().enqueuedNanos();
        float[][] features = null;
        Throwable failure = null;
        try {
            List<RgbImage> crops = new ArrayList<>(batch.size());
            for (Request r : batch) {
                crops.add(r.crop());
            }
            features = encoder.encode(crops);
        } catch (Throwable t) { // any failure, even an Error, must complete the futures: callers never hang
            failure = t instanceof InferenceException ? t
                    : new InferenceException("inference of a batch of " + batch.size() + " failed: " + t.getMessage(), t);
            LOG.log(Level.WARNING, "batch of " + batch.size() + " images failed: " + failure.getMessage());
        }
        // Counters and listener first, so whoever sees a result also sees its batch counted.
        long elapsed = System.nanoTime() - start;
        batches.increment();
        images.add(batch.size());
        sizeCounts.incrementAndGet(batch.size());
        if (failure != null) {
            failedBatches.increment();
        }
        try {
            listener.onBatch(batch.size(), queueWait, elapsed, failure);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "batch listener failed", e);
        }
        for (int i = 0; i < batch.size(); i++) {
            if (failure == null) {
                batch.get(i).result().complete(features[i]);
            } else {
                batch.get(i).result().completeExceptionally(failure);
            }
        }
    }

    private static InferenceException closedError() {
        return new InferenceException("the scoring engine is shut down; request not run");
    }

    /**
     * Stops accepting requests, runs what is already queued (up to 30 s), then fails anything left with a clear reason.
     */
    @Override
    public void close() {
        accepting = false;
        worker.interrupt();
        try {
            worker.join(DRAIN_TIMEOUT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<Request> left = new ArrayList<>();
        queue.drainTo(left);
        for (Request r : left) {
            r.result().completeExceptionally(closedError());
        }
        if (worker.isAlive()) {
            LOG.warning("inference worker still running after " + DRAIN_TIMEOUT.toSeconds() + " s at shutdown");
        }
    }
}
