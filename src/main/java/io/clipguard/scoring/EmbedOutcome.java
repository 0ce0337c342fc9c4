package io.clipguard.scoring;

/**
 * The backbone's answer for one image before any head: its feature vector, or the typed failure (shared with
 * {@link ScoreOutcome}). Never an exception.
 */
public sealed interface EmbedOutcome permits EmbedOutcome.Embedded, ScoreOutcome.Failed {
    /**
     * @param features the model's output as the graph returns it (raw ln_post features unless the manifest says
     *                 l2_normalize = graph), or the logit as one value for a logit model; shared, never modified
     * @param cropped  the model saw a centre crop of the image because of its pixel cap (native-resolution models)
     */
    record Embedded(float[] features, boolean cropped) implements EmbedOutcome {
        public Embedded(float[] features) {
            this(features, false);
        }
    }
}
