package io.clipguard.cli;

import io.clipguard.cli.ImageInputs.InputList;
import io.clipguard.cli.ImageInputs.InputRow;
import io.clipguard.cli.kafka.DecisionsOptions;
import io.clipguard.model.LinearHead;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.ModelManifest;
import io.clipguard.review.DecisionLog;
import io.clipguard.review.ReviewedUploads;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.ScoringEngine;
import io.clipguard.training.FeaturesFolder;
import io.clipguard.training.LinearTrainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Trains a linear head on labelled images or on a features folder, and writes it as a head file. */
@Command(name = "train", sortOptions = false, // no -V/--version: --version names the head here
        description = {"Train a detector head (the CLIP detector only: a logit model such as res50nodown has no head;"
                + " give one --model-dir): L2-regularised linear classifier (LIBLINEAR) on the L2-normalised"
                + " features, C by stratified k-fold cross-validation (table printed), Platt calibration on the"
                + " out-of-fold scores, output a log-likelihood ratio with the training set's class prior removed"
                + " (so an unbalanced set does not shift it).",
                "--input is one of:",
                "  a folder: real/ holds real photographs, every other subfolder one generator's images;",
                "  a CSV with 'filename' and 'typ' (typ=real: real photograph, any other value: that generator);",
                "  a features folder written by embed (typ from its typ column, else from the first folder of"
                + " each filename).",
                "--decisions trains on the uploads moderators labelled (topic moderation-decisions), from their"
                + " vectors in image-embeddings: no image is decoded, no backbone runs. Embeddings of another model"
                + " than --model-dir's are left out and counted. With --input (a features folder) the decided uploads"
                + " are added to its rows, so a head is extended rather than replaced; the head's training object"
                + " records the decisions' topic, range, filters and counts.",
                "The same inputs with the same --seed (and --date) give a byte-identical head. The head's date is"
                + " --date if given, else the features folder's date, else the newest modification date (UTC) of"
                + " the training images: the date of the data, never of the run."},
        footer = {"", "Examples:",
                "  tools/clipguard train --input samples/training --output heads/demo.json",
                "  tools/clipguard embed --input list.csv --output work/features --model-dir models/clip-vit-l14-commonpool",
                "  tools/clipguard train --input work/features --output heads/mine.json"
                        + " --model-dir models/clip-vit-l14-commonpool --target-fpr 0.01",
                "  tools/clipguard train --decisions --input work/features --since 2026-12-01"
                        + " --model-dir models/clip-vit-l14-commonpool --output heads/extended.json",
                "", "Exit codes: 0 head written, 1 the training set cannot give a head (too small, one class; fewer"
                + " decisions than --min-per-class), 2 usage error, 3 the model, the input, the features or the topics"
                + " could not be loaded or do not match."})
public final class TrainCommand implements Callable<Integer> {
    static final List<Double> DEFAULT_GRID = List.of(0.01, 0.1, 1.0, 10.0, 100.0, 1000.0);

    @Spec
    CommandSpec spec;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @Option(names = "--input", paramLabel = "DIR|CSV|FEATURES",
            description = "Labelled images (folder or CSV with typ) or a features folder from embed; with --decisions"
                    + " only a features folder (optional).")
    Path input;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "JSON", description = "Head file to write.")
    Path output;

    @Option(names = "--solver", defaultValue = "logreg", paramLabel = "logreg|svm",
            description = "logreg: logistic regression (= scikit-learn LogisticRegression(solver='liblinear'));"
                    + " svm: linear SVM (= LinearSVC). Default: ${DEFAULT-VALUE}.")
    String solver;

    @Option(names = "--c", paramLabel = "C", description = "Inverse regularisation strength; skips the search over"
            + " --c-grid (cross-validation still runs, for calibration and the reported figures).")
    Double c;

    @Option(names = "--c-grid", split = ",", paramLabel = "C,...",
            description = "Values of C to cross-validate (default: 0.01,0.1,1,10,100,1000); the best out-of-fold AUC"
                    + " wins, ties go to the smaller C.")
    List<Double> cGrid;

    @Option(names = "--folds", defaultValue = "5", description = "Cross-validation folds (default: ${DEFAULT-VALUE}).")
    int folds;

    @Option(names = "--target-fpr", paramLabel = "RATE",
            description = "Set the threshold so that at most this fraction of the real images' out-of-fold LLRs lie"
                    + " above it (e.g. 0.01); default: threshold LLR 0.")
    Double targetFpr;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the fold assignment and of the SVM solver"
            + " (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--version", paramLabel = "V",
            description = "The head's version string (default: <date>-<solver>-<first 8 hex of the training list's"
                    + " sha256>).")
    String version;

    @Option(names = "--date", paramLabel = "YYYY-MM-DD", description = "The date recorded in the head (see above).")
    String date;

    @Mixin
    EngineOptions engineOptions;

    @Mixin
    DecisionsOptions decisions;

    @Option(names = "--min-per-class", defaultValue = "10", paramLabel = "N", description = "With --decisions: refuse"
            + " to train on fewer than N decided uploads of a class (real, synthetic); with --input, a class the"
            + " decisions do not supply at all comes from the features folder alone (default: ${DEFAULT-VALUE}).")
    int minPerClass;

    /** The training rows: labels and features in input order, with where they came from. */
    private record TrainingData(List<String> filenames, List<String> typs, float[] features, int dim, String date,
                                String source) {}

    /** The decisions are not enough to train on (exit 1, as a training set too small). */
    private static final class TooFewDecisions extends Exception {
        TooFewDecisions(String message) {
            super(message);
        }
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        LinearTrainer.Solver solverType;
        LinearTrainer.Options options;
        try {
            solverType = switch (solver) {
                case "logreg" -> LinearTrainer.Solver.LOGREG;
                case "svm" -> LinearTrainer.Solver.SVM;
                default -> throw new IllegalArgumentException("--solver must be logreg or svm, got '" + solver + "'");
            };
            if (c != null && cGrid != null) {
                throw new IllegalArgumentException("give --c or --c-grid, not both");
            }
            if (date != null) {
                LocalDate.parse(date);
            }
            if (input == null && !decisions.enabled()) {
                throw new IllegalArgumentException("give --input (images or a features folder), --decisions, or both");
            }
            if (!decisions.givenWithoutDecisions().isEmpty()) {
                throw new IllegalArgumentException(decisions.givenWithoutDecisions() + " select decisions: add --decisions");
            }
            if (decisions.enabled()) {
                decisions.filter();
                if (input != null && !FeaturesFolder.isFeaturesFolder(input)) {
                    throw new IllegalArgumentException("--decisions extends a features folder, and " + input + " is not"
                            + " one: embed the images first (tools/clipguard embed --input " + input + " --output"
                            + " <features>) and pass that folder");
                }
                if (minPerClass < 1) {
                    throw new IllegalArgumentException("--min-per-class must be at least 1, got " + minPerClass);
                }
            }
            options = new LinearTrainer.Options(solverType, c != null ? List.of(c) : cGrid != null ? cGrid
                    : DEFAULT_GRID, folds, targetFpr, seed);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        } catch (DateTimeParseException e) {
            err.println("error: --date must be YYYY-MM-DD, got '" + date + "'");
            return 2;
        }
        ModelManifest manifest;
        TrainingData data;
        LinearHead.Decisions fromDecisions = null;
        try {
            manifest = ModelManifest.load(engineOptions.modelDir());
            data = input == null ? null : FeaturesFolder.isFeaturesFolder(input) ? fromFeatures(manifest) : fromImages(err);
            if (decisions.enabled()) {
                ReviewedUploads.Joined joined = decisions.read(engineOptions.showProgress(), reading ->
                        reading.uploads().join(decisions.filter(), manifest.id(), manifest.featureDim(), reading.progress()));
                fromDecisions = provenance(joined);
                err.println("decisions: " + joined.decisionRecords() + " records in " + decisions.decisionsTopic() + ", "
                        + joined.rows().size() + " labelled uploads with a vector of " + manifest.id() + " "
                        + joined.counts() + (joined.skipped().isEmpty() ? "" : "; left out: "
                        + String.join(", ", DecisionLog.describe(joined.skipped())))
                        + (joined.unreadable() > 0 ? "; " + joined.unreadable() + " unreadable records" : ""));
                checkMinimum(fromDecisions.classes(), data);
                data = withDecisions(data, joined);
            }
        } catch (ModelLoadException | IOException | IllegalStateException e) {
            err.println("error: " + e.getMessage());
            return ClipguardCli.EXIT_LOAD_ERROR;
        } catch (TooFewDecisions e) {
            err.println("error: " + e.getMessage());
            return 1;
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        int rows = data.typs().size();
        boolean[] positive = new boolean[rows];
        Map<String, Integer> counts = new TreeMap<>();
        for (int i = 0; i < rows; i++) {
            String typ = data.typs().get(i);
            if (typ.isBlank()) {
                err.println("error: " + data.filenames().get(i) + " has no typ: give every image typ=real or its"
                        + " generator's name (in a folder: put it in real/ or <generator>/)");
                return ClipguardCli.EXIT_LOAD_ERROR;
            }
            positive[i] = !typ.equals(ImageInputs.REAL);
            counts.merge(typ, 1, Integer::sum);
        }
        err.println("training on " + rows + " images " + counts + " from " + data.source() + ", " + options.folds()
                + "-fold cross-validation, solver " + solver);
        out.printf("%12s %10s %10s%n", "C", "cv AUC", "cv bAcc");
        LinearTrainer.Result result;
        try {
            result = LinearTrainer.train(data.features(), rows, data.dim(), positive, options,
                    row -> out.printf("%12s %10.4f %10.4f%n", number(row.c()), row.auc(), row.balancedAccuracy())
                            .flush());
        } catch (LinearTrainer.TrainingException e) {
            err.println("error: " + e.getMessage());
            return 1;
        }
        String listSha = sha256(listBytes(data));
        String headDate = date != null ? date : data.date();
        LinearHead.Training training = new LinearHead.Training("clipguard train", data.source(), counts, listSha,
                sha256(featureBytes(data.features())), headDate, seed, solver, result.c(),
                options.cGrid(), options.folds(), targetFpr, result.platt().a(), result.platt().b(),
                result.priorLogOdds(), result.cvAuc(), result.cvBalancedAccuracy(), fromDecisions);
        String headVersion = version != null ? version : headDate + "-" + solver + "-" + listSha.substring(0, 8);
        String provenance = String.format(java.util.Locale.ROOT, "clipguard train: %d real + %d synthetic (%s),"
                + " %s C=%s, %d-fold CV AUC %.4f, balanced accuracy %.4f at threshold %s", result.negatives(),
                result.positives(), counts.entrySet().stream().filter(e -> !e.getKey().equals(ImageInputs.REAL))
                        .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ")),
                solver, number(result.c()), options.folds(), result.cvAuc(), result.cvBalancedAccuracy(),
                number(result.threshold()));
        LinearHead head = new LinearHead(LinearHead.FORMAT, manifest.id(), headVersion, result.weights(),
                result.bias(), LinearHead.Calibration.IDENTITY, result.threshold(), provenance, training);
        try {
            Path parent = output.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            head.write(output);
            LinearHead.load(output, manifest); // what the service will check: it must load on this backbone
        } catch (IOException e) {
            err.println("error: cannot write " + output + ": " + e.getMessage());
            return ClipguardCli.EXIT_LOAD_ERROR;
        } catch (ModelLoadException e) {
            err.println("error: the written head does not load: " + e.getMessage());
            return ClipguardCli.EXIT_LOAD_ERROR;
        }
        out.printf("chosen C %s: cv AUC %.4f, balanced accuracy %.4f at threshold %s; Platt a=%.4f b=%.4f, prior"
                + " log-odds %.4f%n", number(result.c()), result.cvAuc(), result.cvBalancedAccuracy(),
                number(result.threshold()), result.platt().a(), result.platt().b(), result.priorLogOdds());
        out.flush();
        err.println("head " + headVersion + " for model " + manifest.id() + " -> " + output);
        return 0;
    }

    private TrainingData fromFeatures(ModelManifest manifest) throws IOException {
        FeaturesFolder.Features features = FeaturesFolder.read(input);
        FeaturesFolder.Info info = features.info();
        if (!info.modelId().equals(manifest.id())) {
            throw new IOException("the features in " + input + " were computed with model '" + info.modelId()
                    + "' but --model-dir " + engineOptions.modelDir() + " holds '" + manifest.id() + "': pass"
                    + " --model-dir of '" + info.modelId() + "', or embed the images again with this model");
        }
        if (info.dim() != manifest.featureDim() || (info.modelSha256() != null && manifest.sha256() != null
                && !info.modelSha256().equalsIgnoreCase(manifest.sha256()))) {
            throw new IOException("the features in " + input + " (" + info.dim() + "-d, model.onnx sha256 "
                    + info.modelSha256() + ") do not come from the model in " + engineOptions.modelDir() + " ("
                    + manifest.featureDim() + "-d, sha256 " + manifest.sha256() + "): a head trained on them would not"
                    + " fit this backbone; embed the images again with this --model-dir");
        }
        if (info.l2Normalized() == manifest.engineNormalizes()) {
            throw new IOException(input + " says l2_normalized=" + info.l2Normalized() + " but the model's manifest"
                    + " normalises in the " + (manifest.engineNormalizes() ? "engine" : "graph") + "; embed again");
        }
        int typ = features.carriedColumns().indexOf(ImageInputs.TYP_COLUMN);
        List<String> filenames = new ArrayList<>();
        List<String> typs = new ArrayList<>();
        int dim = info.dim();
        List<FeaturesFolder.Entry> ok = features.entries().stream().filter(FeaturesFolder.Entry::ok).toList();
        float[] data = new float[ok.size() * dim];
        for (int i = 0; i < ok.size(); i++) {
            FeaturesFolder.Entry e = ok.get(i);
            filenames.add(e.filename());
            typs.add(typ >= 0 ? e.carried().get(typ) : ImageInputs.typFromFolder(e.filename()));
            System.arraycopy(features.matrix().data(), e.row() * dim, data, i * dim, dim);
        }
        return new TrainingData(filenames, typs, data, dim, info.date(), "features " + input.getFileName());
    }

    /** The decisions' provenance for the head's training object. */
    private LinearHead.Decisions provenance(ReviewedUploads.Joined joined) {
        DecisionLog.Filter filter = decisions.filter();
        Map<String, Integer> classes = new TreeMap<>(Map.of(ImageInputs.REAL, 0, SYNTHETIC, 0));
        joined.counts().forEach((typ, n) -> classes.merge(typ.equals(ImageInputs.REAL) ? ImageInputs.REAL : SYNTHETIC, n,
                Integer::sum));
        return new LinearHead.Decisions(decisions.decisionsTopic(), decisions.embeddingsTopic(),
                filter.since() == null ? null : filter.since().toString(),
                filter.until() == null ? null : filter.until().toString(), classes, joined.counts(),
                filter.generators().stream().sorted().toList(), minPerClass, joined.decisionRecords(),
                new TreeMap<>(joined.skipped()));
    }

    static final String SYNTHETIC = "synthetic";

    /**
     * Each class needs --min-per-class decided uploads; with a features folder, a class without any decision comes
     * from the folder alone.
     */
    private void checkMinimum(Map<String, Integer> classes, TrainingData features) throws TooFewDecisions {
        for (Map.Entry<String, Integer> c : classes.entrySet()) {
            int n = c.getValue();
            if (n < minPerClass && !(features != null && n == 0)) {
                throw new TooFewDecisions("only " + n + " " + c.getKey() + " decided uploads with a vector of the model"
                        + " in " + decisions.decisionsTopic() + " (" + classes + "), --min-per-class is " + minPerClass
                        + ": label more uploads in the console, widen --since/--until/--generator, or lower"
                        + " --min-per-class" + (features == null ? " (or add the original training set with --input)"
                        : ""));
            }
        }
    }

    /** {@code features} (null: none) followed by the decided uploads, in upload-id order. */
    private TrainingData withDecisions(TrainingData features, ReviewedUploads.Joined joined) {
        int dim = joined.dim();
        int before = features == null ? 0 : features.typs().size();
        float[] all = new float[(before + joined.rows().size()) * dim];
        List<String> filenames = new ArrayList<>();
        List<String> typs = new ArrayList<>();
        if (features != null) {
            System.arraycopy(features.features(), 0, all, 0, before * dim);
            filenames.addAll(features.filenames());
            typs.addAll(features.typs());
        }
        Instant newest = Instant.EPOCH;
        for (int i = 0; i < joined.rows().size(); i++) {
            ReviewedUploads.Row row = joined.rows().get(i);
            System.arraycopy(row.vector(), 0, all, (before + i) * dim, dim);
            filenames.add(decisions.decisionsTopic() + ":" + row.uploadId());
            typs.add(row.typ());
            newest = row.decidedAt().isAfter(newest) ? row.decidedAt() : newest;
        }
        String decided = LocalDate.ofInstant(newest, ZoneOffset.UTC).toString();
        String date = features == null || decided.compareTo(features.date()) > 0 ? decided : features.date();
        String source = (features == null ? "" : features.source() + " + ") + "decisions " + decisions.decisionsTopic();
        return new TrainingData(filenames, typs, all, dim, date, source);
    }

    private TrainingData fromImages(PrintWriter err) throws IOException, ModelLoadException {
        InputList inputs = ImageInputs.readLabelled(input, EmbedCommand.INDEX_COLUMNS);
        EngineConfig config = engineOptions.config(null);
        FeaturesFolder.Features features;
        try (ScoringEngine engine = ScoringEngine.openFeaturesOnly(config)) {
            features = EmbedCommand.embed(engine, inputs, engineOptions.showProgress(), err);
        }
        int typ = inputs.column(ImageInputs.TYP_COLUMN);
        List<String> filenames = new ArrayList<>();
        List<String> typs = new ArrayList<>();
        Instant newest = Instant.EPOCH;
        for (int i = 0; i < features.entries().size(); i++) {
            FeaturesFolder.Entry e = features.entries().get(i);
            if (e.ok()) {
                InputRow row = inputs.rows().get(i);
                filenames.add(e.filename());
                typs.add(e.carried().get(typ));
                Instant modified = Files.getLastModifiedTime(row.file()).toInstant();
                newest = modified.isAfter(newest) ? modified : newest;
            }
        }
        return new TrainingData(filenames, typs, features.matrix().data(), features.info().dim(),
                LocalDate.ofInstant(newest, ZoneOffset.UTC).toString(), "images " + input.getFileName());
    }

    /** One "filename\ttyp\n" line per training image, in training order. */
    private static byte[] listBytes(TrainingData data) {
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < data.filenames().size(); i++) {
            list.append(data.filenames().get(i)).append('\t').append(data.typs().get(i)).append('\n');
        }
        return list.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] featureBytes(float[] features) {
        ByteBuffer bytes = ByteBuffer.allocate(features.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(features);
        return bytes.array();
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Shortest decimal that reads back as the same double ("0.01", "1000", "1.5"). */
    static String number(double value) {
        return java.math.BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
    }
}
