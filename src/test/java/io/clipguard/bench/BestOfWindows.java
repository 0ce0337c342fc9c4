package io.clipguard.bench;

import java.lang.management.ManagementFactory;

/**
 * Times a piece of work in windows of a fixed length and keeps the best window: calls per wall-clock second, and calls
 * per second of this process's CPU time (JIT and GC threads included). Other processes sharing the core lower the
 * wall-clock rate but barely the CPU one, so on a loaded machine the CPU rate is the one to compare. Two warm-up
 * windows come first. Shared by the single-threaded benchmark mains ({@link RobustnessBenchmark},
 * {@link PreprocessBenchmark}); the Python references measure the same way ({@code time.process_time()}).
 */
final class BestOfWindows {
    private static final int WARM_UP_WINDOWS = 2;
    private static final com.sun.management.OperatingSystemMXBean CPU =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private BestOfWindows() {}

    /** The best window's rates. */
    record Rates(double perSecond, double perCpuSecond) {}

    /** The work timed: one call is one unit (one image). */
    @FunctionalInterface
    interface Work {
        void run() throws Exception;
    }

    static Rates measure(double secondsPerWindow, int windows, Work work) throws Exception {
        double best = 0;
        double bestCpu = 0;
        for (int w = -WARM_UP_WINDOWS; w < windows; w++) {
            long startCpu = CPU.getProcessCpuTime();
            long start = System.nanoTime();
            long end = start + (long) (secondsPerWindow * 1e9);
            int done = 0;
            while (System.nanoTime() < end || done == 0) {
                work.run();
                done++;
            }
            double rate = done / ((System.nanoTime() - start) / 1e9);
            double cpuRate = done / ((CPU.getProcessCpuTime() - startCpu) / 1e9);
            if (w >= 0) {
                best = Math.max(best, rate);
                bestCpu = Math.max(bestCpu, cpuRate);
            }
        }
        return new Rates(best, bestCpu);
    }
}
