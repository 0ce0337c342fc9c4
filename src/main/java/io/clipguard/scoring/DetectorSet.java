package io.clipguard.scoring;

import io.clipguard.image.DecodeBudget;
import io.clipguard.image.RgbImage;
import io.clipguard.inference.BatchListener;
import io.clipguard.model.LinearHead;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.ModelManifest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Several detectors on the same images, their logits fused by a {@link Fusion} rule, as the reference runs its
 * default ({@code clipdet_latent10k_plus,Corvi2023 --fusion soft_or_prob}). One {@link ScoringEngine} per detector
 * (its own session, batcher and decode pool), all decoding within one shared decode budget. At most one detector
 * outputs features (the CLIP detector, whose head may be switched live); the others output their logit.
 *
 * <p><b>Scores.</b> A set of one detector answers exactly as its engine (its head's threshold and calibration). A set of
 * several answers {@code llr} = the fused logit, probability σ(llr) and label {@code llr > threshold} (default 0, the
 * reference's rule).
 *
 * <p><b>A detector that fails on an image</b> (its own size limit, a non-finite output) is left out of the fusion and
 * marked: its entry has no logit and says why, and the fusion uses the logits that exist. Only when no detector
 * scored does the image fail (and is dead-lettered by the service), with the first detector's reason. An engine
 * that cannot run at all ({@link FailureReason#ENGINE_UNAVAILABLE}: shut down, device error) fails the whole image
 * instead, so that the service retries it rather than writing verdicts without that detector for the whole outage.
 */
public final class DetectorSet implements AutoCloseable {
    /** One detector: its id in the set and its engine. */
    public record Detector(String id, ScoringEngine engine) {}

    /** What to open: an id (null = the model's manifest id) and the engine settings. */
    public record DetectorSpec(String id, EngineConfig config) {
        public DetectorSpec {
            Objects.requireNonNull(config, "config");
        }
    }

    /** Threshold of a fused score unless configured: the reference's LLR &gt; 0. */
    public static final double DEFAULT_FUSED_THRESHOLD = 0;

    private final List<Detector> detectors;
    private final Fusion fusion;
    private final double threshold;
    private final int featuresIndex;

    private DetectorSet(List<Detector> detectors, Fusion fusion, double threshold) {
        this.detectors = List.copyOf(detectors);
        this.fusion = fusion;
        this.threshold = threshold;
        int index = -1;
        for (int i = 0; i < detectors.size(); i++) {
            if (!detectors.get(i).engine().outputsLogit()) {
                index = i;
            }
        }
        this.featuresIndex = index;
    }

    /**
     * Opens every detector (sharing one decode budget, sized by the first spec's settings); on any failure closes
     * those already open. Ids must be distinct; at most one detector may output features.
     *
     * @param listeners the batch listener of each detector, by id (metrics)
     */
    public static DetectorSet open(List<DetectorSpec> specs, Fusion fusion, double threshold,
                                   Function<String, BatchListener> listeners) throws ModelLoadException {
        if (specs.isEmpty()) {
            throw new IllegalArgumentException("a detector set needs at least one detector");
        }
        Objects.requireNonNull(fusion, "fusion");
        DecodeBudget budget = DecodeBudget.of(specs.getFirst().config().decodeBudgetPixels());
        List<Detector> opened = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        try {
            String features = null;
            for (DetectorSpec spec : specs) {
                // The id before the engine opens, so that its batch listener (metrics) is told the detector's id.
                String id = spec.id() != null ? spec.id() : ModelManifest.read(spec.config().modelDir()).id();
                if (!ids.add(id)) {
                    throw new ModelLoadException("detector id '" + id + "' is given twice; every detector of a set"
                            + " needs its own id (its CSV column and verdict entry)");
                }
                ScoringEngine engine = ScoringEngine.open(spec.config(), listeners.apply(id), budget);
                opened.add(new Detector(id, engine));
                if (!engine.outputsLogit()) {
                    if (features != null) {
                        throw new ModelLoadException("detectors '" + features + "' and '" + id + "' both output"
                                + " features for a head; a set holds at most one CLIP (features) detector, the others"
                                + " output their logit");
                    }
                    features = id;
                }
            }
            return new DetectorSet(opened, fusion, threshold);
        } catch (ModelLoadException | RuntimeException e) {
            opened.forEach(d -> d.engine().close());
            throw e;
        }
    }

    /** A set of one already open engine (its outcome unchanged); the set closes it. */
    public static DetectorSet single(ScoringEngine engine) {
        return new DetectorSet(List.of(new Detector(engine.info().modelId(), engine)), Fusion.REFERENCE_DEFAULT,
                DEFAULT_FUSED_THRESHOLD);
    }

    public List<Detector> detectors() {
        return detectors;
    }

    public Fusion fusion() {
        return fusion;
    }

    /** The threshold of a fused score (sets of several detectors). */
    public double threshold() {
        return threshold;
    }

    /** The parts of the detectors that output their logit (not the CLIP detector), of one image's parts in set order. */
    public List<DetectorScore> logitModelParts(List<DetectorScore> parts) {
        List<DetectorScore> logits = new ArrayList<>(parts.size());
        for (int i = 0; i < parts.size(); i++) {
            if (i != featuresIndex) {
                logits.add(parts.get(i));
            }
        }
        return logits;
    }

    /** The CLIP (features) detector's engine, or null when the set has none. */
    public ScoringEngine featuresEngine() {
        return featuresIndex < 0 ? null : detectors.get(featuresIndex).engine();
    }

    /** Scores one image with every detector, the CLIP detector with its configured head. Never fails exceptionally. */
    public CompletableFuture<FusedOutcome> submit(byte[] encodedImage) {
        ScoringEngine features = featuresEngine();
        return submit(encodedImage, features == null ? null : features.configuredHead());
    }

    /** Scores one image with every detector, the CLIP detector with {@code clipHead} (the live head). */
    public CompletableFuture<FusedOutcome> submit(byte[] encodedImage, LinearHead clipHead) {
        return embed(encodedImage).thenApply(embeddings -> combine(embeddings, clipHead));
    }

    /**
     * Scores an image already decoded (robustness: decoded once, impaired, scored) with every detector, the CLIP
     * detector with its configured head: {@link #submit(byte[])} after its decode. Never fails exceptionally.
     */
    public CompletableFuture<FusedOutcome> submitDecoded(RgbImage decoded) {
        ScoringEngine features = featuresEngine();
        LinearHead clipHead = features == null ? null : features.configuredHead();
        return embedEach(engine -> engine.embedDecoded(decoded)).thenApply(embeddings -> combine(embeddings, clipHead));
    }

    /**
     * Every detector's output for one image, before any head, in the set's order ({@link #combine} turns them into
     * the fused answer). Never fails exceptionally.
     */
    public CompletableFuture<List<EmbedOutcome>> embed(byte[] encodedImage) {
        return embedEach(engine -> engine.embed(encodedImage));
    }

    /** Runs {@code embed} on every detector's engine; the outcomes in the set's order. */
    private CompletableFuture<List<EmbedOutcome>> embedEach(Function<ScoringEngine, CompletableFuture<EmbedOutcome>> embed) {
        List<CompletableFuture<EmbedOutcome>> parts = new ArrayList<>(detectors.size());
        for (Detector d : detectors) {
            parts.add(embed.apply(d.engine()));
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
                .thenApply(done -> parts.stream().map(CompletableFuture::join).toList());
    }

    /** The detectors' model ids in order, e.g. {@code tiny-clip-test+tiny-res50nodown-test} (dedupe cache keys). */
    public String modelIds() {
        return String.join("+", detectors.stream().map(d -> d.engine().info().modelId()).toList());
    }

    /**
     * The threshold a verdict's label is derived with: the CLIP head's ({@code clipHead}) with one detector, else the
     * fusion threshold.
     */
    public double thresholdFor(LinearHead clipHead) {
        if (detectors.size() == 1) {
            ScoringEngine only = detectors.getFirst().engine();
            return only.outputsLogit() || clipHead == null ? only.info().threshold() : clipHead.threshold();
        }
        return threshold;
    }

    /** The fused answer from each detector's embedding outcome, in the set's order. */
    public FusedOutcome combine(List<EmbedOutcome> embeddings, LinearHead clipHead) {
        List<DetectorScore> scores = new ArrayList<>(detectors.size());
        List<ScoreOutcome> outcomes = new ArrayList<>(detectors.size());
        EmbedOutcome.Embedded clipFeatures = null;
        for (int i = 0; i < detectors.size(); i++) {
            Detector d = detectors.get(i);
            EmbedOutcome embedding = embeddings.get(i);
            boolean logitModel = d.engine().outputsLogit();
            ScoreOutcome outcome = switch (embedding) {
                case EmbedOutcome.Embedded e -> d.engine().score(clipHead, e);
                case ScoreOutcome.Failed f -> f;
            };
            if (i == featuresIndex && embedding instanceof EmbedOutcome.Embedded e) {
                clipFeatures = e;
            }
            boolean cropped = embedding instanceof EmbedOutcome.Embedded e && e.cropped();
            String headVersion = logitModel || clipHead == null ? null : clipHead.version();
            outcomes.add(outcome);
            scores.add(switch (outcome) {
                case ScoreOutcome.Scored s -> new DetectorScore(d.id(), d.engine().info().modelId(), headVersion,
                        s.llr(), cropped, null, null);
                case ScoreOutcome.Failed f -> new DetectorScore(d.id(), d.engine().info().modelId(), headVersion,
                        null, cropped, f.reason(), f.message());
            });
        }
        ScoreOutcome fused = detectors.size() == 1 ? outcomes.getFirst() : fuse(scores, fusion, threshold);
        return new FusedOutcome(fused, scores, clipFeatures);
    }

    /**
     * The fused outcome of detector scores (also used by rescore with stored logits): the rule over the logits that
     * exist, probability σ(llr), label {@code llr > threshold}; a failure when none scored or any detector's engine
     * was unavailable.
     */
    public static ScoreOutcome fuse(List<DetectorScore> scores, Fusion fusion, double threshold) {
        for (DetectorScore s : scores) {
            if (s.failure() == FailureReason.ENGINE_UNAVAILABLE) {
                return new ScoreOutcome.Failed(FailureReason.ENGINE_UNAVAILABLE, "detector '" + s.detectorId()
                        + "' could not run: " + s.error());
            }
        }
        double[] logits = scores.stream().filter(DetectorScore::scored).mapToDouble(DetectorScore::logit).toArray();
        if (logits.length == 0) {
            DetectorScore first = scores.getFirst();
            return new ScoreOutcome.Failed(first.failure(), scores.size() == 1 ? first.error()
                    : "no detector scored the image; " + first.detectorId() + ": " + first.error());
        }
        double llr = fusion.apply(logits);
        return new ScoreOutcome.Scored(llr, Fusion.sigmoid(llr), llr > threshold);
    }

    @Override
    public void close() {
        for (Detector d : detectors) {
            d.engine().close();
        }
    }
}
