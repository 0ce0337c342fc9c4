package io.clipguard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.clipguard.cli.ImageInputs.InputList;
import io.clipguard.model.CanonicalJson;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.ModelManifest;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.EmbedOutcome;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import io.clipguard.training.FeaturesFolder;
import io.clipguard.training.Npy;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Computes the model's features of a list of images once, into a folder that training and Python reuse. */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Compute the model's features of every image (the same inputs as score) into a features folder:",
                "  features.npy   float32 N x D, the model's output before L2 normalisation (numpy.load reads it)",
                "  index.csv      row,filename,<carried columns>,error; a failed image has an error and no row",
                "  features.json  model id, sha256 of model and manifest, preprocessing, date",
                "Computing features is the expensive step: train on the folder as often as you like.",
                "embed concerns the CLIP detector only (a features model with a head): a logit model such as"
                + " res50nodown has no features and no head to train; give one --model-dir."},
        footer = {"", "Examples:",
                "  tools/clipguard embed --input samples/training --output work/features",
                "  tools/clipguard embed --input list.csv --output work/features --model-dir models/clip-vit-l14-commonpool",
                "", "Exit codes: 0 at least one image embedded (or no inputs), 1 every input failed, 2 usage error,"
                + " 3 the model or the input list could not be loaded."})
public final class EmbedCommand implements Callable<Integer> {
    /** index.csv's own columns, never carried from the input. */
    static final List<String> INDEX_COLUMNS = List.of("row", "error");

    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "CSV|DIR",
            description = "A CSV with a 'filename' column (other columns, e.g. typ, are carried to index.csv), or a"
                    + " folder: every regular file below it, sorted by path.")
    Path input;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR",
            description = "Features folder to write (created; its three files are overwritten).")
    Path output;

    @Mixin
    EngineOptions engineOptions;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        InputList inputs;
        try {
            inputs = ImageInputs.read(input, INDEX_COLUMNS);
        } catch (IOException e) {
            err.println("error: " + e.getMessage());
            return ClipguardCli.EXIT_LOAD_ERROR;
        }
        EngineConfig config;
        try {
            config = engineOptions.config(null);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        FeaturesFolder.Features features;
        try (ScoringEngine engine = ScoringEngine.openFeaturesOnly(config)) {
            features = embed(engine, inputs, engineOptions.showProgress(), err);
        } catch (ModelLoadException e) {
            err.println("error: " + e.getMessage());
            return ClipguardCli.EXIT_LOAD_ERROR;
        } catch (IOException e) {
            err.println("error: " + e.getMessage());
            return ClipguardCli.EXIT_LOAD_ERROR;
        }
        try {
            FeaturesFolder.write(output, features);
        } catch (IOException e) {
            err.println("error: cannot write " + output + ": " + e);
            return ClipguardCli.EXIT_LOAD_ERROR;
        }
        err.println("features -> " + output.resolve(FeaturesFolder.MATRIX) + " (" + features.info().rows() + " x "
                + features.info().dim() + " float32), " + output.resolve(FeaturesFolder.INDEX) + ", "
                + output.resolve(FeaturesFolder.INFO));
        err.flush();
        return features.info().rows() == 0 && !inputs.rows().isEmpty() ? 1 : 0;
    }

    /** Runs every row through the model (score's reading, batching and progress bar) into features in memory. */
    static FeaturesFolder.Features embed(ScoringEngine engine, InputList inputs, boolean progress, PrintWriter err)
            throws IOException, ModelLoadException {
        ModelManifest manifest = engine.manifest();
        int dim = manifest.featureDim();
        List<FeaturesFolder.Entry> entries = new ArrayList<>();
        List<float[]> rows = new ArrayList<>();
        Map<String, Integer> errorsByReason = new TreeMap<>();
        double seconds = ImageRun.run(inputs.rows(), engine, progress, "Embedding",
                bytes -> engine.embed(bytes).thenApply(RowFeatures::of), RowFeatures::failed,
                (row, result) -> {
                    if (result.ok()) {
                        entries.add(new FeaturesFolder.Entry(row.filename(), row.carried(), rows.size(), ""));
                        rows.add(result.features());
                    } else {
                        entries.add(new FeaturesFolder.Entry(row.filename(), row.carried(), -1, result.error()));
                        errorsByReason.merge(result.reason(), 1, Integer::sum);
                    }
                });
        float[] data = new float[rows.size() * dim];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, data, i * dim, dim);
        }
        int failed = inputs.rows().size() - rows.size();
        err.printf("%d embedded, %d errors%s in %.1f s (%.1f images/s) on %s with model %s%n", rows.size(), failed,
                failed == 0 ? "" : " " + errorsByReason, seconds, inputs.rows().size() / seconds,
                engine.info().device(), manifest.id());
        Path manifestFile = engine.config().modelDir().resolve(ModelManifest.FILE_NAME);
        JsonNode preprocess = CanonicalJson.mapper().readTree(manifestFile.toFile()).get("preprocess"); // as written
        FeaturesFolder.Info info = new FeaturesFolder.Info(FeaturesFolder.FORMAT, manifest.id(), manifest.sha256(),
                ModelManifest.sha256Hex(manifestFile), dim,
                rows.size(), "float32", !manifest.engineNormalizes(), preprocess,
                LocalDate.now(ZoneOffset.UTC).toString());
        return new FeaturesFolder.Features(info, inputs.carriedColumns(), entries, new Npy.Matrix(rows.size(), dim, data));
    }

    /** A row's features, or its error as score writes it ("REASON: message"). */
    private record RowFeatures(float[] features, String reason, String error) {
        static RowFeatures of(EmbedOutcome outcome) {
            return switch (outcome) {
                case EmbedOutcome.Embedded embedded -> new RowFeatures(embedded.features(), "", "");
                case ScoreOutcome.Failed failed -> failed(failed.reason().name(), failed.message());
            };
        }

        static RowFeatures failed(String reason, String message) {
            return new RowFeatures(null, reason, reason + ": " + message);
        }

        boolean ok() {
            return features != null;
        }
    }
}
