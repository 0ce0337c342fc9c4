package io.clipguard.cli;

import io.clipguard.cli.options.DecodeOptions;
import io.clipguard.cli.options.ProgressDisplay;
import io.clipguard.inference.Device;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.ModelManifest;
import io.clipguard.scoring.DetectorSet;
import io.clipguard.scoring.PixelCaps;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
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
            description = "Model folder with manifest.json and model.onnx (default: ${DEFAULT-VALUE}). score,"
                    + " evaluate and robustness take it more than once: one detector per folder, fused by --fusion (e.g. the CLIP"
                    + " detector and models/corvi2023-res50nodown, the reference's default).")
    List<Path> modelDirs;

    /** "[ID=]N" pixel caps of native-resolution detectors; a bare N applies to every one. */
    @Option(names = "--max-pixels", paramLabel = "[ID=]N",
            description = "Pixel cap of a native-resolution detector (res50nodown): a larger image is centre-cropped to"
                    + " at most N pixels, and the detector is marked as having seen a crop. N alone applies to every"
                    + " such detector, ID=N to the detector ID (its model id); 0 = no cap. Default: the manifest's"
                    + " max_pixels (none: the whole image, as the reference).")
    List<String> maxPixels = new ArrayList<>();

    @Option(names = "--batch-size", defaultValue = "" + EngineConfig.DEFAULT_MAX_BATCH_SIZE,
            description = "Max images per ONNX Runtime run (default: ${DEFAULT-VALUE}). A dynamically quantised (int8)"
                    + " model runs each image alone, so that a score never depends on the images batched with it.")
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

    /**
     * The one model folder of a command that runs one model (embed, train: the CLIP detector only).
     *
     * @throws IllegalArgumentException when --model-dir was given more than once
     */
    Path modelDir() {
        if (modelDirs.size() != 1) {
            throw new IllegalArgumentException("this command runs one model (the CLIP detector) but --model-dir was"
                    + " given " + modelDirs.size() + " times; give it once (detector sets are for score, evaluate and robustness)");
        }
        return modelDirs.getFirst();
    }

    /** The engine configuration of the one model folder ({@code head}: null for the model folder's head.json). */
    EngineConfig config(Path head) {
        return config(modelDir(), head);
    }

    /**
     * One detector per --model-dir, in order, each with these settings; {@code head} (null: each folder's head.json)
     * is the CLIP detector's (logit models have none). The detector's id is its model id.
     */
    List<DetectorSet.DetectorSpec> detectorSpecs(Path head) throws ModelLoadException {
        List<DetectorSet.DetectorSpec> specs = new ArrayList<>();
        PixelCaps caps = PixelCaps.parse(maxPixels, "--max-pixels");
        Set<String> ids = new HashSet<>();
        for (Path dir : modelDirs) {
            String id = ModelManifest.read(dir).id();
            ids.add(id);
            EngineConfig config = config(dir, head);
            Long cap = caps.capOf(id);
            specs.add(new DetectorSet.DetectorSpec(id, cap == null ? config
                    : config.forModel(dir, cap).withHeadFile(config.headFile())));
        }
        caps.checkNames(ids, "--max-pixels");
        return specs;
    }

    /**
     * {@link #detectorSpecs(Path)} for a command about to open its detectors ({@code score}, {@code robustness}): a bad
     * option value (--max-pixels) fails with exit code 2, a model folder that cannot be read with
     * {@link ClipguardCli#EXIT_LOAD_ERROR}; either way the message is the exception's.
     */
    List<DetectorSet.DetectorSpec> detectorSpecsOrExit(Path head) throws CommandExit {
        try {
            return detectorSpecs(head);
        } catch (IllegalArgumentException e) {
            throw new CommandExit(2, e.getMessage());
        } catch (ModelLoadException e) {
            throw new CommandExit(ClipguardCli.EXIT_LOAD_ERROR, e.getMessage());
        }
    }

    /** A command that stops before its work: the exit code it returns and the message it prints. */
    static final class CommandExit extends Exception {
        private final int exitCode;

        CommandExit(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }

        /** Prints {@code error: <message>} to {@code err} and returns the exit code. */
        int report(PrintWriter err) {
            err.println("error: " + getMessage());
            return exitCode;
        }
    }

    private EngineConfig config(Path modelDir, Path head) {
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
