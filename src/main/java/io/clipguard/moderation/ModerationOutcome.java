package io.clipguard.moderation;

import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.ScoringFailure;
import io.clipguard.scoring.DetectorScore;
import java.util.List;

/**
 * What one upload record became: a verdict with the feature vector it was scored from, or a dead letter that carries
 * the original key bytes; with what each detector of the set made of the image (for per-detector metrics).
 */
public sealed interface ModerationOutcome {
    /** Each detector's part, in the set's order; empty when no detector ran (the event or its image never arrived). */
    List<DetectorScore> detectors();

    /**
     * @param embedding the CLIP detector's vector with the other detectors' logits; null when the CLIP detector failed
     *                  on the image and the verdict was fused from the other detectors alone
     */
    record Verdict(ModerationVerdict verdict, ImageEmbedding embedding, List<DetectorScore> detectors)
            implements ModerationOutcome {
        public Verdict(ModerationVerdict verdict, ImageEmbedding embedding) {
            this(verdict, embedding, List.of());
        }
    }

    record DeadLetter(byte[] originalKey, ScoringFailure failure, List<DetectorScore> detectors) implements ModerationOutcome {
        public DeadLetter(byte[] originalKey, ScoringFailure failure) {
            this(originalKey, failure, List.of());
        }
    }
}
