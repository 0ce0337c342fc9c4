package io.clipguard.testing;

import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import io.clipguard.avro.ImageReference;
import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.InlineImage;
import io.clipguard.contracts.Topics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.core.ConditionTimeoutException;

/** Producing upload events and reading the service's outputs the way other teams' clients would. */
public final class TestClients {
    private TestClients() {}

    public static ImageUploaded inline(String uploadId, byte[] image) {
        return event(uploadId, new InlineImage(ByteBuffer.wrap(image)));
    }

    public static ImageUploaded byReference(String uploadId, String uri) {
        return event(uploadId, new ImageReference(uri));
    }

    private static ImageUploaded event(String uploadId, Object image) {
        return ImageUploaded.newBuilder()
                .setUploadId(uploadId)
                .setUploaderId("user-" + uploadId.hashCode() % 7)
                .setUploadedAt(Instant.now())
                .setContentType(null)
                .setImage(image)
                .setAttributes(Map.of("test", "true"))
                .build();
    }

    public static String newId() {
        return UUID.randomUUID().toString();
    }

    /**
     * An upload pipeline's producer: Avro values through the registry, in the Confluent wire format, auto-registering
     * its schema whole. Without dereference-schema Apicurio's serializer registers the nested records as references,
     * and Apicurio 3.3.3's compatibility check of the BACKWARD subject answers 422 "Can't redefine" (docs/contracts.md).
     */
    public static KafkaProducer<String, ImageUploaded> uploadProducer(String bootstrap, String registryUrl) {
        return new KafkaProducer<>(producerProps(bootstrap), new StringSerializer(), uploadSerializer(registryUrl));
    }

    /** How an upload pipeline writes its events: Avro through the registry (registering the schema), Confluent wire format. */
    public static Serializer<ImageUploaded> uploadSerializer(String registryUrl) {
        AvroKafkaSerializer<ImageUploaded> serializer = new AvroKafkaSerializer<>();
        Map<String, Object> config = new java.util.HashMap<>(Topics.serdeConfig(registryUrl));
        config.put(io.apicurio.registry.serde.config.SerdeConfig.AUTO_REGISTER_ARTIFACT, true);
        config.put(io.apicurio.registry.resolver.config.SchemaResolverConfig.DEREFERENCE_SCHEMA, true);
        serializer.configure(config, false);
        return serializer;
    }

    /** Raw bytes, for events that are not what the service expects. */
    public static KafkaProducer<byte[], byte[]> rawProducer(String bootstrap) {
        return new KafkaProducer<>(producerProps(bootstrap), new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static Properties producerProps(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 16 * 1024 * 1024);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return p;
    }

    public static <K, V> RecordMetadata send(KafkaProducer<K, V> producer, String topic, K key, V value) {
        try {
            return producer.send(new ProducerRecord<>(topic, key, value)).get();
        } catch (Exception e) {
            throw new IllegalStateException("send to " + topic + " failed", e);
        }
    }

    public static <T extends SpecificRecord> Deserializer<T> avroReader(String registryUrl) {
        return Topics.avroReader(registryUrl);
    }

    /**
     * Decodes one of our values as a consumer that speaks only the Confluent protocol would: magic byte 0, a 4-byte
     * schema id, the writer schema from {@code GET /schemas/ids/{id}} of the registry's Confluent-compatible API, then
     * plain Avro (no Apicurio code, no generated classes).
     */
    public static org.apache.avro.generic.GenericRecord decodeAsConfluentConsumer(String ccompatUrl, byte[] value) throws Exception {
        java.nio.ByteBuffer wire = java.nio.ByteBuffer.wrap(value);
        if (wire.get() != 0) {
            throw new AssertionError("no Confluent magic byte");
        }
        java.net.http.HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(ccompatUrl + "/schemas/ids/" + wire.getInt())).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new AssertionError("registry answered " + response.statusCode() + ": " + response.body());
        }
        org.apache.avro.Schema schema = new org.apache.avro.Schema.Parser().parse(
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.body()).get("schema").asText());
        return new org.apache.avro.generic.GenericDatumReader<org.apache.avro.generic.GenericRecord>(schema).read(null,
                org.apache.avro.io.DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, null));
    }

    /**
     * Reads a topic from the beginning under read_committed until {@code done} holds for what came, or the timeout
     * passed; returns what came either way, so that the caller's assertion says what is missing.
     */
    public static <V> List<ConsumerRecord<byte[], V>> readCommitted(String bootstrap, String topic, Deserializer<V> values,
                                                                   Predicate<List<ConsumerRecord<byte[], V>>> done, Duration timeout) {
        List<ConsumerRecord<byte[], V>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], V> consumer = fromTheBeginning(bootstrap, topic, values)) {
            // The consumer is polled by the waiting thread itself: a KafkaConsumer belongs to one thread.
            Waits.await("records of " + topic).atMost(timeout).pollInSameThread().pollInterval(Duration.ofMillis(1))
                    .until(() -> {
                        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
                        return done.test(out);
                    });
        } catch (ConditionTimeoutException notAll) {
            // what came is returned; the caller's assertion names what is missing
        }
        return out;
    }

    /**
     * Every record of the topic committed so far: read under read_committed up to the end offsets taken at the start (the
     * last stable offsets: records of a transaction still open are not part of it).
     */
    public static <V> List<ConsumerRecord<byte[], V>> readAllCommitted(String bootstrap, String topic, Deserializer<V> values) {
        List<ConsumerRecord<byte[], V>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], V> consumer = fromTheBeginning(bootstrap, topic, values)) {
            Map<TopicPartition, Long> ends = consumer.endOffsets(consumer.assignment());
            Waits.await("the end offsets " + ends + " of " + topic).pollInSameThread().pollInterval(Duration.ofMillis(1))
                    .until(() -> {
                        consumer.poll(Duration.ofMillis(100)).forEach(out::add);
                        return ends.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
                    });
        }
        return out;
    }

    /** A read_committed consumer of every partition of {@code topic}, at its beginning (no group: nothing to join). */
    private static <V> KafkaConsumer<byte[], V> fromTheBeginning(String bootstrap, String topic, Deserializer<V> values) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024);
        KafkaConsumer<byte[], V> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), values);
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(i -> new TopicPartition(topic, i.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    /** Upload id → number of answers (verdicts + dead letters) for it committed so far. */
    public static Map<String, Integer> answerCounts(String bootstrap, String registryUrl, Topics.Names topics) {
        return java.util.stream.Stream.concat(
                        readAllCommitted(bootstrap, topics.verdicts(), TestClients.<io.clipguard.avro.ModerationVerdict>avroReader(registryUrl))
                                .stream().map(r -> r.value().getUploadId()),
                        readAllCommitted(bootstrap, topics.deadLetter(), TestClients.<io.clipguard.avro.ScoringFailure>avroReader(registryUrl))
                                .stream().map(r -> r.value().getUploadId()))
                .collect(java.util.stream.Collectors.toMap(id -> id, id -> 1, Integer::sum, java.util.HashMap::new));
    }

    /**
     * {@link #answerCounts(String, String, Topics.Names)} re-read until {@code done} holds for the counts or the timeout
     * passed; the last counts either way.
     */
    public static Map<String, Integer> answerCounts(String bootstrap, String registryUrl, Topics.Names topics,
                                                    Predicate<Map<String, Integer>> done, Duration timeout) {
        List<Map<String, Integer>> last = new ArrayList<>(List.of(Map.of()));
        try {
            Waits.await("answers on " + topics.verdicts() + " and " + topics.deadLetter()).atMost(timeout)
                    .until(() -> {
                        last.set(0, answerCounts(bootstrap, registryUrl, topics));
                        return done.test(last.get(0));
                    });
        } catch (ConditionTimeoutException notAll) {
            // the last counts are returned; the caller's assertion names what is missing
        }
        return last.get(0);
    }
}
