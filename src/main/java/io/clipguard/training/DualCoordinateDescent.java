package io.clipguard.training;

import java.util.Random;

/**
 * LIBLINEAR's {@code solve_l2r_l1l2_svc} for the squared-hinge SVM (no upper bound on α): coordinate descent on the
 * dual with shrinking, the rows shuffled each pass with the given {@code Random} as LIBLINEAR uses it. After
 * {@link #MAX_PASSES} passes LIBLINEAR finishes with the primal Newton method, which {@link DenseLinearSolver#svm}
 * does.
 */
final class DualCoordinateDescent {
    /** LIBLINEAR's pass limit for the dual solvers. */
    static final int MAX_PASSES = 300;

    private DualCoordinateDescent() {}

    /**
     * Fits {@code w} (dim weights, then the bias's; zero on entry) on {@code rows} of {@code matrix} with labels
     * {@code y} (±1 per row of the matrix), to LIBLINEAR's tolerance {@code eps}; returns the passes made, which is
     * {@link #MAX_PASSES} when it stopped before converging.
     */
    static int solve(DenseRows matrix, int[] rows, double[] y, double c, double[] w, double eps, Random random) {
        int dim = matrix.dim();
        int l = rows.length;
        double diag = 0.5 / c;
        double[] qd = new double[l];
        double[] alpha = new double[l];
        int[] index = new int[l];
        for (int i = 0; i < l; i++) {
            int offset = rows[i] * dim;
            qd[i] = diag + matrix.rowDot(offset, matrix.x(), offset) + 1; // the bias feature's 1²
            index[i] = i;
        }
        int activeSize = l;
        double pgMaxOld = Double.POSITIVE_INFINITY;
        double pgMinOld = Double.NEGATIVE_INFINITY;
        int iter = 0;
        while (iter < MAX_PASSES) {
            double pgMaxNew = Double.NEGATIVE_INFINITY;
            double pgMinNew = Double.POSITIVE_INFINITY;
            for (int i = 0; i < activeSize; i++) {
                swap(index, i, i + random.nextInt(activeSize - i));
            }
            for (int s = 0; s < activeSize; s++) {
                int i = index[s];
                double yi = y[rows[i]];
                int offset = rows[i] * dim;
                double g = yi * (matrix.rowDot(offset, w, 0) + w[dim]) - 1 + alpha[i] * diag;
                double pg = 0;
                if (alpha[i] == 0) {
                    if (g > pgMaxOld) { // shrink: at the bound and likely to stay there
                        activeSize--;
                        swap(index, s, activeSize);
                        s--;
                        continue;
                    } else if (g < 0) {
                        pg = g;
                    }
                } else {
                    pg = g;
                }
                pgMaxNew = Math.max(pgMaxNew, pg);
                pgMinNew = Math.min(pgMinNew, pg);
                if (Math.abs(pg) > 1.0e-12) {
                    double alphaOld = alpha[i];
                    alpha[i] = Math.max(alpha[i] - g / qd[i], 0.0);
                    double d = (alpha[i] - alphaOld) * yi;
                    matrix.rowAxpy(d, offset, w);
                    w[dim] += d;
                }
            }
            iter++;
            if (pgMaxNew - pgMinNew <= eps && Math.abs(pgMaxNew) <= eps && Math.abs(pgMinNew) <= eps) {
                if (activeSize == l) {
                    break;
                }
                activeSize = l; // check the shrunk rows once more before stopping
                pgMaxOld = Double.POSITIVE_INFINITY;
                pgMinOld = Double.NEGATIVE_INFINITY;
                continue;
            }
            pgMaxOld = pgMaxNew <= 0 ? Double.POSITIVE_INFINITY : pgMaxNew;
            pgMinOld = pgMinNew >= 0 ? Double.NEGATIVE_INFINITY : pgMinNew;
        }
        return iter;
    }

    private static void swap(int[] a, int i, int j) {
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
