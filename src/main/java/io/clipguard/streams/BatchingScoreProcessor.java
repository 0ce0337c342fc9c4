package io.clipguard.streams;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 * waiting records are put in the changelogged {@link ModerationTopology#PENDING_STORE}; the verdicts forwarded for a
 * batch and the deletion of that batch from the store commit together. After a crash the store is restored and its
 * records are scored then: nothing lost, nothing doubled.
 *
 * <p>A batch is flushed when it reaches the maximum batch size, or by wall-clock punctuation once its oldest record
 * has waited the maximum queue delay. The engine merges batches that stream threads flush at the same time.
 */
final class BatchingScoreProcessor implements Processor<byte[], byte[], String, ModerationOutcome> {
    private final UploadScorer scorer;
    private final ModerationMetrics metrics;
    private final int maxBatchSize;
    private final long maxQueueDelayMillis;
    private final BooleanSupplier draining;
    private ProcessorContext<String, ModerationOutcome> context;
    private KeyValueStore<Long, PendingUpload> pending;
    private int pendingCount;
    private long oldestPendingSince;

    BatchingScoreProcessor(UploadScorer scorer, ModerationMetrics metrics, int maxBatchSize, Duration maxQueueDelay, BooleanSupplier draining) {
        this.scorer = scorer;
        this.metrics = metrics;
        this.maxBatchSize = maxBatchSize;
        this.maxQueueDelayMillis = maxQueueDelay.toMillis();
        this.draining = draining;
    }

    @Override
    public void init(ProcessorContext<String, ModerationOutcome> context) {
        this.context = context;
        this.pending = context.getStateStore(ModerationTopology.PENDING_STORE);
        try (KeyValueIterator<Long, PendingUpload> it = pending.all()) {
            while (it.hasNext()) {
                it.next();
                pendingCount++;
            }
        }
        metrics.restored(pendingCount);
        oldestPendingSince = System.currentTimeMillis();
        // Tick at a quarter of the delay so a record never waits much longer than the delay itself.
        Duration tick = Duration.ofMillis(Math.max(1, maxQueueDelayMillis / 4));
        context.schedule(tick, PunctuationType.WALL_CLOCK_TIME, now -> {
            if (pendingCount > 0 && (now - oldestPendingSince >= maxQueueDelayMillis || draining.getAsBoolean())) {
                flush();
            }
        });
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        metrics.recordIn();
        RecordMetadata source = context.recordMetadata().orElseThrow();
        pending.put(source.offset(), new PendingUpload(record.key(), record.value(), source.topic(), source.partition(),
                source.offset(), record.timestamp()));
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
        List<ModerationOutcome> outcomes = scorer.score(batch.stream().map(kv -> kv.value).toList());
        for (int i = 0; i < batch.size(); i++) {
            PendingUpload upload = batch.get(i).value;
            ModerationOutcome outcome = outcomes.get(i);
            String key = outcome instanceof ModerationOutcome.Verdict v ? v.verdict().getUploadId() : null;
            context.forward(new Record<>(key, outcome, upload.timestamp()));
            pending.delete(batch.get(i).key);
        }
        metrics.flushed(batch.size());
        pendingCount = 0;
        // Commit now rather than at the next commit interval: read_committed consumers see verdicts sooner.
        context.commit();
    }
}
