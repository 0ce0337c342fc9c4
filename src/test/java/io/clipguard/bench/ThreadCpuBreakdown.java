package io.clipguard.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time of every thread of this process between two moments, native ones included (ONNX Runtime's pool, GC, JIT),
 * read from Linux's {@code /proc/self/task/N/stat}, grouped by thread name with numbers and ids folded
 * ("data-plane-kafka-request-handler-#"). It answers "where did the pipeline's CPU go that the bare engine did not
 * spend" from one run, with no profiler attached. On a system without /proc it reports nothing.
 */
final class ThreadCpuBreakdown {
    private static final double TICKS_PER_SECOND = 100; // USER_HZ on Linux
    private final long startWall = System.nanoTime();
    private final Map<Long, Sample> start = sample();
    private Map<Long, Sample> end;
    private long endWall;

    private record Sample(String name, long ticks) {}

    /** Ends the interval: later reports cover construction to now. */
    ThreadCpuBreakdown stop() {
        end = sample();
        endWall = System.nanoTime();
        return this;
    }

    private Map<Long, Sample> end() {
        return end != null ? end : sample();
    }

    /** CPU ticks spent over the interval, by thread group (threads that spent none left out). */
    private Map<String, Long> ticksByGroup() {
        Map<String, Long> byGroup = new HashMap<>();
        for (var e : end().entrySet()) {
            Sample before = start.get(e.getKey());
            long ticks = e.getValue().ticks() - (before == null ? 0 : before.ticks());
            if (ticks > 0) {
                byGroup.merge(group(e.getValue().name()), ticks, Long::sum);
            }
        }
        return byGroup;
    }

    /** CPU seconds of all threads over the interval. */
    double cpuSeconds() {
        return ticksByGroup().values().stream().mapToLong(Long::longValue).sum() / TICKS_PER_SECOND;
    }

    /** Groups with at least {@code minShare} of the total, largest first, then the total and the wall time. */
    String report(double minShare) {
        double wall = ((end != null ? endWall : System.nanoTime()) - startWall) / 1e9;
        Map<String, Long> byGroup = ticksByGroup();
        long total = byGroup.values().stream().mapToLong(Long::longValue).sum();
        if (total == 0) {
            return "  (no per-thread CPU times: /proc/self/task not readable)";
        }
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
                "  CPU by thread group over %.1f s wall: %.1f CPU-s in all (%.2f cores)%n", wall, total / TICKS_PER_SECOND,
                total / TICKS_PER_SECOND / wall));
        Map<String, Long> sorted = new LinkedHashMap<>();
        byGroup.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        long rest = 0;
        for (var e : sorted.entrySet()) {
            if (e.getValue() >= minShare * total) {
                out.append(String.format(Locale.ROOT, "    %-40s %6.2f CPU-s  %5.1f %%%n", e.getKey(),
                        e.getValue() / TICKS_PER_SECOND, 100.0 * e.getValue() / total));
            } else {
                rest += e.getValue();
            }
        }
        out.append(String.format(Locale.ROOT, "    %-40s %6.2f CPU-s  %5.1f %%", "(other threads)", rest / TICKS_PER_SECOND,
                100.0 * rest / total));
        return out.toString();
    }

    /** The name Linux keeps (15 characters) with digit runs folded, so a pool's threads add up. */
    private static String group(String name) {
        return name.replaceAll("[0-9a-f]{8}-[0-9a-f-]+", "*").replaceAll("\\d+", "#");
    }

    private static Map<Long, Sample> sample() {
        Map<Long, Sample> out = new HashMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            tasks.forEach(task -> {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    // pid (comm) state ... : comm may hold spaces and parentheses, so split after the last ')'.
                    int open = stat.indexOf('('), close = stat.lastIndexOf(')');
                    String[] f = stat.substring(close + 2).split(" ");
                    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
                    out.put(Long.parseLong(task.getFileName().toString()), new Sample(stat.substring(open + 1, close), ticks));
                } catch (IOException | RuntimeException e) {
                    // the thread ended between the listing and the read: it is not counted
                }
            });
        } catch (IOException e) {
            return Map.of();
        }
        return out;
    }
}
