package io.clipguard.streams.lifecycle;

import io.clipguard.streams.lifecycle.TopicCheck.Expected;
import io.clipguard.streams.lifecycle.TopicCheck.Found;
import io.clipguard.streams.lifecycle.TopicCheck.Problem;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What the topic check reports: each kind of {@link Problem} with the command that fixes it on this cluster, and the
 * one message that refuses to start (or stops) over them.
 */
final class TopicFixes {
    private final String applicationId;
    private final String bootstrap;

    TopicFixes(String applicationId, String bootstrap) {
        this.applicationId = applicationId;
        this.bootstrap = bootstrap;
    }

    /** One message for all problems, naming each topic, what was expected, what was found and the fix. */
    String message(List<Problem> problems, String context) {
        return context + " (application id " + applicationId + ", bootstrap servers " + bootstrap + "):\n  - "
                + problems.stream().map(Problem::toString).collect(Collectors.joining("\n  - "))
                + "\nKafka Streams and clipguard never create the input and output topics; keep auto.create.topics.enable=false"
                + " on the brokers so that no client recreates a lost topic with the wrong partition count.";
    }

    Problem notCopartitioned(Map<String, Integer> counts) {
        return new Problem(String.join(", ", counts.keySet()), "the same partition count (they are joined)",
                counts.toString(), "give them the same partition count (kafka-topics.sh --alter --partitions N on the"
                + " smaller ones), then reset the application (kafka-streams-application-reset.sh)");
    }

    Problem wrongPolicy(Expected e, String found) {
        return new Problem(e.topic(), "cleanup.policy=" + e.cleanupPolicy().orElseThrow() + " (" + e.why() + ")",
                "cleanup.policy=" + found,
                "kafka-configs.sh --bootstrap-server " + bootstrap + " --alter --entity-type topics --entity-name "
                        + e.topic() + " --add-config cleanup.policy=[" + e.cleanupPolicy().orElseThrow() + "]");
    }

    /** An internal topic that is missing and not created now (other problems first, or its size is not known yet). */
    Problem missingInternal(Expected e) {
        return new Problem(e.topic(), e.partitions() + " partitions (" + e.why() + ")", TopicCheck.NO_SUCH_TOPIC,
                "start clipguard again: it creates its internal topics when every other topic is in order");
    }

    Problem missingUserTopic(Expected e) {
        String partitions = e.partitions() > 0 ? String.valueOf(e.partitions()) : "N";
        return new Problem(e.topic(), "an existing topic (" + e.why() + (e.partitions() > 0 ? ", " + e.partitions()
                + " partitions" : "") + ")", TopicCheck.NO_SUCH_TOPIC,
                "kafka-topics.sh --bootstrap-server " + bootstrap + " --create --topic " + e.topic() + " --partitions "
                        + partitions + " (tools/clipguard create-topics --partitions " + partitions
                        + " creates the default topics)");
    }

    Problem wrongPartitions(Expected e, Found f) {
        String expected = e.partitions() + " partitions (" + e.why() + ")";
        String found = f.partitions() + " partitions";
        String fix = switch (e.role()) {
            case CHANGELOG, REPARTITION -> "stop every instance of " + applicationId + ". If nothing is pending (metric"
                    + " clipguard_pending_uploads was 0), delete the topic and clipguard recreates it at the next start: "
                    + "kafka-topics.sh --bootstrap-server " + bootstrap + " --delete --topic " + e.topic()
                    + ". Otherwise reset the application with the Streams reset tool, which deletes its internal topics: "
                    + "kafka-streams-application-reset.sh --bootstrap-server " + bootstrap + " --application-id "
                    + applicationId + " (add --input-topics <input> --to-datetime <before the oldest pending upload> to"
                    + " score those uploads again)";
            case OUTPUT -> f.partitions() < e.partitions()
                    ? "kafka-topics.sh --bootstrap-server " + bootstrap + " --alter --topic " + e.topic() + " --partitions "
                    + e.partitions()
                    : "recreate " + e.topic() + " with " + e.partitions() + " partitions (kafka-topics.sh --delete, then"
                    + " --create --partitions " + e.partitions() + "), or give the input as many partitions and reset the"
                    + " application (kafka-streams-application-reset.sh)";
            case INPUT, GLOBAL_INPUT -> "recreate " + e.topic() + " with the partition count it had";
        };
        return new Problem(e.topic(), expected, found, fix);
    }
}
