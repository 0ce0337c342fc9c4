package io.clipguard.streams;

import io.clipguard.contracts.Topics;
import io.clipguard.moderation.ModerationOutcome;
import io.clipguard.moderation.PendingUpload;
import io.clipguard.moderation.SourceRecordReader;
import io.clipguard.moderation.UploadScorer;
import io.clipguard.streams.metrics.ModerationMetrics;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Collects upload records of one partition into a batch and hands each batch to the {@link UploadScorer}.
 *
 * <p>Why a state store: under exactly_once_v2 the input offset is committed in the same transaction as everything
 * this task wrote. A record that merely waited in memory would be lost by a crash after its offset was committed, so
 * each waiting record's position is put in the changelogged {@link Topics.PENDING_STORE}; the verdicts
 * forwarded for a batch and the deletion of that batch from the store commit together. After a crash the store is
 * restored, the restored uploads' bytes are read back from the input topic by offset, and they are scored then:
 * nothing lost, nothing doubled. The image bytes themselves are kept in memory only, never written to the changelog.
 *
 * <p>The store is read once, when the task starts ({@link #init}); from then on the waiting uploads are also kept in
 * memory ({@link #waiting}) and the store is only written. Why: every answered upload leaves a put and a delete in
 * RocksDB until a compaction removes them, and a scan walks them all: once 112,000 uploads had been answered, a scan
 * that found 32 waiting ones took 11 ms on the 2-core build VM, and it went on growing ({@code tools/bench-pending-store}).
 *
 * <p>A batch is flushed when it reaches the maximum batch size, or by wall-clock punctuation once one of its uploads
 * is due: the partition batch's maximum wait after its record's timestamp, within the bounds {@link #deadline} gives.
 * The engine merges batches that stream threads flush at the same time.
 *
 * <p>With {@code batchesInFlight} above 0 a flushed batch is handed to the engine and the stream thread goes on
 * polling: the next records are consumed, and the next batch can be flushed, while the engine scores this one. Its
 * outcomes are forwarded, in order, by the next {@code process} or tick that finds them done (or by a flush that finds
 * {@code batchesInFlight} batches already out, which waits for the oldest), each batch with its store deletions and a
 * commit. Nothing changes for a crash: a batch in flight is still in the pending store, and a task that closes drops
 * it there for the next owner. With 0, the default, a flush waits for its outcomes: on a large tower the stream
 * threads would otherwise loop through their polls while they wait, and take that CPU from inference.
 */
final class BatchingScoreProcessor implements Processor<byte[], byte[], String, ModerationOutcome> {
    private final UploadScorer scorer;
    private final ModerationMetrics metrics;
    private final int maxBatchSize;
    private final long maxWaitMillis;
    private final long tickMillis;
    private final BooleanSupplier draining;
    private ProcessorContext<String, ModerationOutcome> context;
    private KeyValueStore<Long, PendingUpload> pending;
    /** Values of the pending uploads this instance consumed itself, by offset; restored uploads are not in it. */
    private final Map<Long, byte[]> values = new HashMap<>();
    /** When this stream thread took each upload in {@link #values} (for the stage meters). */
    private final Map<Long, Long> seenAt = new HashMap<>();
    private SourceRecordReader sourceReader;
    /** The uploads in the store that are not in a batch yet, by offset: the store's entries less those in flight. */
    private final TreeMap<Long, PendingUpload> waiting = new TreeMap<>();
    /** When the clock flushes the waiting batch: the earliest of its uploads' {@link #deadline}s. */
    private long flushAt;
    private final int batchesInFlight;
    /** Batches handed to the engine and not forwarded yet, oldest first; their uploads are still in the store. */
    private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();

    /** Lateness, in batch waits, beyond which an upload counts as part of a backlog ({@link #deadline}). */
    static final int BEHIND_WAITS = 10;

    private record InFlight(List<PendingUpload> uploads, long flushedAt,
                            CompletableFuture<List<ModerationOutcome>> outcomes) {}

    /** @param batchesInFlight batches of this partition the engine may score while the stream thread goes on (0: none) */
    BatchingScoreProcessor(UploadScorer scorer, ModerationMetrics metrics, int maxBatchSize, Duration maxWait,
                           BooleanSupplier draining, int batchesInFlight) {
        this.scorer = scorer;
        this.metrics = metrics;
        this.maxBatchSize = maxBatchSize;
        this.maxWaitMillis = maxWait.toMillis();
        this.tickMillis = ModerationTopology.Settings.batchTick(maxWait).toMillis();
        this.draining = draining;
        this.batchesInFlight = batchesInFlight;
    }

    @Override
    public void init(ProcessorContext<String, ModerationOutcome> context) {
        this.context = context;
        this.pending = context.getStateStore(Topics.PENDING_STORE);
        this.sourceReader = new SourceRecordReader(context.appConfigs());
        // Kafka Streams re-initialises this same instance when a suspended task resumes: read the store afresh.
        waiting.clear();
        inFlight.clear();
        try (KeyValueIterator<Long, PendingUpload> it = pending.all()) {
            while (it.hasNext()) {
                KeyValue<Long, PendingUpload> kv = it.next();
                waiting.put(kv.key, kv.value);
            }
        }
        metrics.restored(waiting.size());
        flushAt = System.currentTimeMillis() + maxWaitMillis;
        context.schedule(Duration.ofMillis(tickMillis), PunctuationType.WALL_CLOCK_TIME, now -> {
            forwardDone();
            boolean drain = draining.getAsBoolean();
            if (!waiting.isEmpty() && (now >= flushAt || drain)) {
                flush();
            }
            if (drain) {
                while (!inFlight.isEmpty()) {
                    forward(inFlight.poll());
                }
            }
        });
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        metrics.recordIn();
        RecordMetadata source = context.recordMetadata().orElseThrow();
        PendingUpload upload = new PendingUpload(record.key(), source.topic(), source.partition(), source.offset(),
                record.timestamp());
        pending.put(source.offset(), upload);
        waiting.put(source.offset(), upload);
        values.put(source.offset(), record.value());
        long now = System.currentTimeMillis();
        seenAt.put(source.offset(), now);
        long deadline = deadline(now, record.timestamp(), maxWaitMillis, tickMillis);
        if (waiting.size() == 1 || deadline < flushAt) {
            flushAt = deadline;
        }
        forwardDone();
        if (waiting.size() >= maxBatchSize) {
            flush();
        }
    }

    /**
     * When an upload seen at {@code seenAt} is flushed by the clock at the latest: {@code maxWait} after its record's
     * timestamp, so that an upload which arrived while this thread was blocked in its previous batch (scoring, commit)
     * does not wait the whole {@code maxWait} again once the thread is back; but at least one {@code tick} after it was
     * seen, so that the uploads that queued meanwhile join its batch rather than trickle out one per flush. An upload
     * more than {@value #BEHIND_WAITS} waits late, or one dated after {@code seenAt}, waits the whole {@code maxWait} from
     * {@code seenAt}, as it did before: the first is a backlog, whose batches should fill; the second, a producer's clock
     * ahead of ours. So a deadline is never later than {@code seenAt + maxWait}.
     */
    static long deadline(long seenAt, long recordTimestamp, long maxWait, long tick) {
        long late = seenAt - recordTimestamp;
        if (late <= 0 || late > BEHIND_WAITS * maxWait) {
            return seenAt + maxWait;
        }
        return seenAt + Math.min(maxWait, Math.max(tick, maxWait - late));
    }

    /** The waiting uploads become a batch, handed to the engine (or scored at once). */
    private void flush() {
        if (batchesInFlight > 0 && inFlight.size() >= batchesInFlight) {
            forward(inFlight.poll()); // the engine is behind: wait for the oldest batch rather than queue more
        }
        List<PendingUpload> uploads = new ArrayList<>(waiting.values());
        waiting.clear();
        readBackRestored(uploads);
        InFlight batch = new InFlight(uploads, System.currentTimeMillis(), scorer.submit(uploads, values));
        if (batchesInFlight == 0) {
            forward(batch);
        } else {
            inFlight.add(batch);
        }
    }

    /** Forwards the batches in flight that are done, oldest first, stopping at the first that is not. */
    private void forwardDone() {
        while (!inFlight.isEmpty() && inFlight.peek().outcomes().isDone()) {
            forward(inFlight.poll());
        }
    }

    /**
     * A batch's outcomes go downstream and its uploads leave the store, in this task's transaction; waits for the
     * outcomes if need be. An engine outage is thrown from here: the task fails and the batch stays pending.
     */
    private void forward(InFlight batch) {
        List<ModerationOutcome> outcomes = UploadScorer.await(batch.outcomes());
        long scoredAt = System.currentTimeMillis();
        for (int i = 0; i < batch.uploads().size(); i++) {
            PendingUpload upload = batch.uploads().get(i);
            ModerationOutcome outcome = outcomes.get(i);
            String key = outcome instanceof ModerationOutcome.Verdict v ? v.verdict().getUploadId() : null;
            context.forward(new Record<>(key, outcome, upload.timestamp()));
            pending.delete(upload.offset()); // an upload's store key is its offset
            values.remove(upload.offset());
            Long seen = seenAt.remove(upload.offset()); // null for an upload restored from the changelog
            metrics.uploadStages(seen == null ? -1 : seen - upload.timestamp(), seen == null ? -1 : batch.flushedAt() - seen,
                    scoredAt - batch.flushedAt());
            metrics.answered(outcome);
        }
        metrics.noLongerPending(batch.uploads().size());
        // Commit now rather than at the next commit interval: read_committed consumers see verdicts sooner.
        context.commit();
    }

    @Override
    public void close() {
        // The task moves away or restarts: its waiting uploads stay in the store for whoever opens it next, those in
        // flight too (their outcomes, if the engine still delivers them, are dropped with the batch).
        metrics.noLongerPending(waiting.size() + inFlight.stream().mapToInt(batch -> batch.uploads().size()).sum());
        waiting.clear();
        inFlight.clear();
        values.clear();
        seenAt.clear();
    }

    /** Uploads restored from the changelog have no value in memory: read them back from the input topic. */
    private void readBackRestored(List<PendingUpload> uploads) {
        List<PendingUpload> restored = uploads.stream().filter(u -> !values.containsKey(u.offset())).toList();
        if (!restored.isEmpty()) {
            PendingUpload first = restored.get(0); // one task reads one partition
            values.putAll(sourceReader.read(first.topic(), first.partition(),
                    restored.stream().map(PendingUpload::offset).toList()));
        }
    }
}
