package io.clipguard.recalibration;

import io.clipguard.avro.FailureReason;
import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.moderation.ModerationOutcome;
import io.clipguard.moderation.SourceRecordReader;
import io.clipguard.moderation.UploadScorer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;

/**
 * Re-inference of the uploads of a rescore that have no usable embedding (none of the head's model, or an unreadable
 * one): their positions are collected while the rescore reads verdicts and embeddings, then their records are read back
 * from the uploads topic, in chunks of a partition in offset order, and scored through the backbone exactly as the live
 * service scores them. The backbone is opened only if some upload needs it.
 */
final class ReInference implements AutoCloseable {
    private static final int CHUNK = 32;

    /** What became of each re-inferred upload: exactly one call per upload. */
    interface Results {
        /** Scored: the verdict (rescored = true) and the new embedding. */
        void reInferred(ModerationVerdict verdict, ImageEmbedding embedding, long timestamp);

        void notRescorable(String uploadId, int partition, long offset, FailureReason reason, String message, long timestamp);
    }

    /** Where an upload without a usable embedding is in the uploads topic, and its record timestamp. */
    private record Source(int partition, long offset, long timestamp) {}

    private final String uploadsTopic;
    private final SourceRecordReader reader;
    private final Supplier<Rescorer.Backbone> opener;
    private final Map<String, Source> sources = new HashMap<>();
    private Rescorer.Backbone backbone;

    ReInference(Rescorer.Options options, Supplier<Rescorer.Backbone> opener) {
        this.uploadsTopic = options.topics().uploads();
        this.reader = new SourceRecordReader(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, options.bootstrapServers(),
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, options.maxRecordBytes()));
        this.opener = opener;
    }

    /** The upload needs re-inference from the record at this position (the first position named wins). */
    void need(String uploadId, int partition, long offset, long timestamp) {
        sources.putIfAbsent(uploadId, new Source(partition, offset, timestamp));
    }

    /** The upload needs no re-inference (it has been, or is being, rescored otherwise). */
    void forget(String uploadId) {
        sources.remove(uploadId);
    }

    void forgetAll(Collection<String> uploadIds) {
        sources.keySet().removeAll(uploadIds);
    }

    int pending() {
        return sources.size();
    }

    /** Re-infers every upload still needed, telling {@code results} about each. */
    void run(Results results) {
        Map<Integer, TreeMap<Long, String>> byPartition = new TreeMap<>();
        sources.forEach((id, s) -> byPartition.computeIfAbsent(s.partition(), p -> new TreeMap<>()).put(s.offset(), id));
        for (var partition : byPartition.entrySet()) {
            List<Map.Entry<Long, String>> positions = new ArrayList<>(partition.getValue().entrySet());
            for (int i = 0; i < positions.size(); i += CHUNK) {
                score(partition.getKey(), positions.subList(i, Math.min(positions.size(), i + CHUNK)), results);
            }
        }
    }

    /** One chunk of one partition: offset → upload id, in offset order. */
    private void score(int partition, List<Map.Entry<Long, String>> chunk, Results results) {
        Map<Long, byte[]> values = reader.read(uploadsTopic, partition, chunk.stream().map(Map.Entry::getKey).toList());
        if (backbone == null) {
            backbone = opener.get();
        }
        List<UploadScorer.StoredUpload> stored = chunk.stream().map(p -> new UploadScorer.StoredUpload(
                p.getValue().getBytes(StandardCharsets.UTF_8), p.getKey(), sources.get(p.getValue()).timestamp())).toList();
        List<ModerationOutcome> outcomes = backbone.scorer().scoreStored(uploadsTopic, partition, stored, values);
        for (int j = 0; j < chunk.size(); j++) {
            String id = chunk.get(j).getValue();
            long offset = chunk.get(j).getKey();
            long timestamp = sources.get(id).timestamp();
            switch (outcomes.get(j)) {
                case ModerationOutcome.Verdict v when !v.verdict().getUploadId().equals(id) ->
                        results.notRescorable(id, partition, offset, FailureReason.OTHER,
                                "the record at that position is upload " + v.verdict().getUploadId(), timestamp);
                case ModerationOutcome.Verdict v ->
                        results.reInferred(ModerationVerdict.newBuilder(v.verdict()).setRescored(true).build(), v.embedding(), timestamp);
                case ModerationOutcome.DeadLetter d -> results.notRescorable(id, partition, offset, d.failure().getReason(),
                        d.failure().getMessage(), timestamp);
            }
        }
    }

    @Override
    public void close() {
        if (backbone != null) {
            backbone.close();
        }
    }
}
