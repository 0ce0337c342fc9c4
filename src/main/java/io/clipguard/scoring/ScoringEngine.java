package io.clipguard.scoring;

import io.clipguard.image.DecodeMode;
import io.clipguard.image.ImagePreprocessor;
import io.clipguard.image.NativeResolutionPreprocessor;
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
import io.clipguard.model.TensorDType;
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
 *
 * <p>A logit model (manifest output kind {@code logit}, e.g. res50nodown) has no head: its output is the score
 * (threshold 0, probability σ(logit)). Its images run at native resolution (up to the pixel cap), so a decode thread
 * holds the decoded image, and the decode budget counts its float tensor too, until its batch has run: memory in
 * flight stays within the budget however large the images. Several detectors are fused by {@link DetectorSet}.
 */
public final class ScoringEngine implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ScoringEngine.class.getName());
    /**
     * Budget pixels (3 bytes each) a native-resolution image holds per model-input pixel beside its decoded pixels:
     * 4 for its float32 tensor (12 bytes), 2 more for an fp16 model's half-precision copy (6 bytes), and 1 for the
     * crop's copy when capped.
     */
    static long tensorBudgetPixels(ModelManifest manifest) {
        return 4 + (manifest.input().dtype() == TensorDType.FLOAT16 ? 2 : 0) + 1;
    }
    /** Requests that may wait for the batcher: enough for several full batches, bounded so memory is too. */
    private static final int BATCH_QUEUE_BATCHES = 8;

    private final EngineConfig config;
    private final ModelManifest manifest;
    private final LinearHead head;
    private final OnnxImageEncoder encoder;
    private final DynamicBatcher batcher;
    private final ImageDecoder decoder;
    private final ImagePreprocessor preprocessor;
    private final ExecutorService decodePool;
    private final EngineInfo info;

    private ScoringEngine(EngineConfig config, ModelManifest manifest, LinearHead head, OnnxImageEncoder encoder,
                          BatchListener listener, DecodeBudget budget) {
        this.config = config;
        this.manifest = manifest;
        this.head = head;
        this.encoder = encoder;
        this.batcher = new DynamicBatcher(encoder, config.maxBatchSize(), config.mergeWindow(),
                BATCH_QUEUE_BATCHES * config.maxBatchSize(), listener);
        this.decoder = new ImageDecoder(config.imageLimits(), budget);
        this.preprocessor = encoder.preprocessor();
        this.decodePool = Executors.newFixedThreadPool(config.decodeThreads(), daemonThreads("clipguard-decode-"));
        this.info = new EngineInfo(manifest.id(), head == null ? null : head.version(),
                manifest.outputsLogit() ? 0 : head == null ? Double.NaN : head.threshold(), encoder.device(),
                manifest.featureDim(), config.maxBatchSize());
    }

    /** Loads the model folder, the head and the ONNX session; any mismatch fails with a message saying what to fix. */
    public static ScoringEngine open(EngineConfig config) throws ModelLoadException {
        return open(config, BatchListener.NONE);
    }

    /** As {@link #open(EngineConfig)}, reporting every inference batch to {@code listener} (metrics). */
    public static ScoringEngine open(EngineConfig config, BatchListener listener) throws ModelLoadException {
        return open(config, listener, DecodeBudget.of(config.decodeBudgetPixels()));
    }

    /** The start-up line's batch size, saying when the encoder runs a batch's images one by one (dynamic int8). */
    private static String maxBatch(EngineConfig config, OnnxImageEncoder encoder) {
        return config.maxBatchSize() + (encoder.runsImagesOneByOne() ? " (each image its own ONNX run: dynamic int8)" : "");
    }

    /** As {@link #open(EngineConfig, BatchListener)}, decoding within {@code budget} (shared by a detector set). */
    static ScoringEngine open(EngineConfig config, BatchListener listener, DecodeBudget budget) throws ModelLoadException {
        ModelManifest manifest = ModelManifest.load(config.modelDir());
        LinearHead head = manifest.outputsLogit() ? null : LinearHead.load(config.headFile(), manifest);
        OnnxImageEncoder encoder = openEncoder(config, manifest);
        LOG.info("scoring engine: model " + manifest.id() + " (" + manifest.precision() + "), head "
                + (head == null ? "none (the model outputs its logit)" : head.version()) + ", device " + encoder.device()
                + ", max batch " + maxBatch(config, encoder) + ", merge window " + config.mergeWindow().toMillis()
                + " ms, decode threads " + config.decodeThreads() + ", decode " + config.decodeMode().label()
                + (ImageDecoder.nativeDecoderAvailable() ? " (libjpeg-turbo/libpng/libwebp)" : " (ImageIO only: no OpenCV natives)"));
        return new ScoringEngine(config, manifest, head, encoder, listener, budget);
    }

    /**
     * Opens the model folder without a head, for computing features only ({@link #embed}); the config's
     * head file is not read. {@link #submit} refuses on such an engine.
     */
    public static ScoringEngine openFeaturesOnly(EngineConfig config) throws ModelLoadException {
        ModelManifest manifest = ModelManifest.load(config.modelDir());
        if (manifest.outputsLogit()) {
            throw new ModelLoadException("model " + manifest.id() + " in " + config.modelDir() + " outputs a logit, not"
                    + " features: embed and train concern the CLIP detector only; pass its model folder");
        }
        OnnxImageEncoder encoder = openEncoder(config, manifest);
        LOG.info("feature engine: model " + manifest.id() + " (" + manifest.precision() + "), device " + encoder.device() + ", max batch "
                + maxBatch(config, encoder) + ", decode threads " + config.decodeThreads());
        return new ScoringEngine(config, manifest, null, encoder, BatchListener.NONE,
                DecodeBudget.of(config.decodeBudgetPixels()));
    }

    private static OnnxImageEncoder openEncoder(EngineConfig config, ModelManifest manifest) throws ModelLoadException {
        return OnnxImageEncoder.open(config.modelDir(), manifest, config.device(), config.intraOpThreads(),
                config.maxBatchSize(), OnnxImageEncoder.preprocessorOf(manifest, config.maxPixels()));
    }

    /**
     * Scores one encoded image (JPEG, PNG, WebP, ...). The future never completes exceptionally: every input yields
     * {@link ScoreOutcome.Scored} or {@link ScoreOutcome.Failed}.
     */
    public CompletableFuture<ScoreOutcome> submit(byte[] encodedImage) {
        if (head == null && !manifest.outputsLogit()) {
            throw new IllegalStateException("this engine was opened without a head (openFeaturesOnly)");
        }
        return embed(encodedImage).thenApply(outcome -> switch (outcome) {
            case EmbedOutcome.Embedded embedded -> score(head, embedded);
            case ScoreOutcome.Failed failed -> failed;
        });
    }

    /**
     * Scores an image already decoded (as {@link ImageDecoder#decode(byte[])} gives it): the same preprocessing, batch
     * and head (or logit) as {@link #submit(byte[])} after its decode. The future never completes exceptionally.
     */
    public CompletableFuture<ScoreOutcome> submitDecoded(RgbImage decoded) {
        if (head == null && !manifest.outputsLogit()) {
            throw new IllegalStateException("this engine was opened without a head (openFeaturesOnly)");
        }
        return embedDecoded(decoded).thenApply(outcome -> switch (outcome) {
            case EmbedOutcome.Embedded e -> score(head, e);
            case ScoreOutcome.Failed failed -> failed;
        });
    }

    /**
     * The backbone's output (features, or a logit model's logit) of an image already decoded: {@link #embed(byte[])}
     * after its decode. A native-resolution model marks whether it saw a crop. The future never completes
     * exceptionally.
     */
    public CompletableFuture<EmbedOutcome> embedDecoded(RgbImage decoded) {
        try {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return preprocessor.prepare(decoded);
                } catch (ImageDecodeException e) {
                    throw new CompletionException(e);
                }
            }, decodePool).thenCompose(input -> batcher.submit(input)
                    .thenApply(features -> new EmbedOutcome.Embedded(features,
                            preprocessor.nativeResolution() && input != decoded)))
                    .handle((outcome, error) -> error == null ? outcome : (EmbedOutcome) failure(error));
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(
                    new ScoreOutcome.Failed(FailureReason.ENGINE_UNAVAILABLE, "the scoring engine is shut down"));
        }
    }

    /** The engine's decoder (its limits and decode budget), for callers that decode once and score several times. */
    public ImageDecoder decoder() {
        return decoder;
    }

    /**
     * The score of one embedding: {@code head} (the configured or the live one) on CLIP features, or the logit
     * itself for a logit model ({@code head} ignored).
     */
    public ScoreOutcome score(LinearHead head, EmbedOutcome.Embedded embedded) {
        return manifest.outputsLogit() ? logitScore(embedded.features()[0])
                : applyHead(head, embedded.features(), manifest.engineNormalizes());
    }

    /** A logit model's output as a score: threshold 0 (LLR &gt; 0 ⇒ synthetic), probability σ(logit). */
    public static ScoreOutcome logitScore(double logit) {
        if (!Double.isFinite(logit)) {
            return new ScoreOutcome.Failed(FailureReason.INFERENCE_FAILED, "model produced a non-finite logit ("
                    + logit + "); the exported model is numerically broken (fp16 overflow?)");
        }
        return new ScoreOutcome.Scored(logit, Fusion.sigmoid(logit), logit > 0);
    }

    /**
     * The backbone's feature vector of one encoded image, without any head (the caller applies the head it wants, e.g.
     * the live one of detector-heads). The future never completes exceptionally.
     */
    public CompletableFuture<EmbedOutcome> embed(byte[] encodedImage) {
        try {
            if (preprocessor.nativeResolution()) {
                return CompletableFuture.supplyAsync(() -> decodeAndRunHeld(encodedImage), decodePool)
                        .handle((embedded, error) -> error == null ? embedded : (EmbedOutcome) failure(error));
            }
            return CompletableFuture.supplyAsync(() -> decodeAndCrop(encodedImage), decodePool)
                    .thenCompose(batcher::submit)
                    .handle((features, error) -> error == null ? new EmbedOutcome.Embedded(features)
                            : (EmbedOutcome) failure(error));
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(
                    new ScoreOutcome.Failed(FailureReason.ENGINE_UNAVAILABLE, "the scoring engine is shut down"));
        }
    }

    /** True when the vectors {@link #embed} returns are already L2-normalised by the graph (l2_normalize = graph). */
    public boolean featuresNormalized() {
        return !manifest.engineNormalizes();
    }

    /** The manifest of the loaded model folder. */
    public ModelManifest manifest() {
        return manifest;
    }

    /** The model outputs its logit (no head)? */
    public boolean outputsLogit() {
        return manifest.outputsLogit();
    }

    /** The head this engine was opened with (the configured head file); null for a logit model. */
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
            return decoder.decode(encoded, config.decodeMode(), preprocessor.fastDecodeShorterSide(),
                    preprocessor::prepare);
        } catch (ImageDecodeException e) {
            throw new CompletionException(e);
        }
    }

    /**
     * A native-resolution image: decoded exactly (never at reduced scale: that would be another image), capped, and
     * run through the batcher while this thread keeps its decode budget, which also counts the float tensor
     * ({@link #tensorBudgetPixels} per input pixel), so the pixels in flight stay within the budget.
     */
    private EmbedOutcome.Embedded decodeAndRunHeld(byte[] encoded) {
        if (encoded == null) {
            throw new CompletionException(new ImageDecodeException(ImageError.EMPTY, "no image bytes (null)"));
        }
        long cap = ((NativeResolutionPreprocessor) preprocessor).spec().maxPixels();
        long perPixel = tensorBudgetPixels(manifest);
        try {
            return decoder.decode(encoded, DecodeMode.EXACT, 0,
                    pixels -> perPixel * (cap > 0 ? Math.min(pixels, cap) : pixels), image -> {
                        RgbImage input = preprocessor.prepare(image);
                        boolean cropped = input != image;
                        return new EmbedOutcome.Embedded(batcher.submit(input).join(), cropped);
                    });
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
