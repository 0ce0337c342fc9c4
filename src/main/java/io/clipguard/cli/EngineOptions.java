package io.clipguard.cli;

import io.clipguard.cli.options.DecodeOptions;
import io.clipguard.cli.options.ProgressDisplay;
import io.clipguard.inference.Device;
import io.clipguard.scoring.EngineConfig;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

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

    /** Null when not given: then the deprecated --max-queue-delay-ms, else the engine's default. */
    @Option(names = "--merge-window-ms", paramLabel = "MS",
            description = "Longest an image waits for others to join its batch, in ms (the service's"
                    + " clipguard.engine.merge-window; default: " + EngineConfig.DEFAULT_MERGE_WINDOW_MS + ").")
    Long mergeWindowMs;

    /** The old name of --merge-window-ms: "queue delay" also named the service's partition batch wait. */
    private Long deprecatedMaxQueueDelayMs;

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Option(names = "--max-queue-delay-ms", hidden = true, paramLabel = "MS")
    void deprecatedMaxQueueDelayMs(Long ms) {
        if (ms != null) { // picocli may also call a setter with its initial value, null here
            command.commandLine().getErr().println("clipguard: --max-queue-delay-ms is deprecated, use --merge-window-ms"
                    + " (same meaning)");
        }
        deprecatedMaxQueueDelayMs = ms;
    }

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
                .intraOpThreads(threads);
        Long window = mergeWindowMs != null ? mergeWindowMs : deprecatedMaxQueueDelayMs;
        if (window != null) {
            config.mergeWindow(Duration.ofMillis(window));
        }
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
