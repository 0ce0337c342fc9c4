package io.clipguard.review;

import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.ModerationDecision;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.contracts.BulkAvroReader;
import io.clipguard.contracts.OutputRecords;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.TopicScan;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The uploads moderators labelled, read from the topics in bounded scans ({@link TopicScan}, {@link BulkAvroReader}):
 * their latest decisions ({@link DecisionLog}), joined with their vectors in image-embeddings (for training a head or
 * scoring one without running the backbone) or with their verdicts (to measure the live detector). Each scan reads a
 * topic to its end as it was when the read began; values are decoded only for the uploads asked about.
 */
public final class ReviewedUploads {
    /** Where to read; {@code maxRecordBytes} is the largest record a topic may hold (clipguard.max-record-bytes). */
    public record Source(String bootstrapServers, String registryUrl, String decisionsTopic, String embeddingsTopic,
                         int maxRecordBytes) {}

    /** Records read so far, against the total the scans will read (a progress bar). */
    public interface Progress {
        Progress NONE = new Progress() {
            @Override
            public void total(long records) {}

            @Override
            public void advance(long records) {}
        };

        void total(long records);

        void advance(long records);
    }

    /** The labelled uploads: upload id → typ, the uploads left out by reason, and what was read. */
    public record Labelled(Map<String, String> typs, Map<String, ModerationDecision> decisions, Map<String, Long> skipped,
                           long decisionRecords, long unreadable) {}

    /**
     * One labelled upload with its vector, as the backbone wrote it (raw unless {@code l2Normalized}), and when its
     * latest decision was made.
     */
    public record Row(String uploadId, String typ, float[] vector, boolean l2Normalized, java.time.Instant decidedAt) {}

    /**
     * The labelled uploads that have a vector of the model, in upload-id order (the same rows in the same order
     * whatever the partitioning, so a head trained on them is reproducible).
     *
     * @param skipped labelled or decided uploads left out, by reason (UNSURE, outside the range, another model, ...)
     */
    public record Joined(List<Row> rows, int dim, Map<String, Long> skipped, long decisionRecords, long unreadable) {
        /** Rows per typ, sorted by typ. */
        public Map<String, Integer> counts() {
            Map<String, Integer> counts = new TreeMap<>();
            rows.forEach(r -> counts.merge(r.typ(), 1, Integer::sum));
            return counts;
        }
    }

    private final Source source;
    private final TopicScan scan;
    private final BulkAvroReader reader;
    private long unreadable;

    public ReviewedUploads(Source source) {
        this.source = source;
        this.scan = new TopicScan(source.bootstrapServers(), source.maxRecordBytes());
        this.reader = new BulkAvroReader(new OutputSchemas(source.registryUrl()));
    }

    /** The labelled uploads of the decision log, as {@code filter} selects them. */
    public Labelled labelled(DecisionLog.Filter filter, Progress progress) {
        TopicScan.Plan plan = plan(source.decisionsTopic());
        progress.total(plan.records());
        return labelled(plan, filter, progress);
    }

    /**
     * The labelled uploads joined with their vectors of {@code modelId}. An upload without one is left out and
     * counted: no embedding at all (not scored, or retention removed it), only embeddings of other models, or a vector
     * that does not have {@code dim} values.
     */
    public Joined join(DecisionLog.Filter filter, String modelId, int dim, Progress progress) {
        TopicScan.Plan decisionPlan = plan(source.decisionsTopic());
        TopicScan.Plan embeddingPlan = plan(source.embeddingsTopic());
        progress.total(decisionPlan.records() + embeddingPlan.records());
        Labelled labelled = labelled(decisionPlan, filter, progress);
        Map<String, Long> skipped = new HashMap<>(labelled.skipped());

        Map<String, ImageEmbedding> ofModel = new HashMap<>();
        Map<String, String> otherModel = new HashMap<>();
        scan.scan(embeddingPlan, forUploads(labelled.typs().keySet(), progress, (id, value) -> {
            if (value == null) { // a tombstone: the vector is gone
                ofModel.remove(id);
                return;
            }
            if (decode(value) instanceof ImageEmbedding e) {
                if (e.getModelId().equals(modelId)) {
                    ofModel.put(id, e);
                } else {
                    otherModel.put(id, e.getModelId());
                }
            }
        }));
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<String, String> upload : labelled.typs().entrySet()) {
            String id = upload.getKey();
            ImageEmbedding e = ofModel.get(id);
            if (e == null) {
                skipped.merge(otherModel.containsKey(id) ? "embedding of another model than " + modelId
                        + " only (" + otherModel.get(id) + ")" : "no embedding", 1L, Long::sum);
                continue;
            }
            float[] vector;
            try {
                vector = OutputRecords.vector(e);
            } catch (IllegalArgumentException bad) {
                skipped.merge("unreadable vector", 1L, Long::sum);
                continue;
            }
            if (vector.length != dim) {
                skipped.merge("vector of " + vector.length + " values, the model has " + dim, 1L, Long::sum);
                continue;
            }
            rows.add(new Row(id, upload.getValue(), vector, e.getL2Normalized(),
                    labelled.decisions().get(id).getDecidedAt()));
        }
        rows.sort(Comparator.comparing(Row::uploadId));
        return new Joined(List.copyOf(rows), dim, skipped, labelled.decisionRecords(), unreadable);
    }

    /**
     * The verdict of each of {@code uploadIds} in {@code verdictsTopic}: the last one of {@code headVersion} (rescored
     * or live) when it is given, else the last one the live service wrote (rescored = false). Uploads without one are
     * absent.
     */
    public Map<String, ModerationVerdict> verdicts(String verdictsTopic, Set<String> uploadIds, String headVersion,
                                                   Progress progress) {
        TopicScan.Plan plan = plan(verdictsTopic);
        progress.total(plan.records());
        Map<String, ModerationVerdict> verdicts = new HashMap<>();
        scan.scan(plan, forUploads(uploadIds, progress, (id, value) -> {
            if (value != null && decode(value) instanceof ModerationVerdict v
                    && (headVersion != null ? v.getHeadVersion().equals(headVersion) : !v.getRescored())) {
                verdicts.put(id, v);
            }
        }));
        return verdicts;
    }

    /** Records that could not be decoded (not our wire format, or not valid Avro), over every scan so far. */
    public long unreadable() {
        return unreadable;
    }

    /**
     * The whole topic as it is now.
     *
     * @throws IllegalStateException the topic is missing or Kafka cannot be reached (the message names the fix)
     */
    private TopicScan.Plan plan(String topic) {
        try {
            return scan.plan(topic, null);
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new IllegalStateException("cannot read " + topic + " from Kafka at " + source.bootstrapServers() + ": "
                    + e.getMessage() + " (is the broker up? --bootstrap-servers / KAFKA_BOOTSTRAP_SERVERS)", e);
        }
    }

    private Labelled labelled(TopicScan.Plan plan, DecisionLog.Filter filter, Progress progress) {
        DecisionLog log = new DecisionLog(filter);
        scan.scan(plan, r -> {
            progress.advance(1);
            if (r.value() != null && decode(r.value()) instanceof ModerationDecision d) {
                log.add(d);
            }
        });
        Map<String, Long> skipped = new HashMap<>();
        Map<String, String> typs = log.labelled(skipped);
        return new Labelled(typs, log.latest(), skipped, log.records(), unreadable);
    }

    /** A handler that passes on the records keyed by one of {@code uploadIds} (key, value), without decoding others. */
    private static Consumer<ConsumerRecord<byte[], byte[]>> forUploads(Set<String> uploadIds, Progress progress,
                                                                       java.util.function.BiConsumer<String, byte[]> then) {
        return r -> {
            progress.advance(1);
            if (r.key() == null) {
                return;
            }
            String id = new String(r.key(), StandardCharsets.UTF_8);
            if (uploadIds.contains(id)) {
                then.accept(id, r.value());
            }
        };
    }

    private Object decode(byte[] value) {
        try {
            return reader.read(value);
        } catch (IllegalArgumentException e) {
            unreadable++;
            return null;
        }
    }
}
