package io.clipguard.review;

import io.clipguard.avro.DecisionLabel;
import io.clipguard.avro.ModerationDecision;
import io.clipguard.evaluation.DetectionReport;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The decisions of {@code moderation-decisions} folded into the latest one per upload. "Latest" is the log's order
 * (the last record of an upload id: one key, one partition), not {@code decidedAt}, so two reviewers' clocks cannot
 * reorder a change. Records are added in the order they were read; a retried POST (the same decision id) changes
 * nothing.
 */
public final class DecisionLog {
    /** The typ of an AI_GENERATED decision without a generator name (or with the reserved name "real"). */
    public static final String UNNAMED = "unnamed";

    /**
     * Which decisions count.
     *
     * @param since      keep uploads whose latest decision was made at or after this (null: from the start)
     * @param until      ignore decisions made at or after this, so the labels are those that stood then and a rerun
     *                   later gives the same set (null: all)
     * @param generators keep AI_GENERATED decisions of these generator names only (empty: all); REAL ones all count
     */
    public record Filter(Instant since, Instant until, Set<String> generators) {
        public static final Filter ALL = new Filter(null, null, Set.of());

        public Filter {
            generators = Set.copyOf(generators);
            if (since != null && until != null && !since.isBefore(until)) {
                throw new IllegalArgumentException("the time range is empty: since " + since + " is not before until "
                        + until);
            }
        }
    }

    private final Filter filter;
    private final Map<String, ModerationDecision> latest = new HashMap<>();
    private long records;
    private long afterUntil;

    public DecisionLog(Filter filter) {
        this.filter = filter;
    }

    /** The next record of the log (read in order). */
    public void add(ModerationDecision decision) {
        records++;
        if (filter.until() != null && !decision.getDecidedAt().isBefore(filter.until())) {
            afterUntil++;
            return;
        }
        latest.put(decision.getUploadId(), decision);
    }

    /** Decision records seen. */
    public long records() {
        return records;
    }

    /** The latest decision of every upload decided before {@code until}, whatever it was. */
    public Map<String, ModerationDecision> latest() {
        return latest;
    }

    /**
     * The labelled uploads: upload id → typ ({@value DetectionReport#REAL}, the generator name, or {@value #UNNAMED})
     * of those whose latest decision is AI_GENERATED or REAL and passes the filter; {@code skipped} counts the others by
     * reason.
     */
    public Map<String, String> labelled(Map<String, Long> skipped) {
        Map<String, String> out = new HashMap<>();
        if (afterUntil > 0) {
            skipped.merge("decided at or after --until (records)", afterUntil, Long::sum);
        }
        for (ModerationDecision d : latest.values()) {
            String typ = typ(d);
            String reason = typ == null ? "latest decision UNSURE"
                    : filter.since() != null && d.getDecidedAt().isBefore(filter.since()) ? "decided before --since"
                    : !filter.generators().isEmpty() && !typ.equals(DetectionReport.REAL)
                            && !filter.generators().contains(typ) ? "generator not selected"
                    : null;
            if (reason == null) {
                out.put(d.getUploadId(), typ);
            } else {
                skipped.merge(reason, 1L, Long::sum);
            }
        }
        return out;
    }

    /**
     * A decision's typ, as the training and metrics files name classes: {@value DetectionReport#REAL}, the generator
     * name (trimmed) or {@value #UNNAMED}; null for UNSURE (and any label added later, which old readers see as
     * UNSURE).
     */
    public static String typ(ModerationDecision d) {
        if (d.getDecision() == DecisionLabel.REAL) {
            return DetectionReport.REAL;
        }
        if (d.getDecision() != DecisionLabel.AI_GENERATED) {
            return null;
        }
        String generator = d.getGenerator() == null ? "" : d.getGenerator().trim();
        return generator.isEmpty() || generator.toLowerCase(Locale.ROOT).equals(DetectionReport.REAL) ? UNNAMED
                : generator;
    }

    /** Every skip reason in a fixed order, for summaries. */
    public static List<String> describe(Map<String, Long> skipped) {
        return skipped.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getValue() + " " + e.getKey()).toList();
    }
}
