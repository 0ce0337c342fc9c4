package io.clipguard.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The linear detector head (format {@value #FORMAT}): LLR = w·(f/‖f‖) + bias; probability = σ(a·LLR + b);
 * synthetic iff LLR &gt; threshold.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record LinearHead(
        String format,
        @JsonProperty("model_id") String modelId,
        String version,
        float[] weights,
        double bias,
        Calibration calibration,
        double threshold,
        String provenance,
        Training training) {

    public static final String FORMAT = "clipguard-head/v1";

    /** A head without a training record (made elsewhere). */
    public LinearHead(String format, String modelId, String version, float[] weights, double bias,
                      Calibration calibration, double threshold, String provenance) {
        this(format, modelId, version, weights, bias, calibration, threshold, provenance, null);
    }

    /**
     * How {@code clipguard train} made the head (optional, added to v1 with a null default: readers that do not know
     * it ignore it).
     *
     * @param counts         images per typ ("real" and each generator)
     * @param listSha256     sha256 of the training list: one "filename\ttyp\n" line per image, in training order
     * @param featuresSha256 sha256 of the feature matrix trained on (float32 little-endian, rows in training order)
     * @param date           the date of the training data (see train --help), not of the run
     * @param c              the regularisation parameter used; {@code cGrid} the values cross-validation tried
     * @param plattA         Platt's sigmoid on the decision value, folded into weights and bias
     * @param priorLogOdds   log(n_synthetic / n_real) of the training set, subtracted from the bias
     * @param cvAuc          out-of-fold AUC; {@code cvBalancedAccuracy} at the head's threshold
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Training(
            String tool,
            String input,
            java.util.Map<String, Integer> counts,
            @JsonProperty("list_sha256") String listSha256,
            @JsonProperty("features_sha256") String featuresSha256,
            String date,
            long seed,
            String solver,
            double c,
            @JsonProperty("c_grid") java.util.List<Double> cGrid,
            int folds,
            @JsonProperty("target_fpr") Double targetFpr,
            @JsonProperty("platt_a") double plattA,
            @JsonProperty("platt_b") double plattB,
            @JsonProperty("prior_log_odds") double priorLogOdds,
            @JsonProperty("cv_auc") double cvAuc,
            @JsonProperty("cv_balanced_accuracy") double cvBalancedAccuracy,
            Decisions decisions) {

        /** A training record without decisions (images or a features folder only). */
        public Training(String tool, String input, java.util.Map<String, Integer> counts, String listSha256,
                        String featuresSha256, String date, long seed, String solver, double c,
                        java.util.List<Double> cGrid, int folds, Double targetFpr, double plattA, double plattB,
                        double priorLogOdds, double cvAuc, double cvBalancedAccuracy) {
            this(tool, input, counts, listSha256, featuresSha256, date, seed, solver, c, cGrid, folds, targetFpr, plattA,
                    plattB, priorLogOdds, cvAuc, cvBalancedAccuracy, null);
        }
    }

    /**
     * Where the moderators' decisions among the training rows came from ({@code train --decisions}; absent otherwise).
     *
     * @param topic           the decisions topic; {@code embeddingsTopic} the topic their vectors were read from
     * @param since           ISO-8601 instant of --since (null: from the first decision)
     * @param until           ISO-8601 instant of --until (null: up to the end of the topic when it was read)
     * @param classes         decision rows per class (real, synthetic)
     * @param counts          decision rows per typ (real and each generator name)
     * @param generators      the --generator filter (empty: every generator)
     * @param minPerClass     the minimum decided uploads per class that was required
     * @param decisionRecords records read from {@code topic}
     * @param skipped         decided uploads left out, by reason (UNSURE, outside the range, another model, ...)
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Decisions(
            String topic,
            @JsonProperty("embeddings_topic") String embeddingsTopic,
            String since,
            String until,
            java.util.Map<String, Integer> classes,
            java.util.Map<String, Integer> counts,
            java.util.List<String> generators,
            @JsonProperty("min_per_class") int minPerClass,
            @JsonProperty("decision_records") long decisionRecords,
            java.util.Map<String, Long> skipped) {}

    /** Writes the head as canonical JSON: the same head gives the same bytes. */
    public void write(Path file) throws IOException {
        CanonicalJson.write(file, this);
    }

    /** Platt-style calibration of the LLR into a probability: σ(a·LLR + b). */
    public record Calibration(double a, double b) {
        public static final Calibration IDENTITY = new Calibration(1.0, 0.0);
    }

    /** torch.nn.functional.normalize's eps: a zero feature vector stays zero instead of becoming NaN. */
    private static final double NORM_EPS = 1e-12;

    private static final String SHAPE = "A head file is {\"format\": \"" + FORMAT + "\", \"model_id\": \"...\", \"version\":"
            + " \"...\", \"weights\": [one number per feature], \"bias\": number, \"threshold\": number, \"calibration\":"
            + " {\"a\": number, \"b\": number} (optional)}; see docs/models.md";
    private static final JsonDocument<LinearHead> DOCUMENT = new JsonDocument<>(LinearHead.class, "head file", FORMAT, SHAPE, SHAPE);

    public LinearHead {
        if (calibration == null) {
            calibration = Calibration.IDENTITY;
        }
    }

    @com.fasterxml.jackson.annotation.JsonIgnore
    public int dim() {
        return weights.length;
    }

    /** Reads and checks a head file on its own (format, weights present and finite); see {@link #load(Path, ModelManifest)}. */
    public static LinearHead load(Path headFile) throws ModelLoadException {
        String json;
        try {
            json = Files.readString(headFile);
        } catch (NoSuchFileException | FileNotFoundException e) {
            throw new ModelLoadException("head file " + headFile.toAbsolutePath() + " does not exist; pass --head with a"
                    + " head trained for this model (clipguard train writes one), or put head.json in the model folder");
        } catch (IOException e) {
            throw new ModelLoadException("cannot read head file " + headFile + ": " + e.getMessage(), e);
        }
        return parse(json, headFile.toString());
    }

    /**
     * Parses and checks a head file's text (format, fields of the right types, weights present and finite), e.g. as
     * published on detector-heads.
     *
     * @param origin where the text came from, for error messages (a path, a topic key)
     */
    public static LinearHead parse(String json, String origin) throws ModelLoadException {
        LinearHead head = DOCUMENT.read(json, origin);
        String where = origin + ": ";
        if (head.modelId() == null || head.modelId().isBlank()) {
            throw new ModelLoadException(where + "'model_id' is missing; a head must name the backbone it was trained on");
        }
        if (head.weights() == null || head.weights().length == 0) {
            throw new ModelLoadException(where + "'weights' is " + (head.weights() == null ? "missing" : "empty")
                    + "; a head has one weight per feature of its backbone. " + DOCUMENT.shape());
        }
        for (int i = 0; i < head.weights().length; i++) {
            if (!Float.isFinite(head.weights()[i])) {
                throw new ModelLoadException(where + "weight " + i + " is not finite (" + head.weights()[i] + ")");
            }
        }
        if (!Double.isFinite(head.bias()) || !Double.isFinite(head.threshold())
                || !Double.isFinite(head.calibration().a()) || !Double.isFinite(head.calibration().b())) {
            throw new ModelLoadException(where + "bias, threshold and calibration must be finite numbers");
        }
        return head;
    }

    /** Loads a head and refuses it unless it was trained on {@code manifest}'s backbone with its feature dimension. */
    public static LinearHead load(Path headFile, ModelManifest manifest) throws ModelLoadException {
        LinearHead head = load(headFile);
        head.requireCompatible(manifest, headFile);
        return head;
    }

    /**
     * Why a head cannot score a backbone's features.
     *
     * @param otherModel the head was trained for another model (else: the model's, with another dimension)
     * @param reason     what does not fit, e.g. "it has 10 weights but model 'x' outputs 64-d features"
     */
    public record Misfit(boolean otherModel, String reason) {}

    /**
     * Why this head cannot score the {@code featureDim}-d features of backbone {@code backboneId}, or empty when it
     * fits (same model id, one weight per feature). The one fit rule: the service refuses an activation with it, the
     * engine a head file, {@code tools/clipguard head} a publication.
     */
    public Optional<Misfit> misfit(String backboneId, int featureDim) {
        if (!modelId.equals(backboneId)) {
            return Optional.of(new Misfit(true, "it was trained for model_id '" + modelId + "' but the backbone is '"
                    + backboneId + "'"));
        }
        if (weights.length != featureDim) {
            return Optional.of(new Misfit(false, "it has " + weights.length + " weights but model '" + backboneId
                    + "' outputs " + featureDim + "-d features"));
        }
        return Optional.empty();
    }

    void requireCompatible(ModelManifest manifest, Path headFile) throws ModelLoadException {
        Optional<Misfit> misfit = misfit(manifest.id(), manifest.featureDim());
        if (misfit.isPresent()) {
            throw new ModelLoadException("head " + headFile + " does not fit the model folder: " + misfit.get().reason()
                    + "; " + (misfit.get().otherModel() ? "pass the head trained on '" + manifest.id() + "' (--head) or"
                    + " the model folder of '" + modelId + "' (--model-dir)" : "retrain it on this model's features"));
        }
    }

    /**
     * The head's output for one feature vector, accumulated in double. {@code normalise}: divide by the L2 norm first
     * (manifest l2_normalize = engine).
     */
    public double llr(float[] features, boolean normalise) {
        if (features.length != weights.length) {
            throw new IllegalArgumentException("feature vector has " + features.length + " values, head expects "
                    + weights.length);
        }
        double dot = 0;
        double squares = 0;
        for (int i = 0; i < features.length; i++) {
            dot += (double) weights[i] * features[i];
            squares += (double) features[i] * features[i];
        }
        double scale = normalise ? 1.0 / Math.max(Math.sqrt(squares), NORM_EPS) : 1.0;
        return dot * scale + bias;
    }

    public double probability(double llr) {
        return 1.0 / (1.0 + Math.exp(-(calibration.a() * llr + calibration.b())));
    }

    public boolean isSynthetic(double llr) {
        return llr > threshold;
    }
}
