package io.clipguard.streams.config;

import io.clipguard.image.DecodeMode;
import io.clipguard.inference.Device;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Every {@code clipguard.*} setting of the service. Defaults live in application.properties (documented there);
 * each can be overridden by an environment variable, e.g. {@code CLIPGUARD_ENGINE_MAX_BATCH_SIZE=64}.
 */
@ConfigMapping(prefix = "clipguard")
public interface ClipguardConfig {

    Topics topics();

    Scoring scoring();

    Engine engine();

    Detectors detectors();

    Alert alert();

    Fetch fetch();

    Registry registry();

    Embeddings embeddings();

    /**
     * Largest upload record accepted, in bytes. The consumer's fetch sizes and the producer (a dead letter carries the
     * original record's bytes) are sized to it; the broker's and the topics' own limits (message.max.bytes,
     * max.message.bytes) must allow it too. The default is {@link io.clipguard.contracts.Topics#DEFAULT_MAX_RECORD_BYTES},
     * also the default of {@code tools/clipguard rescore --max-record-bytes}.
     */
    @WithDefault(io.clipguard.contracts.Topics.DEFAULT_MAX_RECORD_BYTES_TEXT)
    int maxRecordBytes();

    /** Kafka Streams state (the pending store's local copy); restored from its changelog when missing. */
    Path stateDir();

    /** On shutdown, how long to wait for waiting uploads to be scored before closing the streams. */
    @WithDefault("10s")
    Duration shutdownDrainTimeout();

    /**
     * On shutdown, how long closing Kafka Streams (and its producers) may take after the drain. SIGTERM ends the
     * process within shutdown-drain-timeout + shutdown-close-timeout, even when the broker is gone.
     */
    @WithDefault("5s")
    Duration shutdownCloseTimeout();

    /** Start-up topic check: how long to wait for the cluster to answer before refusing to start. */
    @WithDefault("30s")
    Duration topicCheckTimeout();

    /** How often a running instance checks that its topics (and cluster) are still those it started with; 0 = never. */
    @WithDefault("5s")
    Duration topicCheckInterval();

    /** Topic names; defaults are the constants in {@link io.clipguard.contracts.Topics}. */
    /** This instance's scoring role; off for a console-only deployment. */
    interface Scoring {
        /** What the scoring side's health checks report when scoring is off. */
        String OFF = "off (clipguard.scoring.enabled=false): this instance consumes no uploads and loads no model";

        /**
         * Run the scoring topology (consumer group {@code quarkus.kafka-streams.application-id}) and open the
         * detectors. False: no uploads are consumed and no model is loaded, so the console must be on.
         */
        @WithDefault("true")
        boolean enabled();
    }

    interface Topics {
        @WithDefault(io.clipguard.contracts.Topics.UPLOADS)
        String uploads();

        @WithDefault(io.clipguard.contracts.Topics.VERDICTS)
        String verdicts();

        @WithDefault(io.clipguard.contracts.Topics.ALERTS)
        String alerts();

        @WithDefault(io.clipguard.contracts.Topics.DEAD_LETTER)
        String deadLetter();

        @WithDefault(io.clipguard.contracts.Topics.BURST_ALERTS)
        String burstAlerts();

        @WithDefault(io.clipguard.contracts.Topics.EMBEDDINGS)
        String embeddings();

        @WithDefault(io.clipguard.contracts.Topics.HEADS)
        String heads();

        /** The moderators' decisions (written by the console, read by train/evaluate --decisions). */
        @WithDefault(io.clipguard.contracts.Topics.DECISIONS)
        String decisions();

        default io.clipguard.contracts.Topics.Names names() {
            return new io.clipguard.contracts.Topics.Names(uploads(), verdicts(), alerts(), deadLetter(), burstAlerts(),
                    embeddings(), heads(), decisions());
        }
    }

    interface Engine {
        Path modelDir();

        /** Defaults to head.json inside the model folder. */
        Optional<Path> headFile();

        /** auto (CUDA when it loads, else CPU), cuda (fail without CUDA) or cpu. */
        @WithDefault("auto")
        Device device();

        @WithDefault("32")
        int maxBatchSize();

        /**
         * Longest an upload waits in its partition's batch before the batch is scored anyway, counted from the upload
         * record's timestamp: an upload that queued while its stream thread was busy waits only what is left, but at
         * least a quarter of this after the thread took it. A backlog's uploads (more than 10 of these late) and uploads
         * dated ahead of this host's clock wait it all from then. Formerly
         * {@code clipguard.engine.max-queue-delay}, which still applies ({@link RenamedSettings}).
         */
        @WithDefault("20ms")
        Duration partitionBatchMaxWait();

        /**
         * How long the engine holds a batch for batches that other stream threads flush at the same moment, so they
         * run as one inference (tools/clipguard's --merge-window-ms). Short: the uploads already waited in their
         * partition's batch.
         */
        @WithDefault("2ms")
        Duration mergeWindow();

        /**
         * Batches of one partition that the engine may score while the stream thread goes on consuming (0: each flush
         * waits for its verdicts). Their uploads stay in the changelogged pending store until forwarded. Off by default:
         * it shortens the latency tail on small towers but costs large ones throughput (docs/benchmarks.md, runs H-J).
         */
        @WithDefault("0")
        int batchesInFlight();

        @WithDefault("0")
        int intraOpThreads();

        /** 0 = all cores. */
        @WithDefault("0")
        int decodeThreads();

        @WithDefault("52428800")
        long maxImageBytes();

        @WithDefault("100000000")
        long maxImagePixels();

        /** exact (as PIL decodes) or fast (large JPEGs at reduced scale in the IDCT); stamped on every verdict. */
        @WithDefault("exact")
        DecodeMode decode();

        /** Decoded pixels all decode threads may hold at once; 0 = half the heap at 3 bytes a pixel. */
        @WithDefault("0")
        long decodeBudgetPixels();
    }

    /**
     * The detector set: the CLIP detector of {@code clipguard.engine.model-dir} (its head switched live through
     * detector-heads) first, then one logit model per extra folder (e.g. the reference's Corvi2023 res50nodown), each
     * on its own ONNX Runtime session with the engine's settings (device, batch size, merge window, threads, limits,
     * decode budget shared), their logits fused by {@link #fusion()}. None by default: the CLIP detector alone.
     */
    interface Detectors {
        /** Model folders of the logit models run beside the CLIP detector, in order (comma-separated in env vars). */
        Optional<List<Path>> extraModelDirs();

        /** How the detectors' logits become llr: mean_logit, max_logit, median_logit, lse_logit, mean_prob, soft_or_prob. */
        @WithDefault("soft_or_prob")
        String fusion();

        /** With several detectors, label = synthetic when the fused llr exceeds this (the reference's 0). */
        @WithDefault("0")
        double fusionThreshold();

        /** Pixel caps of native-resolution detectors: N for every one, ID=N for one (its model id); 0 = no cap. */
        Optional<List<String>> maxPixels();

        /**
         * The logit models' own limit on an image's header-declared pixels (at most clipguard.engine.max-image-pixels):
         * above it they fail on the image (TOO_LARGE, marked in the verdict) while the CLIP detector still scores it.
         * Default: clipguard.engine.max-image-pixels.
         */
        java.util.OptionalLong maxImagePixels();
    }

    interface Embeddings {
        /**
         * Feature vectors kept per instance for dedupe, by (model id, SHA-256 of the image bytes): the same content
         * again skips the encoder. Each entry is one vector (4 KiB for a 1024-d model); 0 turns the cache off.
         */
        @WithDefault("10000")
        long cacheSize();
    }

    interface Alert {
        /** A verdict whose probability reaches this also goes to the alerts topic. */
        @WithDefault("0.9")
        double probabilityThreshold();

        Burst burst();
    }

    /** One alert when an uploader's high-score verdicts in one window reach a count (see BurstAlerting). */
    interface Burst {
        /** K: high-score verdicts of one uploader within one window that raise the alert. */
        @WithDefault("5")
        int count();

        /** W: the window, tumbling over the upload records' timestamps. */
        @WithDefault("10m")
        Duration window();

        /** A verdict counts when its probability reaches this; defaults to clipguard.alert.probability-threshold. */
        double probabilityThreshold();

        /** At most this many upload ids (the first ones) are listed in an alert. */
        @WithDefault("20")
        int maxUploadIds();

        /** How late (behind the newest upload timestamp seen) a verdict may arrive and still count in its window. */
        @WithDefault("1m")
        Duration grace();
    }

    interface Registry {
        /**
         * Apicurio Registry's root URL. The service registers its output schemas under subject topic + "-value"
         * through /apis/ccompat/v7 at start, and reads schemas through /apis/registry/v3; both serve the same ids.
         */
        @WithDefault("http://localhost:8081")
        String url();

        /** How long the start-up keeps asking a registry that is unreachable, times out or answers 5xx. */
        @WithDefault("30s")
        Duration startupWait();
    }

    interface Fetch {
        /** Folders that file: URIs may point under; none by default (file: refused). */
        Optional<List<Path>> fileRoots();

        @WithDefault("2s")
        Duration connectTimeout();

        @WithDefault("10s")
        Duration readTimeout();

        @WithDefault("52428800")
        long maxBytes();

        @WithDefault("false")
        boolean allowPrivateNetworks();

        @WithDefault("3")
        int maxRedirects();
    }
}
