package io.clipguard.scoring;

import java.util.List;

/**
 * A {@link DetectorSet}'s answer for one image: the fused score (or the typed failure when no detector scored) and
 * every detector's part, in the set's order. Never an exception.
 *
 * @param outcome   the fused score ({@code llr} = the fusion of the logits that exist) or a failure
 * @param detectors one entry per detector of the set, in order
 * @param features  the CLIP detector's embedding (for the embeddings topic and rescore); null when the set has no
 *                  features detector or it failed
 */
public record FusedOutcome(ScoreOutcome outcome, List<DetectorScore> detectors, EmbedOutcome.Embedded features) {
    public FusedOutcome {
        detectors = List.copyOf(detectors);
    }
}
