package io.clipguard.streams;

import io.clipguard.avro.ModerationVerdict;
import io.clipguard.contracts.OutputRecords;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import io.clipguard.moderation.ModerationOutcome;
import io.clipguard.moderation.PendingUpload;
import io.clipguard.moderation.UploadScorer;
import io.clipguard.streams.alerting.BurstAlerting;
import io.clipguard.streams.config.ClipguardConfig;
import io.clipguard.streams.heads.ActiveHeads;
import io.clipguard.streams.heads.HeadControlProcessor;
import io.clipguard.streams.lifecycle.ShutdownDrain;
import io.clipguard.streams.metrics.ModerationMetrics;
import io.quarkus.arc.lookup.LookupIfProperty;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.Stores;

/**
 * The whole moderation pipeline as one Kafka Streams topology:
 *
 * <pre>
 *   image-uploads ──► batch (changelogged pending store) ──► score ──┬─► moderation-verdicts ──(p ≥ alert)──► moderation-alerts
 *                          (active head from the global store of       │        └──(K high scores of one uploader in W)──► moderation-burst-alerts
 *                           detector-heads, read once per batch;       ├─► image-embeddings (the vector the verdict was scored from,
 *                           every detector of the set, fused)          │                     with the other detectors' logits)
 *                                                                     └─► image-uploads-dlq (reason + original bytes)
 * </pre>
 *
 * Uploads are read as raw bytes so that a record that cannot even be deserialised still reaches the dead-letter topic
 * untouched. Topic names, serdes and schemas come from {@link Topics}, their one home.
 *
 * <p>Run it locally: {@code tools/run-local} (starts Kafka, Apicurio Registry, this service and sample uploads, then
 * prints verdicts). Run its tests: {@code ./mvnw verify}.
 */
@ApplicationScoped
public class ModerationTopology {

    /** What the topology needs to know besides the scorer. */
    public record Settings(Topics.Names topics, int maxBatchSize, Duration partitionBatchMaxWait, double alertThreshold,
                           BurstAlerting.Settings burst, int batchesInFlight) {
        /** clipguard.engine.batches-in-flight's default. */
        public static final int DEFAULT_BATCHES_IN_FLIGHT = 0;

        public Settings {
            if (batchesInFlight < 0) {
                throw new IllegalArgumentException("clipguard.engine.batches-in-flight must be 0 or more, got "
                        + batchesInFlight + ": set it to 0 (each flush waits for its verdicts) or a small number like 2");
            }
        }

        /** The default number of batches in flight. */
        public Settings(Topics.Names topics, int maxBatchSize, Duration partitionBatchMaxWait, double alertThreshold,
                        BurstAlerting.Settings burst) {
            this(topics, maxBatchSize, partitionBatchMaxWait, alertThreshold, burst, DEFAULT_BATCHES_IN_FLIGHT);
        }

        /** Burst alerts at the alert threshold with the configuration's defaults (5 in 10 minutes). */
        public Settings(Topics.Names topics, int maxBatchSize, Duration partitionBatchMaxWait, double alertThreshold) {
            this(topics, maxBatchSize, partitionBatchMaxWait, alertThreshold,
                    new BurstAlerting.Settings(5, Duration.ofMinutes(10), alertThreshold, 20, Duration.ofMinutes(1)));
        }

        /**
         * How often the batching processor checks its partition's batch (and its batches in flight): a quarter of the
         * partition batch's maximum wait, at least 1 ms, so an upload never waits much longer than that wait.
         */
        public static Duration batchTick(Duration partitionBatchMaxWait) {
            return Duration.ofMillis(Math.max(1, partitionBatchMaxWait.toMillis() / 4));
        }

        /** {@link #batchTick(Duration)} of these settings. */
        public Duration batchTick() {
            return batchTick(partitionBatchMaxWait);
        }

        /** The same with {@code n} batches per partition in flight (0: a flush waits for its verdicts). */
        public Settings withBatchesInFlight(int n) {
            return new Settings(topics, maxBatchSize, partitionBatchMaxWait, alertThreshold, burst, n);
        }

        static Settings from(ClipguardConfig config) {
            return new Settings(config.topics().names(), config.engine().maxBatchSize(), config.engine().partitionBatchMaxWait(),
                    config.alert().probabilityThreshold(), BurstAlerting.Settings.from(config.alert().burst()),
                    config.engine().batchesInFlight());
        }
    }

    @Produces
    @Singleton // one instance: Kafka Streams runs it, TopicGuard derives the expected topics from it
    // clipguard.scoring.enabled=false: the Quarkus extension finds no Topology (it looks one up) and starts no Kafka
    // Streams, so nothing joins the scoring group and the detectors (built only for this topology) are never opened.
    @LookupIfProperty(name = "clipguard.scoring.enabled", stringValue = "true", lookupIfMissing = true)
    Topology topology(ClipguardConfig config, UploadScorer scorer, ModerationMetrics metrics, ShutdownDrain drain,
                      ActiveHeads heads) {
        return build(Settings.from(config), scorer, metrics, new OutputSchemas(config.registry().url(),
                config.registry().startupWait(), "clipguard.registry.startup-wait"), drain::draining,
                heads);
    }

    /** @param heads updated from this instance's global store of detector-heads; the scorer reads it per batch */
    public static Topology build(Settings s, UploadScorer scorer, ModerationMetrics metrics, OutputSchemas schemas,
                                 BooleanSupplier draining, ActiveHeads heads) {
        Topics.Names names = s.topics();
        // Every subject, the input's too (read raw here): a third-party producer finds it BACKWARD, with our schema.
        schemas.registerAll(names);
        var uploads = Topics.uploadsRaw(names.uploads());
        var verdicts = Topics.verdicts(names.verdicts(), schemas);
        var embeddings = Topics.embeddings(names.embeddings(), schemas);
        var alerts = Topics.alerts(names.alerts(), schemas);
        var deadLetters = Topics.deadLetter(names.deadLetter(), schemas);
        var burstAlerts = Topics.burstAlerts(names.burstAlerts(), schemas);

        StreamsBuilder builder = new StreamsBuilder();
        // Every instance reads all of detector-heads (a global store): an activation reaches each one within seconds.
        builder.addGlobalStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(Topics.HEADS_STORE),
                        Serdes.String(), Serdes.ByteArray()).withLoggingDisabled(),
                names.heads(), Consumed.with(Serdes.String(), Serdes.ByteArray()), () -> new HeadControlProcessor(heads));
        // Changelogged: the positions of waiting uploads survive a crash (see BatchingScoreProcessor).
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(Topics.PENDING_STORE),
                        Serdes.Long(), PendingUpload.storeSerde())
                .withLoggingEnabled(Map.of()));

        KStream<String, ModerationOutcome> outcomes = builder
                .stream(uploads.name(), Consumed.with(uploads.keySerde(), uploads.valueSerde()))
                .process(() -> new BatchingScoreProcessor(scorer, metrics, s.maxBatchSize(), s.partitionBatchMaxWait(), draining,
                                s.batchesInFlight()),
                        Named.as("batch-and-score"), Topics.PENDING_STORE);

        outcomes.split(Named.as("outcome-"))
                .branch((id, outcome) -> outcome instanceof ModerationOutcome.Verdict, Branched.withConsumer(scored -> {
                    KStream<String, ModerationVerdict> verdictStream = scored.mapValues(o -> ((ModerationOutcome.Verdict) o).verdict());
                    verdictStream.to(verdicts.name(), Produced.with(verdicts.keySerde(), verdicts.valueSerde()));
                    // Same task, same transaction: an upload's embedding is committed exactly when its verdict is. A
                    // verdict fused without the CLIP detector (it failed on the image) has none: rescore re-infers it.
                    scored.filter((id, o) -> ((ModerationOutcome.Verdict) o).embedding() != null)
                            .mapValues(o -> ((ModerationOutcome.Verdict) o).embedding())
                            .to(embeddings.name(), Produced.with(embeddings.keySerde(), embeddings.valueSerde()));
                    verdictStream.filter((id, v) -> v.getProbability() >= s.alertThreshold())
                            .mapValues(v -> {
                                metrics.alert();
                                return OutputRecords.alert(v, s.alertThreshold(), s.topics().verdicts());
                            })
                            .to(alerts.name(), Produced.with(alerts.keySerde(), alerts.valueSerde()));
                    BurstAlerting.attach(verdictStream, s.burst(), names.verdicts(), burstAlerts, metrics);
                }, "verdict"))
                .defaultBranch(Branched.withConsumer(failed -> failed
                        .map((id, o) -> {
                            ModerationOutcome.DeadLetter d = (ModerationOutcome.DeadLetter) o;
                            return KeyValue.pair(d.originalKey(), d.failure());
                        })
                        .to(deadLetters.name(), Produced.with(deadLetters.keySerde(), deadLetters.valueSerde())), "dead-letter"));
        return builder.build();
    }
}
