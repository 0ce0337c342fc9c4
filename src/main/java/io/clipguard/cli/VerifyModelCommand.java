package io.clipguard.cli;

import io.clipguard.cli.options.ProgressDisplay;
import io.clipguard.inference.Device;
import io.clipguard.inference.ExportVerification;
import io.clipguard.inference.OnnxImageEncoder;
import io.clipguard.model.LinearHead;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.ModelManifest;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.ScoringEngine;
import io.clipguard.training.FeaturesFolder;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Runs an exported model on the exporter's sample inputs and compares with its PyTorch outputs; or, with
 * {@code --compare-to}, compares it with another export of the same backbone (an int8 one with its fp32 original) on
 * the user's own images through one head.
 */
@Command(name = "verify-model", mixinStandardHelpOptions = true,
        description = {"Check that model.onnx, loaded as the engine loads it (per manifest.json), reproduces the"
                + " PyTorch outputs recorded by tools/export_clip_onnx.py (a clipguard-verification/v1 JSON file:"
                + " sample inputs, expected outputs, atol/rtol).",
                "Prints the largest |difference|; fails when any value is out of tolerance.",
                "With --compare-to REF --input IMAGES: score the images with both model folders and one head (REF's"
                + " head.json unless --head) and print the LLR drift of --model-dir against REF (max and median, as %%"
                + " of REF's LLR spread over the images), label flips and the cosine of the features; fails when the"
                + " max drift is over --max-drift or more labels flip than --max-flips. Run it on your own images"
                + " before serving an int8 export (docs/models.md)."},
        footer = {"", "Examples:", "  tools/clipguard verify-model --model-dir models/tiny-clip-test"
                + " --samples models/tiny-clip-test/verification.json",
                "  tools/clipguard verify-model --model-dir models/tiny-clip-test-int8 --compare-to models/tiny-clip-test"
                + " --input src/test/resources/golden/images",
                "", "Exit codes: 0 within tolerance (or bounds), 1 out of tolerance, over a bound, or samples for another"
                + " export, 2 usage error, 3 the model, head, sample file or images could not be loaded."})
public final class VerifyModelCommand implements Callable<Integer> {
    static final double DEFAULT_MAX_DRIFT_PERCENT = 2.0;

    @Spec
    CommandSpec spec;

    @Option(names = "--model-dir", required = true, paramLabel = "DIR", description = "Model folder (manifest.json + model.onnx).")
    Path modelDir;

    @Option(names = "--samples", paramLabel = "JSON",
            description = "Verification sample file (default: <model-dir>/verification.json).")
    Path samples;

    @Option(names = "--compare-to", paramLabel = "DIR",
            description = "Reference model folder (e.g. the fp32 export): compare --model-dir with it on --input.")
    Path compareTo;

    @Option(names = "--input", paramLabel = "CSV|DIR", description = "With --compare-to: the images, a folder (every"
            + " file below it) or a CSV with a 'filename' column, as score takes them.")
    Path input;

    @Option(names = "--head", paramLabel = "JSON",
            description = "With --compare-to: the head for both models (default: <compare-to>/head.json).")
    Path head;

    @Option(names = "--max-drift", paramLabel = "PERCENT", defaultValue = "" + DEFAULT_MAX_DRIFT_PERCENT,
            description = "With --compare-to: the bound on max |LLR - reference LLR| as %% of the reference LLR"
                    + " spread (default: ${DEFAULT-VALUE}).")
    double maxDriftPercent;

    @Option(names = "--max-flips", paramLabel = "N", defaultValue = "0",
            description = "With --compare-to: how many labels may differ from the reference's (default: ${DEFAULT-VALUE}).")
    int maxFlips;

    @Option(names = "--output", paramLabel = "CSV", description = "With --compare-to: also write one row per image"
            + " (filename, llr_reference, llr_model, llr_drift, flipped, feature_cosine).")
    Path output;

    @Option(names = "--batch-size", defaultValue = "8", description = "With --compare-to: images per ONNX Runtime run"
            + " (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--progress", negatable = true,
            description = "With --compare-to: show a progress bar (default: only when attached to a terminal).")
    Boolean progress;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "auto|cuda|cpu",
            description = "Where to run the check (default: ${DEFAULT-VALUE}).")
    Device device;

    @Option(names = "--threads", defaultValue = "0", description = "ONNX Runtime intra-op threads, 0 = ORT default.")
    int threads;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (compareTo != null || input != null) {
            if (compareTo == null || input == null) {
                err.println("error: --compare-to and --input go together: the reference model folder and the images"
                        + " to score with both");
                return 2;
            }
            if (samples != null) {
                err.println("error: --samples checks against the exporter's PyTorch outputs, --compare-to against"
                        + " another model folder; pass one of them");
                return 2;
            }
            if (!(maxDriftPercent >= 0) || maxFlips < 0 || batchSize < 1) {
                err.println("error: --max-drift and --max-flips must be >= 0 and --batch-size >= 1");
                return 2;
            }
            return compare(out, err);
        }
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

    /** The --compare-to run: both models embed the images (one after the other, so one session in memory at once). */
    private int compare(PrintWriter out, PrintWriter err) {
        try {
            ModelManifest reference = ModelManifest.read(compareTo);
            ModelManifest candidate = ModelManifest.read(modelDir);
            Path headFile = head != null ? head : compareTo.resolve("head.json");
            LinearHead linearHead = LinearHead.load(headFile, reference);
            if (candidate.featureDim() != reference.featureDim()) {
                err.println("error: " + modelDir + " outputs " + candidate.featureDim() + "-d features, " + compareTo
                        + " " + reference.featureDim() + "-d: not exports of the same backbone");
                return ClipguardCli.EXIT_LOAD_ERROR;
            }
            ImageInputs.InputList images = ImageInputs.read(input, List.of());
            boolean bar = ProgressDisplay.show(progress);
            FeaturesFolder.Features referenceFeatures = embed(compareTo, images, bar, err);
            FeaturesFolder.Features candidateFeatures = embed(modelDir, images, bar, err);
            ModelComparison.Result result = ModelComparison.compare(linearHead, referenceFeatures,
                    referenceFeatures.info().l2Normalized(), candidateFeatures, candidateFeatures.info().l2Normalized());
            if (output != null) {
                writeRows(result, output);
            }
            return report(result, reference, candidate, linearHead, out, err);
        } catch (ModelLoadException | IOException | IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return ClipguardCli.EXIT_LOAD_ERROR;
        }
    }

    private FeaturesFolder.Features embed(Path dir, ImageInputs.InputList images, boolean bar, PrintWriter err)
            throws ModelLoadException, IOException {
        EngineConfig config = EngineConfig.builder(dir).device(device).intraOpThreads(threads).maxBatchSize(batchSize)
                .build();
        try (ScoringEngine engine = ScoringEngine.openFeaturesOnly(config)) {
            return EmbedCommand.embed(engine, images, bar, err);
        }
    }

    private int report(ModelComparison.Result result, ModelManifest reference, ModelManifest candidate,
                       LinearHead linearHead, PrintWriter out, PrintWriter err) {
        out.printf(Locale.ROOT, "model %s (%s, %s) against %s (%s, %s), head %s/%s%n", modelDir, candidate.id(),
                candidate.precision(), compareTo, reference.id(), reference.precision(), linearHead.modelId(),
                linearHead.version());
        if (!candidate.id().equals(linearHead.modelId())) {
            out.println("note: the head is for model_id '" + linearHead.modelId() + "', " + modelDir + " is '"
                    + candidate.id() + "': to serve this head with it, export it with --model-id "
                    + linearHead.modelId());
        }
        int n = result.rows().size();
        out.printf(Locale.ROOT, "%d images scored by both, %d failed in both (bad files), %d failed in one%n", n,
                result.failedInBoth().size(), result.failedInOne().size());
        result.failedInOne().forEach(f -> out.println("  failed in one: " + f));
        double spread = result.spread();
        if (n < 2 || !(spread > 0)) {
            err.println("error: the drift is measured against the spread of the reference LLRs, which needs at least"
                    + " two images with different scores (got " + n + " scored, spread " + spread + "); add images");
            return ClipguardCli.EXIT_LOAD_ERROR;
        }
        ModelComparison.Row worst = result.worst();
        ModelComparison.Row leastSimilar = result.leastSimilar();
        out.printf(Locale.ROOT, "reference LLR spread (max - min) %.5g%n", spread);
        out.printf(Locale.ROOT, "LLR drift: max %.4g (%.3f %% of the spread, %s), median %.4g (%.3f %%)%n",
                worst.drift(), result.maxDriftPercent(), worst.filename(), result.medianDrift(),
                result.medianDriftPercent());
        out.printf(Locale.ROOT, "label flips: %d of %d (threshold %s)%n", result.flips(), n, linearHead.threshold());
        result.rows().stream().filter(ModelComparison.Row::flipped).forEach(r -> out.printf(Locale.ROOT,
                "  flipped: %s (LLR %.4g -> %.4g)%n", r.filename(), r.referenceLlr(), r.candidateLlr()));
        out.printf(Locale.ROOT, "feature cosine: min %.6f (%s), median %.6f%n", leastSimilar.featureCosine(),
                leastSimilar.filename(), result.medianCosine());
        boolean driftOk = result.maxDriftPercent() <= maxDriftPercent;
        boolean flipsOk = result.flips() <= maxFlips;
        boolean ok = driftOk && flipsOk && result.failedInOne().isEmpty();
        out.printf(Locale.ROOT, "%s: max drift %.3f %% %s %s %%, flips %d %s %d%s%n", ok ? "PASS" : "FAIL",
                result.maxDriftPercent(), driftOk ? "<=" : ">", maxDriftPercent, result.flips(), flipsOk ? "<=" : ">",
                maxFlips, result.failedInOne().isEmpty() ? "" : ", " + result.failedInOne().size()
                        + " images failed in one model only");
        ModelManifest.Quantization q = candidate.quantization();
        if (q != null && !(driftOk && flipsOk)) {
            boolean keptMlpOut = q.keptFloat("mlp-out");
            String serveReference = "serve " + compareTo + " (" + reference.precision() + ")";
            out.println(keptMlpOut
                    ? "what to do: this int8 export already keeps mlp-out in float32; " + serveReference
                    : "what to do: export again with tools/export_clip_onnx.py --dtype int8 --int8-keep-float mlp-out"
                            + " (less drift, about half of int8's speed-up), or " + serveReference
                            + " (docs/models.md, \"When the check fails\")");
        }
        out.flush();
        return ok ? 0 : 1;
    }

    private static void writeRows(ModelComparison.Result result, Path file) throws IOException {
        try (BufferedWriter writer = ScoreCommand.newWriter(file); CSVPrinter csv = new CSVPrinter(writer, CSVFormat.DEFAULT)) {
            csv.printRecord("filename", "llr_reference", "llr_model", "llr_drift", "flipped", "feature_cosine");
            for (ModelComparison.Row r : result.rows()) {
                csv.printRecord(r.filename(), r.referenceLlr(), r.candidateLlr(), r.drift(), r.flipped(),
                        r.featureCosine());
            }
        }
    }
}
