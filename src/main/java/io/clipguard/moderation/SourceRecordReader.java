package io.clipguard.moderation;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads upload values back from the input topic by offset, for pending uploads restored from the changelog after a
 * crash or rebalance (their bytes were only ever held in the memory of the instance that consumed them). A plain
 * assigned consumer under read_committed, made only when needed.
 */
public final class SourceRecordReader {
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);
    private final Map<String, Object> consumerConfig = new HashMap<>();

    /** @param streamsConfig the application's configs (bootstrap servers, security settings are reused) */
    public SourceRecordReader(Map<String, Object> streamsConfig) {
        streamsConfig.forEach((k, v) -> {
            if (ConsumerConfig.configNames().contains(k)) {
                consumerConfig.put(k, v);
            }
        });
        consumerConfig.remove(ConsumerConfig.GROUP_ID_CONFIG);
        consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // Never ask the broker to create a missing topic (with its default partition count).
        consumerConfig.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        consumerConfig.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    }

    /**
     * The values at {@code offsets} of one partition (a tombstone maps to null). Offsets missing from the result are
     * no longer in the topic (deleted by retention) or never were.
     */
    public Map<Long, byte[]> read(String topic, int partition, Collection<Long> offsets) {
        TreeSet<Long> wanted = new TreeSet<>(offsets);
        Map<Long, byte[]> found = new HashMap<>();
        if (wanted.isEmpty()) {
            return found;
        }
        TopicPartition tp = new TopicPartition(topic, partition);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.assign(java.util.List.of(tp));
            long start = Math.max(wanted.first(), consumer.beginningOffsets(java.util.List.of(tp)).get(tp));
            long end = consumer.endOffsets(java.util.List.of(tp)).get(tp);
            if (start >= end) {
                return found;
            }
            consumer.seek(tp, start);
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (consumer.position(tp) <= wanted.last() && consumer.position(tp) < end) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read back " + tp + " offsets " + wanted + " within " + READ_TIMEOUT);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200)).records(tp)) {
                    if (wanted.contains(r.offset())) {
                        found.put(r.offset(), r.value());
                    }
                }
            }
        }
        return found;
    }
}
