package io.clipguard.cli.kafka;

import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Creates the service's topics if they are missing, then claims their registry subjects (compatibility level and
 * schema). Example: {@code tools/clipguard create-topics --partitions 4}.
 */
@Command(name = "create-topics", mixinStandardHelpOptions = true,
        description = {"Create image-uploads, moderation-verdicts, moderation-alerts, image-uploads-dlq,"
                + " moderation-burst-alerts, image-embeddings, detector-heads and moderation-decisions if missing.",
                "image-embeddings: cleanup.policy=compact,delete, retention 90 days; detector-heads: compacted, 1 partition;"
                        + " moderation-decisions: cleanup.policy=delete, retention unlimited (the decisions' history).",
                "Then sets each topic's registry subject (<topic>-value) to compatibility " + OutputSchemas.COMPATIBILITY
                        + " and registers its schema, the text of avro/<Record>.avsc (docs/contracts.md)."})
public final class CreateTopicsCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Option(names = "--partitions", defaultValue = "4",
            description = "Partitions per topic; instances beyond this number sit idle (default ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--replication-factor", defaultValue = "1", description = "Replicas per partition (default ${DEFAULT-VALUE}).")
    short replicationFactor;

    @Option(names = "--max-message-bytes", defaultValue = Topics.DEFAULT_MAX_RECORD_BYTES_TEXT,
            description = "Largest record the topics accept; inline images need room (default ${DEFAULT-VALUE}).")
    int maxMessageBytes;

    @Option(names = "--skip-registry",
            description = "Only create the topics; leave the registry's subjects alone (the service claims them at its start).")
    boolean skipRegistry;

    @Override
    public Integer call() throws Exception {
        List<String> names = Topics.Names.DEFAULT.all();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers))) {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = names.stream().filter(n -> !existing.contains(n))
                    .map(n -> Topics.Names.DEFAULT.newTopic(n, partitions, replicationFactor, maxMessageBytes))
                    .toList();
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get();
            }
            System.out.println("topics: created " + missing.stream().map(NewTopic::name).toList() + ", already there "
                    + names.stream().filter(existing::contains).toList());
        }
        if (!skipRegistry) {
            try {
                new OutputSchemas(kafka.registryUrl).registerAll(Topics.Names.DEFAULT);
            } catch (IllegalStateException e) {
                System.err.println("topics are there, but the registry's subjects are not set: " + e.getMessage());
                return 1;
            }
            System.out.println("subjects: " + names.stream().map(OutputSchemas::subject).toList() + " at compatibility "
                    + OutputSchemas.COMPATIBILITY + ", schemas from avro/");
        }
        return 0;
    }
}
