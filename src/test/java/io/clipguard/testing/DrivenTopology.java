package io.clipguard.testing;

import io.clipguard.avro.DetectorHeadEntry;
import io.clipguard.avro.HighScoreAlert;
import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.ScoringFailure;
import io.clipguard.avro.UploaderBurstAlert;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import io.clipguard.inference.Device;
import io.clipguard.model.LinearHead;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.streams.ModerationTopology;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

/**
 * The service's topology ({@link ModerationTopology#build}, with the {@code kafka-streams.*} settings of
 * application.properties) under Kafka Streams' TopologyTestDriver: no broker, but the real engine and model, real
 * image files and the real registry behind the Avro serdes (Apicurio's serdes have no in-memory registry). The driver
 * processes each record as it is piped in, so nothing is waited for: with no batch in flight (the constructors'
 * setting), outputs are there when the call returns, and a batch waiting for its maximum wait is flushed by moving the
 * driver's wall clock ({@link #flushWaitingBatch}). {@link #keepingBatchesInFlight} keeps the service's setting.
 */
public final class DrivenTopology implements AutoCloseable {
    private final ModerationTopology.Settings settings;
    private final ScoringParts parts;
    private final TopologyTestDriver driver;
    private final TestInputTopic<byte[], byte[]> uploads;
    private final TestInputTopic<String, DetectorHeadEntry> heads;
    private final Serializer<ImageUploaded> uploadWriter;
    private final TestOutputTopic<String, ModerationVerdict> verdicts;
    private final TestOutputTopic<String, ImageEmbedding> embeddings;
    private final TestOutputTopic<String, HighScoreAlert> alerts;
    private final TestOutputTopic<byte[], ScoringFailure> deadLetters;
    private final TestOutputTopic<String, UploaderBurstAlert> burstAlerts;
    private Instant wallClock = Instant.now();

    /**
     * @param fileRoots where uploads by {@code file:} reference may point
     * @param stateDir  the driver's state directory (the pending store is persistent, as in the service)
     */
    public DrivenTopology(String registryUrl, ModerationTopology.Settings settings, List<Path> fileRoots, Path stateDir)
            throws Exception {
        this(registryUrl, settings, ScoringParts.Detectors.CLIP_ONLY, fileRoots, stateDir);
    }

    /** @param detectors the logit models beside the tiny CLIP model, and their fusion (clipguard.detectors.*) */
    public DrivenTopology(String registryUrl, ModerationTopology.Settings settings, ScoringParts.Detectors detectors,
                          List<Path> fileRoots, Path stateDir) throws Exception {
        this(registryUrl, settings, detectors, fileRoots, stateDir, 0);
    }

    /**
     * As the constructor, with the settings' batches in flight kept: a flushed batch's outcomes are forwarded by a
     * later upload or {@link #tick()} that finds them done, or by a flush that finds the limit reached.
     */
    public static DrivenTopology keepingBatchesInFlight(String registryUrl, ModerationTopology.Settings settings,
                                                        List<Path> fileRoots, Path stateDir) throws Exception {
        return new DrivenTopology(registryUrl, settings, ScoringParts.Detectors.CLIP_ONLY, fileRoots, stateDir,
                settings.batchesInFlight());
    }

    private DrivenTopology(String registryUrl, ModerationTopology.Settings settings, ScoringParts.Detectors detectors,
                           List<Path> fileRoots, Path stateDir, int batchesInFlight) throws Exception {
        settings = settings.withBatchesInFlight(batchesInFlight);
        this.settings = settings;
        parts = ScoringParts.open(EngineConfig.builder(ModerationPipeline.TINY_MODEL).device(Device.AUTO)
                .maxBatchSize(settings.maxBatchSize()).build(), detectors, registryUrl,
                ModerationPipeline.fetchPolicy(fileRoots), 10_000);
        OutputSchemas schemas = new OutputSchemas(registryUrl);
        Properties props = ModerationPipeline.streamsProperties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "clipguard-driven");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "no-broker:9092"); // required, never contacted
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        driver = new TopologyTestDriver(ModerationTopology.build(settings, parts.scorer(), parts.metrics(), schemas, () -> false,
                parts.heads()), props, wallClock);
        Topics.Names t = settings.topics();
        uploads = driver.createInputTopic(t.uploads(), new ByteArraySerializer(), new ByteArraySerializer());
        heads = driver.createInputTopic(t.heads(), new StringSerializer(), Topics.heads(t.heads(), schemas).valueSerde().serializer());
        uploadWriter = TestClients.uploadSerializer(registryUrl);
        verdicts = driver.createOutputTopic(t.verdicts(), new StringDeserializer(), Topics.avroReader(registryUrl));
        embeddings = driver.createOutputTopic(t.embeddings(), new StringDeserializer(), Topics.avroReader(registryUrl));
        alerts = driver.createOutputTopic(t.alerts(), new StringDeserializer(), Topics.avroReader(registryUrl));
        deadLetters = driver.createOutputTopic(t.deadLetter(), new ByteArrayDeserializer(), Topics.avroReader(registryUrl));
        burstAlerts = driver.createOutputTopic(t.burstAlerts(), new StringDeserializer(), Topics.avroReader(registryUrl));
    }

    /** An upload event, written as an upload pipeline writes it, keyed by its id, with the record timestamp {@code at}. */
    public void upload(ImageUploaded event, Instant at) {
        uploadRaw(event.getUploadId().getBytes(StandardCharsets.UTF_8), uploadWriter.serialize(settings.topics().uploads(), event), at);
    }

    /** An upload of inline image bytes, now. */
    public void upload(String uploadId, byte[] image) {
        upload(TestClients.inline(uploadId, image), Instant.now());
    }

    /** Any bytes on the uploads topic, e.g. a record that is not an upload event at all. */
    public void uploadRaw(byte[] key, byte[] value, Instant at) {
        uploads.pipeInput(key, value, at);
    }

    /**
     * Lets the waiting batch's maximum wait pass, so that the punctuation scores it. The processor dates a batch by the
     * system clock and its punctuation by the driver's wall clock: the driver's clock is moved to the system clock's now
     * plus the wait (and by at least the wait, so that the punctuation is due).
     */
    public void flushWaitingBatch() {
        Duration wait = settings.partitionBatchMaxWait();
        moveWallClockTo(Instant.now().plus(wait), wait);
    }

    /**
     * Moves the driver's wall clock to the system clock's now plus {@code later} (by at least one tick, so that a
     * punctuation is due): the processor dates uploads by the system clock, its punctuation by the driver's.
     */
    public void wallClockToNowPlus(Duration later) {
        moveWallClockTo(Instant.now().plus(later), settings.batchTick());
    }

    private void moveWallClockTo(Instant target, Duration atLeast) {
        Duration advance = Duration.between(wallClock, target);
        advanceWallClock(advance.compareTo(atLeast) < 0 ? atLeast : advance);
    }

    /** Moves the driver's wall clock by one tick of the batching processor ({@link ModerationTopology.Settings#batchTick}). */
    public void tick() {
        advanceWallClock(settings.batchTick());
    }

    private void advanceWallClock(Duration advance) {
        driver.advanceWallClockTime(advance);
        wallClock = wallClock.plus(advance);
    }

    /** Publishes a head file to detector-heads as {@code tools/clipguard head publish} does, and activates it if asked. */
    public void publishHead(Path headFile, boolean activate) throws Exception {
        String json = Files.readString(headFile);
        LinearHead head = LinearHead.parse(json, headFile.toString());
        Instant now = Instant.now();
        heads.pipeInput(Topics.headKey(head.modelId(), head.version()),
                new DetectorHeadEntry(head.modelId(), head.version(), json, now, "test"));
        if (activate) {
            heads.pipeInput(Topics.activeKey(head.modelId()), new DetectorHeadEntry(head.modelId(), head.version(), null, now, "test"));
        }
    }

    /** The verdicts written since the last call. */
    public List<TestRecord<String, ModerationVerdict>> verdicts() {
        return verdicts.readRecordsToList();
    }

    public List<TestRecord<String, ImageEmbedding>> embeddings() {
        return embeddings.readRecordsToList();
    }

    public List<TestRecord<String, HighScoreAlert>> alerts() {
        return alerts.readRecordsToList();
    }

    public List<TestRecord<byte[], ScoringFailure>> deadLetters() {
        return deadLetters.readRecordsToList();
    }

    public List<TestRecord<String, UploaderBurstAlert>> burstAlerts() {
        return burstAlerts.readRecordsToList();
    }

    /** The engine, live heads, cache and meters the topology scores with. */
    public ScoringParts parts() {
        return parts;
    }

    public ModerationTopology.Settings settings() {
        return settings;
    }

    @Override
    public void close() {
        driver.close();
        parts.close();
    }
}
