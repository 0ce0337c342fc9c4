package io.clipguard.moderation;

import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.ScoringFailure;

/**
 * What one upload record became: a verdict with the feature vector it was scored from, or a dead letter that carries
 * the original key bytes.
 */
public sealed interface ModerationOutcome {
    record Verdict(ModerationVerdict verdict, ImageEmbedding embedding) implements ModerationOutcome {}

    record DeadLetter(byte[] originalKey, ScoringFailure failure) implements ModerationOutcome {}
}
