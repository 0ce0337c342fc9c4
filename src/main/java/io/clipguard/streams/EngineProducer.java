package io.clipguard.streams;

import io.clipguard.contracts.Topics;
import io.clipguard.fetch.FetchPolicy;
import io.clipguard.fetch.ImageFetcher;
import io.clipguard.image.ImageLimits;
import io.clipguard.inference.BatchListener;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.ModelManifest;
import io.clipguard.moderation.UploadScorer;
import io.clipguard.scoring.DetectorSet;
import io.clipguard.scoring.EmbeddingCache;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.Fusion;
import io.clipguard.scoring.PixelCaps;
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
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Builds the detector set of this JVM (shared by every stream thread: the CLIP detector of
 * {@code clipguard.engine.model-dir} and the logit models of {@code clipguard.detectors.extra-model-dirs}) and what
 * the topology calls it through.
 */
@ApplicationScoped
public class EngineProducer {

    @Produces
    @ApplicationScoped
    DetectorSet detectors(ClipguardConfig config, MeterRegistry registry) throws ModelLoadException {
        ClipguardConfig.Engine e = config.engine();
        ClipguardConfig.Detectors d = config.detectors();
        EngineConfig clip = new EngineConfig(
                e.modelDir(),
                e.headFile().orElse(e.modelDir().resolve("head.json")),
                e.device(),
                e.maxBatchSize(),
                e.mergeWindow(),
                e.intraOpThreads(),
                e.decodeThreads() > 0 ? e.decodeThreads() : Runtime.getRuntime().availableProcessors(),
                new ImageLimits(e.maxImageBytes(), e.maxImagePixels()),
                e.decode(),
                e.decodeBudgetPixels());
        DetectorSet set = openDetectors(clip, d.extraModelDirs().orElse(List.of()), d.fusion(), d.fusionThreshold(),
                d.maxPixels().orElse(List.of()), d.maxImagePixels().isPresent() ? d.maxImagePixels().getAsLong() : null,
                id -> batchMeters(registry, id));
        for (DetectorSet.Detector detector : set.detectors()) {
            ScoringEngine engine = detector.engine();
            DecodeMeters.register(registry, engine.decodeCounters(), detector.id());
            registry.gauge("clipguard.engine.device", Tags.of("device", engine.info().device(), "model", engine.info().modelId()), 1);
        }
        return set;
    }

    /**
     * The service's detector set: the CLIP detector ({@code clip}) first, then one logit model per extra folder with
     * the same settings. Refuses, naming the setting to fix, a folder that does not load, a CLIP (features) model among
     * the extra folders or a logit model as the CLIP detector, an unknown fusion rule and a bad pixel cap.
     *
     * @param extraMaxImagePixels the logit models' own image pixel limit; null = the CLIP detector's
     */
    public static DetectorSet openDetectors(EngineConfig clip, List<Path> extraModelDirs, String fusionRule,
                                            double fusionThreshold, List<String> maxPixels, Long extraMaxImagePixels,
                                            Function<String, BatchListener> listeners) throws ModelLoadException {
        Fusion fusion;
        try {
            fusion = Fusion.byName(fusionRule);
        } catch (IllegalArgumentException unknown) {
            throw new ModelLoadException("clipguard.detectors.fusion (CLIPGUARD_DETECTORS_FUSION): " + unknown.getMessage());
        }
        PixelCaps caps;
        try {
            caps = PixelCaps.parse(maxPixels, "clipguard.detectors.max-pixels (CLIPGUARD_DETECTORS_MAX_PIXELS)");
        } catch (IllegalArgumentException bad) {
            throw new ModelLoadException(bad.getMessage());
        }
        ModelManifest clipManifest = manifest(clip.modelDir(), "clipguard.engine.model-dir (CLIPGUARD_ENGINE_MODEL_DIR)");
        if (clipManifest.outputsLogit()) {
            throw new ModelLoadException("clipguard.engine.model-dir " + clip.modelDir() + " is model "
                    + clipManifest.id() + ", which outputs its logit: that setting is the CLIP detector (features and a"
                    + " head); name a CLIP model folder there and put this one in clipguard.detectors.extra-model-dirs");
        }
        if (extraMaxImagePixels != null && extraMaxImagePixels < 1) {
            throw new ModelLoadException("clipguard.detectors.max-image-pixels must be at least 1, got "
                    + extraMaxImagePixels + " (leave it unset for clipguard.engine.max-image-pixels)");
        }
        ImageLimits extraLimits = extraMaxImagePixels == null ? clip.imageLimits() : new ImageLimits(
                clip.imageLimits().maxEncodedBytes(), Math.min(extraMaxImagePixels, clip.imageLimits().maxPixels()));
        List<DetectorSet.DetectorSpec> specs = new ArrayList<>();
        Set<String> ids = new HashSet<>(Set.of(clipManifest.id()));
        specs.add(new DetectorSet.DetectorSpec(clipManifest.id(), clip));
        for (Path dir : extraModelDirs) {
            ModelManifest m = manifest(dir, "clipguard.detectors.extra-model-dirs (CLIPGUARD_DETECTORS_EXTRA_MODEL_DIRS)");
            if (!m.outputsLogit()) {
                throw new ModelLoadException("clipguard.detectors.extra-model-dirs names " + dir + ", model " + m.id()
                        + ", which outputs features for a head: a detector set holds one CLIP detector, the one of"
                        + " clipguard.engine.model-dir; the extra folders must be logit models (manifest output.kind"
                        + " logit, e.g. models/corvi2023-res50nodown). Remove it from clipguard.detectors.extra-model-dirs");
            }
            if (!ids.add(m.id())) {
                throw new ModelLoadException("model " + m.id() + " (" + dir + ") is configured twice; list each model"
                        + " once in clipguard.engine.model-dir and clipguard.detectors.extra-model-dirs");
            }
            specs.add(new DetectorSet.DetectorSpec(m.id(), clip.forModel(dir, caps.capOf(m.id())).withImageLimits(extraLimits)));
        }
        try {
            caps.checkNames(ids, "clipguard.detectors.max-pixels");
        } catch (IllegalArgumentException bad) {
            throw new ModelLoadException(bad.getMessage());
        }
        return DetectorSet.open(specs, fusion, fusionThreshold, listeners);
    }

    private static ModelManifest manifest(Path dir, String setting) throws ModelLoadException {
        try {
            return ModelManifest.read(dir);
        } catch (ModelLoadException e) {
            throw new ModelLoadException(setting + " names " + dir + ", which cannot be loaded: " + e.getMessage());
        }
    }

    /** The CLIP detector's engine (its head is served live by detector-heads); the set closes it. */
    @Produces
    @ApplicationScoped
    ScoringEngine clipEngine(DetectorSet detectors) {
        return detectors.featuresEngine();
    }

    /** Batch size and inference latency of one detector, as its engine's dynamic batcher reports them. */
    public static BatchListener batchMeters(MeterRegistry registry, String detector) {
        DistributionSummary batchSize = DistributionSummary.builder("clipguard.inference.batch.size").tag("detector", detector)
                .description("Images per ONNX Runtime run").serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128).register(registry);
        Timer inference = Timer.builder("clipguard.inference.latency").tag("detector", detector)
                .description("ONNX Runtime run per batch").publishPercentileHistogram().register(registry);
        Timer queueWait = Timer.builder("clipguard.inference.queue.wait").tag("detector", detector)
                .description("Oldest request's wait for its batch").publishPercentileHistogram().register(registry);
        Counter failed = Counter.builder("clipguard.inference.failed.batches").tag("detector", detector).register(registry);
        return (size, queueWaitNanos, inferenceNanos, failure) -> {
            batchSize.record(size);
            inference.record(inferenceNanos, TimeUnit.NANOSECONDS);
            queueWait.record(queueWaitNanos, TimeUnit.NANOSECONDS);
            if (failure != null) {
                failed.increment();
            }
        };
    }

    void close(@Disposes DetectorSet detectors) {
        detectors.close();
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
    UploadScorer scorer(DetectorSet detectors, ClipguardConfig config, ActiveHeads heads, MeterRegistry registry) {
        ClipguardConfig.Fetch f = config.fetch();
        ImageFetcher fetcher = new ImageFetcher(new FetchPolicy(f.fileRoots().orElse(List.of()), f.connectTimeout(),
                f.readTimeout(), f.maxBytes(), f.allowPrivateNetworks(), f.maxRedirects()));
        return new UploadScorer(detectors, embeddingCache(detectors, config.embeddings().cacheSize(), registry), heads,
                fetcher, Topics.serdeConfig(config.registry().url()), Clock.systemUTC());
    }

    /** The dedupe cache in front of the detectors, with its hit and miss counters. */
    public static EmbeddingCache embeddingCache(DetectorSet detectors, long size, MeterRegistry registry) {
        EmbeddingCache cache = new EmbeddingCache(detectors, size);
        FunctionCounter.builder("clipguard.embedding.cache.hits", cache, EmbeddingCache::hits)
                .description("Uploads whose content every detector had already run on: all detectors were skipped").register(registry);
        FunctionCounter.builder("clipguard.embedding.cache.misses", cache, EmbeddingCache::misses)
                .description("Uploads that ran the detectors").register(registry);
        return cache;
    }

    void close(@Disposes UploadScorer scorer) {
        scorer.close();
    }
}
