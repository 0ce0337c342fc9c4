package io.clipguard.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.clipguard.image.NativeResolutionSpec;
import io.clipguard.image.PreprocessSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;

/**
 * {@code models/<id>/manifest.json}: what the ONNX file beside it is, what it expects and how its inputs are prepared
 * (format {@value #FORMAT}). Parse with {@link #load(Path)}, which also checks the file it names.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelManifest(
        String format,
        String id,
        String description,
        String onnx,
        String sha256,
        Provenance provenance,
        InputSpec input,
        OutputSpec output,
        Preprocess preprocess,
        @JsonProperty("l2_normalize") L2Normalize l2Normalize) {

    public static final String FORMAT = "clipguard-model/v1";
    public static final String FILE_NAME = "manifest.json";

    /** @param quantization the settings of an int8 export (tools/onnx_int8.py), null for fp32 and fp16 ones */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Provenance(String architecture, String weights, @JsonProperty("source_sha256") String sourceSha256,
                             String exporter, Integer opset, Quantization quantization) {}

    /**
     * How an int8 model was quantised, as the exporter records it. Informational: the graph still takes and returns
     * float32 (the manifest's input and output dtypes), so nothing in loading or scoring depends on it.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Quantization(String method, @JsonProperty("op_types") String[] opTypes,
                               @JsonProperty("per_channel") Boolean perChannel,
                               @JsonProperty("reduce_range") Boolean reduceRange,
                               @JsonProperty("weight_type") String weightType,
                               @JsonProperty("activation_type") String activationType, String onnxruntime,
                               @JsonProperty("kept_float") String[] keptFloat) {
        /**
         * Dynamic quantisation: each MatMul's activations are scaled at run time by one range over the whole input
         * tensor, so a batch's images would change each other's features.
         */
        public boolean dynamic() {
            return method != null && method.contains("dynamic");
        }

        /** Whether the export left this layer (tools/onnx_int8.py LAYERS, e.g. "mlp-out") in float32. */
        public boolean keptFloat(String layer) {
            return keptFloat != null && Arrays.asList(keptFloat).contains(layer);
        }

        /**
         * E.g. "int8 (QInt8 MatMul weights per channel, QUInt8 activations, onnxruntime 1.30.0)", with ", mlp-out kept
         * float" before onnxruntime when the export left layers in float32 (--int8-keep-float).
         */
        public String describe() {
            return "int8 (" + weightType + " " + String.join("/", opTypes == null ? new String[0] : opTypes)
                    + " weights " + (Boolean.TRUE.equals(perChannel) ? "per channel" : "per tensor")
                    + (Boolean.TRUE.equals(reduceRange) ? ", 7-bit" : "")
                    + ", " + activationType + " activations"
                    + (keptFloat == null || keptFloat.length == 0 ? "" : ", " + String.join("+", keptFloat) + " kept float")
                    + ", onnxruntime " + onnxruntime + ")";
        }
    }

    /** The image tensor: {@code [batch, 3, size, size]}, batch dynamic (-1). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record InputSpec(String name, TensorDType dtype, long[] shape) {
        public String describe() {
            return "'" + name + "' " + dtype + " " + Arrays.toString(shape).replace(" ", "");
        }
    }

    /**
     * The output tensor: {@code [batch, dim]}. {@code kind} says what it is: features for a linear head (the CLIP
     * detector; the default, so manifests written before the field existed keep their meaning) or a logit that is
     * already the detector's score ({@code dim} 1, no head, no L2 normalisation).
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record OutputSpec(String name, TensorDType dtype, int dim, OutputKind kind) {
        public OutputSpec {
            kind = kind == null ? OutputKind.FEATURES : kind;
        }

        public OutputSpec(String name, TensorDType dtype, int dim) {
            this(name, dtype, dim, OutputKind.FEATURES);
        }

        public String describe() {
            return "'" + name + "' " + dtype + " [-1," + dim + "]";
        }
    }

    /** What a model's output is. */
    public enum OutputKind {
        /** A feature vector, scored by a linear head ({@link LinearHead}). */
        @JsonProperty("features") FEATURES,
        /** One logit per image, already the score (&gt; 0 ⇒ synthetic), e.g. the reference's res50nodown. */
        @JsonProperty("logit") LOGIT
    }

    /**
     * How an image becomes the input tensor. {@code resize} and {@code crop} both null: the whole image at native
     * resolution (then {@code max_pixels}, when set, caps it with a centre crop: see {@link #maxPixels()}).
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Preprocess(Resize resize, Crop crop, float[] mean, float[] std,
                             @JsonProperty("max_pixels") Long maxPixels) {
        public Preprocess(Resize resize, Crop crop, float[] mean, float[] std) {
            this(resize, crop, mean, std, null);
        }

        /** No resize and no crop: the model takes each image at its own size. */
        public boolean nativeResolution() {
            return resize == null && crop == null;
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Resize(String rule, int size, String interpolation) {}

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Crop(String rule, int size) {}

    /** Where the L2 normalisation of the features happens. */
    public enum L2Normalize {
        /** The graph outputs raw ln_post features; the engine divides by the norm. */
        @JsonProperty("engine") ENGINE,
        /** The graph's output is already normalised. */
        @JsonProperty("graph") GRAPH,
        /** No normalisation at all: the output is a logit ({@link OutputKind#LOGIT}). */
        @JsonProperty("none") NONE
    }

    private static final JsonDocument<ModelManifest> DOCUMENT = new JsonDocument<>(ModelManifest.class, "model manifest",
            FORMAT, "A model manifest is {\"format\": \"" + FORMAT + "\", \"id\": \"...\", \"onnx\": \"model.onnx\","
                    + " \"input\": {...}, \"output\": {\"name\": ..., \"dtype\": ..., \"dim\": number}, \"preprocess\":"
                    + " {...}, \"l2_normalize\": \"engine\", \"graph\" or \"none\"}; see docs/models.md and"
                    + " models/tiny-clip-test/manifest.json",
            "Re-export the model with tools/export_clip_onnx.py or upgrade clipguard.");

    /** The ONNX file this manifest describes, inside {@code modelDir}. */
    public Path onnxFile(Path modelDir) {
        return modelDir.resolve(onnx);
    }

    /** How the graph was quantised (an int8 export), or null for fp32 and fp16 ones. */
    public Quantization quantization() {
        return provenance == null ? null : provenance.quantization();
    }

    /** The weights' precision in words: the tensors' dtype, or the int8 quantisation that produced the graph. */
    public String precision() {
        Quantization q = quantization();
        return q != null ? q.describe() : input.dtype().manifestName();
    }

    public int featureDim() {
        return output.dim();
    }

    /** Side of the square image the model takes (the crop size); 0 for a native-resolution model. */
    public int imageSize() {
        return preprocess.nativeResolution() ? 0 : preprocess.crop().size();
    }

    /** The output is the detector's logit (no head)? */
    public boolean outputsLogit() {
        return output.kind() == OutputKind.LOGIT;
    }

    /** Whole images at their own size (no resize, no crop)? Then {@link #nativeSpec()} describes the preprocessing. */
    public boolean nativeResolution() {
        return preprocess.nativeResolution();
    }

    /** The native-resolution preprocessing, with the manifest's {@code max_pixels} (0 when unset: no cap). */
    public NativeResolutionSpec nativeSpec() {
        if (!nativeResolution()) {
            throw new IllegalStateException("model " + id + " resizes and crops; use preprocessSpec()");
        }
        return new NativeResolutionSpec(preprocess.mean(), preprocess.std(),
                preprocess.maxPixels() == null ? 0 : preprocess.maxPixels());
    }

    /** Engine normalises the features before the head? */
    public boolean engineNormalizes() {
        return l2Normalize == L2Normalize.ENGINE;
    }

    /** The resize-and-crop preprocessing (CLIP); a native-resolution model has none ({@link #nativeSpec()}). */
    public PreprocessSpec preprocessSpec() {
        if (nativeResolution()) {
            throw new IllegalStateException("model " + id + " takes images at native resolution; use nativeSpec()");
        }
        return new PreprocessSpec(preprocess.resize().size(), preprocess.crop().size(), preprocess.mean(), preprocess.std());
    }

    /** Where a model's folder is by default: {@code models/<id>}, relative to the working directory. */
    public static Path defaultDir(String modelId) {
        return Path.of("models", modelId);
    }

    /**
     * Reads and checks {@code modelDir/manifest.json}: known format, complete fields, supported preprocessing, the ONNX
     * file present and, when the manifest gives a sha256, its digest equal to it (read as a stream, never whole).
     */
    public static ModelManifest load(Path modelDir) throws ModelLoadException {
        ModelManifest manifest = read(modelDir);
        manifest.verifyDigest(modelDir, modelDir.resolve(FILE_NAME));
        return manifest;
    }

    /**
     * Reads and checks {@code modelDir/manifest.json} alone, not the ONNX file it names: enough to know the backbone's
     * id and feature dimension (e.g. to check a head) where the model file is absent or too large to hash.
     */
    public static ModelManifest read(Path modelDir) throws ModelLoadException {
        Path file = modelDir.resolve(FILE_NAME);
        if (!Files.isDirectory(modelDir)) {
            throw new ModelLoadException("model folder " + modelDir.toAbsolutePath() + " does not exist; pass the folder"
                    + " that holds manifest.json and model.onnx (e.g. models/tiny-clip-test)");
        }
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ModelLoadException("no " + FILE_NAME + " in model folder " + modelDir.toAbsolutePath()
                    + "; every model folder needs one (see models/tiny-clip-test/manifest.json)");
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
        }
        ModelManifest manifest = DOCUMENT.read(text, file.toString());
        manifest.validate(file);
        return manifest;
    }

    private void validate(Path file) throws ModelLoadException {
        String where = file + ": ";
        require(id != null && !id.isBlank(), where + "'id' is missing");
        require(onnx != null && !onnx.isBlank(), where + "'onnx' (the ONNX file name) is missing");
        require(input != null && input.name() != null && input.dtype() != null && input.shape() != null,
                where + "'input' needs name, dtype and shape");
        require(output != null && output.name() != null && output.dtype() != null,
                where + "'output' needs name, dtype and dim");
        require(output.dim() > 0, where + "output dim must be positive, got " + output.dim());
        require(preprocess != null && preprocess.mean() != null && preprocess.std() != null,
                where + "'preprocess' needs mean and std (and resize and crop, or both null for native resolution)");
        require(l2Normalize != null, where + "'l2_normalize' is missing (engine, graph or none)");
        long[] shape = input.shape();
        if (output.kind() == OutputKind.LOGIT) {
            require(output.dim() == 1, where + "a logit output has dim 1, got " + output.dim());
            require(l2Normalize == L2Normalize.NONE, where + "a logit model has l2_normalize \"none\", got "
                    + l2Normalize.name().toLowerCase(Locale.ROOT));
        } else {
            require(l2Normalize != L2Normalize.NONE, where + "a features model needs l2_normalize engine or graph"
                    + " (\"none\" is for output kind \"logit\")");
            require(!preprocess.nativeResolution(), where + "a features model (the CLIP detector) needs resize and crop;"
                    + " native resolution is for output kind \"logit\"");
        }
        if (preprocess.nativeResolution()) {
            require(shape.length == 4 && shape[0] == -1 && shape[1] == 3 && shape[2] == -1 && shape[3] == -1,
                    where + "input shape " + Arrays.toString(shape) + " must be [-1, 3, -1, -1] (dynamic batch, RGB,"
                            + " dynamic height and width) for a model without resize and crop");
            require(preprocess.maxPixels() == null || preprocess.maxPixels() >= 1,
                    where + "max_pixels must be null (no cap) or positive, got " + preprocess.maxPixels());
        } else {
            require(preprocess.resize() != null && preprocess.crop() != null,
                    where + "'preprocess' needs both resize and crop, or neither (native resolution)");
            require(preprocess.maxPixels() == null, where + "max_pixels applies only to native-resolution models");
            int size = preprocess.crop().size();
            require(shape.length == 4 && shape[0] == -1 && shape[1] == 3 && shape[2] == size && shape[3] == size,
                    where + "input shape " + Arrays.toString(shape) + " must be [-1, 3, " + size + ", " + size
                            + "] (dynamic batch, RGB, crop size " + size + ")");
            require("shorter_side".equals(preprocess.resize().rule()) && "bicubic".equals(preprocess.resize().interpolation()),
                    where + "unsupported resize " + preprocess.resize() + "; only shorter_side bicubic is implemented");
            require("center".equals(preprocess.crop().rule()),
                    where + "unsupported crop rule '" + preprocess.crop().rule() + "'; only center is implemented");
            require(preprocess.resize().size() >= size,
                    where + "resize size " + preprocess.resize().size() + " is smaller than crop size " + size);
        }
        require(preprocess.mean().length == 3 && preprocess.std().length == 3,
                where + "mean and std need 3 values (R, G, B)");
        for (float s : preprocess.std()) {
            require(s > 0, where + "std values must be positive, got " + Arrays.toString(preprocess.std()));
        }
        require(input.dtype() == output.dtype(), where + "input dtype " + input.dtype() + " and output dtype "
                + output.dtype() + " differ; fp16 models have fp16 input and output");
        require(sha256 == null || sha256.matches("[0-9a-fA-F]{64}"),
                where + "sha256 must be 64 hex digits or null, got '" + sha256 + "'");
    }

    private void verifyDigest(Path modelDir, Path manifestFile) throws ModelLoadException {
        Path model = onnxFile(modelDir);
        if (!Files.isRegularFile(model)) {
            throw new ModelLoadException("model file " + model.toAbsolutePath() + " (named by " + manifestFile
                    + ") does not exist. Export it with: python3 tools/export_clip_onnx.py --out " + modelDir
                    + " (see the manifest's provenance for the weights)");
        }
        if (sha256 == null) {
            return;
        }
        String actual = sha256Hex(model);
        if (!actual.equalsIgnoreCase(sha256)) {
            throw new ModelLoadException("sha256 of " + model + " is " + actual + " but " + manifestFile + " says "
                    + sha256.toLowerCase(Locale.ROOT) + ": the file is corrupt or belongs to another export; re-export"
                    + " it or update the manifest together with the model");
        }
    }

    /** Hex sha256 of a file, streamed in 1 MiB chunks (model files can be >1 GB). */
    public static String sha256Hex(Path file) throws ModelLoadException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] chunk = new byte[1 << 20];
            for (int n; (n = in.read(chunk)) > 0; ) {
                digest.update(chunk, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is mandatory on every JVM", e);
        }
    }

    private static void require(boolean ok, String message) throws ModelLoadException {
        if (!ok) {
            throw new ModelLoadException(message);
        }
    }
}
