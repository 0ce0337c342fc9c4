package io.clipguard.training;

import static org.assertj.core.api.Assertions.assertThat;

import de.bwaldvogel.liblinear.Feature;
import de.bwaldvogel.liblinear.FeatureNode;
import de.bwaldvogel.liblinear.Linear;
import de.bwaldvogel.liblinear.Model;
import de.bwaldvogel.liblinear.Parameter;
import de.bwaldvogel.liblinear.Problem;
import de.bwaldvogel.liblinear.SolverType;
import io.clipguard.evaluation.BinaryMetrics;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The dense solvers against LIBLINEAR's own (the oracle) on the same rows, C, start and random generator. */
class DenseLinearSolverTest {
    private static final List<Double> CS = List.of(0.01, 0.1, 1.0, 10.0, 100.0, 1000.0);

    static {
        Linear.disableDebugOutput(); // it prints every iteration to stdout otherwise
    }

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
        for (Data d : dataSets()) {
            for (boolean warm : new boolean[] {false, true}) {
                double[] previousDense = null;
                double[] previousOracle = null;
                for (double c : CS) {
                    double[] oracle = oracle(d, d.all(), LinearTrainer.Solver.LOGREG, c, warm ? previousOracle : null);
                    double[] dense = DenseLinearSolver.logisticRegression(d.x(), d.dim(), d.all(), d.y(), c,
                            LinearTrainer.EPS, warm ? previousDense : null);
                    assertAgrees(d, "logreg C=" + c + " warm=" + warm, dense, oracle);
                    previousDense = dense;
                    previousOracle = oracle;
                }
            }
        }
    }

    @Test
    void givesLiblinearsSvmSolutionAcrossC() throws Exception {
        for (Data d : dataSets()) {
            for (double c : CS) {
                double[] oracle = oracle(d, d.all(), LinearTrainer.Solver.SVM, c, null);
                double[] dense = DenseLinearSolver.svm(d.x(), d.dim(), d.all(), d.y(), c, LinearTrainer.EPS,
                        new Random(0));
                assertAgrees(d, "svm C=" + c, dense, oracle);
            }
        }
    }

    private static List<Data> dataSets() throws Exception {
        double[] u = LinearTrainerTest.unitDirection(200, 5);
        return List.of(
                // real CLIP-like features of the sklearn parity fixture (64-d)
                Data.of("fixture", LinearTrainerTest.load("features-train")),
                // unbalanced, weakly separable, wider than the fixture, so the tolerance's min(n+, n-) matters
                Data.of("planted", LinearTrainerTest.planted(300, 900, 1.5, 11, u)),
                // separable: large C lets the weights grow, the hard case for the line search
                Data.of("separable", LinearTrainerTest.planted(250, 250, 12, 12, u)));
    }

    /** LIBLINEAR's solution (Java port) on the rows {@code selected}, seed 0 for its random generator. */
    private static double[] oracle(Data d, int[] selected, LinearTrainer.Solver solver, double c, double[] start) {
        Feature[][] features = new Feature[selected.length][];
        double[] y = new double[selected.length];
        for (int k = 0; k < selected.length; k++) {
            int i = selected[k];
            Feature[] row = new Feature[d.dim() + 1];
            for (int j = 0; j < d.dim(); j++) {
                row[j] = new FeatureNode(j + 1, d.x()[i * d.dim() + j]);
            }
            row[d.dim()] = new FeatureNode(d.dim() + 1, 1.0); // the bias feature
            features[k] = row;
            y[k] = d.y()[i];
        }
        Problem problem = new Problem();
        problem.l = selected.length;
        problem.n = d.dim() + 1;
        problem.bias = 1;
        problem.x = features;
        problem.y = y;
        Parameter parameter = new Parameter(solver == LinearTrainer.Solver.SVM ? SolverType.L2R_L2LOSS_SVC_DUAL
                : SolverType.L2R_LR, c, LinearTrainer.EPS);
        parameter.setRandom(new Random(0));
        if (start != null) {
            parameter.setInitSol(start.clone());
        }
        Model model = Linear.train(problem, parameter);
        assertThat(model.getLabels()[0]).isEqualTo(1); // so its weights are the positive class's, as ours
        return Arrays.copyOf(model.getFeatureWeights(), d.dim() + 1);
    }

    private static void assertAgrees(Data d, String what, double[] dense, double[] oracle) {
        double cosine = LinearTrainerTest.cosine(dense, oracle, d.dim() + 1);
        double aucDiff = Math.abs(BinaryMetrics.auc(d.decisions(dense), d.positive())
                - BinaryMetrics.auc(d.decisions(oracle), d.positive()));
        System.out.printf(Locale.ROOT, "%-9s %-26s 1 - cosine %8.1e  AUC diff %.1e%n", d.name(), what, 1 - cosine,
                aucDiff);
        assertThat(cosine).as(d.name() + " " + what).isGreaterThanOrEqualTo(0.9999);
        assertThat(aucDiff).as(d.name() + " " + what).isLessThanOrEqualTo(1e-4);
    }

    @Test
    void usesOnlyTheSelectedRows() throws Exception {
        Data d = Data.of("planted", LinearTrainerTest.planted(200, 200, 2, 13, LinearTrainerTest.unitDirection(32, 6)));
        int[] even = IntStream.range(0, d.rows()).filter(i -> i % 2 == 0).toArray();
        for (LinearTrainer.Solver solver : LinearTrainer.Solver.values()) {
            double[] oracle = oracle(d, even, solver, 1.0, null);
            double[] dense = fit(d, even, solver);
            assertAgrees(d, solver + " even rows", dense, oracle);
            // a different problem gives a different solution
            assertThat(LinearTrainerTest.cosine(dense, fit(d, d.all(), solver), d.dim() + 1)).isLessThan(0.9999);
        }
    }

    private static double[] fit(Data d, int[] selected, LinearTrainer.Solver solver) {
        return solver == LinearTrainer.Solver.SVM
                ? DenseLinearSolver.svm(d.x(), d.dim(), selected, d.y(), 1.0, LinearTrainer.EPS, new Random(0))
                : DenseLinearSolver.logisticRegression(d.x(), d.dim(), selected, d.y(), 1.0, LinearTrainer.EPS, null);
    }
}
