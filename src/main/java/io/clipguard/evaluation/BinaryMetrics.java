package io.clipguard.evaluation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Detection metrics of scores against binary labels (positive = synthetic), defined as scikit-learn defines them:
 * {@code roc_auc_score} (ties count one half), {@code balanced_accuracy_score} of the prediction "score &gt;
 * threshold", and the ROC curve.
 */
public final class BinaryMetrics {
    private BinaryMetrics() {}

    /** A point of the ROC curve: the rates of "score &ge; threshold". */
    public record RocPoint(double fpr, double tpr, double threshold) {}

    /** Area under the ROC curve from average ranks (Mann-Whitney U), exact with ties. */
    public static double auc(double[] scores, boolean[] positive) {
        int n = scores.length;
        Integer[] order = sortedIndices(scores);
        double positiveRankSum = 0;
        long positives = 0;
        for (int i = 0; i < n; ) {
            int j = i;
            while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
                j++;
            }
            double averageRank = (i + j) / 2.0 + 1; // ranks i+1 .. j+1
            for (int k = i; k <= j; k++) {
                if (positive[order[k]]) {
                    positiveRankSum += averageRank;
                    positives++;
                }
            }
            i = j + 1;
        }
        long negatives = n - positives;
        requireBothClasses(positives, negatives);
        return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double) positives * negatives);
    }

    /** Mean of the recall of each class, predicting positive iff score &gt; threshold. */
    public static double balancedAccuracy(double[] scores, boolean[] positive, double threshold) {
        long tp = 0;
        long tn = 0;
        long positives = 0;
        for (int i = 0; i < scores.length; i++) {
            boolean predicted = scores[i] > threshold;
            if (positive[i]) {
                positives++;
                tp += predicted ? 1 : 0;
            } else {
                tn += predicted ? 0 : 1;
            }
        }
        long negatives = scores.length - positives;
        requireBothClasses(positives, negatives);
        return ((double) tp / positives + (double) tn / negatives) / 2;
    }

    /** The ROC curve from (0,0) to (1,1), one point per distinct score, highest score first. */
    public static List<RocPoint> roc(double[] scores, boolean[] positive) {
        Integer[] order = sortedIndices(scores);
        long positives = 0;
        for (boolean p : positive) {
            positives += p ? 1 : 0;
        }
        long negatives = scores.length - positives;
        requireBothClasses(positives, negatives);
        List<RocPoint> points = new ArrayList<>();
        points.add(new RocPoint(0, 0, Double.POSITIVE_INFINITY));
        long tp = 0;
        long fp = 0;
        for (int i = scores.length - 1; i >= 0; ) {
            double t = scores[order[i]];
            while (i >= 0 && scores[order[i]] == t) {
                if (positive[order[i]]) {
                    tp++;
                } else {
                    fp++;
                }
                i--;
            }
            points.add(new RocPoint((double) fp / negatives, (double) tp / positives, t));
        }
        return points;
    }

    /**
     * The highest true-positive rate of any threshold whose false-positive rate is at most {@code maxFpr} (the ROC
     * curve read without interpolation).
     */
    public static double tprAtFpr(double[] scores, boolean[] positive, double maxFpr) {
        double best = 0;
        for (RocPoint p : roc(scores, positive)) {
            if (p.fpr() <= maxFpr + 1e-12) {
                best = Math.max(best, p.tpr());
            }
        }
        return best;
    }

    /**
     * The lowest threshold t such that the fraction of {@code negatives} with score &gt; t is at most
     * {@code maxFpr}: predicting "score &gt; t" then meets the false-positive target on these scores.
     */
    public static double thresholdForFpr(double[] negatives, double maxFpr) {
        if (negatives.length == 0) {
            throw new IllegalArgumentException("no negative scores to set a false-positive rate on");
        }
        double[] sorted = negatives.clone();
        Arrays.sort(sorted);
        int allowedAbove = (int) Math.floor(maxFpr * sorted.length + 1e-9);
        // t = the (allowedAbove+1)-th highest score: at most allowedAbove scores lie strictly above it.
        return sorted[sorted.length - 1 - Math.min(allowedAbove, sorted.length - 1)];
    }

    private static Integer[] sortedIndices(double[] scores) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble(i -> scores[i]));
        return order;
    }

    private static void requireBothClasses(long positives, long negatives) {
        if (positives == 0 || negatives == 0) {
            throw new IllegalArgumentException("metrics need both classes; got " + positives + " positive and "
                    + negatives + " negative scores");
        }
    }
}
