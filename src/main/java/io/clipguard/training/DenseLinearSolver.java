package io.clipguard.training;

/**
 * LIBLINEAR 2.4x's solvers for {@code -s 0} (L2-regularised logistic regression, primal) and {@code -s 1}
 * (L2-regularised squared-hinge SVM, dual), the code behind {@code de.bwaldvogel.liblinear.SolverType.L2R_LR} and
 * {@code L2R_L2LOSS_SVC_DUAL}, re-implemented over a dense row-major matrix instead of arrays of {@code Feature}
 * objects, so that X·v and Xᵀ·v are tight loops the JIT vectorises. Same objectives
 * <pre>min ½‖w‖² + C Σᵢ log(1 + exp(−yᵢ wᵀxᵢ))      min ½‖w‖² + C Σᵢ max(0, 1 − yᵢ wᵀxᵢ)²</pre>
 * with the bias as an extra feature of value 1 that is regularised like the weights (LIBLINEAR's default, and
 * scikit-learn's {@code liblinear}), and the same steps:
 * <ul>
 * <li>primal ({@code newton.cpp}, {@code l2r_erm_fun}): Newton's method, stopped when
 *     {@code ‖∇f(w)‖ ≤ eps·max(min(n₊,n₋),1)/l · ‖∇f(0)‖}; its direction from preconditioned conjugate gradient
 *     (diagonal preconditioner mixed 0.99/0.01 with the identity, stopped on the quadratic model's decrease with
 *     tolerance min(0.5, √‖g‖_M⁻¹)); backtracking line search (step 1 halved up to 20 times, sufficient decrease 0.01);
 * <li>dual ({@code solve_l2r_l1l2_svc}): coordinate descent with shrinking over the rows (positives first, as
 *     LIBLINEAR's {@code train} orders them, shuffled each pass with the given {@code Random} as LIBLINEAR uses it),
 *     and after 300 passes the primal Newton method from there with a tenth of the tolerance, as LIBLINEAR switches
 *     to {@code -s 2}.
 * </ul>
 * LIBLINEAR stays in the tests as the oracle (DenseLinearSolverTest).
 */
final class DenseLinearSolver {
    /** LIBLINEAR's default {@code max_iters} for the primal solvers. */
    static final int MAX_NEWTON_ITERATIONS = 1000;
    private static final double EPS_CG = 0.5;
    private static final double ALPHA_PCG = 0.01;
    private static final double ETA = 0.01;
    private static final int MAX_LINE_SEARCH = 20;

    /** The primal loss: its value, and per row the gradient's coefficient and the Hessian's weight. */
    private enum Loss {
        LOGISTIC {
            @Override
            double cTimesLoss(double c, double ywx) {
                return ywx >= 0 ? c * Math.log(1 + Math.exp(-ywx)) : c * (-ywx + Math.log(1 + Math.exp(ywx)));
            }

            @Override
            void derivatives(double c, double y, double wx, double[] coef, double[] curvature, int k) {
                double sigma = 1 / (1 + Math.exp(-y * wx));
                curvature[k] = c * (sigma * (1 - sigma));
                coef[k] = c * (sigma - 1) * y;
            }
        },
        /** LIBLINEAR's factor 2 (grad = w + 2Xᵀ…, Hs = s + 2Xᵀ…) is in the coefficients: scaling by 2 is exact. */
        SQUARED_HINGE {
            @Override
            double cTimesLoss(double c, double ywx) {
                double d = 1 - ywx;
                return d > 0 ? c * d * d : 0;
            }

            @Override
            void derivatives(double c, double y, double wx, double[] coef, double[] curvature, int k) {
                double ywx = wx * y;
                boolean active = ywx < 1;
                coef[k] = active ? 2 * (c * y * (ywx - 1)) : 0;
                curvature[k] = active ? 2 * c : 0;
            }
        };

        abstract double cTimesLoss(double c, double ywx);

        abstract void derivatives(double c, double y, double wx, double[] coef, double[] curvature, int k);
    }

    private final Loss loss;
    private final DenseRows matrix; // all rows, row-major, dim columns (the bias column of 1s is implicit)
    private final int dim;
    private final int n; // dim + 1: the bias is the last variable
    private final int[] rows; // the rows of x this problem uses
    private final double[] y; // ±1, one per used row
    private final double c;
    private final double[] wx;
    private final double[] coef; // per row, from the latest grad(): the gradient's coefficient
    private final double[] curvature; // per row, from the latest grad(): the Hessian's weight (C·D)
    private final double[] tmp;
    private double wTw;

    private DenseLinearSolver(Loss loss, double[] x, int dim, int[] rows, double[] y, double c) {
        this.loss = loss;
        this.matrix = new DenseRows(x, dim);
        this.dim = dim;
        this.n = dim + 1;
        this.rows = rows;
        this.c = c;
        this.y = new double[rows.length];
        for (int k = 0; k < rows.length; k++) {
            this.y[k] = y[rows[k]];
        }
        this.wx = new double[rows.length];
        this.coef = new double[rows.length];
        this.curvature = new double[rows.length];
        this.tmp = new double[rows.length];
    }

    /**
     * Logistic regression's solution (dim weights, then the bias's) on the rows {@code rows} of {@code x}
     * (row-major, {@code dim} per row, without the bias column; {@code y}: ±1 per row of x) to LIBLINEAR's tolerance
     * {@code eps} (its {@code -e}), starting from {@code start} (null: zero), as {@code Linear.train} with
     * {@code setInitSol(start)} gives it.
     */
    static double[] logisticRegression(double[] x, int dim, int[] rows, double[] y, double c, double eps,
                                       double[] start) {
        DenseLinearSolver solver = new DenseLinearSolver(Loss.LOGISTIC, x, dim, rows, y, c);
        double[] w = start == null ? new double[dim + 1] : start.clone();
        solver.newton(w, solver.primalTolerance(eps));
        return w;
    }

    /**
     * The squared-hinge SVM's solution (dim weights, then the bias's), arguments as for
     * {@link #logisticRegression}; {@code random} orders the coordinates, as LIBLINEAR's {@code Parameter.random}.
     */
    static double[] svm(double[] x, int dim, int[] rows, double[] y, double c, double eps, java.util.Random random) {
        int[] ordered = new int[rows.length]; // LIBLINEAR's train() groups the classes, label +1 first
        int next = 0;
        for (int sign : new int[] {1, -1}) {
            for (int row : rows) {
                if (y[row] * sign > 0) {
                    ordered[next++] = row;
                }
            }
        }
        DenseLinearSolver solver = new DenseLinearSolver(Loss.SQUARED_HINGE, x, dim, ordered, y, c);
        double[] w = new double[dim + 1];
        if (DualCoordinateDescent.solve(solver.matrix, ordered, y, c, w, eps, random) >= DualCoordinateDescent.MAX_PASSES) {
            solver.newton(w, solver.primalTolerance(eps) * 0.1);
        }
        return w;
    }

    private double primalTolerance(double eps) {
        int positives = 0;
        for (double label : y) {
            positives += label > 0 ? 1 : 0;
        }
        int l = y.length;
        return eps * Math.max(Math.min(positives, l - positives), 1) / l; // as LIBLINEAR's train_one
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
            f += loss.cTimesLoss(c, y[k] * wx[k]);
        }
        return f + wTw / 2;
    }

    private void grad(double[] w, double[] g) {
        for (int k = 0; k < y.length; k++) {
            loss.derivatives(c, y[k], wx[k], coef, curvature, k);
        }
        xTv(coef, g);
        for (int j = 0; j < n; j++) {
            g[j] = w[j] + g[j];
        }
    }

    /** Hs = s + Xᵀ(C·D·(X s)), one pass: each row's product and its update while the row is in cache. */
    private void hv(double[] s, double[] hs) {
        java.util.Arrays.fill(hs, 0);
        for (int k = 0; k < rows.length; k++) {
            if (curvature[k] == 0) {
                continue; // the squared hinge's rows past the margin (LIBLINEAR's subset I)
            }
            int offset = rows[k] * dim;
            double xTs = curvature[k] * (matrix.rowDot(offset, s, 0) + s[dim]);
            matrix.rowAxpy(xTs, offset, hs);
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
            double cd = curvature[k];
            for (int j = 0; j < dim; j++) {
                double v = matrix.x()[offset + j];
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
            double total = 0;
            for (int k = 0; k < y.length; k++) {
                total += loss.cTimesLoss(c, y[k] * (tmp[k] * alpha + wx[k]));
            }
            f[0] = total + (alpha * alpha * sTs + wTw) / 2.0 + alpha * wTs;
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

    private void xv(double[] v, double[] out) {
        for (int k = 0; k < rows.length; k++) {
            out[k] = matrix.rowDot(rows[k] * dim, v, 0) + v[dim];
        }
    }

    private void xTv(double[] v, double[] out) {
        java.util.Arrays.fill(out, 0);
        for (int k = 0; k < rows.length; k++) {
            matrix.rowAxpy(v[k], rows[k] * dim, out);
            out[dim] += v[k];
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
