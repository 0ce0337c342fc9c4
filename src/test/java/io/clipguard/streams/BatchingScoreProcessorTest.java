package io.clipguard.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.contracts.Topics;
import io.clipguard.moderation.ModerationOutcome;
import io.clipguard.moderation.PendingUpload;
import io.clipguard.streams.metrics.ModerationMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

/**
 * When an upload is due in its batch ({@link BatchingScoreProcessor#deadline}), and the pending-uploads gauge across a
 * task's suspend and resume. Kafka Streams closes a suspended task's processors and later calls {@code init} again on
 * the same instances, whose waiting uploads are still in the store; a count carried over from before the suspension
 * once left the gauge at 1 with nothing waiting (seen in CI).
 */
class BatchingScoreProcessorTest {
    @Test
    void resumingASuspendedTaskCountsItsWaitingUploadsOnce() {
        ModerationMetrics metrics = new ModerationMetrics(new SimpleMeterRegistry());
        // Batches of 8 after a minute: the one upload below keeps waiting, so the scorer is never reached.
        var processor = new BatchingScoreProcessor(null, metrics, 8, Duration.ofMinutes(1), () -> false, 0);
        MockProcessorContext<String, ModerationOutcome> context = new MockProcessorContext<>();
        KeyValueStore<Long, PendingUpload> store = Stores.keyValueStoreBuilder(
                        Stores.inMemoryKeyValueStore(Topics.PENDING_STORE), Serdes.Long(), PendingUpload.storeSerde())
                .withLoggingDisabled().build();
        store.init(context.getStateStoreContext(), store);
        context.addStateStore(store);

        processor.init(context);
        context.setRecordMetadata(Topics.UPLOADS, 0, 41L);
        processor.process(new Record<>("u-1".getBytes(), new byte[] {1, 2, 3}, 1_000L));
        assertThat(metrics.pending()).isEqualTo(1);

        processor.close(); // suspended: the upload stays in the store for whoever resumes the task
        assertThat(metrics.pending()).isZero();
        assertThat(store.approximateNumEntries()).isEqualTo(1);

        processor.init(context); // resumed on this instance
        assertThat(metrics.pending()).isEqualTo(1);
        processor.close();
        assertThat(metrics.pending()).isZero();
        assertThat(context.forwarded()).isEmpty();
    }

    @Test
    void anUploadIsDueItsMaximumWaitAfterItsTimestampButAtLeastOneTickAfterItWasSeen() {
        long seen = 1_000_000L;
        // Seen when it was written: the whole wait.
        assertThat(BatchingScoreProcessor.deadline(seen, seen, 20, 5)).isEqualTo(seen + 20);
        // Seen 12 ms late (its thread was scoring the batch before): what is left of the wait.
        assertThat(BatchingScoreProcessor.deadline(seen, seen - 12, 20, 5)).isEqualTo(seen + 8);
        // Seen 19 or 150 ms late: one tick, so that the uploads queued behind it join its batch.
        assertThat(BatchingScoreProcessor.deadline(seen, seen - 19, 20, 5)).isEqualTo(seen + 5);
        assertThat(BatchingScoreProcessor.deadline(seen, seen - 150, 20, 5)).isEqualTo(seen + 5);
        // More than BEHIND_WAITS waits late is a backlog, and a timestamp ahead of our clock is a skewed producer:
        // both wait the whole wait from when they were seen.
        long behind = BatchingScoreProcessor.BEHIND_WAITS * 20L;
        assertThat(BatchingScoreProcessor.deadline(seen, seen - behind, 20, 5)).isEqualTo(seen + 5);
        assertThat(BatchingScoreProcessor.deadline(seen, seen - behind - 1, 20, 5)).isEqualTo(seen + 20);
        assertThat(BatchingScoreProcessor.deadline(seen, seen + 3_600_000, 20, 5)).isEqualTo(seen + 20);
        // A tick longer than the wait never makes the deadline later than the wait.
        assertThat(BatchingScoreProcessor.deadline(seen, seen - 10, 4, 5)).isEqualTo(seen + 4);
    }
}
