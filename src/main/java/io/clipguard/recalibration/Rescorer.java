package io.clipguard.recalibration;

import io.clipguard.avro.FailureReason;
import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.contracts.BulkAvroReader;
import io.clipguard.contracts.HeadCatalog;
import io.clipguard.contracts.OutputRecords;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.TopicScan;
import io.clipguard.contracts.Topics;
import io.clipguard.model.LinearHead;
import io.clipguard.model.ModelLoadException;
import io.clipguard.moderation.UploadScorer;
import io.clipguard.scoring.DetectorScore;
import io.clipguard.scoring.DetectorSet;
import io.clipguard.scoring.Fusion;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Rescoring by replay: applies a published head to the stored embeddings of a range of uploads, without the backbone,
 * and writes rescored verdicts (and alerts, and reports of what could not be rescored) in Kafka transactions.
 *
 * <p>Which uploads: every upload of the range that has a verdict or an embedding (by the upload record's timestamp,
 * which verdicts and embeddings carry as their record timestamp, or by its position in image-uploads). Each one is
 * <ul>
 *   <li><b>rescored</b> from its embedding when that was made by the head's model; with a detector set, the new
 *       head's logit is fused with the other detectors' logits stored in the embedding, by the verdict's rule and
 *       threshold, without running those detectors;</li>
 *   <li><b>re-inferred</b> when it has no embedding of that model (older than embeddings, or embedded by another
 *       model): its original record is read back from image-uploads by the partition/offset its verdict or embedding
 *       names, and scored through the backbone (every detector of the set) exactly as the live service does (the new embedding is written too);</li>
 *   <li><b>not rescorable</b> when that record is gone (retention) or its image cannot be scored: reported with the
 *       reason, as a dead letter ({@link io.clipguard.avro.ScoringFailure}) and in the summary;</li>
 *   <li><b>already rescored</b> when the output topic already holds a rescored verdict of this head version for it.</li>
 * </ul>
 *
 * <p>Idempotence: the transactional id is {@code clipguard-rescore-<model>-<version>}, so a second run of the same
 * head fences a first one still running (its open transaction aborts), and the output topic itself is the ledger:
 * before writing, the run reads the output topic under read_committed and skips every upload that already has a
 * rescored verdict of this model and head version. A crash leaves whole transactions only, so running the same
 * rescore again (or twice) yields exactly one rescored verdict per (upload id, head version).
 *
 * <p>This class runs a rescore: it reads the ledger and the embeddings and rescores from embeddings;
 * {@link ReInference} re-infers the rest, {@link Outcomes} counts what each upload came to, and
 * {@link TransactionalVerdictWriter} writes it.
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
     * @param maxRecordBytes  the largest record read back from the uploads topic or written (the service's
     *                        clipguard.max-record-bytes)
     * @param compression     the codec of the record batches written
     */
    public record Options(String bootstrapServers, String registryUrl, Topics.Names topics, String outputTopic,
                          double alertThreshold, int transactionSize, int maxRecordBytes, Compression compression) {
        /** With the service's default record limit, and uncompressed batches as the live service writes. */
        public Options(String bootstrapServers, String registryUrl, Topics.Names topics, String outputTopic,
                       double alertThreshold, int transactionSize) {
            this(bootstrapServers, registryUrl, topics, outputTopic, alertThreshold, transactionSize,
                    Topics.DEFAULT_MAX_RECORD_BYTES, Compression.NONE);
        }
    }

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

    /** Opens what re-inference needs (the backbone with the head); asked only if some upload needs it. */
    public interface Backbone extends AutoCloseable {
        UploadScorer scorer();

        @Override
        void close();
    }

    private final Options options;
    private final HeadCatalog.Entry head;
    private final LinearHead linearHead;
    private final Supplier<Backbone> backbone;

    /** @param backbone opened lazily, the first time an upload has to be re-inferred */
    public Rescorer(Options options, HeadCatalog.Entry head, Supplier<Backbone> backbone) throws ModelLoadException {
        this.options = options;
        this.head = head;
        this.linearHead = head.head();
        this.backbone = backbone;
    }

    /** The transactional id of every run for this head version: a second run fences the first. */
    public static String transactionalId(String modelId, String version) {
        return "clipguard-rescore-" + modelId + "-" + version;
    }

    public Summary run(Range range, Progress progress) {
        Topics.Names t = options.topics();
        OutputSchemas schemas = new OutputSchemas(options.registryUrl());
        try (TransactionalVerdictWriter out = new TransactionalVerdictWriter(options, transactionalId(head.modelId(), head.version()), schemas);
             ReInference reInference = new ReInference(options, backbone)) {
            Outcomes outcomes = new Outcomes(out, t.uploads(), "rescore with head " + head.modelId() + "/" + head.version() + ": ",
                    progress);
            Scan pass = new Scan(range, new BulkAvroReader(schemas), outcomes, reInference, progress);
            // Fence any earlier run of this head first, so the ledger read below sees everything it committed.
            out.begin();
            try {
                TopicScan scan = new TopicScan(options.bootstrapServers(), options.maxRecordBytes());
                Instant from = range instanceof Range.Times times ? times.from() : null;
                List<TopicScan.Plan> plans = new ArrayList<>(List.of(scan.plan(t.verdicts(), from)));
                if (!options.outputTopic().equals(t.verdicts())) {
                    plans.add(scan.plan(options.outputTopic(), from));
                }
                TopicScan.Plan embeddingPlan = scan.plan(t.embeddings(), from);
                long scanned = plans.stream().mapToLong(TopicScan.Plan::records).sum() + embeddingPlan.records();
                progress.total(scanned);
                for (TopicScan.Plan plan : plans) {
                    boolean verdictsTopic = plan.topic().equals(t.verdicts());
                    scan.scan(plan, r -> pass.verdict(r, verdictsTopic));
                }
                long already = pass.done.size();
                scan.scan(embeddingPlan, pass::embedding);
                reInference.forgetAll(pass.done);
                progress.total(scanned + reInference.pending());
                reInference.run(outcomes);
                out.commit();
                return outcomes.summary(already, pass.unreadable);
            } catch (RuntimeException e) {
                out.abort();
                throw e;
            }
        }
    }

    /** A stored embedding's verdict under the new head: fused as the live verdict was, or why it cannot be. */
    private sealed interface Rescored {
        record Scored(ScoreOutcome.Scored scored, List<DetectorScore> parts, Fusion fusion, double threshold)
                implements Rescored {}

        record Failed(FailureReason reason, String message) implements Rescored {}
    }

    /**
     * Re-fuses the new head's logit of the CLIP detector with the other detectors' logits stored in the embedding
     * (without running them), by the rule and threshold the live verdict used. An embedding without other detectors
     * gives the head's own score, as before detector sets.
     */
    private Rescored reFuse(ImageEmbedding e, ScoreOutcome clipScore) {
        if (!(clipScore instanceof ScoreOutcome.Scored clip)) {
            return new Rescored.Failed(FailureReason.INFERENCE_FAILED, ((ScoreOutcome.Failed) clipScore).message());
        }
        List<DetectorScore> parts = new ArrayList<>();
        parts.add(new DetectorScore(head.modelId(), head.modelId(), head.version(), clip.llr(), false, null, null));
        parts.addAll(OutputRecords.storedDetectors(e));
        if (parts.size() == 1 || e.getFusion() == null) {
            return new Rescored.Scored(clip, parts.subList(0, 1), Fusion.REFERENCE_DEFAULT, linearHead.threshold());
        }
        Fusion fusion;
        try {
            fusion = Fusion.byName(e.getFusion());
        } catch (IllegalArgumentException unknown) {
            return new Rescored.Failed(FailureReason.OTHER, "the embedding names a fusion rule this version does not"
                    + " know: " + unknown.getMessage());
        }
        double threshold = e.getFusionThreshold() == null ? DetectorSet.DEFAULT_FUSED_THRESHOLD : e.getFusionThreshold();
        return switch (DetectorSet.fuse(parts, fusion, threshold)) {
            case ScoreOutcome.Scored fused -> new Rescored.Scored(fused, parts, fusion, threshold);
            case ScoreOutcome.Failed failed -> new Rescored.Failed(FailureReason.INFERENCE_FAILED, failed.message());
        };
    }

    /** The read of the ledger and the embeddings: which uploads are done, rescored here, or left to re-inference. */
    private final class Scan {
        final Range range;
        final BulkAvroReader reader;
        final Outcomes outcomes;
        final ReInference reInference;
        final Progress progress;
        final Set<String> done = new HashSet<>();
        long unreadable;

        Scan(Range range, BulkAvroReader reader, Outcomes outcomes, ReInference reInference, Progress progress) {
            this.range = range;
            this.reader = reader;
            this.outcomes = outcomes;
            this.reInference = reInference;
            this.progress = progress;
        }

        /** Verdicts: the ledger of earlier runs, and where uploads without an embedding are. */
        void verdict(ConsumerRecord<byte[], byte[]> r, boolean verdictsTopic) {
            progress.advance(1);
            if (!(decode(r) instanceof ModerationVerdict v)
                    || !range.contains(r.timestamp(), v.getSourcePartition(), v.getSourceOffset())) {
                return;
            }
            if (v.getRescored() && v.getModelId().equals(head.modelId()) && v.getHeadVersion().equals(head.version())) {
                done.add(v.getUploadId());
            } else if (verdictsTopic) {
                reInference.need(v.getUploadId(), v.getSourcePartition(), v.getSourceOffset(), r.timestamp());
            }
        }

        /** Embeddings: rescored here when the head's model made them. */
        void embedding(ConsumerRecord<byte[], byte[]> r) {
            progress.advance(1);
            if (!(decode(r) instanceof ImageEmbedding e)
                    || !range.contains(r.timestamp(), e.getSourcePartition(), e.getSourceOffset())) {
                return;
            }
            String id = e.getUploadId();
            if (done.contains(id)) {
                reInference.forget(id);
                return;
            }
            float[] vector = null;
            if (e.getModelId().equals(head.modelId()) && e.getDimension() == linearHead.dim()) {
                try {
                    vector = OutputRecords.vector(e);
                } catch (IllegalArgumentException bad) {
                    // unreadable vector: re-infer, as for an embedding of another model
                }
            }
            if (vector == null) {
                reInference.need(id, e.getSourcePartition(), e.getSourceOffset(), r.timestamp());
                return;
            }
            reInference.forget(id);
            done.add(id);
            switch (reFuse(e, ScoringEngine.applyHead(linearHead, vector, !e.getL2Normalized()))) {
                case Rescored.Scored(ScoreOutcome.Scored scored, List<DetectorScore> parts, Fusion fusion, double threshold) -> {
                    Instant now = Instant.now();
                    outcomes.rescored(OutputRecords.fusedVerdict(OutputRecords.upload(e), scored, linearHead,
                            head.modelId(), e.getDecodeMode(), now, now.toEpochMilli() - r.timestamp(), true, parts,
                            fusion, threshold), r.timestamp());
                }
                case Rescored.Failed(FailureReason reason, String message) -> outcomes.report(id, e.getSourcePartition(),
                        e.getSourceOffset(), reason, message, r.timestamp());
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
}
