package io.clipguard.scoring;

/**
 * One detector's part in a fused score: its logit, or why it has none.
 *
 * @param detectorId  the detector's id in the set (the CSV column, the verdict's entry)
 * @param modelId     the manifest id of its model
 * @param headVersion the linear head that made the logit (the CLIP detector); null for a logit model
 * @param logit       its logit (LLR, &gt; 0 ⇒ synthetic); null when it failed on this image
 * @param cropped     it saw a centre crop because of its pixel cap
 * @param failure     why it has no logit; null when it scored
 * @param error       the failure's message; null when it scored
 */
public record DetectorScore(String detectorId, String modelId, String headVersion, Double logit, boolean cropped,
                            FailureReason failure, String error) {
    public boolean scored() {
        return logit != null;
    }

    /** {@code REASON: message}, or null when it scored. */
    public String errorText() {
        return failure == null ? null : failure.name() + ": " + error;
    }
}
