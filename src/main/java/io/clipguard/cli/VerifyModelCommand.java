package io.clipguard.cli;

import io.clipguard.inference.ExportVerification;
import io.clipguard.inference.OnnxImageEncoder;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.ModelManifest;
import io.clipguard.inference.Device;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Runs an exported model on the exporter's sample inputs and compares with its PyTorch outputs. */
@Command(name = "verify-model", mixinStandardHelpOptions = true,
        description = {"Check that model.onnx, loaded as the engine loads it (per manifest.json), reproduces the"
                + " PyTorch outputs recorded by tools/export_clip_onnx.py (a clipguard-verification/v1 JSON file:"
                + " sample inputs, expected outputs, atol/rtol).",
                "Prints the largest |difference|; fails when any value is out of tolerance."},
        footer = {"", "Example:", "  tools/clipguard verify-model --model-dir models/tiny-clip-test"
                + " --samples models/tiny-clip-test/verification.json",
                "", "Exit codes: 0 within tolerance, 1 out of tolerance or samples for another export, 2 usage error,"
                + " 3 the model or the sample file could not be loaded."})
public final class VerifyModelCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model-dir", required = true, paramLabel = "DIR", description = "Model folder (manifest.json + model.onnx).")
    Path modelDir;

    @Option(names = "--samples", paramLabel = "JSON",
            description = "Verification sample file (default: <model-dir>/verification.json).")
    Path samples;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "auto|cuda|cpu",
            description = "Where to run the check (default: ${DEFAULT-VALUE}).")
    Device device;

    @Option(names = "--threads", defaultValue = "0", description = "ONNX Runtime intra-op threads, 0 = ORT default.")
    int threads;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path sampleFile = samples != null ? samples : modelDir.resolve("verification.json");
        try {
            ModelManifest manifest = ModelManifest.load(modelDir);
            ExportVerification.Samples s = ExportVerification.load(sampleFile);
            String actualSha = ModelManifest.sha256Hex(manifest.onnxFile(modelDir));
            if (s.modelSha256() != null && !s.modelSha256().equalsIgnoreCase(actualSha)) {
                err.println("error: " + sampleFile + " was written for a model.onnx with sha256 " + s.modelSha256()
                        + ", but " + manifest.onnxFile(modelDir) + " has " + actualSha
                        + "; use the sample file written by the same export");
                return 1;
            }
            int n = s.input().shape()[0];
            try (OnnxImageEncoder encoder = OnnxImageEncoder.open(modelDir, manifest, device, threads, n)) {
                ExportVerification.Result result = ExportVerification.verify(encoder, s);
                out.println("model " + manifest.id() + " (" + manifest.input().dtype() + ", sha256 " + actualSha
                        + "), " + n + " samples on " + encoder.device());
                out.println(result.summary());
                out.flush();
                return result.passed() ? 0 : 1;
            }
        } catch (ModelLoadException | IOException | IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return ClipguardCli.EXIT_LOAD_ERROR;
        }
    }
}
