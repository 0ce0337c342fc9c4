package io.clipguard.inference;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;

/**
 * Checks an exported model against the exporter's PyTorch outputs: the {@value #FORMAT} sample file written by
 * {@code tools/export_clip_onnx.py} (random inputs and the fp32 tower's outputs as base64 little-endian float32 arrays).
 * Passes iff |actual − expected| ≤ atol + rtol·|expected| for every element.
 */
public final class ExportVerification {
    public static final String FORMAT = "clipguard-verification/v1";

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Samples(String format, String modelId, String modelSha256, String modelDtype, Tolerance tolerance,
                          Tensor input, Tensor expected) {}

    public record Tolerance(double atol, double rtol) {}

    /** A row-major float32 array, base64 of its little-endian bytes. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Tensor(String name, int[] shape, String data) {
        FloatBuffer floats() {
            byte[] bytes = Base64.getDecoder().decode(data);
            long elements = Arrays.stream(shape).asLongStream().reduce(1, Math::multiplyExact);
            if (bytes.length != elements * Float.BYTES) {
                throw new IllegalArgumentException("tensor '" + name + "' " + Arrays.toString(shape) + " needs "
                        + elements * Float.BYTES + " bytes, its data has " + bytes.length);
            }
            return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        }
    }

    /**
     * @param maxAbsDiff      largest |actual − expected|
     * @param valuesOutOfTolerance elements failing |Δ| ≤ atol + rtol·|expected|
     * @param values          elements compared
     */
    public record Result(boolean passed, double maxAbsDiff, long valuesOutOfTolerance, long values, Tolerance tolerance) {
        public String summary() {
            return (passed ? "PASS" : "FAIL") + ": max |diff| " + String.format("%.3g", maxAbsDiff) + " over " + values
                    + " values, " + valuesOutOfTolerance + " out of tolerance (atol " + tolerance.atol() + ", rtol "
                    + tolerance.rtol() + ")";
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE);

    private ExportVerification() {}

    public static Samples load(Path file) throws IOException {
        Samples samples;
        try {
            samples = JSON.readValue(file.toFile(), Samples.class);
        } catch (JsonProcessingException e) {
            throw new IOException(file + " is not a verification sample file: " + e.getOriginalMessage(), e);
        }
        if (!FORMAT.equals(samples.format())) {
            throw new IOException(file + ": format '" + samples.format() + "', expected '" + FORMAT + "'");
        }
        if (samples.input() == null || samples.expected() == null || samples.tolerance() == null) {
            throw new IOException(file + ": needs input, expected and tolerance");
        }
        if (samples.input().shape().length != 4 || samples.expected().shape().length != 2
                || samples.input().shape()[0] != samples.expected().shape()[0]) {
            throw new IOException(file + ": input must be [n,3,h,w] and expected [n,dim], got "
                    + Arrays.toString(samples.input().shape()) + " and " + Arrays.toString(samples.expected().shape()));
        }
        return samples;
    }

    /** Runs the sample inputs through the encoder and compares its raw outputs (before any L2 normalisation). */
    public static Result verify(OnnxImageEncoder encoder, Samples samples) {
        int n = samples.input().shape()[0];
        int[] shape = samples.input().shape();
        float[][] actual = encoder.encodeNormalized(samples.input().floats(), n, shape[2], shape[3]);
        FloatBuffer expected = samples.expected().floats();
        int dim = samples.expected().shape()[1];
        if (dim != encoder.featureDim()) {
            throw new IllegalArgumentException("samples expect " + dim + "-d outputs, the model has "
                    + encoder.featureDim());
        }
        double maxDiff = 0;
        long bad = 0;
        Tolerance tol = samples.tolerance();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < dim; j++) {
                double e = expected.get(i * dim + j);
                double diff = Math.abs(actual[i][j] - e);
                if (!(diff <= tol.atol() + tol.rtol() * Math.abs(e))) { // NaN counts as a failure
                    bad++;
                }
                maxDiff = Math.max(maxDiff, diff); // NaN propagates
            }
        }
        return new Result(bad == 0, maxDiff, bad, (long) n * dim, tol);
    }
}
