package io.clipguard.scoring;

import io.clipguard.image.DecodeMode;
import io.clipguard.image.ImageLimits;
import io.clipguard.inference.Device;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything {@link ScoringEngine#open} needs. Build with {@link #builder(Path)}; defaults:
 * head file {@code <modelDir>/head.json}, device {@link Device#AUTO}, maxBatchSize {@value #DEFAULT_MAX_BATCH_SIZE},
 * mergeWindow 5 ms, intraOpThreads 0 (= ONNX Runtime's default, one per physical core), decodeThreads = available
 * processors, imageLimits {@link ImageLimits#DEFAULT}, decodeMode {@link DecodeMode#EXACT}, decodeBudgetPixels 0 (half
 * the heap at 3 bytes a pixel).
 *
 * @param maxBatchSize   most images one ONNX Runtime run takes
 * @param mergeWindow    longest a request waits for others to join its batch (service: clipguard.engine.merge-window)
 * @param intraOpThreads ONNX Runtime intra-op threads, 0 = ORT default
 * @param decodeThreads  threads decoding and resizing images before inference
 * @param decodeMode     exact (as PIL decodes) or fast (large JPEGs at reduced scale in the IDCT)
 * @param decodeBudgetPixels decoded pixels all decode threads may hold at once; 0 = half the heap at 3 bytes a pixel
 * @param maxPixels      a native-resolution model's pixel cap (centre crop above it), overriding the manifest's
 *                       {@code max_pixels}; null = the manifest's, 0 = no cap. Ignored by resize-and-crop models.
 */
public record EngineConfig(Path modelDir, Path headFile, Device device, int maxBatchSize, Duration mergeWindow,
                           int intraOpThreads, int decodeThreads, ImageLimits imageLimits, DecodeMode decodeMode,
                           long decodeBudgetPixels, Long maxPixels) {
    public static final String DEFAULT_HEAD_FILE_NAME = "head.json";
    public static final int DEFAULT_MAX_BATCH_SIZE = 32;
    public static final long DEFAULT_MERGE_WINDOW_MS = 5;
    public static final Duration DEFAULT_MERGE_WINDOW = Duration.ofMillis(DEFAULT_MERGE_WINDOW_MS);

    public EngineConfig {
        Objects.requireNonNull(modelDir, "modelDir");
        Objects.requireNonNull(headFile, "headFile");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(mergeWindow, "mergeWindow");
        Objects.requireNonNull(imageLimits, "imageLimits");
        Objects.requireNonNull(decodeMode, "decodeMode");
        if (decodeBudgetPixels < 0) {
            throw new IllegalArgumentException("decodeBudgetPixels must be >= 0 (0 = sized from the heap), got "
                    + decodeBudgetPixels);
        }
        if (maxPixels != null && maxPixels < 0) {
            throw new IllegalArgumentException("maxPixels must be >= 0 (0 = no cap), got " + maxPixels);
        }
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be >= 1, got " + maxBatchSize);
        }
        if (mergeWindow.isNegative()) {
            throw new IllegalArgumentException("mergeWindow must not be negative, got " + mergeWindow);
        }
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException("intraOpThreads must be >= 0 (0 = ONNX Runtime default), got "
                    + intraOpThreads);
        }
        if (decodeThreads < 1) {
            throw new IllegalArgumentException("decodeThreads must be >= 1, got " + decodeThreads);
        }
    }

    /** The manifest's pixel cap. */
    public EngineConfig(Path modelDir, Path headFile, Device device, int maxBatchSize, Duration mergeWindow,
                        int intraOpThreads, int decodeThreads, ImageLimits imageLimits, DecodeMode decodeMode,
                        long decodeBudgetPixels) {
        this(modelDir, headFile, device, maxBatchSize, mergeWindow, intraOpThreads, decodeThreads, imageLimits,
                decodeMode, decodeBudgetPixels, null);
    }

    /** The same settings for another model folder (its own head.json), e.g. the next detector of a set. */
    public EngineConfig forModel(Path otherModelDir, Long otherMaxPixels) {
        return new EngineConfig(otherModelDir, otherModelDir.resolve(DEFAULT_HEAD_FILE_NAME), device, maxBatchSize,
                mergeWindow, intraOpThreads, decodeThreads, imageLimits, decodeMode, decodeBudgetPixels, otherMaxPixels);
    }

    /** The same settings with other image limits (e.g. a costly detector's own pixel limit). */
    public EngineConfig withImageLimits(ImageLimits otherLimits) {
        return new EngineConfig(modelDir, headFile, device, maxBatchSize, mergeWindow, intraOpThreads, decodeThreads,
                otherLimits, decodeMode, decodeBudgetPixels, maxPixels);
    }

    /** The same settings with another head file. */
    public EngineConfig withHeadFile(Path otherHeadFile) {
        return new EngineConfig(modelDir, otherHeadFile, device, maxBatchSize, mergeWindow, intraOpThreads,
                decodeThreads, imageLimits, decodeMode, decodeBudgetPixels, maxPixels);
    }

    /** Exact decoding with the heap-sized decode budget. */
    public EngineConfig(Path modelDir, Path headFile, Device device, int maxBatchSize, Duration mergeWindow,
                        int intraOpThreads, int decodeThreads, ImageLimits imageLimits) {
        this(modelDir, headFile, device, maxBatchSize, mergeWindow, intraOpThreads, decodeThreads, imageLimits,
                DecodeMode.EXACT, 0);
    }

    /** The configuration with every default, for the model folder {@code modelDir}. */
    public static EngineConfig defaults(Path modelDir) {
        return builder(modelDir).build();
    }

    public static Builder builder(Path modelDir) {
        return new Builder(modelDir);
    }

    public static final class Builder {
        private final Path modelDir;
        private Path headFile;
        private Device device = Device.AUTO;
        private int maxBatchSize = DEFAULT_MAX_BATCH_SIZE;
        private Duration mergeWindow = DEFAULT_MERGE_WINDOW;
        private int intraOpThreads = 0;
        private int decodeThreads = Runtime.getRuntime().availableProcessors();
        private ImageLimits imageLimits = ImageLimits.DEFAULT;
        private DecodeMode decodeMode = DecodeMode.EXACT;
        private long decodeBudgetPixels = 0;
        private Long maxPixels;

        private Builder(Path modelDir) {
            this.modelDir = Objects.requireNonNull(modelDir, "modelDir");
        }

        /** Defaults to {@code <modelDir>/head.json}. */
        public Builder headFile(Path headFile) {
            this.headFile = headFile;
            return this;
        }

        public Builder device(Device device) {
            this.device = device;
            return this;
        }

        public Builder maxBatchSize(int maxBatchSize) {
            this.maxBatchSize = maxBatchSize;
            return this;
        }

        public Builder mergeWindow(Duration mergeWindow) {
            this.mergeWindow = mergeWindow;
            return this;
        }

        public Builder intraOpThreads(int intraOpThreads) {
            this.intraOpThreads = intraOpThreads;
            return this;
        }

        public Builder decodeThreads(int decodeThreads) {
            this.decodeThreads = decodeThreads;
            return this;
        }

        public Builder imageLimits(ImageLimits imageLimits) {
            this.imageLimits = imageLimits;
            return this;
        }

        public Builder decodeMode(DecodeMode decodeMode) {
            this.decodeMode = decodeMode;
            return this;
        }

        /** 0 = half the heap at 3 bytes a pixel. */
        public Builder decodeBudgetPixels(long decodeBudgetPixels) {
            this.decodeBudgetPixels = decodeBudgetPixels;
            return this;
        }

        /** A native-resolution model's pixel cap; null = the manifest's, 0 = no cap. */
        public Builder maxPixels(Long maxPixels) {
            this.maxPixels = maxPixels;
            return this;
        }

        public EngineConfig build() {
            Path head = headFile != null ? headFile : modelDir.resolve(DEFAULT_HEAD_FILE_NAME);
            return new EngineConfig(modelDir, head, device, maxBatchSize, mergeWindow, intraOpThreads, decodeThreads,
                    imageLimits, decodeMode, decodeBudgetPixels, maxPixels);
        }
    }
}
