package io.clipguard.cli;

import io.clipguard.model.LinearHead;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import io.clipguard.training.FeaturesFolder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One head applied to two models' features of the same images (e.g. an int8 export against its fp32 original): how
 * far the candidate's LLRs drift from the reference's, as a share of the reference's LLR spread, how many labels flip,
 * and how close the feature directions are.
 */
final class ModelComparison {
    /** One image scored by both models. */
    record Row(String filename, double referenceLlr, double candidateLlr, boolean referenceSynthetic,
               boolean candidateSynthetic, double featureCosine) {
        double drift() {
            return Math.abs(candidateLlr - referenceLlr);
        }

        boolean flipped() {
            return referenceSynthetic != candidateSynthetic;
        }
    }

    /**
     * @param failedInBoth   images neither model could score (bad files: the same decoder fails on both)
     * @param failedInOne    images one model scored and the other did not ("filename: reason")
     */
    record Result(List<Row> rows, List<String> failedInBoth, List<String> failedInOne) {
        double spread() {
            double min = rows.stream().mapToDouble(Row::referenceLlr).min().orElse(0);
            double max = rows.stream().mapToDouble(Row::referenceLlr).max().orElse(0);
            return max - min;
        }

        Row worst() {
            return rows.stream().max((a, b) -> Double.compare(a.drift(), b.drift())).orElseThrow();
        }

        double medianDrift() {
            return median(rows.stream().mapToDouble(Row::drift).toArray());
        }

        /** Max |ΔLLR| as a percentage of the reference spread. */
        double maxDriftPercent() {
            return 100 * worst().drift() / spread();
        }

        double medianDriftPercent() {
            return 100 * medianDrift() / spread();
        }

        long flips() {
            return rows.stream().filter(Row::flipped).count();
        }

        Row leastSimilar() {
            return rows.stream().min((a, b) -> Double.compare(a.featureCosine(), b.featureCosine())).orElseThrow();
        }

        double medianCosine() {
            return median(rows.stream().mapToDouble(Row::featureCosine).toArray());
        }
    }

    private ModelComparison() {}

    /**
     * Pairs the two feature sets row by row (both embedded from the same input list, so in the same order) and scores
     * each with {@code head}. {@code *Normalized}: the model's graph already L2-normalises (else the head does).
     */
    static Result compare(LinearHead head, FeaturesFolder.Features reference, boolean referenceNormalized,
                          FeaturesFolder.Features candidate, boolean candidateNormalized) {
        List<FeaturesFolder.Entry> refEntries = reference.entries();
        List<FeaturesFolder.Entry> candEntries = candidate.entries();
        if (refEntries.size() != candEntries.size()) {
            throw new IllegalStateException("the two runs saw " + refEntries.size() + " and " + candEntries.size()
                    + " images");
        }
        List<Row> rows = new ArrayList<>();
        List<String> failedInBoth = new ArrayList<>();
        List<String> failedInOne = new ArrayList<>();
        for (int i = 0; i < refEntries.size(); i++) {
            FeaturesFolder.Entry r = refEntries.get(i);
            FeaturesFolder.Entry c = candEntries.get(i);
            if (r.row() < 0 && c.row() < 0) {
                failedInBoth.add(r.filename() + ": " + r.error());
            } else if (r.row() < 0 || c.row() < 0) {
                failedInOne.add(r.filename() + ": " + (r.row() < 0 ? "reference " + r.error() : "candidate " + c.error()));
            } else {
                float[] rf = row(reference, r.row());
                float[] cf = row(candidate, c.row());
                ScoreOutcome rs = ScoringEngine.applyHead(head, rf, !referenceNormalized);
                ScoreOutcome cs = ScoringEngine.applyHead(head, cf, !candidateNormalized);
                if (rs instanceof ScoreOutcome.Scored a && cs instanceof ScoreOutcome.Scored b) {
                    rows.add(new Row(r.filename(), a.llr(), b.llr(), a.synthetic(), b.synthetic(), cosine(rf, cf)));
                } else {
                    failedInOne.add(r.filename() + ": " + (rs instanceof ScoreOutcome.Failed f ? "reference " + f.message()
                            : "candidate " + ((ScoreOutcome.Failed) cs).message()));
                }
            }
        }
        return new Result(rows, failedInBoth, failedInOne);
    }

    private static float[] row(FeaturesFolder.Features features, int row) {
        int dim = features.matrix().cols();
        return Arrays.copyOfRange(features.matrix().data(), row * dim, (row + 1) * dim);
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(aa * bb);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
