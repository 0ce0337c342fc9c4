package io.clipguard.console;

import io.clipguard.avro.ImageReference;
import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.InlineImage;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.contracts.Topics;
import io.clipguard.fetch.FetchException;
import io.clipguard.fetch.FetchPolicy;
import io.clipguard.fetch.ImageFetcher;
import io.clipguard.image.SniffedType;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * An upload's image, read back for the upload page: the one record of image-uploads at the verdict's partition and
 * offset (assign + seek: a point read, not a scan), then its inline bytes or the bytes behind its reference, fetched
 * under the same SSRF-safe policy as scoring. The record's key must be the upload id, so a stale or wrong position never
 * shows another upload's image.
 */
@ApplicationScoped
public class UploadImages {
    /** Bytes and the type their magic bytes say they are. */
    public record Image(byte[] bytes, String mediaType) {}

    /** Why no image can be shown (the page says it; the status is 404 or 502). */
    public static final class ImageUnavailable extends Exception {
        public final boolean gone;

        ImageUnavailable(String message, boolean gone) {
            super(message);
            this.gone = gone;
        }
    }

    @Inject
    ConsoleConfig config;
    @Inject
    ConsoleConfig.Cluster cluster;
    @ConfigProperty(name = "clipguard.max-record-bytes", defaultValue = Topics.DEFAULT_MAX_RECORD_BYTES_TEXT)
    int maxRecordBytes;
    @ConfigProperty(name = "clipguard.fetch.file-roots")
    Optional<List<Path>> fileRoots;
    @ConfigProperty(name = "clipguard.fetch.connect-timeout", defaultValue = "2s")
    Duration connectTimeout;
    @ConfigProperty(name = "clipguard.fetch.read-timeout", defaultValue = "10s")
    Duration readTimeout;
    @ConfigProperty(name = "clipguard.fetch.max-bytes", defaultValue = "52428800")
    long maxBytes;
    @ConfigProperty(name = "clipguard.fetch.allow-private-networks", defaultValue = "false")
    boolean allowPrivateNetworks;
    @ConfigProperty(name = "clipguard.fetch.max-redirects", defaultValue = "3")
    int maxRedirects;

    private KafkaConsumer<String, byte[]> consumer;
    private Deserializer<ImageUploaded> reader;
    private ImageFetcher fetcher;

    public Image read(ModerationVerdict verdict) throws ImageUnavailable {
        ImageUploaded upload = record(verdict);
        byte[] bytes;
        if (upload.getImage() instanceof InlineImage inline) {
            bytes = new byte[inline.getBytes().remaining()];
            inline.getBytes().duplicate().get(bytes);
        } else {
            String uri = ((ImageReference) upload.getImage()).getUri();
            try {
                bytes = fetcher().fetch(uri);
            } catch (FetchException e) {
                throw new ImageUnavailable("the image by reference could not be fetched: " + e.getMessage(), false);
            }
        }
        String type = SniffedType.mediaType(bytes).orElseThrow(
                () -> new ImageUnavailable("the upload's bytes are not an image format the detector reads", false));
        return new Image(bytes, type);
    }

    private synchronized ImageUploaded record(ModerationVerdict verdict) throws ImageUnavailable {
        if (consumer == null) {
            consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap,
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                    ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1,
                    ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, maxRecordBytes,
                    ConsumerConfig.FETCH_MAX_BYTES_CONFIG, maxRecordBytes,
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                    new StringDeserializer(), new ByteArrayDeserializer());
            reader = Topics.avroReader(cluster.registryUrl);
        }
        TopicPartition partition = new TopicPartition(cluster.uploadsTopic, verdict.getSourcePartition());
        consumer.assign(List.of(partition));
        consumer.seek(partition, verdict.getSourceOffset());
        long deadline = System.nanoTime() + config.imageReadTimeout().toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                if (r.offset() != verdict.getSourceOffset() || !verdict.getUploadId().equals(r.key())) {
                    throw new ImageUnavailable("the upload record is no longer at " + partition + "@" + verdict.getSourceOffset()
                            + " (retention deleted it)", true);
                }
                try {
                    return reader.deserialize(cluster.uploadsTopic, r.value());
                } catch (RuntimeException e) {
                    throw new ImageUnavailable("the upload record cannot be read: " + e.getMessage(), false);
                }
            }
        }
        throw new ImageUnavailable("the upload record at " + partition + "@" + verdict.getSourceOffset()
                + " was not read within " + config.imageReadTimeout(), false);
    }

    private synchronized ImageFetcher fetcher() {
        if (fetcher == null) {
            fetcher = new ImageFetcher(new FetchPolicy(fileRoots.orElse(List.of()), connectTimeout, readTimeout, maxBytes,
                    allowPrivateNetworks, maxRedirects));
        }
        return fetcher;
    }

    @PreDestroy
    synchronized void close() {
        if (consumer != null) consumer.close(Duration.ofSeconds(2));
        if (fetcher != null) fetcher.close();
    }
}
