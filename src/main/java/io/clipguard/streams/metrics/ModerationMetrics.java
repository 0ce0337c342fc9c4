package io.clipguard.streams.metrics;

import io.clipguard.moderation.ModerationOutcome;
import io.clipguard.scoring.DetectorScore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The service's Prometheus meters (scraped at /q/metrics). Engine-side meters (batch size, inference latency, device)
 * are registered by {@code EngineProducer}.
 */
public final class ModerationMetrics {
    /** The timer that splits an upload's latency by stage (tag {@code stage}: queued, batched, scored). */
    public static final String STAGE_TIMER = "clipguard.upload.stage";

    private final MeterRegistry registry;
    private final Counter recordsIn;
    private final Counter verdictsOut;
    private final Counter alertsOut;
    private final Counter burstAlertsOut;
    private final Timer endToEndLatency;
    private final Timer queued;
    private final Timer batched;
    private final Timer scored;
    private final DistributionSummary probability;
    private final AtomicLong pending = new AtomicLong();

    public ModerationMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.recordsIn = Counter.builder("clipguard.records.in").description("Upload records consumed").register(registry);
        this.verdictsOut = Counter.builder("clipguard.verdicts.out").description("Verdicts produced").register(registry);
        this.alertsOut = Counter.builder("clipguard.alerts.out").description("High-score alerts produced").register(registry);
        this.burstAlertsOut = Counter.builder("clipguard.burst.alerts").description("Uploader burst alerts produced").register(registry);
        this.endToEndLatency = latency(Timer.builder("clipguard.end.to.end.latency")
                .description("From the upload record's timestamp to its verdict"));
        this.queued = stage("queued", "From the upload record's timestamp until its stream thread took it (producer, broker,"
                + " fetch, and the thread's previous batch)");
        this.batched = stage("batched", "From its stream thread taking the upload until its partition batch was flushed");
        this.scored = stage("scored", "From the partition batch's flush until the engine's outcomes were forwarded");
        this.probability = DistributionSummary.builder("clipguard.score.probability")
                .description("Calibrated probability that an upload is synthetic")
                .serviceLevelObjectives(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
                .register(registry);
        Gauge.builder("clipguard.pending.uploads", pending, AtomicLong::get)
                .description("Uploads consumed and not yet answered").strongReference(true).register(registry);
    }

    /** One stage of {@code clipguard.upload.stage}: together they split the end-to-end latency up to scoring. */
    private Timer stage(String stage, String description) {
        return latency(Timer.builder(STAGE_TIMER).tag("stage", stage).description(description));
    }

    /** A latency histogram from 1 ms to a minute, as the end-to-end one and the stages share. */
    private Timer latency(Timer.Builder timer) {
        return timer.publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(1))
                .register(registry);
    }

    /**
     * Where one upload's time went before its verdict or dead letter, in ms; a negative value is not recorded (an
     * upload restored from the changelog has no queued or batched stage in this instance; a producer's clock ahead of
     * ours makes the queued stage negative).
     */
    public void uploadStages(long queuedMs, long batchedMs, long scoredMs) {
        record(queued, queuedMs);
        record(batched, batchedMs);
        record(scored, scoredMs);
    }

    private static void record(Timer timer, long ms) {
        if (ms >= 0) {
            timer.record(ms, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Removes every clipguard meter, whichever bean registered it, when the application stops. Quarkus keeps meters in
     * Micrometer's global composite registry across a restart in one JVM (dev mode, test classes); left there, the
     * next start's registrations would return them, still reading the stopped start's objects.
     */
    public void removeServiceMeters() {
        registry.getMeters().stream().filter(m -> m.getId().getName().startsWith("clipguard."))
                .forEach(registry::remove);
    }

    public void recordIn() {
        recordsIn.increment();
        pending.incrementAndGet();
    }

    /**
     * Counts what one upload became. Called once its whole batch has been scored and forwarded, never for a batch that
     * failed part-way (an engine outage aborts the batch's transaction and its uploads are scored again later), so
     * verdicts and dead letters are counted once per outcome that is committed.
     */
    public void answered(ModerationOutcome outcome) {
        // Each detector's part: scored, or failed with its reason (a verdict fused from the others, or a dead letter).
        for (DetectorScore part : outcome.detectors()) {
            if (part.scored()) {
                registry.counter("clipguard.detector.scored", "detector", part.detectorId()).increment();
            } else {
                registry.counter("clipguard.detector.failed", "detector", part.detectorId(), "reason",
                        part.failure().name()).increment();
            }
        }
        switch (outcome) {
            case ModerationOutcome.Verdict v -> {
                verdictsOut.increment();
                probability.record(v.verdict().getProbability());
                endToEndLatency.record(Duration.ofMillis(Math.max(0, v.verdict().getEndToEndLatencyMs())));
            }
            case ModerationOutcome.DeadLetter d ->
                    registry.counter("clipguard.dead.letters", "reason", d.failure().getReason().name()).increment();
        }
    }

    public void alert() {
        alertsOut.increment();
    }

    public void burstAlert() {
        burstAlertsOut.increment();
    }

    /** Records that stop waiting here leave the pending count: answered, or handed back when their task closes. */
    public void noLongerPending(int n) {
        pending.addAndGet(-n);
    }

    /** Records restored from the changelog after a restart or rebalance count as pending again. */
    public void restored(int n) {
        pending.addAndGet(n);
    }

    /** Uploads consumed by this instance and not yet answered. */
    public long pending() {
        return pending.get();
    }
}
