package io.clipguard.cli.kafka;

import io.clipguard.cli.options.DecodeOptions;
import io.clipguard.cli.options.ProgressDisplay;
import io.clipguard.contracts.HeadCatalog;
import io.clipguard.contracts.Topics;
import io.clipguard.fetch.FetchPolicy;
import io.clipguard.fetch.ImageFetcher;
import io.clipguard.model.ModelLoadException;
import io.clipguard.model.ModelManifest;
import io.clipguard.moderation.UploadScorer;
import io.clipguard.recalibration.Compression;
import io.clipguard.recalibration.Rescorer;
import io.clipguard.cli.options.FusionOptions;
import io.clipguard.inference.BatchListener;
import io.clipguard.scoring.DetectorSet;
import io.clipguard.scoring.EmbeddingCache;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.ScoringEngine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tools/clipguard rescore}: applies a published head version to the stored embeddings of a range of uploads
 * (no backbone), re-infers the uploads that have none, reports the ones that cannot be rescored. See {@link Rescorer}.
 */
@Command(name = "rescore", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Rescore past uploads with a published head version, from their stored embeddings (no CLIP run).",
                "Uploads without an embedding of the head's model are re-inferred from their record in image-uploads"
                        + " (needs --model-dir); uploads whose record retention removed are reported (summary, and a"
                        + " SOURCE_EXPIRED dead letter). Rescored verdicts carry the head version and rescored=true; alerts"
                        + " are raised for those at or over --alert-threshold.",
                "Idempotent: running the same rescore again writes no second rescored verdict for an upload and head version.",
                "Examples:",
                "  tools/clipguard rescore --head-version 2026-12-01-latent10k --from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z",
                "  tools/clipguard rescore --head-version 2026-12-01-latent10k --partition-offsets 0:0-99999 --to-topic verdicts-rescored"},
        footer = {"", "Exit codes: 0 done (see the summary for uploads not rescorable), 1 failed, 2 usage error,"
                + " 3 the head or the model could not be loaded."})
public final class RescoreCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Option(names = "--head-version", required = true, paramLabel = "V", description = "Published head version to apply (see head list).")
    String headVersion;

    @Option(names = "--model", description = "Model id, when several models have a head of that version.")
    String model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Selection selection;

    static final class Selection {
        @ArgGroup(exclusive = false)
        Times times;

        @Option(names = "--partition-offsets", split = ",", paramLabel = "P:FIRST-LAST",
                description = "Uploads at these positions of image-uploads (inclusive), e.g. 0:0-99999,1:0-99999.")
        List<String> offsets;
    }

    static final class Times {
        @Option(names = "--from", required = true, paramLabel = "TIME",
                description = "Uploads at or after this ISO-8601 time (e.g. 2026-11-01T00:00:00Z), by the upload record's timestamp.")
        String from;

        @Option(names = "--to", paramLabel = "TIME", description = "Uploads before this ISO-8601 time (default: now).")
        String to;
    }

    @Option(names = "--to-topic", description = "Where rescored verdicts go (default: the verdicts topic).")
    String toTopic;

    @Option(names = "--alert-threshold", defaultValue = "0.9",
            description = "Alert for a rescored verdict with probability at or over this (default ${DEFAULT-VALUE}, as the service).")
    double alertThreshold;

    /** How re-inferred uploads are decoded (uploads rescored from their embedding keep the mode they were embedded with). */
    @Mixin
    DecodeOptions decode = new DecodeOptions();

    @Option(names = "--model-dir", description = "Model folder for re-inference (default: models/<the head's model id>).")
    Path modelDir;

    @Option(names = "--extra-model-dir", paramLabel = "DIR",
            description = "A logit model that the service runs beside the CLIP detector (its"
                    + " clipguard.detectors.extra-model-dirs), repeatable, in the service's order: uploads re-inferred"
                    + " run through every detector and are fused by --fusion. Uploads with an embedding are re-fused"
                    + " from the logits stored in it, without running these models.")
    List<Path> extraModelDirs = new ArrayList<>();

    @Mixin
    FusionOptions fusion = new FusionOptions();

    @Option(names = "--file-root", description = "Folder that file: image references may point under (repeatable).")
    List<Path> fileRoots = List.of();

    @Option(names = "--uploads-topic", defaultValue = Topics.UPLOADS, description = "Default ${DEFAULT-VALUE}.")
    String uploadsTopic;
    @Option(names = "--verdicts-topic", defaultValue = Topics.VERDICTS, description = "Default ${DEFAULT-VALUE}.")
    String verdictsTopic;
    @Option(names = "--alerts-topic", defaultValue = Topics.ALERTS, description = "Default ${DEFAULT-VALUE}.")
    String alertsTopic;
    @Option(names = "--dead-letter-topic", defaultValue = Topics.DEAD_LETTER, description = "Default ${DEFAULT-VALUE}.")
    String deadLetterTopic;
    @Option(names = "--embeddings-topic", defaultValue = Topics.EMBEDDINGS, description = "Default ${DEFAULT-VALUE}.")
    String embeddingsTopic;
    @Option(names = "--heads-topic", defaultValue = Topics.HEADS, description = "Default ${DEFAULT-VALUE}.")
    String headsTopic;

    @Option(names = "--transaction-size", defaultValue = "5000", description = "Records per Kafka transaction (default ${DEFAULT-VALUE}).")
    int transactionSize;

    @Option(names = "--compression", defaultValue = "none", paramLabel = "none|gzip|snappy|lz4|zstd", converter = CompressionConverter.class,
            description = "Codec of the record batches written (default ${DEFAULT-VALUE}, as the live service writes: every Kafka"
                    + " client reads it). Another codec must be readable by every consumer of the output topics; see"
                    + " docs/recalibration.md.")
    Compression compression;

    @Option(names = "--max-record-bytes", defaultValue = Topics.DEFAULT_MAX_RECORD_BYTES_TEXT, paramLabel = "BYTES",
            description = "Largest record read back from the uploads topic or written (default ${DEFAULT-VALUE}, the"
                    + " service's default); keep it equal to the service's clipguard.max-record-bytes.")
    int maxRecordBytes;

    @Option(names = "--progress", negatable = true, description = "Show a progress bar (default: only when attached to a terminal).")
    Boolean progress;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Rescorer.Range range = range();
        if (maxRecordBytes < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--max-record-bytes must be at least 1, got " + maxRecordBytes);
        }
        HeadCatalog.Entry head;
        try {
            head = new HeadCatalog(kafka.bootstrapServers, kafka.registryUrl, headsTopic, maxRecordBytes).find(headVersion, model);
            head.head();
        } catch (IllegalArgumentException | ModelLoadException e) {
            System.err.println("rescore: " + e.getMessage());
            return 3;
        }
        Topics.Names topics = new Topics.Names(uploadsTopic, verdictsTopic, alertsTopic, deadLetterTopic, Topics.BURST_ALERTS, embeddingsTopic,
                headsTopic, Topics.DECISIONS);
        Rescorer.Options options = new Rescorer.Options(kafka.bootstrapServers, kafka.registryUrl, topics,
                toTopic != null ? toTopic : verdictsTopic, alertThreshold, transactionSize, maxRecordBytes, compression);
        Path models = modelDir != null ? modelDir : ModelManifest.defaultDir(head.modelId());
        long start = System.nanoTime();
        Rescorer.Summary summary;
        try (ProgressBar bar = ProgressDisplay.show(progress) ? new ProgressBarBuilder().setTaskName("Rescoring").setInitialMax(0)
                .setStyle(ProgressBarStyle.ASCII).setUnit(" records", 1).setUpdateIntervalMillis(250)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).build() : null) {
            Rescorer.Progress listener = bar == null ? Rescorer.Progress.NONE : new Rescorer.Progress() {
                public void total(long records) {
                    bar.maxHint(records);
                }

                public void advance(long records) {
                    bar.stepBy(records);
                }
            };
            summary = new Rescorer(options, head, () -> backbone(models, head)).run(range, listener);
        } catch (ModelLoadException | ReInferenceUnavailable e) {
            System.err.println("rescore: " + e.getMessage());
            return 3;
        } catch (IllegalStateException e) { // a missing topic, an unreachable registry: the message says what to do
            System.err.println("rescore: " + e.getMessage());
            return 1;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        print(summary, head, seconds, options);
        return 0;
    }

    private void print(Rescorer.Summary s, HeadCatalog.Entry head, double seconds, Rescorer.Options options) {
        System.out.printf(Locale.ROOT, "rescore with head %s of model %s -> %s%n", head.version(), head.modelId(), options.outputTopic());
        System.out.printf(Locale.ROOT, "  rescored (from embeddings)     %,d%n", s.rescored());
        System.out.printf(Locale.ROOT, "  re-inferred (no embedding)     %,d%n", s.reInferred());
        System.out.printf(Locale.ROOT, "  not rescorable                 %,d%s%n", s.notRescorableTotal(),
                s.notRescorable().isEmpty() ? "" : "  " + s.notRescorable() + ", reported on " + options.topics().deadLetter());
        System.out.printf(Locale.ROOT, "  already rescored (skipped)     %,d%n", s.alreadyRescored());
        System.out.printf(Locale.ROOT, "  alerts                         %,d%n", s.alerts());
        if (s.unreadableRecords() > 0) {
            System.out.printf(Locale.ROOT, "  unreadable records skipped     %,d  (not in the registry's Avro format)%n", s.unreadableRecords());
        }
        System.out.printf(Locale.ROOT, "  %.1f s, %,.0f verdicts/s%n", seconds, (s.rescored() + s.reInferred()) / Math.max(seconds, 1e-9));
        s.notRescorableExamples().forEach(e -> System.out.println("  not rescorable: " + e));
    }

    private Rescorer.Range range() {
        if (selection.offsets != null) {
            Map<Integer, long[]> byPartition = new TreeMap<>();
            for (String partitionRange : selection.offsets) {
                String[] pr = partitionRange.split(":", 2);
                String[] fl = pr.length == 2 ? pr[1].split("-", 2) : new String[0];
                try {
                    if (fl.length != 2) {
                        throw new NumberFormatException();
                    }
                    long first = Long.parseLong(fl[0]);
                    long last = Long.parseLong(fl[1]);
                    if (first < 0 || last < first) {
                        throw new NumberFormatException();
                    }
                    byPartition.put(Integer.parseInt(pr[0]), new long[]{first, last});
                } catch (NumberFormatException e) {
                    throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                            "--partition-offsets " + partitionRange + ": expected PARTITION:FIRST-LAST, e.g. 0:0-99999");
                }
            }
            return new Rescorer.Range.Offsets(byPartition);
        }
        Instant from = time("--from", selection.times.from);
        Instant to = selection.times.to == null ? Instant.now() : time("--to", selection.times.to);
        if (!to.isAfter(from)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--to must be after --from");
        }
        return new Rescorer.Range.Times(from, to);
    }

    private Instant time(String option, String value) {
        try {
            return OffsetDateTime.parse(value).toInstant();
        } catch (DateTimeParseException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    option + " " + value + ": expected an ISO-8601 time with offset, e.g. 2026-11-01T00:00:00Z");
        }
    }


    /** The backbone with the rescore's head (written to a temporary head file), for uploads that need re-inference. */
    private Rescorer.Backbone backbone(Path models, HeadCatalog.Entry head) {
        try {
            Path headFile = Files.createTempFile("clipguard-rescore-head", ".json");
            Files.writeString(headFile, head.headJson());
            EngineConfig clip = decode.applyTo(EngineConfig.builder(models).headFile(headFile)).build();
            List<DetectorSet.DetectorSpec> specs = new ArrayList<>(List.of(new DetectorSet.DetectorSpec(null, clip)));
            extraModelDirs.forEach(dir -> specs.add(new DetectorSet.DetectorSpec(null, clip.forModel(dir, null))));
            DetectorSet detectors;
            try {
                detectors = DetectorSet.open(specs, fusion.fusion, fusion.threshold, id -> BatchListener.NONE);
            } finally {
                Files.deleteIfExists(headFile);
            }
            ScoringEngine engine = detectors.featuresEngine();
            if (engine == null) {
                detectors.close();
                throw new ModelLoadException(models + " outputs a logit: --model-dir is the CLIP detector of the head");
            }
            ImageFetcher fetcher = new ImageFetcher(new FetchPolicy(fileRoots, Duration.ofSeconds(2), Duration.ofSeconds(10),
                    50L * 1024 * 1024, false, 3));
            UploadScorer scorer = new UploadScorer(detectors, new EmbeddingCache(detectors, 1000), engine::configuredHead,
                    fetcher, Topics.serdeConfig(kafka.registryUrl), Clock.systemUTC());
            return new Rescorer.Backbone() {
                public UploadScorer scorer() {
                    return scorer;
                }

                public void close() {
                    scorer.close();
                    detectors.close();
                }
            };
        } catch (ModelLoadException e) {
            throw new ReInferenceUnavailable("some uploads have no embedding of model " + head.modelId()
                    + " and need re-inference, but the model folders " + models
                    + (extraModelDirs.isEmpty() ? "" : " and " + extraModelDirs) + " cannot be used: " + e.getMessage()
                    + " (pass --model-dir, and --extra-model-dir for each logit model of the service)");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static final class CompressionConverter implements picocli.CommandLine.ITypeConverter<Compression> {
        @Override
        public Compression convert(String value) {
            try {
                return Compression.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    private static final class ReInferenceUnavailable extends RuntimeException {
        ReInferenceUnavailable(String message) {
            super(message);
        }
    }
}
