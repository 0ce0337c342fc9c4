package io.clipguard.inference;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import io.clipguard.image.ClipPreprocessor;
import io.clipguard.image.ImagePreprocessor;
import io.clipguard.image.NativeResolutionPreprocessor;
import io.clipguard.image.NativeResolutionSpec;
import io.clipguard.image.RgbImage;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.ModelManifest;
import io.clipguard.model.TensorDType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * A detector's image model as an ONNX Runtime session: prepared images in, feature vectors (the CLIP tower) or one
 * logit per image (a native-resolution detector such as res50nodown) out. Thread-safe. Create one per
 * model and JVM (a session holds the weights; ORT parallelises each run internally).
 *
 * <p>Inputs are written into reusable direct buffers that the input tensor wraps without a copy; fp16 models get the
 * batch converted with {@link Float#floatToFloat16} and their fp16 output widened back to float.
 */
public final class OnnxImageEncoder implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(OnnxImageEncoder.class.getName());
    /** Batch buffers kept for reuse: one for the batcher's worker, one for a direct caller (verification). */
    private static final int BUFFER_POOL_SIZE = 2;

    private final OrtEnvironment env;
    private final OrtSession session;
    private boolean closed;
    private final ModelManifest manifest;
    private final ImagePreprocessor preprocessor;
    private final String device;
    private final String cudaUnavailableReason;
    private final int maxBatchSize;
    private final int elementsPerImage;
    private final int imageSize;
    private final boolean fp16;
    /** A dynamically quantised graph: see {@link #runsImagesOneByOne}. */
    private final boolean oneByOne;
    private final BlockingQueue<InputBuffer> bufferPool = new ArrayBlockingQueue<>(BUFFER_POOL_SIZE);
    private final AtomicInteger buffersCreated = new AtomicInteger();

    private OnnxImageEncoder(OrtEnvironment env, OrtSession session, ModelManifest manifest, String device,
                             String cudaUnavailableReason, int maxBatchSize, ImagePreprocessor preprocessor) {
        this.env = env;
        this.session = session;
        this.manifest = manifest;
        this.preprocessor = preprocessor;
        this.device = device;
        this.cudaUnavailableReason = cudaUnavailableReason;
        this.maxBatchSize = maxBatchSize;
        this.imageSize = manifest.imageSize();
        this.elementsPerImage = 3 * imageSize * imageSize; // 0 for a native-resolution model: sized per batch
        this.fp16 = manifest.input().dtype() == TensorDType.FLOAT16;
        this.oneByOne = manifest.quantization() != null && manifest.quantization().dynamic();
    }

    /**
     * True for a dynamically quantised (int8) graph, which this encoder runs one image per ONNX Runtime run: such a
     * graph quantises each MatMul's input with one range computed over the whole tensor, so in a batch an image's
     * features would depend on which other images share it, and an upload's verdict on its neighbours. On CPU, where
     * int8 models are for, a run of one image costs per image about what a batch does (docs/benchmarks.md).
     */
    public boolean runsImagesOneByOne() {
        return oneByOne;
    }

    /**
     * Opens {@code modelDir}'s ONNX file on the requested device and checks its inputs and outputs against the manifest.
     *
     * @param intraOpThreads ORT intra-op threads; 0 = ORT's default (one per physical core)
     * @param maxBatchSize   largest batch one run takes (sizes the reusable input buffers)
     */
    public static OnnxImageEncoder open(Path modelDir, ModelManifest manifest, Device device, int intraOpThreads,
                                        int maxBatchSize) throws ModelLoadException {
        return open(modelDir, manifest, device, intraOpThreads, maxBatchSize, preprocessorOf(manifest, null));
    }

    /**
     * The preprocessing the manifest describes: CLIP's resize and crop, or the native-resolution one with the
     * manifest's pixel cap unless {@code maxPixelsOverride} is given (0 = no cap).
     */
    public static ImagePreprocessor preprocessorOf(ModelManifest manifest, Long maxPixelsOverride) {
        if (!manifest.nativeResolution()) {
            return new ClipPreprocessor(manifest.preprocessSpec());
        }
        NativeResolutionSpec spec = manifest.nativeSpec();
        return new NativeResolutionPreprocessor(maxPixelsOverride == null ? spec : spec.withMaxPixels(maxPixelsOverride));
    }

    /** As {@link #open(Path, ModelManifest, Device, int, int)} with the given preprocessing (e.g. a pixel cap). */
    public static OnnxImageEncoder open(Path modelDir, ModelManifest manifest, Device device, int intraOpThreads,
                                        int maxBatchSize, ImagePreprocessor preprocessor) throws ModelLoadException {
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be >= 1, got " + maxBatchSize);
        }
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException("intraOpThreads must be >= 0 (0 = ORT default), got " + intraOpThreads);
        }
        // Fatal-only native logging: ORT would print its own error for a missing CUDA library, which our single
        // fallback line already reports; every other ORT failure reaches us as an OrtException with its message.
        OrtEnvironment env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, "clipguard");
        String modelPath = manifest.onnxFile(modelDir).toString();
        OrtSession session = null;
        String deviceName = "CPU";
        String cudaReason = null;
        if (device != Device.CPU) {
            try {
                session = createSession(env, modelPath, intraOpThreads, true);
                deviceName = "CUDA:0";
            } catch (OrtException e) {
                cudaReason = oneLine(e.getMessage()) + CudaDiagnosis.missingLibraries().map(d -> " (" + d + ")").orElse("");
                if (device == Device.CUDA) {
                    throw new ModelLoadException("device CUDA requested but ONNX Runtime's CUDA execution provider could"
                            + " not start: " + cudaReason + ". onnxruntime_gpu 1.23 needs CUDA 12 (libcublasLt.so.12)"
                            + " and cuDNN 9 on the library path and a visible GPU; or run with device auto or cpu.", e);
                }
                LOG.info("CUDA unavailable, running ONNX Runtime on CPU: " + cudaReason);
            }
        }
        if (session == null) {
            try {
                session = createSession(env, modelPath, intraOpThreads, false);
            } catch (OrtException e) {
                throw new ModelLoadException("ONNX Runtime cannot load " + modelPath + ": " + oneLine(e.getMessage())
                        + ". Re-export the model with tools/export_clip_onnx.py.", e);
            }
        }
        try {
            ModelSignatureCheck.check(session, manifest, modelPath);
        } catch (ModelLoadException | RuntimeException e) {
            closeQuietly(session);
            throw e;
        }
        return new OnnxImageEncoder(env, session, manifest, deviceName, cudaReason, maxBatchSize, preprocessor);
    }

    /** The environment variable CLIPGUARD_ORT_SPINNING=1: ORT's intra-op threads spin between runs (its default). */
    private static final boolean SPINNING = "1".equals(System.getenv("CLIPGUARD_ORT_SPINNING"));

    private static OrtSession createSession(OrtEnvironment env, String modelPath, int intraOpThreads, boolean cuda)
            throws OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (intraOpThreads > 0) {
                options.setIntraOpNumThreads(intraOpThreads);
            }
            // No spin-waiting in the intra-op pool between parallel sections: its threads share the cores with the
            // decode threads and the Kafka clients, which the spinning starved (docs/benchmarks.md, pipeline: +20 %
            // bare engine and +33 % pipeline throughput on 2 cores, a third less CPU per image at half load).
            // CLIPGUARD_ORT_SPINNING=1 turns it back on, for a host that runs nothing but inference.
            options.addConfigEntry("session.intra_op.allow_spinning", SPINNING ? "1" : "0");
            if (cuda) {
                options.addCUDA(0);
            }
            return env.createSession(modelPath, options);
        }
    }

    /** "CUDA:0" or "CPU": where the session actually runs. */
    public String device() {
        return device;
    }

    /** Why CUDA was not used when AUTO fell back to CPU. */
    public Optional<String> cudaUnavailableReason() {
        return Optional.ofNullable(cudaUnavailableReason);
    }

    public ModelManifest manifest() {
        return manifest;
    }

    public int featureDim() {
        return manifest.featureDim();
    }

    public int maxBatchSize() {
        return maxBatchSize;
    }

    /** How this encoder prepares images (for the engine, which decodes them). */
    public ImagePreprocessor preprocessor() {
        return preprocessor;
    }

    /**
     * Outputs (features, or the logit as a 1-element vector) of prepared uint8 images, in order;
     * {@link ImagePreprocessor#normalizeInto} writes each straight into the input tensor's buffer. Lists longer than
     * the max batch size run as several batches. Every image of one call must have the same size (a fixed-size
     * model's crop, or one native size: {@link DynamicBatcher} groups them).
     */
    public float[][] encode(List<RgbImage> crops) {
        float[][] features = new float[crops.size()][];
        if (crops.isEmpty()) {
            return features;
        }
        int width = crops.getFirst().width();
        int height = crops.getFirst().height();
        for (RgbImage crop : crops) {
            if (crop.width() != width || crop.height() != height) {
                throw new IllegalArgumentException("one batch needs images of one size, got " + width + "x" + height
                        + " and " + crop.width() + "x" + crop.height());
            }
        }
        int perImage = Math.multiplyExact(3, Math.multiplyExact(width, height));
        for (int start = 0; start < crops.size(); start += maxBatchSize) {
            int count = Math.min(maxBatchSize, crops.size() - start);
            InputBuffer buffer = acquire(Math.multiplyExact(count, perImage));
            try {
                for (int i = 0; i < count; i++) {
                    preprocessor.normalizeInto(crops.get(start + i), buffer.floats, i); // checks a fixed crop size
                }
                System.arraycopy(run(buffer, count, height, width), 0, features, start, count);
            } finally {
                release(buffer);
            }
        }
        return features;
    }

    /**
     * Outputs of an already normalised NCHW float tensor holding {@code count} images of the model's fixed size (used
     * to verify an export against the exporter's reference outputs).
     */
    public float[][] encodeNormalized(FloatBuffer nchw, int count) {
        if (imageSize == 0) {
            throw new IllegalArgumentException("model " + manifest.id() + " takes images at native resolution;"
                    + " give the height and width");
        }
        return encodeNormalized(nchw, count, imageSize, imageSize);
    }

    /** Outputs of an already normalised NCHW float tensor holding {@code count} images of {@code height × width}. */
    public float[][] encodeNormalized(FloatBuffer nchw, int count, int height, int width) {
        int perImage = Math.multiplyExact(3, Math.multiplyExact(height, width));
        if (imageSize != 0 && (height != imageSize || width != imageSize)) {
            throw new IllegalArgumentException("model " + manifest.id() + " takes " + imageSize + "x" + imageSize
                    + " images, got " + width + "x" + height);
        }
        if (nchw.remaining() != (long) count * perImage) {
            throw new IllegalArgumentException("tensor holds " + nchw.remaining() + " floats, " + count + " images of "
                    + perImage + " expected");
        }
        float[][] features = new float[count][];
        FloatBuffer source = nchw.duplicate();
        for (int start = 0; start < count; start += maxBatchSize) {
            int n = Math.min(maxBatchSize, count - start);
            InputBuffer buffer = acquire(n * perImage);
            try {
                FloatBuffer chunk = source.slice(source.position() + start * perImage, n * perImage);
                buffer.floats.clear();
                buffer.floats.put(chunk);
                buffer.floats.clear();
                System.arraycopy(run(buffer, n, height, width), 0, features, start, n);
            } finally {
                release(buffer);
            }
        }
        return features;
    }

    /**
     * Runs the first {@code count} images of the buffer, as one batch or (see {@link #runsImagesOneByOne}) one by one;
     * the tensors wrap the direct buffer (no copy).
     */
    private float[][] run(InputBuffer buffer, int count, int height, int width) {
        if (!oneByOne || count == 1) {
            return run(buffer, 0, count, height, width);
        }
        float[][] features = new float[count][];
        for (int i = 0; i < count; i++) {
            features[i] = run(buffer, i, 1, height, width)[0];
        }
        return features;
    }

    /** Runs images {@code first} to {@code first + count - 1} of the buffer as one batch. */
    private float[][] run(InputBuffer buffer, int first, int count, int height, int width) {
        long[] shape = {count, 3, height, width};
        int from = first * 3 * height * width;
        int elements = count * 3 * height * width;
        try (OnnxTensor input = fp16
                ? OnnxTensor.createTensor(env, buffer.toFloat16(from, elements), shape, OnnxJavaType.FLOAT16)
                : OnnxTensor.createTensor(env, buffer.floats.duplicate().position(from).limit(from + elements).slice(), shape);
             OrtSession.Result result = session.run(Map.of(manifest.input().name(), input))) {
            OnnxValue value = result.get(manifest.output().name())
                    .orElseThrow(() -> new InferenceException("model returned no '" + manifest.output().name() + "'"));
            if (!(value instanceof OnnxTensor output)) {
                throw new InferenceException("output '" + manifest.output().name() + "' is not a tensor");
            }
            long[] outShape = output.getInfo().getShape();
            int dim = manifest.featureDim();
            if (outShape.length != 2 || outShape[0] != count || outShape[1] != dim) {
                throw new InferenceException("model returned shape " + Arrays.toString(outShape) + ", expected ["
                        + count + ", " + dim + "] per manifest");
            }
            FloatBuffer out = output.getFloatBuffer(); // widened to float for fp16 outputs
            float[][] features = new float[count][dim];
            for (float[] row : features) {
                out.get(row);
            }
            return features;
        } catch (OrtException e) {
            throw new InferenceException("ONNX Runtime run of " + count + " images of " + width + "x" + height + " on "
                    + device + " failed: " + oneLine(e.getMessage()), e);
        }
    }

    /**
     * A buffer for {@code elements} floats: from the pool for a fixed-size model; for a native-resolution model a
     * buffer of the batch's own size, not pooled (image sizes vary, and a pooled buffer would keep the largest one's
     * memory outside the decode budget, which counted it while the image was in flight).
     */
    private InputBuffer acquire(int elements) {
        if (imageSize == 0) {
            return new InputBuffer(elements, fp16);
        }
        InputBuffer buffer = bufferPool.poll();
        if (buffer != null) {
            return buffer;
        }
        if (buffersCreated.incrementAndGet() <= BUFFER_POOL_SIZE) {
            return new InputBuffer(maxBatchSize * elementsPerImage, fp16);
        }
        try {
            return bufferPool.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InferenceException("interrupted while waiting for an input buffer", e);
        }
    }

    private void release(InputBuffer buffer) {
        if (imageSize != 0) {
            bufferPool.offer(buffer);
        }
    }

    /** A batch-sized direct input buffer; fp16 models get a float staging area plus the direct fp16 buffer. */
    private static final class InputBuffer {
        final FloatBuffer floats;
        final ShortBuffer halves;

        InputBuffer(int elements, boolean fp16) {
            if (fp16) {
                floats = FloatBuffer.allocate(elements);
                halves = ByteBuffer.allocateDirect(elements * Short.BYTES).order(ByteOrder.nativeOrder()).asShortBuffer();
            } else {
                floats = ByteBuffer.allocateDirect(elements * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
                halves = null;
            }
        }

        ShortBuffer toFloat16(int from, int elements) {
            for (int i = from; i < from + elements; i++) {
                halves.put(i, Float.floatToFloat16(floats.get(i)));
            }
            return halves.duplicate().position(from).limit(from + elements).slice();
        }
    }

    private static String oneLine(String message) {
        return message == null ? "(no message)" : message.replaceAll("\\s*\\R\\s*", " ").trim();
    }

    private static void closeQuietly(OrtSession session) {
        try {
            session.close();
        } catch (OrtException ignored) {
            // already failing with a clearer error
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return; // idempotent, as AutoCloseable recommends: owners and try-with-resources may both close
        }
        closed = true;
        try {
            session.close();
        } catch (OrtException e) {
            LOG.warning("closing the ONNX Runtime session failed: " + e.getMessage());
        }
    }
}
