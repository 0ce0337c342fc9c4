package io.clipguard.recalibration;

import io.clipguard.avro.HighScoreAlert;
import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.ScoringFailure;
import io.clipguard.contracts.OutputRecords;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The output of one rescore: rescored verdicts (with their alerts, and the new embeddings of re-inferred uploads) and
 * dead letters, written by one transactional producer in transactions of {@link Rescorer.Options#transactionSize}
 * records. Records are sent with the upload's timestamp, batches compressed with {@link Rescorer.Options#compression},
 * and none may exceed {@link Rescorer.Options#maxRecordBytes}.
 */
final class TransactionalVerdictWriter implements AutoCloseable {
    private final Rescorer.Options options;
    private final Serializer<ModerationVerdict> verdicts;
    private final Serializer<HighScoreAlert> alerts;
    private final Serializer<ImageEmbedding> embeddings;
    private final Serializer<ScoringFailure> deadLetters;
    private final KafkaProducer<byte[], byte[]> producer;
    // A failed send only marks the transaction failed; its cause (e.g. a record too large) is what the user needs.
    private final AtomicReference<Exception> firstSendFailure = new AtomicReference<>();
    private int inTransaction;

    TransactionalVerdictWriter(Rescorer.Options options, String transactionalId, OutputSchemas schemas) {
        this.options = options;
        Topics.Names t = options.topics();
        verdicts = Topics.verdicts(options.outputTopic(), schemas).valueSerde().serializer();
        alerts = Topics.alerts(t.alerts(), schemas).valueSerde().serializer();
        embeddings = Topics.embeddings(t.embeddings(), schemas).valueSerde().serializer();
        deadLetters = Topics.deadLetter(t.deadLetter(), schemas).valueSerde().serializer();
        producer = new KafkaProducer<>(producerConfig(options, transactionalId), new ByteArraySerializer(), new ByteArraySerializer());
    }

    static Properties producerConfig(Rescorer.Options options, String transactionalId) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, options.bootstrapServers());
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, options.compression().label());
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, options.maxRecordBytes());
        return props;
    }

    /** Fences every earlier producer of the transactional id (its open transaction aborts), then opens a transaction. */
    void begin() {
        producer.initTransactions();
        producer.beginTransaction();
    }

    /**
     * A rescored verdict, its alert when its probability reaches the alert threshold, and {@code embedding} if not null.
     *
     * @return whether an alert was written
     */
    boolean verdict(ModerationVerdict v, ImageEmbedding embedding, long timestamp) {
        byte[] key = v.getUploadId().getBytes(StandardCharsets.UTF_8);
        send(options.outputTopic(), key, verdicts.serialize(options.outputTopic(), v), timestamp);
        boolean alert = v.getProbability() >= options.alertThreshold();
        if (alert) {
            String topic = options.topics().alerts();
            send(topic, key, alerts.serialize(topic, OutputRecords.alert(v, options.alertThreshold(), options.outputTopic())), timestamp);
        }
        if (embedding != null) {
            String topic = options.topics().embeddings();
            send(topic, key, embeddings.serialize(topic, embedding), timestamp);
        }
        return alert;
    }

    void deadLetter(byte[] key, ScoringFailure failure, long timestamp) {
        String topic = options.topics().deadLetter();
        send(topic, key, deadLetters.serialize(topic, failure), timestamp);
    }

    /** Commits the open transaction (the records sent since the last commit). */
    void commit() {
        try {
            producer.commitTransaction();
        } catch (KafkaException e) {
            throw failed(e);
        }
        inTransaction = 0;
    }

    /** Aborts the open transaction, if the producer still can (a fenced or broken one is aborted by the broker). */
    void abort() {
        try {
            producer.abortTransaction();
        } catch (RuntimeException ignored) {
            // fenced or broken: the broker aborts the transaction itself
        }
    }

    @Override
    public void close() {
        producer.close();
    }

    private void send(String topic, byte[] key, byte[] value, long timestamp) {
        try {
            producer.send(new ProducerRecord<>(topic, null, timestamp, key, value), (metadata, e) -> {
                if (e != null) {
                    firstSendFailure.compareAndSet(null, e);
                }
            });
        } catch (KafkaException e) { // an earlier send of this transaction failed
            throw failed(e);
        }
        if (++inTransaction >= options.transactionSize()) {
            commit();
            producer.beginTransaction();
        }
    }

    /** Says why the transaction failed: the first failed send's cause if there was one. */
    private IllegalStateException failed(KafkaException e) {
        Exception cause = firstSendFailure.get() != null ? firstSendFailure.get() : e;
        return new IllegalStateException("writing the rescore's output failed, its open transaction is not committed: "
                + cause.getMessage() + (cause instanceof RecordTooLargeException
                ? " (rescore's --max-record-bytes sets max.request.size)" : ""), cause);
    }
}
