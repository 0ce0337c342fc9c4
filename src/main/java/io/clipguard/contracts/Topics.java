package io.clipguard.contracts;

import io.apicurio.registry.serde.Default4ByteIdHandler;
import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.avro.AvroSerdeConfig;
import io.apicurio.registry.serde.config.IdOption;
import io.apicurio.registry.serde.config.SerdeConfig;
import io.apicurio.registry.serde.kafka.config.KafkaSerdeConfig;
import io.clipguard.avro.DetectorHeadEntry;
import io.clipguard.avro.HighScoreAlert;
import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.ModerationDecision;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.ScoringFailure;
import io.clipguard.avro.UploaderBurstAlert;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The data contracts of every clipguard topic, in one home (as {@code Schemas.Topics} in Confluent's
 * kafka-streams-examples): each topic's default name, its key and value types, and the serde settings that give the
 * Confluent wire format. The topology, the CLI's Kafka commands, the config defaults and the tests all take topic names
 * and serdes from here; the Avro schemas themselves live in {@code avro/}.
 *
 * <pre>
 *   topic                 key                  value
 *   image-uploads         upload id (string)   ImageUploaded   (read as raw bytes: a bad record still reaches the DLQ)
 *   moderation-verdicts   upload id (string)   ModerationVerdict
 *   moderation-alerts     upload id (string)   HighScoreAlert
 *   image-uploads-dlq     original key bytes   ScoringFailure
 *   moderation-burst-alerts  uploader id (string)  UploaderBurstAlert
 *   image-embeddings      upload id (string)   ImageEmbedding  (compact,delete; written with the verdict)
 *   detector-heads        head:&lt;model&gt;:&lt;version&gt; | active:&lt;model&gt;   DetectorHeadEntry (compacted, 1 partition)
 *   moderation-decisions  upload id (string)   ModerationDecision  (delete, retention unlimited; written by the console)
 * </pre>
 *
 * <p>moderation-decisions is not compacted although the latest decision per upload is the one that counts: a changed
 * decision keeps its history (who decided what, when), and the labels are the training set of {@code train
 * --decisions}, so nothing deletes them by age either ({@link #DECISIONS_RETENTION}). Readers fold the history into
 * the latest decision per upload themselves. Moderators write a few hundred small records an hour, so unlimited
 * retention costs little.
 */
public final class Topics {
    public static final String UPLOADS = "image-uploads";
    public static final String VERDICTS = "moderation-verdicts";
    public static final String ALERTS = "moderation-alerts";
    public static final String DEAD_LETTER = "image-uploads-dlq";
    public static final String BURST_ALERTS = "moderation-burst-alerts";
    public static final String EMBEDDINGS = "image-embeddings";
    public static final String HEADS = "detector-heads";
    public static final String DECISIONS = "moderation-decisions";

    /**
     * The default largest upload record, in bytes (16 MiB): the service's {@code clipguard.max-record-bytes}
     * ({@code ClipguardConfig} defaults to it, and application.properties sets the same number: DeploymentFilesTest
     * checks), and the default of the command line's {@code --max-record-bytes} (rescore) and {@code --max-message-bytes}
     * (create-topics). Producers and fetches are sized to it; brokers' message.max.bytes and the topics'
     * max.message.bytes must allow it.
     */
    public static final int DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;

    /** {@link #DEFAULT_MAX_RECORD_BYTES} as text, for annotations (a setting's or an option's default). */
    public static final String DEFAULT_MAX_RECORD_BYTES_TEXT = "" + DEFAULT_MAX_RECORD_BYTES;

    /** Every instance's global store over {@link #HEADS} (raw values; decoded when a head is looked up). */
    public static final String HEADS_STORE = "detector-heads-store";

    /**
     * How long image-embeddings keeps a vector: longer than any rescoring horizon (the runbook rescoring 30 days) and
     * than image-uploads' own retention, since an embedding replaces the image for rescoring.
     */
    public static final Duration EMBEDDINGS_RETENTION = Duration.ofDays(90);

    /**
     * moderation-decisions' {@code retention.ms}: -1, kept for good. Decisions are the reviewers' audit trail and the
     * labels heads are trained from; a deployment that must forget them sets a retention of its own.
     */
    public static final long DECISIONS_RETENTION = -1;

    /**
     * The state store holding the positions of uploads waiting for their batch. Kafka Streams backs it with the internal
     * topic {@code <application id>-pending-uploads-changelog}, which must have as many partitions as the uploads
     * topic (TopicCheck derives and checks it from the topology).
     */
    public static final String PENDING_STORE = "pending-uploads";

    /**
     * The windowed store counting each uploader's high-score verdicts per window (changelogged by Kafka Streams), and the
     * name of the repartition step that keys high-score verdicts by uploader before counting.
     */
    public static final String BURST_STORE = "uploader-burst-counts";
    public static final String BURST_REPARTITION = "burst-by-uploader";

    private Topics() {}

    /** The topic names one deployment uses; each can be renamed in the config ({@code clipguard.topics.*}). */
    public record Names(String uploads, String verdicts, String alerts, String deadLetter, String burstAlerts,
                        String embeddings, String heads, String decisions) {
        public static final Names DEFAULT = new Names(UPLOADS, VERDICTS, ALERTS, DEAD_LETTER, BURST_ALERTS, EMBEDDINGS, HEADS,
                DECISIONS);

        /** Every name with {@code suffix} appended (tests and benchmarks run side by side on one broker). */
        public Names withSuffix(String suffix) {
            return new Names(uploads + suffix, verdicts + suffix, alerts + suffix, deadLetter + suffix, burstAlerts + suffix,
                    embeddings + suffix, heads + suffix, decisions + suffix);
        }

        /** The topics that answer each upload (what {@code watch} prints). */
        public List<String> outputs() {
            return List.of(verdicts, alerts, deadLetter, burstAlerts);
        }

        /** Every topic the service reads or writes (decisions: its console), input first. */
        public List<String> all() {
            return List.of(uploads, verdicts, alerts, deadLetter, burstAlerts, embeddings, heads, decisions);
        }

        /**
         * Each topic's value schema, input first: the registry subjects ({@code <topic>-value}) clipguard owns, set to
         * {@link OutputSchemas#COMPATIBILITY} by {@code create-topics} and at the service's start.
         */
        public Map<String, Schema> valueSchemas() {
            Map<String, Schema> schemas = new LinkedHashMap<>();
            schemas.put(uploads, ImageUploaded.getClassSchema());
            schemas.put(verdicts, ModerationVerdict.getClassSchema());
            schemas.put(alerts, HighScoreAlert.getClassSchema());
            schemas.put(deadLetter, ScoringFailure.getClassSchema());
            schemas.put(burstAlerts, UploaderBurstAlert.getClassSchema());
            schemas.put(embeddings, ImageEmbedding.getClassSchema());
            schemas.put(heads, DetectorHeadEntry.getClassSchema());
            schemas.put(decisions, ModerationDecision.getClassSchema());
            return schemas;
        }

        /**
         * The topic {@code name} of this set as it must be created: detector-heads compacted with one partition (one
         * order for a head and its activation); image-embeddings compacted by upload id (a re-embedding replaces the
         * old vector) and deleted after {@link #EMBEDDINGS_RETENTION}; moderation-decisions never deleted
         * ({@link #DECISIONS_RETENTION}: the history is kept); all but detector-heads with {@code partitions}.
         */
        public NewTopic newTopic(String name, int partitions, short replicationFactor, int maxMessageBytes) {
            Map<String, String> configs = new java.util.HashMap<>(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                    String.valueOf(maxMessageBytes)));
            if (name.equals(heads)) {
                return newHeadsTopic(name, replicationFactor, maxMessageBytes);
            }
            if (name.equals(embeddings)) {
                configs.put(TopicConfig.CLEANUP_POLICY_CONFIG,
                        TopicConfig.CLEANUP_POLICY_COMPACT + "," + TopicConfig.CLEANUP_POLICY_DELETE);
                configs.put(TopicConfig.RETENTION_MS_CONFIG, String.valueOf(EMBEDDINGS_RETENTION.toMillis()));
            }
            if (name.equals(decisions)) {
                configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE);
                configs.put(TopicConfig.RETENTION_MS_CONFIG, String.valueOf(DECISIONS_RETENTION));
            }
            return new NewTopic(name, partitions, replicationFactor).configs(configs);
        }
    }

    /** detector-heads as it must be created: compacted, one partition (a head's record and its activation keep their order). */
    public static NewTopic newHeadsTopic(String name, short replicationFactor, int maxMessageBytes) {
        return new NewTopic(name, 1, replicationFactor).configs(Map.of(
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
                TopicConfig.MAX_MESSAGE_BYTES_CONFIG, String.valueOf(maxMessageBytes)));
    }

    /** detector-heads key of a published head version. */
    public static String headKey(String modelId, String version) {
        return "head:" + modelId + ":" + version;
    }

    /** detector-heads key of the pointer to a model's active head version. */
    public static String activeKey(String modelId) {
        return "active:" + modelId;
    }

    /** A topic with the serdes of its key and value. */
    public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde) {}

    /** Uploads as raw bytes; {@link #avroReader(String)} deserialises a value once it is known to be worth it. */
    public static Topic<byte[], byte[]> uploadsRaw(String name) {
        return new Topic<>(name, Serdes.ByteArray(), Serdes.ByteArray());
    }

    public static Topic<String, ImageUploaded> uploads(String name, OutputSchemas schemas) {
        return new Topic<>(name, Serdes.String(), schemas.pinnedSerde(name, ImageUploaded.getClassSchema()));
    }

    public static Topic<String, ModerationVerdict> verdicts(String name, OutputSchemas schemas) {
        return new Topic<>(name, Serdes.String(), schemas.pinnedSerde(name, ModerationVerdict.getClassSchema()));
    }

    public static Topic<String, HighScoreAlert> alerts(String name, OutputSchemas schemas) {
        return new Topic<>(name, Serdes.String(), schemas.pinnedSerde(name, HighScoreAlert.getClassSchema()));
    }

    public static Topic<String, UploaderBurstAlert> burstAlerts(String name, OutputSchemas schemas) {
        return new Topic<>(name, Serdes.String(), schemas.pinnedSerde(name, UploaderBurstAlert.getClassSchema()));
    }

    public static Topic<String, ImageEmbedding> embeddings(String name, OutputSchemas schemas) {
        return new Topic<>(name, Serdes.String(), schemas.pinnedSerde(name, ImageEmbedding.getClassSchema()));
    }

    /** Keyed by upload id; every record is kept, the latest per upload counts. */
    public static Topic<String, ModerationDecision> decisions(String name, OutputSchemas schemas) {
        return new Topic<>(name, Serdes.String(), schemas.pinnedSerde(name, ModerationDecision.getClassSchema()));
    }

    public static Topic<String, DetectorHeadEntry> heads(String name, OutputSchemas schemas) {
        return new Topic<>(name, Serdes.String(), schemas.pinnedSerde(name, DetectorHeadEntry.getClassSchema()));
    }

    /** Keyed by the original record's key bytes, untouched (it may not even be a string). */
    public static Topic<byte[], ScoringFailure> deadLetter(String name, OutputSchemas schemas) {
        return new Topic<>(name, Serdes.ByteArray(), schemas.pinnedSerde(name, ScoringFailure.getClassSchema()));
    }

    /**
     * Apicurio serde settings that give the Confluent wire format: magic byte 0, then the 4-byte content id, which is
     * the id Apicurio's Confluent-compatible API serves at /schemas/ids/{id}; no schema headers. Readers and writers
     * are found by schema object ({@link SchemaIdentityDatumProvider}), not by a fingerprint per record.
     *
     * @param registryBaseUrl the registry's root, e.g. http://localhost:8081
     */
    public static Map<String, Object> serdeConfig(String registryBaseUrl) {
        return Map.of(
                SerdeConfig.REGISTRY_URL, registryBaseUrl.replaceAll("/+$", "") + "/apis/registry/v3",
                SerdeConfig.ID_HANDLER, Default4ByteIdHandler.class.getName(),
                SerdeConfig.USE_ID, IdOption.contentId.name(),
                KafkaSerdeConfig.ENABLE_HEADERS, false,
                AvroSerdeConfig.USE_SPECIFIC_AVRO_READER, true,
                // The class, not its name: Apicurio loads a name with its own class loader, which in Quarkus cannot see ours.
                AvroSerdeConfig.AVRO_DATUM_PROVIDER, SchemaIdentityDatumProvider.class);
    }

    /** A reader of any of our Avro values (Confluent framing, schema looked up by id). */
    public static <T> Deserializer<T> avroReader(String registryBaseUrl) {
        AvroKafkaDeserializer<T> reader = new AvroKafkaDeserializer<>();
        reader.configure(serdeConfig(registryBaseUrl), false);
        return reader;
    }
}
