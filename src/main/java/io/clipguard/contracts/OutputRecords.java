package io.clipguard.contracts;

import io.clipguard.avro.DetectorResult;
import io.clipguard.scoring.DetectorScore;
import io.clipguard.scoring.Fusion;

import io.clipguard.avro.FailureReason;
import io.clipguard.avro.HighScoreAlert;
import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.ScoringFailure;
import io.clipguard.avro.StoredDetectorLogit;
import io.clipguard.avro.VectorEncoding;
import io.clipguard.avro.VerdictLabel;
import io.clipguard.model.LinearHead;
import io.clipguard.scoring.ScoreOutcome;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * How a score (or a failure to score) becomes the records of the output topics, in one place for the live service and
 * for {@code tools/clipguard rescore}, so a rescored verdict or dead letter is built exactly as a live one.
 */
public final class OutputRecords {
    /** Largest vector a stored embedding may declare; checked before a vector is allocated. */
    public static final int MAX_DIMENSION = 1 << 16;

    private OutputRecords() {}

    /** Where an upload record sits in image-uploads, with the identity fields every output record carries. */
    public record UploadRef(String uploadId, String uploaderId, String imageSha256, int partition, long offset) {}

    /**
     * @param latencyMs scoredAt minus the upload record's timestamp (for a rescore: how long after the upload it ran)
     * @param decodeMode how the image was decoded before the backbone ran (exact or fast)
     * @param rescored  written by rescore rather than by the live service
     */
    public static ModerationVerdict verdict(UploadRef upload, ScoreOutcome.Scored scored, LinearHead head, String modelId,
                                            String decodeMode, Instant scoredAt, long latencyMs, boolean rescored) {
        return ModerationVerdict.newBuilder()
                .setUploadId(upload.uploadId())
                .setUploaderId(upload.uploaderId())
                .setImageSha256(upload.imageSha256())
                .setLlr(scored.llr())
                .setProbability(scored.probability())
                .setLabel(scored.synthetic() ? VerdictLabel.SYNTHETIC : VerdictLabel.REAL)
                .setThreshold(head.threshold())
                .setModelId(modelId)
                .setHeadVersion(head.version())
                .setDecodeMode(decodeMode)
                .setScoredAt(scoredAt)
                .setEndToEndLatencyMs(latencyMs)
                .setSourcePartition(upload.partition())
                .setSourceOffset(upload.offset())
                .setRescored(rescored)
                .build();
    }

    /**
     * A verdict of a detector set: {@link #verdict} with one {@code DetectorResult} per detector, in the set's order,
     * and the fusion rule (null with one detector); {@code threshold} is the one the label was derived with.
     */
    public static ModerationVerdict fusedVerdict(UploadRef upload, ScoreOutcome.Scored scored, LinearHead head,
                                                 String modelId, String decodeMode, Instant scoredAt, long latencyMs,
                                                 boolean rescored, java.util.List<DetectorScore> detectors,
                                                 Fusion fusion, double threshold) {
        ModerationVerdict verdict = verdict(upload, scored, head, modelId, decodeMode, scoredAt, latencyMs, rescored);
        verdict.setDetectors(detectorResults(detectors));
        verdict.setFusion(detectors.size() > 1 ? fusion.ruleName() : null);
        verdict.setThreshold(threshold);
        return verdict;
    }

    /** The verdict's per-detector entries. */
    public static java.util.List<DetectorResult> detectorResults(java.util.List<DetectorScore> detectors) {
        return detectors.stream().map(d -> DetectorResult.newBuilder()
                .setDetectorId(d.detectorId())
                .setModelId(d.modelId())
                .setHeadVersion(d.headVersion())
                .setLogit(d.logit())
                .setCropped(d.cropped())
                .setError(d.errorText())
                .build()).toList();
    }

    /**
     * The dead-letter reason for an image the engine could not score. A switch without a default, so a reason added to
     * the engine's enum does not compile until it is mapped here (and added to avro/ScoringFailure.avsc if it is new
     * to the topic); the Avro enum also has reasons from before scoring (MALFORMED_EVENT, FETCH_*, SOURCE_EXPIRED, OTHER).
     *
     * @throws IllegalArgumentException for ENGINE_UNAVAILABLE: not the upload's fault, retried, never dead-lettered
     */
    public static FailureReason failureReason(io.clipguard.scoring.FailureReason reason) {
        return switch (reason) {
            case EMPTY -> FailureReason.EMPTY;
            case UNSUPPORTED_FORMAT -> FailureReason.UNSUPPORTED_FORMAT;
            case CORRUPT -> FailureReason.CORRUPT;
            case TOO_LARGE -> FailureReason.TOO_LARGE;
            case INFERENCE_FAILED -> FailureReason.INFERENCE_FAILED;
            case ENGINE_UNAVAILABLE -> throw new IllegalArgumentException(
                    "ENGINE_UNAVAILABLE is retried, never dead-lettered: it says nothing about the upload");
        };
    }

    /** The alert for a verdict whose probability reached {@code threshold}. */
    public static HighScoreAlert alert(ModerationVerdict v, double threshold, String verdictTopic) {
        return HighScoreAlert.newBuilder()
                .setUploadId(v.getUploadId())
                .setUploaderId(v.getUploaderId())
                .setProbability(v.getProbability())
                .setAlertThreshold(threshold)
                .setVerdictTopic(verdictTopic)
                .setVerdictModelId(v.getModelId())
                .setVerdictHeadVersion(v.getHeadVersion())
                .setSourcePartition(v.getSourcePartition())
                .setSourceOffset(v.getSourceOffset())
                .build();
    }

    /**
     * The stored form of a feature vector: float32, little-endian (4 bytes per value: 4,096 bytes for ViT-L/14's
     * 1,024-d features). float32 rather than float16 so that a rescore applies a head to exactly the vector the live
     * service scored.
     *
     * @param l2Normalized the vector is already L2-normalised (manifest l2_normalize = graph)
     */
    public static ImageEmbedding embedding(UploadRef upload, String modelId, String decodeMode, float[] features,
                                           boolean l2Normalized, Instant uploadedAt) {
        ByteBuffer vector = ByteBuffer.allocate(features.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        vector.asFloatBuffer().put(features);
        return ImageEmbedding.newBuilder()
                .setUploadId(upload.uploadId())
                .setUploaderId(upload.uploaderId())
                .setImageSha256(upload.imageSha256())
                .setModelId(modelId)
                .setDimension(features.length)
                .setEncoding(VectorEncoding.FLOAT32_LE)
                .setVector(vector)
                .setL2Normalized(l2Normalized)
                .setUploadedAt(uploadedAt)
                .setSourcePartition(upload.partition())
                .setSourceOffset(upload.offset())
                .setDecodeMode(decodeMode)
                .build();
    }

    /**
     * The embedding of a detector set's verdict: {@link #embedding} with the other detectors' logits (the set's logit
     * models, in order), so that a rescore with a new CLIP head re-fuses without running them, and the verdict's rule
     * and threshold (both null with one detector).
     */
    public static ImageEmbedding fusedEmbedding(UploadRef upload, String modelId, String decodeMode, float[] features,
                                                boolean l2Normalized, Instant uploadedAt,
                                                java.util.List<DetectorScore> otherDetectors, Fusion fusion,
                                                Double fusionThreshold) {
        ImageEmbedding e = embedding(upload, modelId, decodeMode, features, l2Normalized, uploadedAt);
        e.setOtherDetectors(otherDetectors.stream().map(d -> StoredDetectorLogit.newBuilder()
                .setDetectorId(d.detectorId())
                .setModelId(d.modelId())
                .setLogit(d.logit())
                .setCropped(d.cropped())
                .setError(d.errorText())
                .build()).toList());
        e.setFusion(fusion == null ? null : fusion.ruleName());
        e.setFusionThreshold(fusionThreshold);
        return e;
    }

    /**
     * The other detectors' parts stored with an embedding, as the fusion takes them. A stored error's reason is the
     * text before its first ':' ({@link DetectorScore#errorText}); one this version does not know reads as
     * INFERENCE_FAILED.
     */
    public static java.util.List<DetectorScore> storedDetectors(ImageEmbedding e) {
        return e.getOtherDetectors().stream().map(d -> {
            String error = d.getError();
            io.clipguard.scoring.FailureReason reason = null;
            String message = null;
            if (d.getLogit() == null) {
                int colon = error == null ? -1 : error.indexOf(':');
                reason = io.clipguard.scoring.FailureReason.INFERENCE_FAILED;
                if (colon > 0) {
                    try {
                        reason = io.clipguard.scoring.FailureReason.valueOf(error.substring(0, colon));
                    } catch (IllegalArgumentException unknown) {
                        // a reason of a later version: INFERENCE_FAILED
                    }
                }
                message = colon > 0 ? error.substring(colon + 1).strip() : String.valueOf(error);
            }
            return new DetectorScore(d.getDetectorId(), d.getModelId(), null, d.getLogit(), d.getCropped(), reason, message);
        }).toList();
    }

    /** Where a record that could not be scored sits in the input topic, with its key and value (null: none, or not kept). */
    public record SourceRecord(String topic, int partition, long offset, byte[] key, byte[] value) {}

    /**
     * The dead letter of an upload that could not be scored.
     *
     * @param uploadId the event's upload id; null when the event could not be read, then the record's key (as UTF-8)
     */
    public static ScoringFailure deadLetter(SourceRecord source, String uploadId, FailureReason reason, String message,
                                            Instant failedAt) {
        byte[] key = source.key();
        return ScoringFailure.newBuilder()
                .setReason(reason)
                .setMessage(message)
                .setUploadId(uploadId == null && key != null ? new String(key, StandardCharsets.UTF_8) : uploadId)
                .setOriginalKey(key == null ? null : ByteBuffer.wrap(key))
                .setOriginalValue(source.value() == null ? null : ByteBuffer.wrap(source.value()))
                .setSourceTopic(source.topic())
                .setSourcePartition(source.partition())
                .setSourceOffset(source.offset())
                .setFailedAt(failedAt)
                .build();
    }

    /** The upload an embedding belongs to. */
    public static UploadRef upload(ImageEmbedding e) {
        return new UploadRef(e.getUploadId(), e.getUploaderId(), e.getImageSha256(), e.getSourcePartition(), e.getSourceOffset());
    }

    /**
     * The vector of a stored embedding, in either encoding. Its declared dimension is checked against the bytes (and
     * a sane maximum) before anything is allocated.
     *
     * @throws IllegalArgumentException the record's dimension, encoding and byte length disagree
     */
    public static float[] vector(ImageEmbedding e) {
        int width = e.getEncoding() == VectorEncoding.FLOAT16_LE ? 2 : 4;
        int dim = e.getDimension();
        ByteBuffer bytes = e.getVector().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (dim <= 0 || dim > MAX_DIMENSION || bytes.remaining() != (long) dim * width) {
            throw new IllegalArgumentException("embedding of " + e.getUploadId() + " declares " + dim + " " + e.getEncoding()
                    + " values but holds " + bytes.remaining() + " bytes");
        }
        float[] out = new float[dim];
        if (width == 4) {
            bytes.asFloatBuffer().get(out);
        } else {
            for (int i = 0; i < dim; i++) {
                out[i] = Float.float16ToFloat(bytes.getShort());
            }
        }
        return out;
    }
}
