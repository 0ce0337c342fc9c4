package io.clipguard.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * Waits, before a timed part of a benchmark, until the JIT compilers have worked off their queue: the compile time
 * they report grows by less than 1 ms over 250 ms, or 30 s have passed.
 *
 * <p>Why: starting an instance (a Kafka Streams rebalance, an ONNX Runtime session, the clients' first requests) runs
 * code paths that queue compilations, which the compiler threads then work through during the next timed part and
 * bill to it. A deployment pays that once; a round that opens a fresh instance paid it every time.
 */
final class JitQuiet {
    private static final long QUIET_MS = 250;
    private static final long MAX_WAIT_MS = 30_000;
    /** Compile time per wall time below which the JIT counts as settled: 2 % of one core. */
    private static final double SETTLED_SHARE = 0.02;

    private JitQuiet() {}

    /** The JIT compilers' total compile time so far in ms, or -1 where the JVM does not report it. */
    static long compileMillis() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit == null || !jit.isCompilationTimeMonitoringSupported() ? -1 : jit.getTotalCompilationTime();
    }

    /** One step of load through the side being settled (a backlog of uploads, or ten seconds at a pace). */
    interface Step {
        void run() throws Exception;
    }

    /**
     * Runs {@code step} until the JIT compiled for under 2 % of one core during a step, or {@code maxSeconds} have
     * passed (0: no step at all); returns a line saying how long that took, or null when it could not tell.
     *
     * <p>Why: the Kafka side's per-batch and per-transaction methods run a few dozen times a second, so they cross the
     * tiered compiler's thresholds for minutes after start; a part timed before that measures the warm-up, not the
     * steady state a deployment runs in for hours (docs/benchmarks.md, runs t-v).
     */
    static String settle(int maxSeconds, Step step) throws Exception {
        if (maxSeconds <= 0 || compileMillis() < 0) {
            return null;
        }
        long start = System.nanoTime();
        long stepCompileMs;
        double stepSeconds;
        do {
            long compileBefore = compileMillis();
            long stepStart = System.nanoTime();
            step.run();
            stepSeconds = (System.nanoTime() - stepStart) / 1e9;
            stepCompileMs = compileMillis() - compileBefore;
        } while (stepCompileMs >= SETTLED_SHARE * stepSeconds * 1000 && (System.nanoTime() - start) / 1e9 < maxSeconds);
        boolean settled = stepCompileMs < SETTLED_SHARE * stepSeconds * 1000;
        return String.format(Locale.ROOT, "went on %.0f s until the JIT settled: %d ms of compiling in its last %.1f s%s",
                (System.nanoTime() - start) / 1e9, stepCompileMs, stepSeconds,
                settled ? "" : " (still over 2 % at --settle-seconds " + maxSeconds + ")");
    }

    /**
     * Collects the heap, then waits as {@link #await()}: the last step for every timed part.
     *
     * <p>Why the collection: a side leaves garbage that has survived into the old generation (a bare round's queue of
     * decoded crops, a backlog's fetched records), and G1's concurrent marking of it would otherwise run inside the
     * next timed part and bill it to the other side; JMH's {@code -gc true} does the same between iterations.
     */
    static void beforeTimedPart() {
        System.gc(); // a benchmark harness's explicit collection between measured parts, never in the service
        await();
    }

    /** Waits as above; says so when it gave up waiting. */
    static void await() {
        long before = compileMillis();
        if (before < 0) {
            return;
        }
        long start = System.nanoTime();
        while ((System.nanoTime() - start) / 1_000_000 < MAX_WAIT_MS) {
            try {
                Thread.sleep(QUIET_MS); // waiting for other threads' work to end: nothing to poll but the counter
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            long now = compileMillis();
            if (now - before < 1) {
                break;
            }
            before = now;
        }
        long waited = (System.nanoTime() - start) / 1_000_000;
        if (waited >= MAX_WAIT_MS) {
            System.out.printf(Locale.ROOT, "  (the JIT was still compiling after %d s; timing anyway)%n", waited / 1000);
        }
    }
}
