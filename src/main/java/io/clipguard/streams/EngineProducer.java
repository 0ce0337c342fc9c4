package io.clipguard.streams;

import io.clipguard.contracts.Topics;
import io.clipguard.fetch.FetchPolicy;
import io.clipguard.fetch.ImageFetcher;
import io.clipguard.image.ImageLimits;
import io.clipguard.inference.BatchListener;
import io.clipguard.model.ModelLoadException;
import io.clipguard.moderation.UploadScorer;
import io.clipguard.scoring.EmbeddingCache;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.ScoringEngine;
import io.clipguard.streams.config.ClipguardConfig;
import io.clipguard.streams.heads.ActiveHeads;
import io.clipguard.streams.metrics.DecodeMeters;
import io.clipguard.streams.metrics.ModerationMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Builds the one scoring engine of this JVM (shared by every stream thread) and what the topology calls it through. */
@ApplicationScoped
public class EngineProducer {

    @Produces
    @ApplicationScoped
    ScoringEngine engine(ClipguardConfig config, MeterRegistry registry) throws ModelLoadException {
        ClipguardConfig.Engine e = config.engine();
        ScoringEngine engine = ScoringEngine.open(new EngineConfig(
                e.modelDir(),
                e.headFile().orElse(e.modelDir().resolve("head.json")),
                e.device(),
                e.maxBatchSize(),
                e.mergeWindow(),
                e.intraOpThreads(),
                e.decodeThreads() > 0 ? e.decodeThreads() : Runtime.getRuntime().availableProcessors(),
                new ImageLimits(e.maxImageBytes(), e.maxImagePixels()),
                e.decode(),
                e.decodeBudgetPixels()), batchMeters(registry));
        DecodeMeters.register(registry, engine.decodeCounters());
        registry.gauge("clipguard.engine.device", Tags.of("device", engine.info().device(), "model", engine.info().modelId()), 1);
        return engine;
    }

    /** Batch size and inference latency, as the engine's dynamic batcher reports them. */
    private static BatchListener batchMeters(MeterRegistry registry) {
        DistributionSummary batchSize = DistributionSummary.builder("clipguard.inference.batch.size")
                .description("Images per ONNX Runtime run").serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128).register(registry);
        Timer inference = Timer.builder("clipguard.inference.latency").description("ONNX Runtime run per batch")
                .publishPercentileHistogram().register(registry);
        Timer queueWait = Timer.builder("clipguard.inference.queue.wait").description("Oldest request's wait for its batch")
                .publishPercentileHistogram().register(registry);
        Counter failed = Counter.builder("clipguard.inference.failed.batches").register(registry);
        return (size, queueWaitNanos, inferenceNanos, failure) -> {
            batchSize.record(size);
            inference.record(inferenceNanos, TimeUnit.NANOSECONDS);
            queueWait.record(queueWaitNanos, TimeUnit.NANOSECONDS);
            if (failure != null) {
                failed.increment();
            }
        };
    }

    void close(@Disposes ScoringEngine engine) {
        engine.close();
    }

    @Produces
    @ApplicationScoped
    ModerationMetrics metrics(MeterRegistry registry) {
        return new ModerationMetrics(registry);
    }

    void close(@Disposes ModerationMetrics metrics) {
        metrics.removeServiceMeters();
    }

    @Produces
    @ApplicationScoped
    UploadScorer scorer(ScoringEngine engine, ClipguardConfig config, ActiveHeads heads, MeterRegistry registry) {
        ClipguardConfig.Fetch f = config.fetch();
        ImageFetcher fetcher = new ImageFetcher(new FetchPolicy(f.fileRoots().orElse(List.of()), f.connectTimeout(),
                f.readTimeout(), f.maxBytes(), f.allowPrivateNetworks(), f.maxRedirects()));
        return new UploadScorer(engine, embeddingCache(engine, config.embeddings().cacheSize(), registry), heads, fetcher,
                Topics.serdeConfig(config.registry().url()), Clock.systemUTC());
    }

    /** The dedupe cache in front of the engine, with its hit and miss counters. */
    public static EmbeddingCache embeddingCache(ScoringEngine engine, long size, MeterRegistry registry) {
        EmbeddingCache cache = new EmbeddingCache(engine, size);
        FunctionCounter.builder("clipguard.embedding.cache.hits", cache, EmbeddingCache::hits)
                .description("Uploads whose content was already embedded with this model: the encoder was skipped").register(registry);
        FunctionCounter.builder("clipguard.embedding.cache.misses", cache, EmbeddingCache::misses)
                .description("Uploads that ran the encoder").register(registry);
        return cache;
    }

    void close(@Disposes UploadScorer scorer) {
        scorer.close();
    }
}
