package io.clipguard.training;

/**
 * A dense row-major matrix of {@code dim} columns (the training features, without the bias column) and the two row
 * kernels both of {@link DenseLinearSolver}'s methods spend their time in: kept as plain loops over one array so the
 * JIT can unroll and vectorise them.
 */
record DenseRows(double[] x, int dim) {

    /** x[offset .. offset+dim) · v[from .. from+dim), four partial sums so the additions do not wait on each other. */
    double rowDot(int offset, double[] v, int from) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int j = 0;
        for (; j + 3 < dim; j += 4) {
            s0 += x[offset + j] * v[from + j];
            s1 += x[offset + j + 1] * v[from + j + 1];
            s2 += x[offset + j + 2] * v[from + j + 2];
            s3 += x[offset + j + 3] * v[from + j + 3];
        }
        for (; j < dim; j++) {
            s0 += x[offset + j] * v[from + j];
        }
        return (s0 + s1) + (s2 + s3);
    }

    void rowAxpy(double a, int offset, double[] out) {
        for (int j = 0; j < dim; j++) {
            out[j] += a * x[offset + j];
        }
    }
}
