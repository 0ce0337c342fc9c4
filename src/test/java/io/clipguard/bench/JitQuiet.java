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

    private JitQuiet() {}

    /** The JIT compilers' total compile time so far in ms, or -1 where the JVM does not report it. */
    static long compileMillis() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit == null || !jit.isCompilationTimeMonitoringSupported() ? -1 : jit.getTotalCompilationTime();
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
