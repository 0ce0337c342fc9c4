package io.clipguard.cli.kafka;

import io.clipguard.avro.HighScoreAlert;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.ScoringFailure;
import io.clipguard.avro.UploaderBurstAlert;
import io.clipguard.contracts.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Prints verdicts, alerts and dead letters as they are committed (read_committed), one line each. Example:
 * {@code tools/clipguard watch --from-beginning}.
 */
@Command(name = "watch", mixinStandardHelpOptions = true,
        description = "Print verdicts, alerts and dead letters as they arrive (Ctrl-C to stop).")
public final class WatchCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Option(names = "--from-beginning", description = "Start at the beginning of the topics instead of their end.")
    boolean fromBeginning;

    @Option(names = "--expect", defaultValue = "0",
            description = "Exit 0 after this many answers (verdicts + dead letters); 0 = run until Ctrl-C.")
    int expect;

    @Option(names = "--timeout", defaultValue = "PT0S",
            description = "With --expect: exit 1 if they have not all come within this ISO-8601 duration (e.g. PT60S); 0 = no limit.")
    Duration timeout;

    @Override
    public Integer call() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "clipguard-watch-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, fromBeginning ? "earliest" : "latest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // Never ask the broker to create a missing topic (with its default partition count).
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        Deserializer<Object> values = Topics.avroReader(kafka.registryUrl);
        long deadline = timeout.isZero() ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
        int answers = 0;
        try (KafkaConsumer<byte[], Object> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), values)) {
            List<String> topics = Topics.Names.DEFAULT.outputs();
            consumer.subscribe(topics);
            // Join the group and fix the start positions before saying so: a caller may publish right after this line.
            // Its first poll may already return records (--from-beginning): they count like any later ones.
            while (consumer.assignment().isEmpty()) {
                answers += print(consumer.poll(Duration.ofMillis(100)));
            }
            consumer.assignment().forEach(consumer::position);
            System.err.println("watching " + topics + (fromBeginning ? " from the beginning" : " from now on"));
            while (expect == 0 || answers < expect) {
                if (System.nanoTime() > deadline) {
                    System.err.println("timed out: " + answers + " of " + expect + " answers arrived");
                    return 1;
                }
                answers += print(consumer.poll(Duration.ofMillis(200)));
            }
        }
        return 0;
    }

    /** Prints each record; returns how many were answers to an upload (a verdict or a dead letter, not an alert). */
    private static int print(Iterable<ConsumerRecord<byte[], Object>> records) {
        int answers = 0;
        for (ConsumerRecord<byte[], Object> r : records) {
            System.out.println(describe(r.value()));
            if (r.value() instanceof ModerationVerdict || r.value() instanceof ScoringFailure) {
                answers++;
            }
        }
        System.out.flush();
        return answers;
    }

    /** With several detectors: the rule and each detector's logit (or its error reason), in the verdict's order. */
    private static String detectors(ModerationVerdict v) {
        if (v.getFusion() == null) {
            return "";
        }
        return " " + v.getFusion() + "(" + String.join(", ", v.getDetectors().stream().map(d -> d.getDetectorId() + "="
                + (d.getLogit() != null ? String.format(Locale.ROOT, "%+.4f", d.getLogit())
                : d.getError() == null ? "?" : d.getError().split(":", 2)[0])
                + (d.getCropped() ? " cropped" : "")).toList()) + ")";
    }

    static String describe(Object value) {
        return switch (value) {
            case ModerationVerdict v -> String.format(Locale.ROOT, "VERDICT %-9s llr=%+.4f p=%.3f upload=%s model=%s head=%s latency=%dms",
                    v.getLabel(), v.getLlr(), v.getProbability(), v.getUploadId(), v.getModelId(), v.getHeadVersion(), v.getEndToEndLatencyMs())
                    + detectors(v);
            case HighScoreAlert a -> String.format(Locale.ROOT, "ALERT   p=%.3f >= %.3f upload=%s uploader=%s",
                    a.getProbability(), a.getAlertThreshold(), a.getUploadId(), a.getUploaderId());
            case UploaderBurstAlert b -> String.format(Locale.ROOT, "BURST   %d uploads of uploader=%s in %s..%s",
                    b.getCount(), b.getUploaderId(), b.getWindowStart(), b.getWindowEnd());
            case ScoringFailure f -> String.format(Locale.ROOT, "DLQ     %-18s upload=%s: %s", f.getReason(), f.getUploadId(), f.getMessage());
            default -> "UNKNOWN " + value;
        };
    }
}
