package io.clipguard.cli.kafka;

import io.clipguard.contracts.Topics;
import io.clipguard.review.DecisionLog;
import io.clipguard.review.ReviewedUploads;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.Function;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code --decisions} and its selection, for {@code train} and {@code evaluate}: the uploads moderators labelled in
 * moderation-decisions (see {@link DecisionLog}), read through {@link ReviewedUploads}.
 */
public final class DecisionsOptions {
    @Option(names = "--decisions", description = "Use the uploads moderators labelled in the decisions topic: the latest"
            + " decision per upload counts; AI_GENERATED = synthetic (typ = its generator name, else unnamed), REAL ="
            + " real, UNSURE left out.")
    boolean enabled;

    @Mixin
    KafkaOptions kafka;

    @Option(names = "--since", paramLabel = "TIME", description = "With --decisions: uploads whose latest decision was"
            + " made at or after this (ISO-8601 instant, e.g. 2026-12-01T00:00:00Z, or a UTC date 2026-12-01).")
    String since;

    @Option(names = "--until", paramLabel = "TIME", description = "With --decisions: ignore decisions made at or after"
            + " this, so the labels are those that stood then and a later run reads the same set (default: all).")
    String until;

    @Option(names = "--generator", split = ",", paramLabel = "NAME,...", description = "With --decisions: only these"
            + " generator names among the AI_GENERATED decisions (unnamed: those without a name); REAL ones all count.")
    List<String> generators = List.of();

    @Option(names = "--decisions-topic", defaultValue = Topics.DECISIONS, description = "Default ${DEFAULT-VALUE}.")
    String decisionsTopic;

    @Option(names = "--embeddings-topic", defaultValue = Topics.EMBEDDINGS, description = "Default ${DEFAULT-VALUE}.")
    String embeddingsTopic;

    public boolean enabled() {
        return enabled;
    }

    public String decisionsTopic() {
        return decisionsTopic;
    }

    public String embeddingsTopic() {
        return embeddingsTopic;
    }

    /** @throws IllegalArgumentException --since or --until is not a time, or the range is empty */
    public DecisionLog.Filter filter() {
        return new DecisionLog.Filter(time("--since", since), time("--until", until), new LinkedHashSet<>(generators));
    }

    /** The options that select decisions but were given without --decisions (they would silently do nothing). */
    public List<String> givenWithoutDecisions() {
        if (enabled) {
            return List.of();
        }
        List<String> given = new java.util.ArrayList<>();
        if (since != null) given.add("--since");
        if (until != null) given.add("--until");
        if (!generators.isEmpty()) given.add("--generator");
        return given;
    }

    /** Reads with a progress bar on stderr when {@code show}; {@code work} gets the reader and the bar. */
    public <T> T read(boolean show, Function<Reading, T> work) {
        ReviewedUploads reader = new ReviewedUploads(new ReviewedUploads.Source(kafka.bootstrapServers, kafka.registryUrl,
                decisionsTopic, embeddingsTopic, Topics.DEFAULT_MAX_RECORD_BYTES));
        if (!show) {
            return work.apply(new Reading(reader, ReviewedUploads.Progress.NONE));
        }
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("Reading decisions").setInitialMax(0)
                .setStyle(ProgressBarStyle.ASCII).setUnit(" records", 1).setUpdateIntervalMillis(250)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).build()) {
            return work.apply(new Reading(reader, new ReviewedUploads.Progress() {
                @Override
                public void total(long records) {
                    bar.maxHint(records);
                }

                @Override
                public void advance(long records) {
                    bar.stepBy(records);
                }
            }));
        }
    }

    /** A reader of the topics and the progress to report to. */
    public record Reading(ReviewedUploads uploads, ReviewedUploads.Progress progress) {}

    /** An ISO-8601 instant or a UTC date (its midnight). */
    private static Instant time(String option, String text) {
        if (text == null) {
            return null;
        }
        try {
            return text.length() == 10 ? LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant() : Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(option + " must be an ISO-8601 instant (2026-12-01T00:00:00Z) or a date"
                    + " (2026-12-01), got '" + text + "'");
        }
    }
}
