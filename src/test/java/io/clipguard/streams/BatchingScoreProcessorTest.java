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
 * The pending-uploads gauge across a task's suspend and resume. Kafka Streams closes a suspended task's processors
 * and later calls {@code init} again on the same instances, whose waiting uploads are still in the store; a count
 * carried over from before the suspension once left the gauge at 1 with nothing waiting (seen in CI).
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
}
