package io.clipguard.streams.lifecycle;

import io.clipguard.streams.config.ClipguardConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaClientSupplier;

/**
 * The Kafka clients of Kafka Streams (the Quarkus extension installs this bean as its client supplier), as Kafka
 * Streams' default supplier makes them, with two changes:
 * <ul>
 *   <li>a producer's {@code close()} gives up after the close timeout. Kafka Streams closes its producers without a
 *       timeout, and a transactional producer whose broker is gone waits forever to abort its transaction (the
 *       service then ignored SIGTERM). Giving up is safe under exactly-once: the broker aborts the transaction when
 *       it times out, and nothing of it was ever visible to read_committed consumers;</li>
 *   <li>no consumer asks the broker to auto-create a topic ({@code allow.auto.create.topics=false}; Kafka Streams
 *       only sets it on the main consumer, not on the restore and global consumers).</li>
 * </ul>
 */
@ApplicationScoped
public class BoundedKafkaClients implements KafkaClientSupplier {
    private final Duration closeTimeout;

    @Inject
    public BoundedKafkaClients(ClipguardConfig config) {
        this(config.shutdownCloseTimeout());
    }

    public BoundedKafkaClients(Duration closeTimeout) {
        this.closeTimeout = closeTimeout;
    }

    @Override
    public Admin getAdmin(Map<String, Object> config) {
        return Admin.create(config);
    }

    @Override
    public Producer<byte[], byte[]> getProducer(Map<String, Object> config) {
        return new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer()) {
            @Override
            public void close() {
                close(closeTimeout);
            }
        };
    }

    @Override
    public Consumer<byte[], byte[]> getConsumer(Map<String, Object> config) {
        return consumer(config);
    }

    @Override
    public Consumer<byte[], byte[]> getRestoreConsumer(Map<String, Object> config) {
        return consumer(config);
    }

    @Override
    public Consumer<byte[], byte[]> getGlobalConsumer(Map<String, Object> config) {
        return consumer(config);
    }

    private static Consumer<byte[], byte[]> consumer(Map<String, Object> config) {
        Map<String, Object> c = new HashMap<>(config);
        c.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        return new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
