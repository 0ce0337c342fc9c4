package io.clipguard.scoring;

/**
 * The model's feature vector for one image, or why there is none: exactly one of the two is non-null.
 *
 * @param features the graph's output (not L2-normalised by the engine)
 * @param failure  the typed failure, as scoring would report it
 */
public record FeatureOutcome(float[] features, ScoreOutcome.Failed failure) {
    public static FeatureOutcome of(float[] features) {
        return new FeatureOutcome(features, null);
    }

    public static FeatureOutcome failed(ScoreOutcome.Failed failure) {
        return new FeatureOutcome(null, failure);
    }

    public boolean ok() {
        return failure == null;
    }
}
