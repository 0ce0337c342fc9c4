package io.clipguard.testing;

import io.clipguard.contracts.Topics;
import io.clipguard.fetch.FetchPolicy;
import io.clipguard.fetch.ImageFetcher;
import io.clipguard.model.ModelLoadException;
import io.clipguard.moderation.UploadScorer;
import io.clipguard.scoring.EmbeddingCache;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.ScoringEngine;
import io.clipguard.streams.EngineProducer;
import io.clipguard.streams.heads.ActiveHeads;
import io.clipguard.streams.metrics.ModerationMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;

/**
 * What the topology scores uploads with, built as the service's CDI producers build it: the real engine, the live
 * heads (starting from the configured head), the dedupe cache, the upload scorer and the service's meters. Shared by a
 * pipeline on a real broker ({@link ModerationPipeline}) and one under the TopologyTestDriver ({@link DrivenTopology}).
 */
public record ScoringParts(ScoringEngine engine, ActiveHeads heads, EmbeddingCache cache, UploadScorer scorer,
                           ModerationMetrics metrics, SimpleMeterRegistry meters) implements AutoCloseable {

    /** @param embeddingCacheSize clipguard.embeddings.cache-size (0: off, every upload runs the encoder) */
    public static ScoringParts open(EngineConfig config, String registryUrl, FetchPolicy fetchPolicy, long embeddingCacheSize)
            throws ModelLoadException {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        ScoringEngine engine = ScoringEngine.open(config);
        ActiveHeads heads = new ActiveHeads(engine.configuredHead(), engine.info().modelId(), engine.info().featureDim(),
                Topics.avroReader(registryUrl), meters);
        EmbeddingCache cache = EngineProducer.embeddingCache(engine, embeddingCacheSize, meters);
        UploadScorer scorer = new UploadScorer(engine, cache, heads, new ImageFetcher(fetchPolicy), Topics.serdeConfig(registryUrl),
                Clock.systemUTC());
        return new ScoringParts(engine, heads, cache, scorer, new ModerationMetrics(meters), meters);
    }

    /** The sum of the counters named {@code name} (Micrometer's dotted name) with the given tags. */
    public double counted(String name, String... tags) {
        return meters.find(name).tags(tags).counters().stream().mapToDouble(Counter::count).sum();
    }

    @Override
    public void close() {
        scorer.close();
        engine.close();
    }
}
