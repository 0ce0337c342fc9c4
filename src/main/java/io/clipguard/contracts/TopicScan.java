package io.clipguard.contracts;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A bounded read of a whole topic: every partition from a start (its beginning, or the first record at or after a
 * timestamp) to its end as it was when the scan was planned, under read_committed, without a consumer group. Values
 * stay raw bytes; the caller decodes (so one bad record is the caller's to report, not a crash).
 */
public final class TopicScan {
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration STALL_TIMEOUT = Duration.ofSeconds(60);

    private final Properties consumerProps = new Properties();

    /** @param maxRecordBytes the largest record the topic may hold (clipguard.max-record-bytes) */
    public TopicScan(String bootstrapServers, int maxRecordBytes) {
        consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumerProps.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, maxRecordBytes);
        consumerProps.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 64 * 1024 * 1024);
        consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
    }

    /** What one scan will read: per partition, [start, end). */
    public record Plan(String topic, Map<TopicPartition, long[]> ranges) {
        public long records() {
            return ranges.values().stream().mapToLong(r -> r[1] - r[0]).sum();
        }
    }

    /**
     * Fixes the range to read now (the end is the last stable offset at this moment: later writes are not read).
     *
     * @param from null = every partition's beginning; else the first offset whose record timestamp is at or after it
     */
    public Plan plan(String topic, Instant from) {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
            if (infos == null || infos.isEmpty()) {
                throw new MissingTopicException(topic);
            }
            List<TopicPartition> partitions = infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            // Assigned first: the client logs a WARN per partition and query ("Not updating last stable offset for
            // partition ... as it is no longer assigned") when asked the offsets of partitions it has not assigned.
            consumer.assign(partitions);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            Map<TopicPartition, OffsetAndTimestamp> byTime = new HashMap<>();
            if (from != null) {
                Map<TopicPartition, Long> query = new HashMap<>();
                partitions.forEach(tp -> query.put(tp, from.toEpochMilli()));
                byTime.putAll(consumer.offsetsForTimes(query));
            }
            Map<TopicPartition, long[]> ranges = new HashMap<>();
            for (TopicPartition tp : partitions) {
                long start = begin.get(tp);
                if (from != null) {
                    OffsetAndTimestamp at = byTime.get(tp);
                    start = at == null ? end.get(tp) : Math.max(start, at.offset()); // null: nothing that recent
                }
                ranges.put(tp, new long[]{start, Math.max(start, end.get(tp))});
            }
            return new Plan(topic, ranges);
        }
    }

    /** Reads everything {@code plan} covers, in offset order per partition, handing each record to {@code handler}. */
    public void scan(Plan plan, Consumer<ConsumerRecord<byte[], byte[]>> handler) {
        Map<TopicPartition, long[]> todo = new HashMap<>();
        plan.ranges().forEach((tp, r) -> {
            if (r[1] > r[0]) {
                todo.put(tp, r);
            }
        });
        if (todo.isEmpty()) {
            return;
        }
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            consumer.assign(todo.keySet());
            todo.forEach((tp, r) -> consumer.seek(tp, r[0]));
            long lastProgress = System.nanoTime();
            while (!todo.isEmpty()) {
                boolean progressed = false;
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
                    TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                    long[] range = todo.get(tp);
                    if (range != null && record.offset() < range[1]) {
                        handler.accept(record);
                        progressed = true;
                    }
                }
                for (TopicPartition tp : List.copyOf(todo.keySet())) {
                    // Position, not the last record: transaction markers and compacted-away offsets have no record.
                    if (consumer.position(tp) >= todo.get(tp)[1]) {
                        todo.remove(tp);
                        consumer.pause(List.of(tp));
                        progressed = true;
                    }
                }
                if (progressed) {
                    lastProgress = System.nanoTime();
                } else if (System.nanoTime() - lastProgress > STALL_TIMEOUT.toNanos()) {
                    throw new IllegalStateException("reading " + plan.topic() + " made no progress for " + STALL_TIMEOUT
                            + " (still to read: " + todo.keySet() + ")");
                }
            }
        }
    }

    /** The topic to scan does not exist. */
    public static final class MissingTopicException extends IllegalStateException {
        MissingTopicException(String topic) {
            super("topic " + topic + " does not exist (create it: tools/clipguard create-topics)");
        }
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
        return new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
