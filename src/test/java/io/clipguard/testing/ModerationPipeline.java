package io.clipguard.testing;

import io.clipguard.contracts.HeadCatalog;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import io.clipguard.fetch.FetchPolicy;
import io.clipguard.inference.Device;
import io.clipguard.scoring.EmbeddingCache;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.ScoringEngine;
import io.clipguard.streams.ModerationTopology;
import io.clipguard.streams.alerting.BurstAlerting;
import io.clipguard.streams.heads.ActiveHeads;
import io.clipguard.streams.heads.HeadsProducer;
import io.clipguard.streams.lifecycle.BoundedKafkaClients;
import io.clipguard.streams.lifecycle.StreamThreadFailurePolicy;
import io.clipguard.streams.metrics.ModerationMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The service's topology on a real broker and registry, outside Quarkus: the same {@link ModerationTopology#build},
 * the same engine and the same {@code kafka-streams.*} settings as application.properties, so tests can start, kill
 * and restart instances at will.
 */
public final class ModerationPipeline implements AutoCloseable {
    public static final Path TINY_MODEL = Path.of("models/tiny-clip-test");

    private final ScoringParts parts;
    private final KafkaStreams streams;
    /** Stream threads that died (each one's open transaction aborted), whatever the failure policy answered. */
    private final AtomicInteger threadDeaths = new AtomicInteger();

    public ModerationPipeline(String bootstrap, String registryUrl, String applicationId, Path stateDir,
                              ModerationTopology.Settings settings, FetchPolicy fetchPolicy) throws Exception {
        this(bootstrap, registryUrl, applicationId, stateDir, settings, fetchPolicy, TINY_MODEL, Duration.ofMillis(2));
    }

    /** @param mergeWindow how long the engine waits for other stream threads' batches (clipguard.engine.merge-window) */
    public ModerationPipeline(String bootstrap, String registryUrl, String applicationId, Path stateDir,
                              ModerationTopology.Settings settings, FetchPolicy fetchPolicy, Path model, Duration mergeWindow)
            throws Exception {
        this(bootstrap, registryUrl, applicationId, stateDir, settings, fetchPolicy, model, mergeWindow,
                io.clipguard.image.DecodeMode.EXACT);
    }

    /** @param decodeMode clipguard.engine.decode */
    public ModerationPipeline(String bootstrap, String registryUrl, String applicationId, Path stateDir,
                              ModerationTopology.Settings settings, FetchPolicy fetchPolicy, Path model, Duration mergeWindow,
                              io.clipguard.image.DecodeMode decodeMode) throws Exception {
        this(bootstrap, registryUrl, applicationId, stateDir, settings, fetchPolicy, model, mergeWindow, decodeMode, 10_000);
    }

    /** @param embeddingCacheSize clipguard.embeddings.cache-size (0: off, every upload runs the encoder) */
    public ModerationPipeline(String bootstrap, String registryUrl, String applicationId, Path stateDir,
                              ModerationTopology.Settings settings, FetchPolicy fetchPolicy, Path model, Duration mergeWindow,
                              io.clipguard.image.DecodeMode decodeMode, long embeddingCacheSize) throws Exception {
        this(bootstrap, registryUrl, applicationId, stateDir, settings, fetchPolicy, EngineConfig.builder(model)
                .device(Device.AUTO).maxBatchSize(settings.maxBatchSize()).mergeWindow(mergeWindow).decodeMode(decodeMode)
                .build(), ScoringParts.Detectors.CLIP_ONLY, embeddingCacheSize);
    }

    /**
     * @param engine    the CLIP detector's engine settings (clipguard.engine.*), which the other detectors share
     * @param detectors the logit models beside the CLIP detector and their fusion (clipguard.detectors.*)
     */
    public ModerationPipeline(String bootstrap, String registryUrl, String applicationId, Path stateDir,
                              ModerationTopology.Settings settings, FetchPolicy fetchPolicy, EngineConfig engine,
                              ScoringParts.Detectors detectors, long embeddingCacheSize) throws Exception {
        this(bootstrap, registryUrl, applicationId, stateDir, settings, fetchPolicy, engine, detectors, embeddingCacheSize, Map.of());
    }

    /** @param streamsOverrides Kafka Streams settings that replace the service's (application.properties) ones */
    public ModerationPipeline(String bootstrap, String registryUrl, String applicationId, Path stateDir,
                              ModerationTopology.Settings settings, FetchPolicy fetchPolicy, EngineConfig engine,
                              ScoringParts.Detectors detectors, long embeddingCacheSize, Map<String, String> streamsOverrides)
            throws Exception {
        parts = ScoringParts.open(engine, detectors, registryUrl, fetchPolicy, embeddingCacheSize);
        // The service's start rule: seed detector-heads with the configured head if the model has none active.
        HeadsProducer.seed(new HeadCatalog(bootstrap, registryUrl, settings.topics().heads()), parts.engine().configuredHead(),
                parts.engine().config().headFile());
        Properties props = streamsProperties();
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.putAll(streamsOverrides);
        // The service's client supplier and thread-failure policy (the Quarkus extension installs the same beans).
        streams = new KafkaStreams(ModerationTopology.build(settings, parts.scorer(), parts.metrics(), new OutputSchemas(registryUrl),
                () -> false, parts.heads()), props, new BoundedKafkaClients(Duration.ofSeconds(5)));
        StreamThreadFailurePolicy policy = new StreamThreadFailurePolicy(reason -> { }, System::nanoTime);
        streams.setUncaughtExceptionHandler(e -> {
            threadDeaths.incrementAndGet();
            return policy.handle(e);
        });
    }

    public static ModerationTopology.Settings settings(String suffix, int maxBatchSize, Duration partitionBatchMaxWait, double alertThreshold) {
        return new ModerationTopology.Settings(Topics.Names.DEFAULT.withSuffix(suffix), maxBatchSize, partitionBatchMaxWait,
                alertThreshold);
    }

    public static ModerationTopology.Settings settings(String suffix, int maxBatchSize, Duration partitionBatchMaxWait,
                                                      double alertThreshold, BurstAlerting.Settings burst) {
        return new ModerationTopology.Settings(Topics.Names.DEFAULT.withSuffix(suffix), maxBatchSize, partitionBatchMaxWait,
                alertThreshold, burst);
    }

    public static FetchPolicy fetchPolicy(List<Path> fileRoots) {
        return new FetchPolicy(fileRoots, Duration.ofSeconds(1), Duration.ofSeconds(3), 16 * 1024 * 1024, false, 3);
    }

    public ModerationPipeline start(Duration timeout) {
        streams.start();
        Waits.await("streams RUNNING").atMost(timeout)
                .failFast("streams failed to start", () -> streams.state() == KafkaStreams.State.ERROR)
                .until(streams::state, state -> state == KafkaStreams.State.RUNNING);
        return this;
    }

    /** Stops processing (the instance stays in its group), e.g. to fill a backlog; {@link #resume()} goes on. */
    public void pause() {
        streams.pause();
    }

    public void resume() {
        streams.resume();
    }

    public ScoringEngine engine() {
        return parts.engine();
    }

    /** The detector set, meters and encoder counts this instance scores with. */
    public ScoringParts parts() {
        return parts;
    }

    public ModerationMetrics metrics() {
        return parts.metrics();
    }

    /** The sum of this instance's counters named {@code name} (Micrometer's dotted name) with the given tags. */
    public double counted(String name, String... tags) {
        return parts.counted(name, tags);
    }

    /** This instance's Micrometer meters (head refusals, cache hits and misses, ...). */
    public SimpleMeterRegistry meters() {
        return parts.meters();
    }

    /** The head this instance scores with, as its global store of detector-heads says. */
    public ActiveHeads heads() {
        return parts.heads();
    }

    public EmbeddingCache cache() {
        return parts.cache();
    }

    /** How many of this instance's stream threads died so far (an engine outage kills the thread of its batch). */
    public int threadDeaths() {
        return threadDeaths.get();
    }

    /** The {@code kafka-streams.*} entries of application.properties, with ${...} references resolved in that file. */
    static Properties streamsProperties() {
        Properties app = new Properties();
        try (InputStream in = ModerationPipeline.class.getResourceAsStream("/application.properties")) {
            app.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Pattern ref = Pattern.compile("\\$\\{([^}]+)}");
        Properties streams = new Properties();
        for (String key : app.stringPropertyNames()) {
            if (key.startsWith("kafka-streams.")) {
                Matcher m = ref.matcher(app.getProperty(key));
                streams.put(key.substring("kafka-streams.".length()), m.replaceAll(r -> Matcher.quoteReplacement(app.getProperty(r.group(1)))));
            }
        }
        return streams;
    }

    @Override
    public void close() {
        streams.close(Duration.ofSeconds(30));
        parts.close();
    }
}
