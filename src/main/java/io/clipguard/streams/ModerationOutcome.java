package io.clipguard.streams;

import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.ScoringFailure;

/** What one upload record became: a verdict, or a dead letter that carries the original key bytes. */
sealed interface ModerationOutcome {
    record Verdict(ModerationVerdict verdict) implements ModerationOutcome {}

    record DeadLetter(byte[] originalKey, ScoringFailure failure) implements ModerationOutcome {}
}
