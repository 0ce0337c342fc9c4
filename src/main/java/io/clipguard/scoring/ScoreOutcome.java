package io.clipguard.scoring;

/** The result for one input image: a score or a typed failure, never an exception. */
public sealed interface ScoreOutcome {
    /**
     * @param llr         head output, log-likelihood ratio (&gt; threshold ⇒ synthetic)
     * @param probability calibrated probability of synthetic, σ(a·llr + b)
     * @param synthetic   llr &gt; the head's threshold
     */
    record Scored(double llr, double probability, boolean synthetic) implements ScoreOutcome {}

    record Failed(FailureReason reason, String message) implements ScoreOutcome, EmbedOutcome {}
}
