package io.clipguard.cli;

import io.clipguard.cli.options.DecodeOptions;
import io.clipguard.cli.options.ProgressDisplay;
import io.clipguard.inference.Device;
import io.clipguard.scoring.EngineConfig;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The model and batching options shared by every command that runs images through the model ({@code score},
 * {@code embed}, {@code train} and {@code evaluate} on images), with the decoding options ({@link DecodeOptions}).
 */
final class EngineOptions {
    @Option(names = "--model-dir", defaultValue = "models/tiny-clip-test", paramLabel = "DIR",
            description = "Model folder with manifest.json and model.onnx (default: ${DEFAULT-VALUE}).")
    Path modelDir;

    @Option(names = "--batch-size", defaultValue = "" + EngineConfig.DEFAULT_MAX_BATCH_SIZE,
            description = "Max images per ONNX Runtime run (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--max-queue-delay-ms", defaultValue = "5",
            description = "Longest an image waits for its batch to fill, in ms (default: ${DEFAULT-VALUE}).")
    long maxQueueDelayMs;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cuda|cpu",
            description = "auto: CUDA if it loads, else CPU (logged); cuda: fail if CUDA cannot load; cpu."
                    + " Default: ${DEFAULT-VALUE}.")
    Device device;

    @Option(names = "--threads", defaultValue = "0",
            description = "ONNX Runtime intra-op threads; 0 = ORT default, one per physical core (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--decode-threads", description = "Threads decoding and resizing images (default: all processors).")
    Integer decodeThreads;

    @Mixin
    DecodeOptions decode = new DecodeOptions();

    @Option(names = "--progress", negatable = true,
            description = "Show a progress bar (default: only when attached to a terminal).")
    Boolean progress;

    /** The engine configuration these options describe ({@code head}: null for the model folder's head.json). */
    EngineConfig config(Path head) {
        EngineConfig.Builder config = decode.applyTo(EngineConfig.builder(modelDir)).device(device).maxBatchSize(batchSize)
                .maxQueueDelay(Duration.ofMillis(maxQueueDelayMs)).intraOpThreads(threads);
        if (head != null) {
            config.headFile(head);
        }
        if (decodeThreads != null) {
            config.decodeThreads(decodeThreads);
        }
        return config.build();
    }

    /** --progress / --no-progress, else only on a terminal. */
    boolean showProgress() {
        return ProgressDisplay.show(progress);
    }
}
