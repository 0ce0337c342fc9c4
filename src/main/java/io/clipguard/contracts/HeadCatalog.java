package io.clipguard.contracts;

import io.clipguard.avro.DetectorHeadEntry;
import io.clipguard.model.LinearHead;
import io.clipguard.model.ModelLoadException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;

/**
 * The control topic detector-heads as a catalogue: one record per published head version (key
 * {@code head:<model>:<version>}, the head file verbatim) and one pointer per model to its active version (key
 * {@code active:<model>}). Used by {@code tools/clipguard head}, by {@code rescore} to find a head by version, and by
 * the service at start to seed the topic. Versions are immutable: a version is published once, with one content.
 */
public final class HeadCatalog {
    private final String bootstrapServers;
    private final String registryUrl;
    private final String topic;
    private final int maxRecordBytes;

    /** With the service's default record limit ({@link Topics#DEFAULT_MAX_RECORD_BYTES}). */
    public HeadCatalog(String bootstrapServers, String registryUrl, String topic) {
        this(bootstrapServers, registryUrl, topic, Topics.DEFAULT_MAX_RECORD_BYTES);
    }

    /** @param maxRecordBytes the largest record read or written (clipguard.max-record-bytes) */
    public HeadCatalog(String bootstrapServers, String registryUrl, String topic, int maxRecordBytes) {
        this.bootstrapServers = bootstrapServers;
        this.registryUrl = registryUrl;
        this.topic = topic;
        this.maxRecordBytes = maxRecordBytes;
    }

    /** A published head version and whether it is its model's active one. */
    public record Entry(String modelId, String version, String headJson, Instant publishedAt, String publishedBy, boolean active) {
        public LinearHead head() throws ModelLoadException {
            return LinearHead.parse(headJson, Topics.HEADS + " " + Topics.headKey(modelId, version));
        }
    }

    /** Everything the topic holds now, by key (the latest record per key; deleted keys absent). */
    public Map<String, DetectorHeadEntry> read() {
        TopicScan scan = new TopicScan(bootstrapServers, maxRecordBytes);
        Deserializer<DetectorHeadEntry> reader = Topics.avroReader(registryUrl);
        Map<String, DetectorHeadEntry> latest = new TreeMap<>();
        TopicScan.Plan plan;
        try {
            plan = scan.plan(topic, null);
        } catch (TopicScan.MissingTopicException e) {
            return latest; // nothing published yet
        }
        scan.scan(plan, r -> {
            String key = r.key() == null ? null : new String(r.key(), java.nio.charset.StandardCharsets.UTF_8);
            if (key == null) {
                return;
            }
            if (r.value() == null) {
                latest.remove(key);
            } else {
                latest.put(key, reader.deserialize(topic, r.value()));
            }
        });
        reader.close();
        return latest;
    }

    /** Every published head version, by model then publication time; the active ones marked. */
    public List<Entry> list() {
        Map<String, DetectorHeadEntry> all = read();
        List<Entry> out = new ArrayList<>();
        all.forEach((key, e) -> {
            if (key.startsWith("head:") && e.getHeadJson() != null) {
                DetectorHeadEntry active = all.get(Topics.activeKey(e.getModelId()));
                out.add(new Entry(e.getModelId(), e.getVersion(), e.getHeadJson(), e.getUpdatedAt(), e.getUpdatedBy(),
                        active != null && active.getVersion().equals(e.getVersion())));
            }
        });
        out.sort(Comparator.comparing(Entry::modelId).thenComparing(Entry::publishedAt));
        return out;
    }

    /** The active version of {@code modelId}, if one was activated. */
    public Optional<String> activeVersion(String modelId) {
        return Optional.ofNullable(read().get(Topics.activeKey(modelId))).map(DetectorHeadEntry::getVersion);
    }

    /**
     * The published head with {@code version}: of {@code modelId} when given, else of whichever model has it.
     *
     * @throws IllegalArgumentException none, or several models, have that version (message says what to do)
     */
    public Entry find(String version, String modelId) {
        List<Entry> matches = list().stream()
                .filter(e -> e.version().equals(version) && (modelId == null || e.modelId().equals(modelId))).toList();
        if (matches.isEmpty()) {
            throw new IllegalArgumentException("no head version '" + version + "'" + (modelId == null ? "" : " of model '" + modelId + "'")
                    + " on " + topic + "; publish it first (tools/clipguard head publish --file head.json), see tools/clipguard head list");
        }
        if (matches.size() > 1) {
            throw new IllegalArgumentException("head version '" + version + "' exists for several models "
                    + matches.stream().map(Entry::modelId).toList() + "; name one with --model");
        }
        return matches.get(0);
    }

    /** What {@link #publish} did. */
    public enum Published { PUBLISHED, ALREADY_PUBLISHED }

    /**
     * Publishes a head file's text under {@code head:<model>:<version>}, and activates it if asked.
     *
     * @throws IllegalArgumentException that version is already published with other content
     */
    public Published publish(LinearHead head, String headJson, boolean activate, String who) {
        requireVersion(head);
        ensureTopic();
        String key = Topics.headKey(head.modelId(), head.version());
        DetectorHeadEntry existing = read().get(key);
        Published result = Published.PUBLISHED;
        if (existing != null && existing.getHeadJson() != null) {
            if (!sameHead(existing.getHeadJson(), head)) {
                throw new IllegalArgumentException("head version '" + head.version() + "' of model '" + head.modelId()
                        + "' is already published with other content; versions are immutable: give the new head a new"
                        + " \"version\" in its file");
            }
            result = Published.ALREADY_PUBLISHED;
        }
        try (KafkaProducer<String, DetectorHeadEntry> producer = producer()) {
            if (result == Published.PUBLISHED) {
                send(producer, key, new DetectorHeadEntry(head.modelId(), head.version(), headJson, Instant.now(), who));
            }
            if (activate) {
                send(producer, Topics.activeKey(head.modelId()),
                        new DetectorHeadEntry(head.modelId(), head.version(), null, Instant.now(), who));
            }
        }
        return result;
    }

    /** Makes a published version the active head of its model (the instances switch as soon as they read the record). */
    public void activate(Entry entry, String who) {
        try (KafkaProducer<String, DetectorHeadEntry> producer = producer()) {
            send(producer, Topics.activeKey(entry.modelId()),
                    new DetectorHeadEntry(entry.modelId(), entry.version(), null, Instant.now(), who));
        }
    }

    /**
     * The start rule of the service: when the topic has no active head for the configured head's model yet, publish
     * the configured head file (unless that version is there already) and activate it. When the topic already names an
     * active head, it wins over the configured file. Publishing creates the topic (compacted, one partition) if missing.
     *
     * @return true if this call activated the configured head
     */
    public boolean seedIfNoneActive(LinearHead configured, String headJson, String who) {
        if (read().containsKey(Topics.activeKey(configured.modelId()))) {
            return false;
        }
        publish(configured, headJson, true, who);
        return true;
    }

    /** Creates the topic as {@link Topics#newHeadsTopic} describes it, if it does not exist. */
    public void ensureTopic() {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        try (Admin admin = Admin.create(props)) {
            if (admin.listTopics().names().get().contains(topic)) {
                return;
            }
            // Replication factor -1: the broker's default.
            admin.createTopics(List.of(Topics.newHeadsTopic(topic, (short) -1, 1024 * 1024))).all().get();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create " + topic + " on " + bootstrapServers + ": " + e.getCause(), e);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating " + topic, e);
        }
    }

    /** The same head: every field and weight equal (provenance aside). Records compare arrays by identity. */
    private static boolean sameHead(String publishedJson, LinearHead head) {
        try {
            LinearHead p = LinearHead.parse(publishedJson, "published head");
            return p.modelId().equals(head.modelId()) && p.version().equals(head.version())
                    && java.util.Arrays.equals(p.weights(), head.weights()) && p.bias() == head.bias()
                    && p.calibration().equals(head.calibration()) && p.threshold() == head.threshold();
        } catch (ModelLoadException e) {
            return false;
        }
    }

    /** {@code name@host}, as recorded in updatedBy. */
    public static String writer(String name) {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "unknown-host";
        }
        return name + "@" + host;
    }

    private static void requireVersion(LinearHead head) {
        if (head.version() == null || head.version().isBlank()) {
            throw new IllegalArgumentException("the head file has no \"version\"; every published head needs one (verdicts name it)");
        }
    }

    private KafkaProducer<String, DetectorHeadEntry> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, maxRecordBytes);
        Serde<DetectorHeadEntry> serde = Topics.heads(topic, new OutputSchemas(registryUrl)).valueSerde();
        return new KafkaProducer<>(props, new org.apache.kafka.common.serialization.StringSerializer(), serde.serializer());
    }

    private void send(KafkaProducer<String, DetectorHeadEntry> producer, String key, DetectorHeadEntry value) {
        try {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot write " + key + " to " + topic + ": " + e.getCause(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing to " + topic, e);
        }
    }
}
