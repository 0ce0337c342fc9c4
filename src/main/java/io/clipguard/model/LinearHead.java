package io.clipguard.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
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
        String provenance) {

    public static final String FORMAT = "clipguard-head/v1";

    /** Platt-style calibration of the LLR into a probability: σ(a·LLR + b). */
    public record Calibration(double a, double b) {
        public static final Calibration IDENTITY = new Calibration(1.0, 0.0);
    }

    /** torch.nn.functional.normalize's eps: a zero feature vector stays zero instead of becoming NaN. */
    private static final double NORM_EPS = 1e-12;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    public LinearHead {
        if (calibration == null) {
            calibration = Calibration.IDENTITY;
        }
    }

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
     * Parses and checks a head file's text (format, weights present and finite), e.g. as published on detector-heads.
     *
     * @param origin where the text came from, for error messages (a path, a topic key)
     */
    public static LinearHead parse(String json, String origin) throws ModelLoadException {
        LinearHead head;
        try {
            head = JSON.readValue(json, LinearHead.class);
        } catch (JsonProcessingException e) {
            throw new ModelLoadException(origin + " is not a valid head file: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : ""), e);
        }
        if (head == null) {
            throw new ModelLoadException(origin + " is not a valid head file: it is empty");
        }
        String where = origin + ": ";
        if (!FORMAT.equals(head.format())) {
            throw new ModelLoadException(where + "unknown format '" + head.format() + "'; expected '" + FORMAT + "'");
        }
        if (head.modelId() == null || head.modelId().isBlank()) {
            throw new ModelLoadException(where + "'model_id' is missing; a head must name the backbone it was trained on");
        }
        if (head.weights() == null || head.weights().length == 0) {
            throw new ModelLoadException(where + "'weights' is missing or empty");
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
     * Why this head cannot score the {@code featureDim}-d features of backbone {@code backboneId}, or empty when it
     * fits (same model id, one weight per feature).
     */
    public Optional<String> misfit(String backboneId, int featureDim) {
        if (!modelId.equals(backboneId)) {
            return Optional.of("it was trained for model_id '" + modelId + "' but the backbone is '" + backboneId + "'");
        }
        if (weights.length != featureDim) {
            return Optional.of("it has " + weights.length + " weights but model '" + backboneId + "' outputs " + featureDim
                    + "-d features");
        }
        return Optional.empty();
    }

    void requireCompatible(ModelManifest manifest, Path headFile) throws ModelLoadException {
        if (misfit(manifest.id(), manifest.featureDim()).isEmpty()) {
            return;
        }
        if (!modelId.equals(manifest.id())) {
            throw new ModelLoadException("head " + headFile + " was trained for model_id '" + modelId
                    + "' but the model folder holds '" + manifest.id() + "': pass the head trained on '"
                    + manifest.id() + "' (--head) or the model folder of '" + modelId + "' (--model-dir)");
        }
        if (weights.length != manifest.featureDim()) {
            throw new ModelLoadException("head " + headFile + " has " + weights.length + " weights but model '"
                    + manifest.id() + "' outputs " + manifest.featureDim() + "-d features: the head does not fit this"
                    + " backbone; retrain it on this model's features");
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
