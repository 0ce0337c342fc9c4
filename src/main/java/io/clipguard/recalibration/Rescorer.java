package io.clipguard.recalibration;

import io.clipguard.contracts.HeadCatalog;
import io.clipguard.contracts.TopicScan;
import io.clipguard.avro.FailureReason;
import io.clipguard.avro.HighScoreAlert;
import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.ScoringFailure;
import io.clipguard.contracts.BulkAvroReader;
import io.clipguard.contracts.OutputRecords;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import io.clipguard.model.LinearHead;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import io.clipguard.moderation.ModerationOutcome;
import io.clipguard.moderation.SourceRecordReader;
import io.clipguard.moderation.UploadScorer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Rescoring by replay: applies a published head to the stored embeddings of a range of uploads, without the backbone,
 * and writes rescored verdicts (and alerts, and reports of what could not be rescored) in Kafka transactions.
 *
 * <p>Which uploads: every upload of the range that has a verdict or an embedding (by the upload record's timestamp,
 * which verdicts and embeddings carry as their record timestamp, or by its position in image-uploads). Each one is
 * <ul>
 *   <li><b>rescored</b> from its embedding when that was made by the head's model;</li>
 *   <li><b>re-inferred</b> when it has no embedding of that model (older than embeddings, or embedded by another
 *       model): its original record is read back from image-uploads by the partition/offset its verdict or embedding
 *       names, and scored through the backbone exactly as the live service does (the new embedding is written too);</li>
 *   <li><b>not rescorable</b> when that record is gone (retention) or its image cannot be scored: reported with the
 *       reason, as a dead letter ({@link ScoringFailure}) and in the summary;</li>
 *   <li><b>already rescored</b> when the output topic already holds a rescored verdict of this head version for it.</li>
 * </ul>
 *
 * <p>Idempotence: the transactional id is {@code clipguard-rescore-<model>-<version>}, so a second run of the same
 * head fences a first one still running (its open transaction aborts), and the output topic itself is the ledger:
 * before writing, the run reads the output topic under read_committed and skips every upload that already has a
 * rescored verdict of this model and head version. A crash leaves whole transactions only, so running the same
 * rescore again (or twice) yields exactly one rescored verdict per (upload id, head version).
 */
public final class Rescorer {
    /** Which uploads to rescore. */
    public sealed interface Range {
        boolean contains(long recordTimestamp, int sourcePartition, long sourceOffset);

        /** Uploads whose record timestamp is in [from, to). */
        record Times(Instant from, Instant to) implements Range {
            @Override
            public boolean contains(long ts, int partition, long offset) {
                return ts >= from.toEpochMilli() && ts < to.toEpochMilli();
            }
        }

        /** Uploads at these positions of image-uploads: partition → inclusive [first, last]. */
        record Offsets(Map<Integer, long[]> byPartition) implements Range {
            @Override
            public boolean contains(long ts, int partition, long offset) {
                long[] r = byPartition.get(partition);
                return r != null && offset >= r[0] && offset <= r[1];
            }
        }
    }

    /**
     * @param outputTopic     where rescored verdicts go (the verdicts topic, or --to-topic)
     * @param transactionSize records per Kafka transaction
     */
    public record Options(String bootstrapServers, String registryUrl, Topics.Names topics, String outputTopic,
                          double alertThreshold, int transactionSize) {}

    /** Told how much there is to do and how much is done (a progress bar). */
    public interface Progress {
        void total(long records);

        void advance(long records);

        Progress NONE = new Progress() {
            public void total(long records) {}

            public void advance(long records) {}
        };
    }

    /** What a run did; every upload of the range is counted in exactly one of the first four. */
    public record Summary(long rescored, long reInferred, long alreadyRescored, Map<String, Long> notRescorable,
                          List<String> notRescorableExamples, long alerts, long unreadableRecords) {
        public long notRescorableTotal() {
            return notRescorable.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** Opens what re-inference needs (the backbone with the head), only if some upload needs it. */
    public interface ReInference extends AutoCloseable {
        UploadScorer scorer();

        @Override
        void close();
    }

    private static final int REINFER_CHUNK = 32;

    private final Options options;
    private final HeadCatalog.Entry head;
    private final LinearHead linearHead;
    private final Supplier<ReInference> reInference;

    /** @param reInference opened lazily, the first time an upload has to be re-inferred */
    public Rescorer(Options options, HeadCatalog.Entry head, Supplier<ReInference> reInference) throws io.clipguard.model.ModelLoadException {
        this.options = options;
        this.head = head;
        this.linearHead = head.head();
        this.reInference = reInference;
    }

    /** The transactional id of every run for this head version: a second run fences the first. */
    public static String transactionalId(String modelId, String version) {
        return "clipguard-rescore-" + modelId + "-" + version;
    }

    public Summary run(Range range, Progress progress) {
        Topics.Names t = options.topics();
        OutputSchemas schemas = new OutputSchemas(options.registryUrl());
        Run run = new Run(range, new BulkAvroReader(schemas));
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            run.out = new Output(producer, options.transactionSize(),
                    Topics.verdicts(options.outputTopic(), schemas).valueSerde().serializer(),
                    Topics.alerts(t.alerts(), schemas).valueSerde().serializer(),
                    Topics.embeddings(t.embeddings(), schemas).valueSerde().serializer(),
                    Topics.deadLetter(t.deadLetter(), schemas).valueSerde().serializer());
            // Fence any earlier run of this head first, so the ledger read below sees everything it committed.
            producer.initTransactions();
            producer.beginTransaction();
            try {
                TopicScan scan = new TopicScan(options.bootstrapServers());
                Instant from = range instanceof Range.Times times ? times.from() : null;
                List<TopicScan.Plan> verdictPlans = new ArrayList<>(List.of(scan.plan(t.verdicts(), from)));
                if (!options.outputTopic().equals(t.verdicts())) {
                    verdictPlans.add(scan.plan(options.outputTopic(), from));
                }
                TopicScan.Plan embeddingPlan = scan.plan(t.embeddings(), from);
                progress.total(verdictPlans.stream().mapToLong(TopicScan.Plan::records).sum() + embeddingPlan.records());
                for (TopicScan.Plan plan : verdictPlans) {
                    scan.scan(plan, r -> {
                        run.verdict(r, plan.topic().equals(t.verdicts()));
                        progress.advance(1);
                    });
                }
                run.already = run.done.size();
                scan.scan(embeddingPlan, r -> {
                    run.embedding(r);
                    progress.advance(1);
                });
                progress.total(verdictPlans.stream().mapToLong(TopicScan.Plan::records).sum() + embeddingPlan.records()
                        + run.sources.size());
                run.reInferRest(progress);
                run.out.commit();
            } catch (RuntimeException e) {
                try {
                    producer.abortTransaction();
                } catch (RuntimeException ignored) {
                    // fenced or broken: the broker aborts the transaction itself
                }
                throw e;
            } finally {
                if (run.reInference != null) {
                    run.reInference.close();
                }
            }
        }
        return new Summary(run.rescored, run.reInferred, run.already, run.notRescorable, run.examples, run.alerts, run.unreadable);
    }

    /** Where an upload without a usable embedding is in image-uploads. */
    private record Source(int partition, long offset, long timestamp) {}

    /** The state of one run. */
    private final class Run {
        final Range range;
        final BulkAvroReader reader;
        final Set<String> done = new HashSet<>();
        final Map<String, Source> sources = new HashMap<>();
        final Map<String, Long> notRescorable = new TreeMap<>();
        final List<String> examples = new ArrayList<>();
        Output out;
        ReInference reInference;
        long rescored, reInferred, already, alerts, unreadable;

        Run(Range range, BulkAvroReader reader) {
            this.range = range;
            this.reader = reader;
        }

        /** Verdicts: the ledger of earlier runs, and where uploads without an embedding are. */
        void verdict(ConsumerRecord<byte[], byte[]> r, boolean verdictsTopic) {
            if (!(decode(r) instanceof ModerationVerdict v)
                    || !range.contains(r.timestamp(), v.getSourcePartition(), v.getSourceOffset())) {
                return;
            }
            if (v.getRescored() && v.getModelId().equals(head.modelId()) && v.getHeadVersion().equals(head.version())) {
                done.add(v.getUploadId());
            } else if (verdictsTopic) {
                sources.putIfAbsent(v.getUploadId(), new Source(v.getSourcePartition(), v.getSourceOffset(), r.timestamp()));
            }
        }

        /** Embeddings: rescored here when the head's model made them. */
        void embedding(ConsumerRecord<byte[], byte[]> r) {
            if (!(decode(r) instanceof ImageEmbedding e)
                    || !range.contains(r.timestamp(), e.getSourcePartition(), e.getSourceOffset())) {
                return;
            }
            String id = e.getUploadId();
            if (done.contains(id)) {
                sources.remove(id);
                return;
            }
            if (!e.getModelId().equals(head.modelId()) || e.getDimension() != linearHead.dim()) {
                sources.putIfAbsent(id, new Source(e.getSourcePartition(), e.getSourceOffset(), r.timestamp()));
                return;
            }
            float[] vector;
            try {
                vector = OutputRecords.vector(e);
            } catch (IllegalArgumentException bad) {
                sources.putIfAbsent(id, new Source(e.getSourcePartition(), e.getSourceOffset(), r.timestamp()));
                return;
            }
            sources.remove(id);
            done.add(id);
            switch (ScoringEngine.applyHead(linearHead, vector, !e.getL2Normalized())) {
                case ScoreOutcome.Scored scored -> {
                    Instant now = Instant.now();
                    publish(OutputRecords.verdict(OutputRecords.upload(e), scored, linearHead, head.modelId(), e.getDecodeMode(), now,
                            now.toEpochMilli() - r.timestamp(), true), null, r.timestamp());
                    rescored++;
                }
                case ScoreOutcome.Failed failed -> report(id, e.getSourcePartition(), e.getSourceOffset(),
                        FailureReason.INFERENCE_FAILED, failed.message(), r.timestamp());
            }
        }

        /** Uploads left without a usable embedding: read back from image-uploads and scored through the backbone. */
        void reInferRest(Progress progress) {
            sources.keySet().removeAll(done);
            Map<Integer, TreeMap<Long, String>> byPartition = new TreeMap<>();
            sources.forEach((id, s) -> byPartition.computeIfAbsent(s.partition(), p -> new TreeMap<>()).put(s.offset(), id));
            if (byPartition.isEmpty()) {
                return;
            }
            String uploads = options.topics().uploads();
            SourceRecordReader sourceReader = new SourceRecordReader(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, options.bootstrapServers(),
                    "max.partition.fetch.bytes", 16 * 1024 * 1024));
            for (var partition : byPartition.entrySet()) {
                List<Map.Entry<Long, String>> positions = new ArrayList<>(partition.getValue().entrySet());
                for (int i = 0; i < positions.size(); i += REINFER_CHUNK) {
                    List<Map.Entry<Long, String>> chunk = positions.subList(i, Math.min(positions.size(), i + REINFER_CHUNK));
                    Map<Long, byte[]> values = sourceReader.read(uploads, partition.getKey(), chunk.stream().map(Map.Entry::getKey).toList());
                    if (reInference == null) {
                        reInference = Rescorer.this.reInference.get();
                    }
                    List<UploadScorer.StoredUpload> stored = chunk.stream().map(p -> new UploadScorer.StoredUpload(
                            p.getValue().getBytes(StandardCharsets.UTF_8), p.getKey(), sources.get(p.getValue()).timestamp())).toList();
                    List<ModerationOutcome> outcomes = reInference.scorer().scoreStored(uploads, partition.getKey(), stored, values);
                    for (int j = 0; j < chunk.size(); j++) {
                        String id = chunk.get(j).getValue();
                        long timestamp = sources.get(id).timestamp();
                        switch (outcomes.get(j)) {
                            case ModerationOutcome.Verdict v when !v.verdict().getUploadId().equals(id) ->
                                    report(id, partition.getKey(), chunk.get(j).getKey(), FailureReason.OTHER,
                                            "the record at that position is upload " + v.verdict().getUploadId(), timestamp);
                            case ModerationOutcome.Verdict v -> {
                                publish(ModerationVerdict.newBuilder(v.verdict()).setRescored(true).build(), v.embedding(), timestamp);
                                reInferred++;
                            }
                            case ModerationOutcome.DeadLetter d -> report(id, partition.getKey(), chunk.get(j).getKey(),
                                    d.failure().getReason(), d.failure().getMessage(), timestamp);
                        }
                        progress.advance(1);
                    }
                }
            }
        }

        private void publish(ModerationVerdict v, ImageEmbedding embedding, long timestamp) {
            byte[] key = v.getUploadId().getBytes(StandardCharsets.UTF_8);
            out.send(options.outputTopic(), key, out.verdicts.serialize(options.outputTopic(), v), timestamp);
            if (v.getProbability() >= options.alertThreshold()) {
                HighScoreAlert alert = OutputRecords.alert(v, options.alertThreshold(), options.outputTopic());
                out.send(options.topics().alerts(), key, out.alerts.serialize(options.topics().alerts(), alert), timestamp);
                alerts++;
            }
            if (embedding != null) {
                out.send(options.topics().embeddings(), key, out.embeddings.serialize(options.topics().embeddings(), embedding), timestamp);
            }
        }

        private void report(String uploadId, int partition, long offset, FailureReason reason, String message, long timestamp) {
            String topic = options.topics().uploads();
            ScoringFailure failure = ScoringFailure.newBuilder()
                    .setReason(reason)
                    .setMessage("rescore with head " + head.modelId() + "/" + head.version() + ": " + message)
                    .setUploadId(uploadId)
                    .setOriginalKey(ByteBuffer.wrap(uploadId.getBytes(StandardCharsets.UTF_8)))
                    .setOriginalValue(null)
                    .setSourceTopic(topic)
                    .setSourcePartition(partition)
                    .setSourceOffset(offset)
                    .setFailedAt(Instant.now())
                    .build();
            String dlq = options.topics().deadLetter();
            out.send(dlq, uploadId.getBytes(StandardCharsets.UTF_8), out.deadLetters.serialize(dlq, failure), timestamp);
            notRescorable.merge(reason.name(), 1L, Long::sum);
            if (examples.size() < 20) {
                examples.add(uploadId + " (" + reason + ": " + message + ")");
            }
        }

        private Object decode(ConsumerRecord<byte[], byte[]> r) {
            if (r.value() == null) {
                return null;
            }
            try {
                return reader.read(r.value());
            } catch (IllegalArgumentException e) {
                unreadable++;
                return null;
            }
        }
    }

    /** The transactional producer and the serializers of every topic a run writes. */
    private static final class Output {
        final KafkaProducer<byte[], byte[]> producer;
        final int transactionSize;
        final Serializer<ModerationVerdict> verdicts;
        final Serializer<HighScoreAlert> alerts;
        final Serializer<ImageEmbedding> embeddings;
        final Serializer<ScoringFailure> deadLetters;
        int inTransaction;

        Output(KafkaProducer<byte[], byte[]> producer, int transactionSize, Serializer<ModerationVerdict> verdicts,
               Serializer<HighScoreAlert> alerts, Serializer<ImageEmbedding> embeddings, Serializer<ScoringFailure> deadLetters) {
            this.producer = producer;
            this.transactionSize = transactionSize;
            this.verdicts = verdicts;
            this.alerts = alerts;
            this.embeddings = embeddings;
            this.deadLetters = deadLetters;
        }

        void send(String topic, byte[] key, byte[] value, long timestamp) {
            producer.send(new ProducerRecord<>(topic, null, timestamp, key, value));
            if (++inTransaction >= transactionSize) {
                commit();
                producer.beginTransaction();
            }
        }

        void commit() {
            producer.commitTransaction();
            inTransaction = 0;
        }
    }

    private KafkaProducer<byte[], byte[]> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, options.bootstrapServers());
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId(head.modelId(), head.version()));
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 16 * 1024 * 1024);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }
}
