package io.clipguard.testing;

import io.clipguard.contracts.Topics;
import io.clipguard.fetch.FetchPolicy;
import io.clipguard.fetch.ImageFetcher;
import io.clipguard.inference.BatchListener;
import io.clipguard.model.ModelLoadException;
import io.clipguard.moderation.UploadScorer;
import io.clipguard.scoring.DetectorSet;
import io.clipguard.scoring.EmbeddingCache;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.ScoringEngine;
import io.clipguard.streams.EngineProducer;
import io.clipguard.streams.heads.ActiveHeads;
import io.clipguard.streams.metrics.ModerationMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the topology scores uploads with, built as the service's CDI producers build it: the real detector set (the
 * CLIP detector alone, or with logit models beside it), the live heads (starting from the configured head), the dedupe
 * cache, the upload scorer and the service's meters. Shared by a pipeline on a real broker ({@link ModerationPipeline})
 * and one under the TopologyTestDriver ({@link DrivenTopology}).
 *
 * @param encoded images each detector's encoder ran on, by detector id (its batch listener counts them)
 */
public record ScoringParts(DetectorSet detectors, ActiveHeads heads, EmbeddingCache cache, UploadScorer scorer,
                           ModerationMetrics metrics, SimpleMeterRegistry meters, Map<String, LongAdder> encoded)
        implements AutoCloseable {

    /** The detector set's settings beyond the CLIP detector's engine configuration: none by default. */
    public record Detectors(List<Path> extraModelDirs, String fusion, double fusionThreshold, List<String> maxPixels,
                            Long maxImagePixels) {
        public static final Detectors CLIP_ONLY = new Detectors(List.of(), "soft_or_prob", 0, List.of(), null);
    }

    /** Bucket bounds (ms) of the stage timers in these parts' registry. */
    public static final List<Integer> STAGE_BUCKETS_MS = List.of(1, 2, 3, 5, 7, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90,
            100, 110, 120, 130, 140, 150, 165, 180, 200, 225, 250, 300, 400, 500, 750, 1000, 2000, 5000);

    /** @param embeddingCacheSize clipguard.embeddings.cache-size (0: off, every upload runs the encoder) */
    public static ScoringParts open(EngineConfig config, String registryUrl, FetchPolicy fetchPolicy, long embeddingCacheSize)
            throws ModelLoadException {
        return open(config, Detectors.CLIP_ONLY, registryUrl, fetchPolicy, embeddingCacheSize);
    }

    /** As the service opens {@code clipguard.engine.*} with {@code clipguard.detectors.*}. */
    public static ScoringParts open(EngineConfig config, Detectors set, String registryUrl, FetchPolicy fetchPolicy,
                                    long embeddingCacheSize) throws ModelLoadException {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        // The stage timers with fixed buckets, which a SimpleMeterRegistry keeps (it drops percentile histograms), over
        // the whole run (Micrometer rotates them every 2 minutes by default): a benchmark subtracts a snapshot taken
        // at the start of its timed part (StageLatencies).
        meters.config().meterFilter(new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                if (!id.getName().equals(ModerationMetrics.STAGE_TIMER)) {
                    return config;
                }
                return DistributionStatisticConfig.builder().expiry(Duration.ofDays(365)).bufferLength(1)
                        .serviceLevelObjectives(STAGE_BUCKETS_MS.stream().mapToDouble(ms -> ms * 1e6).toArray()).build()
                        .merge(config);
            }
        });
        Map<String, LongAdder> encoded = new ConcurrentHashMap<>();
        DetectorSet detectors = EngineProducer.openDetectors(config, set.extraModelDirs(), set.fusion(),
                set.fusionThreshold(), set.maxPixels(), set.maxImagePixels(), id -> counting(encoded.computeIfAbsent(id, k -> new LongAdder()),
                        EngineProducer.batchMeters(meters, id)));
        ScoringEngine engine = detectors.featuresEngine();
        ActiveHeads heads = new ActiveHeads(engine.configuredHead(), engine.info().modelId(), engine.info().featureDim(),
                Topics.avroReader(registryUrl), meters);
        EmbeddingCache cache = EngineProducer.embeddingCache(detectors, embeddingCacheSize, meters);
        UploadScorer scorer = new UploadScorer(detectors, cache, heads, new ImageFetcher(fetchPolicy),
                Topics.serdeConfig(registryUrl), Clock.systemUTC());
        return new ScoringParts(detectors, heads, cache, scorer, new ModerationMetrics(meters), meters, encoded);
    }

    /** The service's per-detector meters, and the count of images through the encoder. */
    private static BatchListener counting(LongAdder images, BatchListener meters) {
        return (size, queueWaitNanos, inferenceNanos, failure) -> {
            images.add(size);
            meters.onBatch(size, queueWaitNanos, inferenceNanos, failure);
        };
    }

    /** The CLIP detector's engine. */
    public ScoringEngine engine() {
        return detectors.featuresEngine();
    }

    /** Images the encoder of detector {@code id} ran on so far. */
    public long encodedBy(String id) {
        LongAdder n = encoded.get(id);
        return n == null ? 0 : n.sum();
    }

    /** The sum of the counters named {@code name} (Micrometer's dotted name) with the given tags. */
    public double counted(String name, String... tags) {
        return meters.find(name).tags(tags).counters().stream().mapToDouble(Counter::count).sum();
    }

    @Override
    public void close() {
        scorer.close();
        detectors.close();
    }
}
