package io.clipguard.moderation;

import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.clipguard.avro.FailureReason;
import io.clipguard.avro.ImageReference;
import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.InlineImage;
import io.clipguard.contracts.OutputRecords;
import io.clipguard.fetch.FetchException;
import io.clipguard.fetch.ImageFetcher;
import io.clipguard.model.LinearHead;
import io.clipguard.avro.ImageEmbedding;
import io.clipguard.scoring.DetectorScore;
import io.clipguard.scoring.DetectorSet;
import io.clipguard.scoring.EmbedOutcome;
import io.clipguard.scoring.FusedOutcome;
import io.clipguard.scoring.EmbeddingCache;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * Turns pending upload records into outcomes: reads the event, resolves the image bytes (inline or by URI), has the
 * shared {@link DetectorSet} run every detector on them (through the dedupe {@link EmbeddingCache}), applies the active
 * head to the CLIP detector's features, fuses the detectors' logits, and builds the verdict (with each detector's part)
 * and its embedding (with the other detectors' logits), or the dead letter when no detector scored. Knows nothing of pixels (the engine does) nor of state
 * stores and commits (the processor does). Counts nothing: a batch that fails part-way is retried, so outcomes are
 * counted by the processor once the whole batch is scored.
 */
public final class UploadScorer implements AutoCloseable {
    private final DetectorSet detectors;
    private final ScoringEngine clip;
    private final EmbeddingCache embeddings;
    private final Supplier<LinearHead> activeHead;
    private final ImageFetcher fetcher;
    private final Clock clock;
    private final AvroKafkaDeserializer<ImageUploaded> eventReader = new AvroKafkaDeserializer<>();
    // URI fetches block on the network, so they get their own threads rather than the engine's decode pool.
    private final ExecutorService fetchPool = Executors.newFixedThreadPool(16, Thread.ofPlatform().daemon().name("clipguard-fetch-", 0).factory());

    /**
     * @param detectors  the detector set; it must hold a CLIP (features) detector, whose head is {@code activeHead}
     * @param embeddings the set behind its dedupe cache
     * @param activeHead the CLIP detector's head, read once per batch (a head switch never splits a batch)
     */
    public UploadScorer(DetectorSet detectors, EmbeddingCache embeddings, Supplier<LinearHead> activeHead, ImageFetcher fetcher,
                        Map<String, Object> registryConfig, Clock clock) {
        this.detectors = detectors;
        this.clip = java.util.Objects.requireNonNull(detectors.featuresEngine(),
                "the service's detector set needs a CLIP (features) detector for its head");
        this.embeddings = embeddings;
        this.activeHead = activeHead;
        this.fetcher = fetcher;
        this.clock = clock;
        eventReader.configure(registryConfig, false);
    }

    /**
     * Scores a batch; the outcomes come back in the same order. All uploads of the batch reach the engine together.
     *
     * @param values each upload's value by offset (null for a tombstone); an upload whose offset is absent is no longer
     *               in the input topic and becomes a SOURCE_EXPIRED dead letter
     */
    public List<ModerationOutcome> score(List<PendingUpload> batch, Map<Long, byte[]> values) {
        return await(submit(batch, values));
    }

    /**
     * Hands a batch to the detectors and returns at once; {@link #await} gives its outcomes, in the same order. The
     * values are read before this returns, so the caller may change the map afterwards.
     */
    public CompletableFuture<List<ModerationOutcome>> submit(List<PendingUpload> batch, Map<Long, byte[]> values) {
        LinearHead head = activeHead.get();
        List<CompletableFuture<ModerationOutcome>> outcomes = new ArrayList<>(batch.size());
        for (PendingUpload upload : batch) {
            outcomes.add(values.containsKey(upload.offset())
                    ? scoreOne(upload, values.get(upload.offset()), head)
                    : done(deadLetter(upload, null, null, FailureReason.SOURCE_EXPIRED,
                            "is no longer in " + upload.topic() + " (deleted by retention): its bytes are gone")));
        }
        return CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new))
                .thenApply(all -> outcomes.stream().map(CompletableFuture::join).toList());
    }

    /** A submitted batch's outcomes, waiting for them; the engine's unavailability is thrown as itself. */
    public static List<ModerationOutcome> await(CompletableFuture<List<ModerationOutcome>> submitted) {
        try {
            return submitted.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof EngineUnavailableException unavailable ? unavailable : e;
        }
    }

    /** An upload record of the uploads topic, read back by offset. */
    public record StoredUpload(byte[] key, long offset, long timestamp) {}

    /**
     * Scores upload records read back from one partition of the uploads topic (re-inference by
     * {@code tools/clipguard rescore}), exactly as live uploads are scored; outcomes in order.
     *
     * @param values each record's value by offset; an absent offset is no longer in the topic: SOURCE_EXPIRED
     */
    public List<ModerationOutcome> scoreStored(String topic, int partition, List<StoredUpload> uploads, Map<Long, byte[]> values) {
        return score(uploads.stream().map(u -> new PendingUpload(u.key(), topic, partition, u.offset(), u.timestamp())).toList(),
                values);
    }

    private CompletableFuture<ModerationOutcome> scoreOne(PendingUpload upload, byte[] value, LinearHead head) {
        ImageUploaded event;
        try {
            if (value == null) {
                return done(deadLetter(upload, value, null, FailureReason.MALFORMED_EVENT, "record has no value (tombstone)"));
            }
            event = eventReader.deserialize(upload.topic(), value);
        } catch (RuntimeException e) {
            return done(deadLetter(upload, value, null, FailureReason.MALFORMED_EVENT,
                    "not an ImageUploaded Avro record in the registry's wire format: " + e));
        }
        CompletableFuture<byte[]> bytes = event.getImage() instanceof InlineImage inline
                ? CompletableFuture.completedFuture(toArray(inline.getBytes()))
                : CompletableFuture.supplyAsync(() -> fetch(((ImageReference) event.getImage()).getUri()), fetchPool);
        // Hash where the bytes arrive (the stream thread, or the fetch thread), not on the engine's inference thread,
        // which completes the engine's future and would run a plain thenApply itself.
        return bytes.thenCompose(image -> {
                    String sha256 = sha256(image);
                    return embeddings.embed(sha256, image).thenApply(result -> outcome(upload, value, event, sha256, result, head));
                })
                .exceptionally(e -> {
                    Throwable cause = e.getCause() != null ? e.getCause() : e;
                    if (cause instanceof EngineUnavailableException unavailable) {
                        throw unavailable;
                    }
                    if (cause instanceof FetchFailure f) {
                        return deadLetter(upload, value, event.getUploadId(), f.reason, f.getMessage());
                    }
                    return deadLetter(upload, value, event.getUploadId(), FailureReason.OTHER, "unexpected: " + cause);
                });
    }

    private byte[] fetch(String uri) {
        try {
            return fetcher.fetch(uri);
        } catch (FetchException e) {
            throw new FetchFailure(e.refused() ? FailureReason.FETCH_REFUSED : FailureReason.FETCH_FAILED, e.getMessage());
        }
    }

    private ModerationOutcome outcome(PendingUpload upload, byte[] value, ImageUploaded event, String imageSha256,
                                      List<EmbedOutcome> embedded, LinearHead head) {
        FusedOutcome fused = detectors.combine(embedded, head);
        return switch (fused.outcome()) {
            // Not the upload's fault: fail the batch so its transaction aborts and the uploads stay pending.
            case ScoreOutcome.Failed failed when failed.reason() == io.clipguard.scoring.FailureReason.ENGINE_UNAVAILABLE ->
                    throw new EngineUnavailableException(failed.message());
            case ScoreOutcome.Failed failed -> deadLetter(upload, value, event.getUploadId(),
                    OutputRecords.failureReason(failed.reason()), failed.message(), fused.detectors());
            case ScoreOutcome.Scored scored -> {
                String modelId = clip.info().modelId();
                long now = clock.millis();
                long latency = now - upload.timestamp();
                var ref = new OutputRecords.UploadRef(event.getUploadId(), event.getUploaderId(), imageSha256,
                        upload.partition(), upload.offset());
                String decodeMode = clip.config().decodeMode().label();
                boolean several = detectors.detectors().size() > 1;
                ImageEmbedding embedding = fused.features() == null ? null : OutputRecords.fusedEmbedding(ref, modelId,
                        decodeMode, fused.features().features(), clip.featuresNormalized(), event.getUploadedAt(),
                        detectors.logitModelParts(fused.detectors()),
                        several ? detectors.fusion() : null, several ? detectors.threshold() : null);
                yield new ModerationOutcome.Verdict(OutputRecords.fusedVerdict(ref, scored, head, modelId, decodeMode,
                        java.time.Instant.ofEpochMilli(now), latency, false, fused.detectors(), detectors.fusion(),
                        detectors.thresholdFor(head)), embedding, fused.detectors());
            }
        };
    }

    private ModerationOutcome.DeadLetter deadLetter(PendingUpload upload, byte[] value, String uploadId, FailureReason reason,
                                                    String message) {
        return deadLetter(upload, value, uploadId, reason, message, List.of());
    }

    private ModerationOutcome.DeadLetter deadLetter(PendingUpload upload, byte[] value, String uploadId, FailureReason reason,
                                                    String message, List<DetectorScore> parts) {
        var source = new OutputRecords.SourceRecord(upload.topic(), upload.partition(), upload.offset(), upload.key(), value);
        return new ModerationOutcome.DeadLetter(upload.key(),
                OutputRecords.deadLetter(source, uploadId, reason, message, clock.instant()), parts);
    }

    private static CompletableFuture<ModerationOutcome> done(ModerationOutcome outcome) {
        return CompletableFuture.completedFuture(outcome);
    }

    /** The image's bytes; Avro's reader wraps a fresh array of exactly the field's length, which is used as is. */
    private static byte[] toArray(ByteBuffer buffer) {
        if (buffer.hasArray() && buffer.arrayOffset() == 0 && buffer.position() == 0
                && buffer.remaining() == buffer.array().length) {
            return buffer.array(); // no second copy of an upload that can be megabytes
        }
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(SHA256.get().digest(bytes)); // digest() resets it for the next upload
    }

    // One per thread: MessageDigest.getInstance walks the security providers on every call (2 % of a stream thread).
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    });

    @Override
    public void close() {
        fetchPool.shutdownNow();
        fetcher.close();
        eventReader.close();
    }

    /**
     * The engine could not score (shut down, or the ONNX Runtime run failed). Thrown out of {@link #score} so the
     * stream task fails, its transaction aborts and the batch stays in the pending store for the next attempt.
     */
    public static final class EngineUnavailableException extends RuntimeException {
        public EngineUnavailableException(String message) {
            super("scoring engine unavailable, batch left pending: " + message);
        }
    }

    /** Carries a fetch failure's reason through the future chain. */
    private static final class FetchFailure extends RuntimeException {
        final FailureReason reason;

        FetchFailure(FailureReason reason, String message) {
            super(message, null, false, false);
            this.reason = reason;
        }
    }
}
