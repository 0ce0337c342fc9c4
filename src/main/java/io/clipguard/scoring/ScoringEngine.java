package io.clipguard.scoring;

import io.clipguard.image.ClipPreprocessor;
import io.clipguard.image.DecodeBudget;
import io.clipguard.image.DecodeCounters;
import io.clipguard.image.ImageDecodeException;
import io.clipguard.image.ImageDecoder;
import io.clipguard.image.ImageError;
import io.clipguard.image.RgbImage;
import io.clipguard.inference.BatchListener;
import io.clipguard.inference.BatchStats;
import io.clipguard.inference.DynamicBatcher;
import io.clipguard.inference.InferenceException;
import io.clipguard.inference.OnnxImageEncoder;
import io.clipguard.model.LinearHead;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.ModelManifest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * Encoded image bytes in, {@link ScoreOutcome} out: decode + preprocess on the engine's own pool (all cores), then the
 * shared {@link DynamicBatcher} and the linear head. One engine per model and JVM; thread-safe.
 */
public final class ScoringEngine implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ScoringEngine.class.getName());
    /** Requests that may wait for the batcher: enough for several full batches, bounded so memory is too. */
    private static final int BATCH_QUEUE_BATCHES = 8;

    private final EngineConfig config;
    private final ModelManifest manifest;
    private final LinearHead head;
    private final OnnxImageEncoder encoder;
    private final DynamicBatcher batcher;
    private final ImageDecoder decoder;
    private final ClipPreprocessor preprocessor;
    private final ExecutorService decodePool;
    private final EngineInfo info;

    private ScoringEngine(EngineConfig config, ModelManifest manifest, LinearHead head, OnnxImageEncoder encoder,
                          BatchListener listener) {
        this.config = config;
        this.manifest = manifest;
        this.head = head;
        this.encoder = encoder;
        this.batcher = new DynamicBatcher(encoder, config.maxBatchSize(), config.mergeWindow(),
                BATCH_QUEUE_BATCHES * config.maxBatchSize(), listener);
        this.decoder = new ImageDecoder(config.imageLimits(), DecodeBudget.of(config.decodeBudgetPixels()));
        this.preprocessor = new ClipPreprocessor(manifest.preprocessSpec());
        this.decodePool = Executors.newFixedThreadPool(config.decodeThreads(), daemonThreads("clipguard-decode-"));
        this.info = new EngineInfo(manifest.id(), head == null ? null : head.version(),
                head == null ? Double.NaN : head.threshold(), encoder.device(), manifest.featureDim(),
                config.maxBatchSize());
    }

    /** Loads the model folder, the head and the ONNX session; any mismatch fails with a message saying what to fix. */
    public static ScoringEngine open(EngineConfig config) throws ModelLoadException {
        return open(config, BatchListener.NONE);
    }

    /** As {@link #open(EngineConfig)}, reporting every inference batch to {@code listener} (metrics). */
    public static ScoringEngine open(EngineConfig config, BatchListener listener) throws ModelLoadException {
        ModelManifest manifest = ModelManifest.load(config.modelDir());
        LinearHead head = LinearHead.load(config.headFile(), manifest);
        OnnxImageEncoder encoder = OnnxImageEncoder.open(config.modelDir(), manifest, config.device(),
                config.intraOpThreads(), config.maxBatchSize());
        LOG.info("scoring engine: model " + manifest.id() + " (" + manifest.precision() + "), head " + head.version()
                + ", device " + encoder.device()
                + ", max batch " + config.maxBatchSize() + ", merge window " + config.mergeWindow().toMillis()
                + " ms, decode threads " + config.decodeThreads() + ", decode " + config.decodeMode().label()
                + (ImageDecoder.nativeDecoderAvailable() ? " (libjpeg-turbo/libpng/libwebp)" : " (ImageIO only: no OpenCV natives)"));
        return new ScoringEngine(config, manifest, head, encoder, listener);
    }

    /**
     * Opens the model folder without a head, for computing features only ({@link #embed}); the config's
     * head file is not read. {@link #submit} refuses on such an engine.
     */
    public static ScoringEngine openFeaturesOnly(EngineConfig config) throws ModelLoadException {
        ModelManifest manifest = ModelManifest.load(config.modelDir());
        OnnxImageEncoder encoder = OnnxImageEncoder.open(config.modelDir(), manifest, config.device(),
                config.intraOpThreads(), config.maxBatchSize());
        LOG.info("feature engine: model " + manifest.id() + " (" + manifest.precision() + "), device "
                + encoder.device() + ", max batch "
                + config.maxBatchSize() + ", decode threads " + config.decodeThreads());
        return new ScoringEngine(config, manifest, null, encoder, BatchListener.NONE);
    }

    /**
     * Scores one encoded image (JPEG, PNG, WebP, ...). The future never completes exceptionally: every input yields
     * {@link ScoreOutcome.Scored} or {@link ScoreOutcome.Failed}.
     */
    public CompletableFuture<ScoreOutcome> submit(byte[] encodedImage) {
        if (head == null) {
            throw new IllegalStateException("this engine was opened without a head (openFeaturesOnly)");
        }
        return embed(encodedImage).thenApply(outcome -> switch (outcome) {
            case EmbedOutcome.Embedded embedded -> applyHead(head, embedded.features(), manifest.engineNormalizes());
            case ScoreOutcome.Failed failed -> failed;
        });
    }

    /**
     * The backbone's feature vector of one encoded image, without any head (the caller applies the head it wants, e.g.
     * the live one of detector-heads). The future never completes exceptionally.
     */
    public CompletableFuture<EmbedOutcome> embed(byte[] encodedImage) {
        CompletableFuture<RgbImage> crop;
        try {
            crop = CompletableFuture.supplyAsync(() -> decodeAndCrop(encodedImage), decodePool);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(
                    new ScoreOutcome.Failed(FailureReason.ENGINE_UNAVAILABLE, "the scoring engine is shut down"));
        }
        return crop.thenCompose(batcher::submit)
                .handle((features, error) -> error == null ? new EmbedOutcome.Embedded(features) : (EmbedOutcome) failure(error));
    }

    /** True when the vectors {@link #embed} returns are already L2-normalised by the graph (l2_normalize = graph). */
    public boolean featuresNormalized() {
        return !manifest.engineNormalizes();
    }

    /** The manifest of the loaded model folder. */
    public ModelManifest manifest() {
        return manifest;
    }

    /** The head this engine was opened with (the configured head file). */
    public LinearHead configuredHead() {
        return head;
    }

    /** Scores every image, blocking; outcomes in input order. */
    public List<ScoreOutcome> scoreAll(List<byte[]> encodedImages) {
        List<CompletableFuture<ScoreOutcome>> futures = new ArrayList<>(encodedImages.size());
        for (byte[] image : encodedImages) {
            futures.add(submit(image));
        }
        List<ScoreOutcome> outcomes = new ArrayList<>(futures.size());
        for (CompletableFuture<ScoreOutcome> f : futures) {
            outcomes.add(f.join());
        }
        return outcomes;
    }

    public EngineInfo info() {
        return info;
    }

    public EngineConfig config() {
        return config;
    }

    /** How images were decoded since the engine opened: native or ImageIO, and why (for metrics). */
    public DecodeCounters decodeCounters() {
        return decoder.counters();
    }

    /** Batching counters since the engine opened (for metrics). */
    public BatchStats batchStats() {
        return batcher.stats();
    }

    private RgbImage decodeAndCrop(byte[] encoded) {
        if (encoded == null) {
            throw new CompletionException(new ImageDecodeException(ImageError.EMPTY, "no image bytes (null)"));
        }
        try {
            // Fast mode keeps the shorter side at least twice the resize target before the exact bicubic.
            return decoder.decode(encoded, config.decodeMode(), 2 * preprocessor.spec().resizeShorterSide(),
                    preprocessor::resizeAndCrop);
        } catch (ImageDecodeException e) {
            throw new CompletionException(e);
        }
    }

    /**
     * Applies {@code head} to one feature vector: the same arithmetic for a live verdict, a dedupe-cache hit and a
     * rescore from a stored embedding.
     *
     * @param normalise divide by the L2 norm first (the vector is raw ln_post features)
     */
    public static ScoreOutcome applyHead(LinearHead head, float[] features, boolean normalise) {
        double llr = head.llr(features, normalise);
        if (!Double.isFinite(llr)) {
            return new ScoreOutcome.Failed(FailureReason.INFERENCE_FAILED, "model produced a non-finite score (" + llr
                    + "); the exported model is numerically broken (fp16 overflow?)");
        }
        return new ScoreOutcome.Scored(llr, head.probability(llr), head.isSynthetic(llr));
    }

    private static ScoreOutcome.Failed failure(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof ImageDecodeException decode) {
            FailureReason reason = switch (decode.error()) {
                case EMPTY -> FailureReason.EMPTY;
                case UNSUPPORTED_FORMAT -> FailureReason.UNSUPPORTED_FORMAT;
                case CORRUPT -> FailureReason.CORRUPT;
                case TOO_LARGE -> FailureReason.TOO_LARGE;
            };
            return new ScoreOutcome.Failed(reason, decode.getMessage());
        }
        if (cause instanceof InferenceException) {
            return new ScoreOutcome.Failed(FailureReason.ENGINE_UNAVAILABLE, cause.getMessage());
        }
        // A decoder bug or a resource error on a hostile input: the input failed, the engine goes on.
        return new ScoreOutcome.Failed(FailureReason.CORRUPT, "decoding failed unexpectedly: " + cause);
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> Thread.ofPlatform().name(prefix + n.incrementAndGet()).daemon(true).unstarted(r);
    }

    /** Finishes images already submitted (decoding and queued inference), then releases the session. */
    @Override
    public void close() {
        decodePool.shutdown();
        try {
            if (!decodePool.awaitTermination(30, TimeUnit.SECONDS)) {
                decodePool.shutdownNow();
            }
        } catch (InterruptedException e) {
            decodePool.shutdownNow();
            Thread.currentThread().interrupt();
        }
        batcher.close();
        encoder.close();
    }
}
