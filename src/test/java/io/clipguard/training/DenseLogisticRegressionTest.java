package io.clipguard.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.evaluation.BinaryMetrics;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The dense Newton solver against LIBLINEAR's own (the oracle) on the same rows, C and start. */
class DenseLogisticRegressionTest {
    private static final List<Double> CS = List.of(0.01, 0.1, 1.0, 10.0, 100.0, 1000.0);

    /** One data set as the trainer prepares it: normalised rows, ±1 labels, LIBLINEAR's view of the same rows. */
    private record Data(String name, double[] x, int rows, int dim, double[] y, boolean[] positive, int[] all) {
        static Data of(String name, LinearTrainerTest.Labelled d) throws Exception {
            int rows = d.x().rows();
            int dim = d.x().cols();
            double[] y = new double[rows];
            for (int i = 0; i < rows; i++) {
                y[i] = d.positive()[i] ? 1 : -1;
            }
            return new Data(name, LinearTrainer.normalisedRows(d.x().data(), rows, dim), rows, dim, y, d.positive(),
                    IntStream.range(0, rows).toArray());
        }

        double[] decisions(double[] w) {
            double[] s = new double[rows];
            for (int i = 0; i < rows; i++) {
                s[i] = w[dim];
                for (int j = 0; j < dim; j++) {
                    s[i] += w[j] * x[i * dim + j];
                }
            }
            return s;
        }
    }

    @Test
    void givesLiblinearsSolutionAcrossCWithAndWithoutWarmStart() throws Exception {
        double[] u = LinearTrainerTest.unitDirection(200, 5);
        List<Data> sets = List.of(
                // real CLIP-like features of the sklearn parity fixture (64-d)
                Data.of("fixture", LinearTrainerTest.load("features-train")),
                // unbalanced, weakly separable, wider than the fixture, so the tolerance's min(n+, n-) matters
                Data.of("planted", LinearTrainerTest.planted(300, 900, 1.5, 11, u)),
                // separable: large C lets the weights grow, the hard case for the line search
                Data.of("separable", LinearTrainerTest.planted(250, 250, 12, 12, u)));
        for (Data d : sets) {
            for (boolean warm : new boolean[] {false, true}) {
                double[] previousDense = null;
                double[] previousOracle = null;
                for (double c : CS) {
                    double[] oracle = LinearTrainer.fitLiblinear(
                            LinearTrainer.liblinearProblem(LinearTrainer.liblinearRows(d.x(), d.rows(), d.dim()),
                                    d.dim(), d.y(), d.all()),
                            d.dim(), LinearTrainer.Solver.LOGREG, c, 0, warm ? previousOracle : null);
                    double[] dense = new DenseLogisticRegression(d.x(), d.dim(), d.all(), d.y(), c)
                            .solve(LinearTrainer.EPS, warm ? previousDense : null);
                    double cosine = LinearTrainerTest.cosine(dense, oracle, d.dim() + 1);
                    double aucDiff = Math.abs(BinaryMetrics.auc(d.decisions(dense), d.positive())
                            - BinaryMetrics.auc(d.decisions(oracle), d.positive()));
                    System.out.printf(Locale.ROOT, "%-9s C=%-6s warm=%-5s 1 - cosine %.1e  AUC diff %.1e%n", d.name(), c,
                            warm, 1 - cosine, aucDiff);
                    assertThat(cosine).as(d.name() + " C=" + c + " warm=" + warm).isGreaterThanOrEqualTo(0.9999);
                    assertThat(aucDiff).as(d.name() + " C=" + c + " warm=" + warm).isLessThanOrEqualTo(1e-4);
                    previousDense = dense;
                    previousOracle = oracle;
                }
            }
        }
    }

    @Test
    void usesOnlyTheSelectedRows() throws Exception {
        Data d = Data.of("planted", LinearTrainerTest.planted(200, 200, 2, 13, LinearTrainerTest.unitDirection(32, 6)));
        int[] even = IntStream.range(0, d.rows()).filter(i -> i % 2 == 0).toArray();
        double[] oracle = LinearTrainer.fitLiblinear(LinearTrainer.liblinearProblem(
                LinearTrainer.liblinearRows(d.x(), d.rows(), d.dim()), d.dim(), d.y(), even), d.dim(),
                LinearTrainer.Solver.LOGREG, 1.0, 0, null);
        double[] dense = new DenseLogisticRegression(d.x(), d.dim(), even, d.y(), 1.0).solve(LinearTrainer.EPS, null);
        assertThat(LinearTrainerTest.cosine(dense, oracle, d.dim() + 1)).isGreaterThanOrEqualTo(0.9999);
        double[] full = new DenseLogisticRegression(d.x(), d.dim(), d.all(), d.y(), 1.0).solve(LinearTrainer.EPS, null);
        assertThat(LinearTrainerTest.cosine(dense, full, d.dim() + 1)).isLessThan(0.9999); // a different problem
    }
}
