package io.clipguard.training;

/**
 * L2-regularised logistic regression, primal, solved exactly as LIBLINEAR 2.4x does for {@code -s 0} (its Newton
 * method: {@code newton.cpp} and {@code l2r_lr_fun} in {@code linear.cpp}, the code behind
 * {@code de.bwaldvogel.liblinear.SolverType.L2R_LR}), but over a dense row-major matrix instead of arrays of
 * {@code Feature} objects, so that X·v and Xᵀ·v are tight loops the JIT vectorises. Same objective
 * <pre>min ½‖w‖² + C Σᵢ log(1 + exp(−yᵢ wᵀxᵢ))</pre>
 * with the bias as an extra feature of value 1 that is regularised like the weights (LIBLINEAR's default, and
 * scikit-learn's {@code liblinear}); same stopping rule {@code ‖∇f(w)‖ ≤ eps·max(min(n₊,n₋),1)/l · ‖∇f(0)‖}; same
 * preconditioned conjugate gradient (diagonal preconditioner mixed 0.99/0.01 with the identity, stopped on the
 * quadratic model's decrease with tolerance min(0.5, √‖g‖_M⁻¹)); same backtracking line search (step 1 halved up to
 * 20 times, sufficient decrease 0.01). LIBLINEAR stays in the tests as the oracle (DenseLogisticRegressionTest).
 */
final class DenseLogisticRegression {
    /** LIBLINEAR's default {@code max_iters} for the primal solvers. */
    static final int MAX_NEWTON_ITERATIONS = 1000;
    private static final double EPS_CG = 0.5;
    private static final double ALPHA_PCG = 0.01;
    private static final double ETA = 0.01;
    private static final int MAX_LINE_SEARCH = 20;

    private final double[] x; // all rows, row-major, dim columns (the bias column of 1s is implicit)
    private final int dim;
    private final int n; // dim + 1: the bias is the last variable
    private final int[] rows; // the rows of x this problem uses
    private final double[] y; // ±1, one per used row
    private final double c;
    private final double[] wx;
    private final double[] d; // σ(1 − σ) per row, from the latest grad()
    private final double[] tmp;
    private double wTw;

    /**
     * @param x    row-major features, {@code dim} per row, without the bias column
     * @param rows which rows of {@code x} form the training set
     * @param y    ±1 per row of {@code x} (only those in {@code rows} are read)
     */
    DenseLogisticRegression(double[] x, int dim, int[] rows, double[] y, double c) {
        this.x = x;
        this.dim = dim;
        this.n = dim + 1;
        this.rows = rows;
        this.c = c;
        this.y = new double[rows.length];
        for (int k = 0; k < rows.length; k++) {
            this.y[k] = y[rows[k]];
        }
        this.wx = new double[rows.length];
        this.d = new double[rows.length];
        this.tmp = new double[rows.length];
    }

    /**
     * The solution (dim weights, then the bias's) to LIBLINEAR's tolerance {@code eps} (its {@code -e}), starting
     * from {@code start} (null: zero), as {@code Linear.train} with {@code setInitSol(start)} gives it.
     */
    double[] solve(double eps, double[] start) {
        int positives = 0;
        for (double label : y) {
            positives += label > 0 ? 1 : 0;
        }
        int l = y.length;
        double tolerance = eps * Math.max(Math.min(positives, l - positives), 1) / l; // as LIBLINEAR's train_one
        double[] w = start == null ? new double[n] : start.clone();
        newton(w, tolerance);
        return w;
    }

    private void newton(double[] w, double eps) {
        double[] s = new double[n];
        double[] r = new double[n];
        double[] g = new double[n];
        double[] m = new double[n];

        // the gradient norm at w = 0 for the stopping rule (X·0 = 0, so no pass over X for wx)
        java.util.Arrays.fill(wx, 0);
        wTw = 0;
        grad(new double[n], g);
        double gnorm0 = norm(g);

        double f = fun(w);
        grad(w, g);
        double gnorm = norm(g);
        boolean search = gnorm > eps * gnorm0;
        for (int iter = 1; iter <= MAX_NEWTON_ITERATIONS && search; iter++) {
            diagPreconditioner(m);
            for (int j = 0; j < n; j++) {
                m[j] = (1 - ALPHA_PCG) + ALPHA_PCG * m[j];
            }
            pcg(g, m, s, r);
            double fold = f;
            double[] fNew = {f};
            double step = lineSearchAndUpdate(w, s, fNew, g);
            f = fNew[0];
            if (step == 0) {
                break; // LIBLINEAR: "line search fails"
            }
            grad(w, g);
            gnorm = norm(g);
            if (gnorm <= eps * gnorm0 || f < -1.0e32 || Math.abs(fold - f) <= 1.0e-12 * Math.abs(f)) {
                break;
            }
        }
    }

    private void pcg(double[] g, double[] m, double[] s, double[] r) {
        double[] dir = new double[n];
        double[] hd = new double[n];
        double[] z = new double[n];
        for (int j = 0; j < n; j++) {
            s[j] = 0;
            r[j] = -g[j];
            z[j] = r[j] / m[j];
            dir[j] = z[j];
        }
        double zTr = dot(z, r);
        double cgtol = Math.min(EPS_CG, Math.sqrt(Math.sqrt(zTr)));
        double q = 0;
        int maxCg = Math.max(n, 5);
        for (int cgIter = 1; cgIter <= maxCg; cgIter++) {
            hv(dir, hd);
            double dHd = dot(dir, hd);
            if (dHd <= 1.0e-16) {
                break; // avoids 0/0 in alpha
            }
            double alpha = zTr / dHd;
            for (int j = 0; j < n; j++) {
                s[j] += alpha * dir[j];
                r[j] -= alpha * hd[j];
            }
            // the quadratic model's value as the stopping rule
            double newQ = -0.5 * (dot(s, r) - dot(s, g));
            double qDiff = newQ - q;
            if (!(newQ <= 0 && qDiff <= 0) || cgIter * qDiff >= cgtol * newQ) {
                break;
            }
            q = newQ;
            for (int j = 0; j < n; j++) {
                z[j] = r[j] / m[j];
            }
            double zTrNew = dot(z, r);
            double beta = zTrNew / zTr;
            for (int j = 0; j < n; j++) {
                dir[j] = beta * dir[j] + z[j];
            }
            zTr = zTrNew;
        }
    }

    private double fun(double[] w) {
        xv(w, wx);
        wTw = dot(w, w);
        double f = 0;
        for (int k = 0; k < y.length; k++) {
            f += cTimesLoss(k, wx[k]);
        }
        return f + wTw / 2;
    }

    private void grad(double[] w, double[] g) {
        for (int k = 0; k < y.length; k++) {
            double sigma = 1 / (1 + Math.exp(-y[k] * wx[k]));
            d[k] = sigma * (1 - sigma);
            tmp[k] = c * (sigma - 1) * y[k];
        }
        xTv(tmp, g);
        for (int j = 0; j < n; j++) {
            g[j] = w[j] + g[j];
        }
    }

    /** Hs = s + Xᵀ(C·D·(X s)), one pass: each row's product and its update while the row is in cache. */
    private void hv(double[] s, double[] hs) {
        java.util.Arrays.fill(hs, 0);
        for (int k = 0; k < rows.length; k++) {
            int offset = rows[k] * dim;
            double xTs = c * d[k] * (rowDot(offset, s) + s[dim]);
            rowAxpy(xTs, offset, hs);
            hs[dim] += xTs;
        }
        for (int j = 0; j < n; j++) {
            hs[j] = s[j] + hs[j];
        }
    }

    private void diagPreconditioner(double[] m) {
        java.util.Arrays.fill(m, 0);
        for (int k = 0; k < rows.length; k++) {
            int offset = rows[k] * dim;
            double cd = c * d[k];
            for (int j = 0; j < dim; j++) {
                double v = x[offset + j];
                m[j] += cd * v * v;
            }
            m[dim] += cd; // the bias feature is 1
        }
        for (int j = 0; j < n; j++) {
            m[j] = 1 + m[j]; // the bias is regularised too
        }
    }

    private double lineSearchAndUpdate(double[] w, double[] s, double[] f, double[] g) {
        double fold = f[0];
        xv(s, tmp);
        double sTs = dot(s, s);
        double wTs = dot(s, w);
        double gTs = dot(s, g);
        double alpha = 1;
        int tries = 0;
        for (; tries < MAX_LINE_SEARCH; tries++) {
            double loss = 0;
            for (int k = 0; k < y.length; k++) {
                loss += cTimesLoss(k, tmp[k] * alpha + wx[k]);
            }
            f[0] = loss + (alpha * alpha * sTs + wTw) / 2.0 + alpha * wTs;
            if (f[0] - fold <= ETA * alpha * gTs) {
                for (int k = 0; k < y.length; k++) {
                    wx[k] += alpha * tmp[k];
                }
                break;
            }
            alpha *= 0.5;
        }
        if (tries >= MAX_LINE_SEARCH) {
            f[0] = fold;
            return 0;
        }
        for (int j = 0; j < n; j++) {
            w[j] += alpha * s[j];
        }
        wTw += alpha * alpha * sTs + 2 * alpha * wTs;
        return alpha;
    }

    private double cTimesLoss(int k, double wxk) {
        double ywx = y[k] * wxk;
        return ywx >= 0 ? c * Math.log(1 + Math.exp(-ywx)) : c * (-ywx + Math.log(1 + Math.exp(ywx)));
    }

    private void xv(double[] v, double[] out) {
        for (int k = 0; k < rows.length; k++) {
            out[k] = rowDot(rows[k] * dim, v) + v[dim];
        }
    }

    private void xTv(double[] v, double[] out) {
        java.util.Arrays.fill(out, 0);
        for (int k = 0; k < rows.length; k++) {
            rowAxpy(v[k], rows[k] * dim, out);
            out[dim] += v[k];
        }
    }

    /** x[offset .. offset+dim) · v[0 .. dim), four partial sums so the additions do not wait on each other. */
    private double rowDot(int offset, double[] v) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int j = 0;
        for (; j + 3 < dim; j += 4) {
            s0 += x[offset + j] * v[j];
            s1 += x[offset + j + 1] * v[j + 1];
            s2 += x[offset + j + 2] * v[j + 2];
            s3 += x[offset + j + 3] * v[j + 3];
        }
        for (; j < dim; j++) {
            s0 += x[offset + j] * v[j];
        }
        return (s0 + s1) + (s2 + s3);
    }

    private void rowAxpy(double a, int offset, double[] out) {
        for (int j = 0; j < dim; j++) {
            out[j] += a * x[offset + j];
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int j = 0; j < a.length; j++) {
            s += a[j] * b[j];
        }
        return s;
    }

    private static double norm(double[] a) {
        return Math.sqrt(dot(a, a));
    }
}
