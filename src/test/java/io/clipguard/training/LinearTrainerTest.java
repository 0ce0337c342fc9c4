package io.clipguard.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.clipguard.evaluation.BinaryMetrics;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LinearTrainerTest {
    static final Path FIXTURES = Path.of("src/test/resources/training");

    /** Labelled rows read from a features folder of the fixture (typ 'real' = negative). */
    record Labelled(Npy.Matrix x, boolean[] positive) {}

    static Labelled load(String folder) throws Exception {
        FeaturesFolder.Features f = FeaturesFolder.read(FIXTURES.resolve(folder));
        boolean[] positive = new boolean[f.entries().size()];
        for (int i = 0; i < positive.length; i++) {
            positive[i] = !f.entries().get(i).carried().get(0).equals("real");
        }
        return new Labelled(f.matrix(), positive);
    }

    static double[] decisions(double[] w, Npy.Matrix x) {
        double[] s = new double[x.rows()];
        for (int i = 0; i < x.rows(); i++) {
            double dot = 0;
            double squares = 0;
            for (int j = 0; j < x.cols(); j++) {
                float v = x.data()[i * x.cols() + j];
                dot += w[j] * v;
                squares += (double) v * v;
            }
            s[i] = dot / Math.sqrt(squares) + (w.length > x.cols() ? w[x.cols()] : 0);
        }
        return s;
    }

    static double[] withBias(float[] weights, double bias) {
        double[] w = new double[weights.length + 1];
        for (int j = 0; j < weights.length; j++) {
            w[j] = weights[j];
        }
        w[weights.length] = bias;
        return w;
    }

    static double cosine(double[] a, double[] b, int n) {
        double ab = 0, aa = 0, bb = 0;
        for (int j = 0; j < n; j++) {
            ab += a[j] * b[j];
            aa += a[j] * a[j];
            bb += b[j] * b[j];
        }
        return ab / Math.sqrt(aa * bb);
    }

    static LinearTrainer.Result train(Labelled d, LinearTrainer.Solver solver, List<Double> grid, Double fpr)
            throws Exception {
        return LinearTrainer.train(d.x().data(), d.x().rows(), d.x().cols(), d.positive(),
                new LinearTrainer.Options(solver, grid, 5, fpr, 0), row -> {});
    }

    @Test
    void matchesScikitLearnLogisticRegressionAndLinearSvcAtTheSameC() throws Exception {
        JsonNode expected = new ObjectMapper().readTree(FIXTURES.resolve("sklearn-expected.json").toFile());
        Labelled train = load("features-train");
        Labelled test = load("features-test");
        for (LinearTrainer.Solver solver : LinearTrainer.Solver.values()) {
            JsonNode sk = expected.get(solver == LinearTrainer.Solver.LOGREG ? "logreg" : "svm");
            double[] coef = new double[64];
            for (int j = 0; j < 64; j++) {
                coef[j] = sk.get("coef").get(j).asDouble();
            }
            LinearTrainer.Result r = train(train, solver, List.of(1.0), null);
            double cosine = cosine(r.decisionWeights(), coef, 64);
            // the head (Platt + prior correction folded in) ranks the held-out rows as sklearn's model does
            double auc = BinaryMetrics.auc(decisions(withBias(r.weights(), r.bias()), test.x()), test.positive());
            double bacc = BinaryMetrics.balancedAccuracy(decisions(r.decisionWeights(), test.x()), test.positive(), 0);
            // printed so the parity can be quoted (surefire keeps it in target/surefire-reports)
            System.out.printf(Locale.ROOT, "sklearn parity %-6s weight cosine %.8f (1 - cos %.1e)  intercept %+.6f"
                    + " vs %+.6f  held-out AUC %.6f vs %.6f (Δ %+.1e)  bAcc %.6f vs %.6f (Δ %+.1e)%n", solver, cosine,
                    1 - cosine,
                    r.decisionWeights()[64], sk.get("intercept").asDouble(), auc, sk.get("auc").asDouble(),
                    auc - sk.get("auc").asDouble(), bacc, sk.get("bacc").asDouble(), bacc - sk.get("bacc").asDouble());
            assertThat(cosine).as(solver + " weight cosine").isGreaterThanOrEqualTo(0.999);
            assertThat(r.decisionWeights()[64]).as(solver + " intercept").isCloseTo(sk.get("intercept").asDouble(),
                    within(0.02));
            assertThat(auc).as(solver + " held-out AUC").isCloseTo(sk.get("auc").asDouble(), within(0.005));
            assertThat(bacc).as(solver + " held-out bAcc").isCloseTo(sk.get("bacc").asDouble(), within(0.005));
        }
    }

    /** Two Gaussian classes in 64-d, means ±(strength/2)·u, unit variance: the true LLR is linear along u. */
    static Labelled planted(int positives, int negatives, double strength, long seed, double[] u) {
        Random random = new Random(seed);
        int n = positives + negatives;
        float[] x = new float[n * u.length];
        boolean[] positive = new boolean[n];
        for (int i = 0; i < n; i++) {
            positive[i] = i < positives;
            double sign = positive[i] ? 0.5 : -0.5;
            for (int j = 0; j < u.length; j++) {
                x[i * u.length + j] = (float) (random.nextGaussian() + sign * strength * u[j]);
            }
        }
        return new Labelled(new Npy.Matrix(n, u.length, x), positive);
    }

    static double[] unitDirection(int dim, long seed) {
        Random random = new Random(seed);
        double[] u = new double[dim];
        double norm = 0;
        for (int j = 0; j < dim; j++) {
            u[j] = random.nextGaussian();
            norm += u[j] * u[j];
        }
        for (int j = 0; j < dim; j++) {
            u[j] /= Math.sqrt(norm);
        }
        return u;
    }

    @Test
    void recoversAPlantedDirection() throws Exception {
        double[] u = unitDirection(64, 7);
        LinearTrainer.Result r = train(planted(2000, 2000, 2.0, 1, u), LinearTrainer.Solver.LOGREG,
                List.of(0.1, 1.0, 10.0, 100.0), null);
        assertThat(cosine(withBias(r.weights(), r.bias()), u, 64)).isGreaterThan(0.95);
        assertThat(r.cvAuc()).isGreaterThan(0.8);
        assertThat(r.table()).hasSize(4);
    }

    @Test
    void priorCorrectionKeepsTheLlrOfAnUnbalancedSet() throws Exception {
        double[] u = unitDirection(64, 7);
        Labelled heldOut = planted(2000, 2000, 2.0, 99, u);
        double[][] means = new double[2][];
        int k = 0;
        for (int[] counts : new int[][] {{400, 3600}, {2000, 2000}}) { // 1:9 and 1:1
            LinearTrainer.Result r = train(planted(counts[0], counts[1], 2.0, 3 + k, u), LinearTrainer.Solver.LOGREG,
                    List.of(1.0, 10.0, 100.0), null);
            double[] llr = decisions(withBias(r.weights(), r.bias()), heldOut.x());
            double pos = 0, neg = 0;
            for (int i = 0; i < llr.length; i++) {
                if (heldOut.positive()[i]) {
                    pos += llr[i] / 2000;
                } else {
                    neg += llr[i] / 2000;
                }
            }
            System.out.printf(Locale.ROOT, "prior correction %d:%d (prior log-odds %+.3f): mean held-out LLR"
                    + " synthetic %+.4f, real %+.4f%n", counts[0], counts[1], r.priorLogOdds(), pos, neg);
            means[k++] = new double[] {pos, neg};
        }
        System.out.printf(Locale.ROOT, "prior correction 1:9 vs 1:1: Δ mean LLR synthetic %+.4f, real %+.4f"
                + " (uncorrected it would be %+.3f)%n", means[0][0] - means[1][0], means[0][1] - means[1][1],
                Math.log(400.0 / 3600));
        // Without the correction the 1:9 head's LLRs would sit log(9) = 2.2 lower; with it they agree within 0.25
        // (the data's true mean LLRs are about +-2; the rest is estimation noise of 400 positives).
        assertThat(means[0][0]).isCloseTo(means[1][0], within(0.25));
        assertThat(means[0][1]).isCloseTo(means[1][1], within(0.25));
        assertThat(means[1][0]).isGreaterThan(1.0);
        assertThat(means[1][1]).isLessThan(-1.0);
    }

    @Test
    void targetFprSetsTheThresholdOnOutOfFoldRealScores() throws Exception {
        LinearTrainer.Result r = train(planted(300, 300, 1.5, 5, unitDirection(64, 7)), LinearTrainer.Solver.LOGREG,
                List.of(1.0), 0.05);
        long realAbove = 0;
        Labelled d = planted(300, 300, 1.5, 5, unitDirection(64, 7));
        for (int i = 0; i < d.positive().length; i++) {
            if (!d.positive()[i] && r.outOfFoldLlr()[i] > r.threshold()) {
                realAbove++;
            }
        }
        assertThat(realAbove).isLessThanOrEqualTo(15).isGreaterThanOrEqualTo(10); // 5 % of 300, ties aside
        assertThat(r.threshold()).isNotEqualTo(0.0);
    }

    @Test
    void refusesOneClassAndTooSmallSets() {
        double[] u = unitDirection(8, 1);
        assertThatThrownBy(() -> train(planted(0, 30, 1, 1, u), LinearTrainer.Solver.LOGREG, List.of(1.0), null))
                .isInstanceOf(LinearTrainer.TrainingException.class).hasMessageContaining("one class only");
        assertThatThrownBy(() -> train(planted(3, 30, 1, 1, u), LinearTrainer.Solver.SVM, List.of(1.0), null))
                .isInstanceOf(LinearTrainer.TrainingException.class)
                .hasMessageContaining("3 synthetic and 30 real").hasMessageContaining("at least 5");
    }

    @Test
    void stratifiedFoldsKeepTheClassRatioAndDependOnlyOnTheSeed() {
        boolean[] positive = new boolean[100];
        for (int i = 0; i < 20; i++) {
            positive[i * 5] = true;
        }
        int[] folds = LinearTrainer.stratifiedFolds(positive, 5, 42);
        assertThat(folds).isEqualTo(LinearTrainer.stratifiedFolds(positive, 5, 42));
        assertThat(folds).isNotEqualTo(LinearTrainer.stratifiedFolds(positive, 5, 43));
        for (int k = 0; k < 5; k++) {
            int pos = 0, all = 0;
            for (int i = 0; i < 100; i++) {
                if (folds[i] == k) {
                    all++;
                    pos += positive[i] ? 1 : 0;
                }
            }
            assertThat(all).isEqualTo(20);
            assertThat(pos).isEqualTo(4);
        }
    }

    @Test
    void moreValuesThanOneArrayHoldsIsRefusedBeforeAllocating() {
        // 3,000,000 x 1,024 = 3.07e9 values: the row-major matrix's int length would overflow.
        assertThatThrownBy(() -> LinearTrainer.normalisedRows(new float[0], 3_000_000, 1024))
                .isInstanceOf(LinearTrainer.TrainingException.class)
                .hasMessageContaining("3072000000 values").hasMessageContaining("train on a sample of the rows");
    }
}
