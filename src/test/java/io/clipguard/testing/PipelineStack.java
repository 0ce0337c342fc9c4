package io.clipguard.testing;

import io.clipguard.inference.Device;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.streams.ModerationTopology;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The set-up the end-to-end tests share: a real KRaft broker, the real Apicurio Registry, every topic of the settings
 * (2 partitions) and a started {@link ModerationPipeline} on them. Closing it closes them newest first; a start that
 * fails part-way closes what it had started.
 */
public final class PipelineStack implements AutoCloseable {
    /** Work done against the registry before the pipeline registers its own schemas. */
    @FunctionalInterface
    public interface RegistryStep {
        void run(ApicurioRegistry registry) throws Exception;
    }

    private KafkaBroker broker;
    private ApicurioRegistry registry;
    private ModerationPipeline pipeline;
    private final ModerationTopology.Settings settings;

    private PipelineStack(ModerationTopology.Settings settings) {
        this.settings = settings;
    }

    /** @param tmp holds the registry's log and the pipeline's state directory */
    public static PipelineStack start(Path tmp, String applicationId, ModerationTopology.Settings settings,
                                      List<Path> fileRoots, Duration wait, RegistryStep beforePipeline) throws Exception {
        return start(tmp, applicationId, settings, fileRoots, wait, beforePipeline, EngineConfig.builder(ModerationPipeline.TINY_MODEL)
                .device(Device.AUTO).maxBatchSize(settings.maxBatchSize()).mergeWindow(Duration.ofMillis(2)).build(),
                ScoringParts.Detectors.CLIP_ONLY);
    }

    /** With the CLIP detector's settings {@code engine} and the detectors beside it. */
    public static PipelineStack start(Path tmp, String applicationId, ModerationTopology.Settings settings,
                                      List<Path> fileRoots, Duration wait, RegistryStep beforePipeline, EngineConfig engine,
                                      ScoringParts.Detectors detectors) throws Exception {
        PipelineStack stack = new PipelineStack(settings);
        try {
            stack.broker = KafkaBroker.start();
            stack.registry = ApicurioRegistry.start(tmp.resolve("registry.log"));
            beforePipeline.run(stack.registry);
            stack.broker.createTopics(2, settings.topics().all());
            stack.pipeline = new ModerationPipeline(stack.broker.bootstrapServers(), stack.registry.url(), applicationId,
                    tmp.resolve("state"), settings, ModerationPipeline.fetchPolicy(fileRoots), engine, detectors, 10_000);
            stack.pipeline.start(wait);
            return stack;
        } catch (Exception | Error e) {
            stack.close();
            throw e;
        }
    }

    public KafkaBroker broker() {
        return broker;
    }

    public ApicurioRegistry registry() {
        return registry;
    }

    public ModerationPipeline pipeline() {
        return pipeline;
    }

    public ModerationTopology.Settings settings() {
        return settings;
    }

    @Override
    public void close() throws Exception {
        if (pipeline != null) pipeline.close();
        if (registry != null) registry.close();
        if (broker != null) broker.close();
    }
}
