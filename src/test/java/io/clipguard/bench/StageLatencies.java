package io.clipguard.bench;

import io.clipguard.streams.metrics.ModerationMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The service's {@code clipguard.upload.stage} timers over a timed part: where an upload's time went before it was
 * scored (queued for its stream thread, waiting for its partition batch, being scored), as the mean and the p99 of the
 * uploads of that part. Timers cannot be reset, so this keeps a snapshot from the start and subtracts it; the p99 is
 * the upper bound of the bucket that holds it ({@code ScoringParts.STAGE_BUCKETS_MS}: 10 ms wide from 20 to 150 ms).
 */
final class StageLatencies {
    private static final List<String> STAGES = List.of("queued", "batched", "scored");
    private final MeterRegistry meters;
    private final Map<String, HistogramSnapshot> start = new LinkedHashMap<>();

    StageLatencies(MeterRegistry meters) {
        this.meters = meters;
        for (String stage : STAGES) {
            start.put(stage, timer(stage).takeSnapshot());
        }
    }

    private Timer timer(String stage) {
        return meters.get(ModerationMetrics.STAGE_TIMER).tag("stage", stage).timer();
    }

    /** One line: each stage's mean and p99 since this was made. */
    String report() {
        StringBuilder line = new StringBuilder("  of which, by stage (clipguard.upload.stage, mean / p99 bucket):");
        for (String stage : STAGES) {
            HistogramSnapshot before = start.get(stage);
            HistogramSnapshot now = timer(stage).takeSnapshot();
            long n = now.count() - before.count();
            double mean = n == 0 ? 0 : (now.total(TimeUnit.MILLISECONDS) - before.total(TimeUnit.MILLISECONDS)) / n;
            line.append(String.format(Locale.ROOT, " %s %.1f / %s ms,", stage, mean, p99Bound(before, now, n)));
        }
        line.setLength(line.length() - 1);
        return line.toString();
    }

    private static String p99Bound(HistogramSnapshot before, HistogramSnapshot now, long n) {
        CountAtBucket[] b = before.histogramCounts();
        CountAtBucket[] a = now.histogramCounts();
        for (int i = 0; i < a.length; i++) {
            double cumulative = a[i].count() - (i < b.length ? b[i].count() : 0);
            if (n > 0 && cumulative >= 0.99 * n) {
                return String.format(Locale.ROOT, "<= %.0f", a[i].bucket(TimeUnit.MILLISECONDS));
            }
        }
        return "?";
    }
}
