package io.clipguard.recalibration;

import io.clipguard.avro.FailureReason;
import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.contracts.OutputRecords;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What each upload of a rescore came to: its rescored verdict or its dead letter, written through the
 * {@link TransactionalVerdictWriter}, and counted for the {@link Rescorer.Summary}.
 */
final class Outcomes implements ReInference.Results {
    private static final int MAX_EXAMPLES = 20;

    private final TransactionalVerdictWriter out;
    private final String uploadsTopic;
    private final String reportPrefix;
    private final Rescorer.Progress progress;
    private final Map<String, Long> notRescorable = new TreeMap<>();
    private final List<String> examples = new ArrayList<>();
    private long rescored, reInferred, alerts;

    /** @param reportPrefix starts every dead letter's message (names the head) */
    Outcomes(TransactionalVerdictWriter out, String uploadsTopic, String reportPrefix, Rescorer.Progress progress) {
        this.out = out;
        this.uploadsTopic = uploadsTopic;
        this.reportPrefix = reportPrefix;
        this.progress = progress;
    }

    /** Rescored from its stored embedding. */
    void rescored(ModerationVerdict verdict, long timestamp) {
        publish(verdict, null, timestamp);
        rescored++;
    }

    @Override
    public void reInferred(ModerationVerdict verdict, ImageEmbedding embedding, long timestamp) {
        publish(verdict, embedding, timestamp);
        reInferred++;
        progress.advance(1);
    }

    @Override
    public void notRescorable(String uploadId, int partition, long offset, FailureReason reason, String message, long timestamp) {
        report(uploadId, partition, offset, reason, message, timestamp);
        progress.advance(1);
    }

    /** Reported on the dead-letter topic (with no value: the record is not copied) and in the summary. */
    void report(String uploadId, int partition, long offset, FailureReason reason, String message, long timestamp) {
        byte[] key = uploadId.getBytes(StandardCharsets.UTF_8);
        var source = new OutputRecords.SourceRecord(uploadsTopic, partition, offset, key, null);
        out.deadLetter(key, OutputRecords.deadLetter(source, uploadId, reason, reportPrefix + message, Instant.now()), timestamp);
        notRescorable.merge(reason.name(), 1L, Long::sum);
        if (examples.size() < MAX_EXAMPLES) {
            examples.add(uploadId + " (" + reason + ": " + message + ")");
        }
    }

    Rescorer.Summary summary(long alreadyRescored, long unreadableRecords) {
        return new Rescorer.Summary(rescored, reInferred, alreadyRescored, notRescorable, examples, alerts, unreadableRecords);
    }

    private void publish(ModerationVerdict verdict, ImageEmbedding embedding, long timestamp) {
        if (out.verdict(verdict, embedding, timestamp)) {
            alerts++;
        }
    }
}
