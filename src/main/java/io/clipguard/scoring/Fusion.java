package io.clipguard.scoring;

import java.util.Arrays;
import java.util.Locale;

/**
 * The reference's fusion rules ({@code utils/fusion.py} of Cozzolino et al.), by their exact names: how the logits of
 * several detectors become one score. Computed in double in a numerically stable form: finite for any finite
 * logits (no overflow at |x| = 700, where σ and its complement leave double's range), never NaN. With one logit
 * every rule returns it unchanged.
 *
 * <p>{@link #SOFT_OR_PROB} leans towards "synthetic": two logits of 0 fuse to ln 3 ≈ 1.0986 (1 − ¼ = ¾), so a
 * threshold chosen for one detector does not carry over to the fusion (docs/scoring.md).
 */
public enum Fusion {
    /** mean(x). */
    MEAN_LOGIT,
    /** max(x). */
    MAX_LOGIT,
    /** median(x) (the mean of the two middle values for an even count, as numpy's). */
    MEDIAN_LOGIT,
    /** log Σ exp(xᵢ), not divided by N. */
    LSE_LOGIT,
    /** logit(mean σ(xᵢ)). */
    MEAN_PROB,
    /** logit(1 − Π(1 − σ(xᵢ))): the reference's default. */
    SOFT_OR_PROB;

    /** The reference's default rule. */
    public static final Fusion REFERENCE_DEFAULT = SOFT_OR_PROB;

    /** The reference's name: {@code mean_logit}, ..., {@code soft_or_prob}. */
    public String ruleName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The rule with the reference's name {@code name} (case-insensitive); the message lists the names. */
    public static Fusion byName(String name) {
        for (Fusion f : values()) {
            if (f.ruleName().equalsIgnoreCase(name == null ? "" : name.strip())) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown fusion rule '" + name + "'; use one of " + names());
    }

    /** The rule names, comma-separated, for messages and help. */
    public static String names() {
        return String.join(", ", Arrays.stream(values()).map(Fusion::ruleName).toList());
    }

    /** The fused logit of {@code logits} (at least one, all finite). */
    public double apply(double... logits) {
        if (logits.length == 0) {
            throw new IllegalArgumentException("nothing to fuse: no detector scored");
        }
        for (double x : logits) {
            if (!Double.isFinite(x)) {
                throw new IllegalArgumentException("cannot fuse a non-finite logit: " + Arrays.toString(logits));
            }
        }
        return switch (this) {
            case MEAN_LOGIT -> mean(logits);
            case MAX_LOGIT -> Arrays.stream(logits).max().orElseThrow();
            case MEDIAN_LOGIT -> median(logits);
            case LSE_LOGIT -> logSumExp(logits);
            case MEAN_PROB -> meanProb(logits);
            case SOFT_OR_PROB -> softOrProb(logits);
        };
    }

    private static double mean(double[] x) {
        double sum = 0;
        for (double v : x) {
            sum += v;
        }
        return sum / x.length;
    }

    private static double median(double[] x) {
        double[] sorted = x.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /** log Σ exp(xᵢ), shifted by the maximum so that no exp overflows. */
    static double logSumExp(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (double v : x) {
            sum += Math.exp(v - max);
        }
        return max + Math.log(sum);
    }

    /**
     * logit(p) with p = mean σ(xᵢ) is log p − log(1 − p), and 1 − p = mean σ(−xᵢ): the two log-means are
     * log-sum-exps of log σ, whose 1/N cancels. Neither side ever leaves double's range.
     */
    private static double meanProb(double[] x) {
        double[] logP = new double[x.length];
        double[] logQ = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            logP[i] = logSigmoid(x[i]);
            logQ[i] = logSigmoid(-x[i]);
        }
        return logSumExp(logP) - logSumExp(logQ);
    }

    /**
     * logit(1 − Π σ(−xᵢ)). With u = Σ softplus(xᵢ) = −log Π σ(−xᵢ) &gt; 0 the result is log(1 − e^−u) + u.
     * u is summed in log space (log softplus), so that very negative logits, whose softplus is below double's range
     * on its own, still count: then log(1 − e^−u) ≈ log u.
     */
    private static double softOrProb(double[] x) {
        double[] logSoftplus = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            logSoftplus[i] = logSoftplus(x[i]);
        }
        double logU = logSumExp(logSoftplus);
        double u = Math.exp(logU);
        double log1mExp; // log(1 − e^−u), stable on both sides of ln 2 (Mächler's log1mexp)
        if (u == 0) {
            log1mExp = logU; // u below double's range: log(1 − e^−u) = log u to within u
        } else if (u < Math.log(2)) {
            log1mExp = Math.log(-Math.expm1(-u));
        } else {
            log1mExp = Math.log1p(-Math.exp(-u));
        }
        return log1mExp + u;
    }

    /** log σ(x) = −softplus(−x), finite for every finite x. */
    static double logSigmoid(double x) {
        return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
    }

    /** log(softplus(x)) = log(log(1 + eˣ)); below −30, softplus(x) = eˣ(1 − eˣ/2 + ...), so its log is x − eˣ/2. */
    static double logSoftplus(double x) {
        if (x < -30) {
            return x - Math.exp(x) / 2;
        }
        double softplus = x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
        return Math.log(softplus);
    }

    /** σ(x) without overflow. */
    public static double sigmoid(double x) {
        if (x >= 0) {
            return 1 / (1 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1 + e);
    }
}
