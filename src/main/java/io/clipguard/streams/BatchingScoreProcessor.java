package io.clipguard.streams;

import io.clipguard.contracts.Topics;
import io.clipguard.moderation.ModerationOutcome;
import io.clipguard.moderation.PendingUpload;
import io.clipguard.moderation.SourceRecordReader;
import io.clipguard.moderation.UploadScorer;
import io.clipguard.streams.metrics.ModerationMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * <p>A batch is flushed when it reaches the maximum batch size, or by wall-clock punctuation once its oldest record
 * has waited the partition batch's maximum wait. The engine merges batches that stream threads flush at the same time.
 */
final class BatchingScoreProcessor implements Processor<byte[], byte[], String, ModerationOutcome> {
    private final UploadScorer scorer;
    private final ModerationMetrics metrics;
    private final int maxBatchSize;
    private final long maxWaitMillis;
    private final BooleanSupplier draining;
    private ProcessorContext<String, ModerationOutcome> context;
    private KeyValueStore<Long, PendingUpload> pending;
    /** Values of the pending uploads this instance consumed itself, by offset; restored uploads are not in it. */
    private final Map<Long, byte[]> values = new HashMap<>();
    private SourceRecordReader sourceReader;
    private int pendingCount;
    private long oldestPendingSince;

    BatchingScoreProcessor(UploadScorer scorer, ModerationMetrics metrics, int maxBatchSize, Duration maxWait, BooleanSupplier draining) {
        this.scorer = scorer;
        this.metrics = metrics;
        this.maxBatchSize = maxBatchSize;
        this.maxWaitMillis = maxWait.toMillis();
        this.draining = draining;
    }

    @Override
    public void init(ProcessorContext<String, ModerationOutcome> context) {
        this.context = context;
        this.pending = context.getStateStore(Topics.PENDING_STORE);
        this.sourceReader = new SourceRecordReader(context.appConfigs());
        // Kafka Streams re-initialises this same instance when a suspended task resumes: count the store afresh.
        pendingCount = 0;
        try (KeyValueIterator<Long, PendingUpload> it = pending.all()) {
            while (it.hasNext()) {
                it.next();
                pendingCount++;
            }
        }
        metrics.restored(pendingCount);
        oldestPendingSince = System.currentTimeMillis();
        // Tick at a quarter of the delay so a record never waits much longer than the delay itself.
        Duration tick = Duration.ofMillis(Math.max(1, maxWaitMillis / 4));
        context.schedule(tick, PunctuationType.WALL_CLOCK_TIME, now -> {
            if (pendingCount > 0 && (now - oldestPendingSince >= maxWaitMillis || draining.getAsBoolean())) {
                flush();
            }
        });
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        metrics.recordIn();
        RecordMetadata source = context.recordMetadata().orElseThrow();
        pending.put(source.offset(), new PendingUpload(record.key(), source.topic(), source.partition(), source.offset(),
                record.timestamp()));
        values.put(source.offset(), record.value());
        if (pendingCount++ == 0) {
            oldestPendingSince = System.currentTimeMillis();
        }
        if (pendingCount >= maxBatchSize) {
            flush();
        }
    }

    private void flush() {
        List<KeyValue<Long, PendingUpload>> batch = new ArrayList<>(pendingCount);
        try (KeyValueIterator<Long, PendingUpload> it = pending.all()) {
            it.forEachRemaining(batch::add);
        }
        List<PendingUpload> uploads = batch.stream().map(kv -> kv.value).toList();
        readBackRestored(uploads);
        List<ModerationOutcome> outcomes = scorer.score(uploads, values);
        for (int i = 0; i < batch.size(); i++) {
            PendingUpload upload = uploads.get(i);
            ModerationOutcome outcome = outcomes.get(i);
            String key = outcome instanceof ModerationOutcome.Verdict v ? v.verdict().getUploadId() : null;
            context.forward(new Record<>(key, outcome, upload.timestamp()));
            pending.delete(batch.get(i).key);
            values.remove(upload.offset());
            metrics.answered(outcome);
        }
        metrics.noLongerPending(batch.size());
        pendingCount = 0;
        // Commit now rather than at the next commit interval: read_committed consumers see verdicts sooner.
        context.commit();
    }

    @Override
    public void close() {
        // The task moves away or restarts: its waiting uploads stay in the store for whoever opens it next.
        metrics.noLongerPending(pendingCount);
        pendingCount = 0;
        values.clear();
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
