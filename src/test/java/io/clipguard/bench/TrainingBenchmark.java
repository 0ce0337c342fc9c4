package io.clipguard.bench;

import io.clipguard.training.LinearTrainer;
import io.clipguard.training.Npy;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Training time of {@code clipguard train}'s solver path: ROWS × DIM synthetic features (half real, half generated,
 * a planted direction), 5-fold cross-validation over 6 values of C, Platt, final fit. One run, wall time printed.
 * Run through tools/bench-train (one core: taskset -c 0, under flock /tmp/bench.lock).
 * Args: [rows (default 20000)] [dim (1024)] [solver logreg|svm (logreg)] [folder: where to also write the features
 * as features.npy and labels.npy, for tools/bench_train_reference.py to time scikit-learn on the same data].
 */
public final class TrainingBenchmark {
    public static void main(String[] args) throws Exception {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int dim = args.length > 1 ? Integer.parseInt(args[1]) : 1024;
        LinearTrainer.Solver solver = args.length > 2 && args[2].equals("svm") ? LinearTrainer.Solver.SVM
                : LinearTrainer.Solver.LOGREG;
        Random random = new Random(0);
        double[] u = new double[dim];
        for (int j = 0; j < dim; j++) {
            u[j] = random.nextGaussian() / Math.sqrt(dim);
        }
        float[] x = new float[rows * dim];
        boolean[] positive = new boolean[rows];
        for (int i = 0; i < rows; i++) {
            positive[i] = i % 2 == 0;
            double shift = positive[i] ? 1.0 : -1.0;
            for (int j = 0; j < dim; j++) {
                x[i * dim + j] = (float) (random.nextGaussian() + shift * u[j]);
            }
        }
        if (args.length > 3) {
            float[] labels = new float[rows];
            for (int i = 0; i < rows; i++) {
                labels[i] = positive[i] ? 1 : 0;
            }
            Npy.write(Path.of(args[3], "features.npy"), new Npy.Matrix(rows, dim, x));
            Npy.write(Path.of(args[3], "labels.npy"), new Npy.Matrix(rows, 1, labels));
        }
        LinearTrainer.Options options = new LinearTrainer.Options(solver,
                List.of(0.01, 0.1, 1.0, 10.0, 100.0, 1000.0), 5, null, 0);
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpuStart = threads.getCurrentThreadCpuTime(); // training runs on this thread only
        long start = System.nanoTime();
        long[] last = {start};
        LinearTrainer.Result r = LinearTrainer.train(x, rows, dim, positive, options, row -> {
            long now = System.nanoTime();
            System.out.printf("  C=%-8s cv AUC %.4f  %.1f s wall%n", row.c(), row.auc(), (now - last[0]) / 1e9);
            last[0] = now;
        });
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpuSeconds = (threads.getCurrentThreadCpuTime() - cpuStart) / 1e9;
        // CPU time of the training thread is the figure that survives a loaded machine; wall time is what a user waits.
        System.out.printf("train %d x %d (%d real + %d generated), %s, 5-fold CV over 6 C values + Platt + final fit:"
                + " %.1f s wall, %.1f s CPU (training thread) on %d processor(s); chosen C %s, cv AUC %.4f%n", rows,
                dim, r.negatives(), r.positives(), solver.name().toLowerCase(), seconds, cpuSeconds,
                Runtime.getRuntime().availableProcessors(), r.c(), r.cvAuc());
    }
}
