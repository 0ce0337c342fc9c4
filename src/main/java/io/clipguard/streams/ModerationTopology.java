package io.clipguard.streams;

import io.apicurio.registry.serde.Default4ByteIdHandler;
import io.apicurio.registry.serde.avro.AvroSerdeConfig;
import io.apicurio.registry.serde.config.IdOption;
import io.apicurio.registry.serde.config.SerdeConfig;
import io.apicurio.registry.serde.kafka.config.KafkaSerdeConfig;
import io.clipguard.avro.HighScoreAlert;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.ScoringFailure;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.serialization.Serde;
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
 *                                                                     └─► image-uploads-dlq (reason + original bytes)
 * </pre>
 *
 * Uploads are read as raw bytes so that a record that cannot even be deserialised still reaches the dead-letter topic
 * untouched. Outputs are Avro in the Confluent wire format (magic byte, 4-byte schema id) through a
 * Confluent-compatible registry.
 *
 * <p>Run it locally: {@code tools/run-local} (starts Kafka, Apicurio Registry, this service and sample uploads, then
 * prints verdicts). Run its tests: {@code ./mvnw verify}.
 */
@ApplicationScoped
public class ModerationTopology {
    public static final String UPLOADS_TOPIC = "image-uploads";
    public static final String VERDICTS_TOPIC = "moderation-verdicts";
    public static final String ALERTS_TOPIC = "moderation-alerts";
    public static final String DLQ_TOPIC = "image-uploads-dlq";
    public static final String PENDING_STORE = "pending-uploads";

    /** What the topology needs to know besides the scorer. */
    public record Settings(String uploadsTopic, String verdictsTopic, String alertsTopic, String deadLetterTopic,
                           int maxBatchSize, Duration maxQueueDelay, double alertThreshold) {
        static Settings from(ClipguardConfig config) {
            ClipguardConfig.Topics t = config.topics();
            return new Settings(t.uploads(), t.verdicts(), t.alerts(), t.deadLetter(), config.engine().maxBatchSize(),
                    config.engine().maxQueueDelay(), config.alert().probabilityThreshold());
        }
    }

    @Produces
    Topology topology(ClipguardConfig config, UploadScorer scorer, ModerationMetrics metrics, ShutdownDrain drain) {
        String registry = config.registry().url();
        return build(Settings.from(config), scorer, metrics, new OutputSchemas(registry), drain::draining);
    }

    /**
     * Apicurio serde settings that give the Confluent wire format: magic byte 0, then the 4-byte content id, which is
     * the id Apicurio's Confluent-compatible API serves at /schemas/ids/{id}; no schema headers.
     *
     * @param registryBaseUrl the registry's root, e.g. http://localhost:8081
     */
    public static Map<String, Object> serdeConfig(String registryBaseUrl) {
        return Map.of(
                SerdeConfig.REGISTRY_URL, registryBaseUrl.replaceAll("/+$", "") + "/apis/registry/v3",
                SerdeConfig.ID_HANDLER, Default4ByteIdHandler.class.getName(),
                SerdeConfig.USE_ID, IdOption.contentId.name(),
                KafkaSerdeConfig.ENABLE_HEADERS, false,
                AvroSerdeConfig.USE_SPECIFIC_AVRO_READER, true);
    }

    public static Topology build(Settings s, UploadScorer scorer, ModerationMetrics metrics, OutputSchemas schemas,
                                 BooleanSupplier draining) {
        StreamsBuilder builder = new StreamsBuilder();
        // Changelogged: the positions of waiting uploads survive a crash (see BatchingScoreProcessor).
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(PENDING_STORE),
                        Serdes.Long(), PendingUpload.storeSerde())
                .withLoggingEnabled(Map.of()));

        KStream<String, ModerationOutcome> outcomes = builder
                .stream(s.uploadsTopic(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
                .process(() -> new BatchingScoreProcessor(scorer, metrics, s.maxBatchSize(), s.maxQueueDelay(), draining),
                        Named.as("batch-and-score"), PENDING_STORE);

        Serde<ModerationVerdict> verdictSerde = schemas.pinnedSerde(s.verdictsTopic(), ModerationVerdict.getClassSchema());
        Serde<HighScoreAlert> alertSerde = schemas.pinnedSerde(s.alertsTopic(), HighScoreAlert.getClassSchema());
        Serde<ScoringFailure> failureSerde = schemas.pinnedSerde(s.deadLetterTopic(), ScoringFailure.getClassSchema());

        outcomes.split(Named.as("outcome-"))
                .branch((id, outcome) -> outcome instanceof ModerationOutcome.Verdict, Branched.withConsumer(scored -> {
                    KStream<String, ModerationVerdict> verdicts = scored.mapValues(o -> ((ModerationOutcome.Verdict) o).verdict());
                    verdicts.to(s.verdictsTopic(), Produced.with(Serdes.String(), verdictSerde));
                    verdicts.filter((id, v) -> v.getProbability() >= s.alertThreshold())
                            .mapValues(v -> {
                                metrics.alert();
                                return alert(v, s);
                            })
                            .to(s.alertsTopic(), Produced.with(Serdes.String(), alertSerde));
                }, "verdict"))
                .defaultBranch(Branched.withConsumer(failed -> failed
                        .map((id, o) -> {
                            ModerationOutcome.DeadLetter d = (ModerationOutcome.DeadLetter) o;
                            return KeyValue.pair(d.originalKey(), d.failure());
                        })
                        .to(s.deadLetterTopic(), Produced.with(Serdes.ByteArray(), failureSerde)), "dead-letter"));
        return builder.build();
    }

    private static HighScoreAlert alert(ModerationVerdict v, Settings s) {
        return HighScoreAlert.newBuilder()
                .setUploadId(v.getUploadId())
                .setUploaderId(v.getUploaderId())
                .setProbability(v.getProbability())
                .setAlertThreshold(s.alertThreshold())
                .setVerdictTopic(s.verdictsTopic())
                .setVerdictModelId(v.getModelId())
                .setVerdictHeadVersion(v.getHeadVersion())
                .setSourcePartition(v.getSourcePartition())
                .setSourceOffset(v.getSourceOffset())
                .build();
    }
}
