package io.clipguard.testing;

import io.clipguard.avro.ImageUploaded;
import io.clipguard.contracts.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.awaitility.core.ConditionTimeoutException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The client side of {@code tools/soak-lifecycle}: publishes uploads (recording the ids the broker acknowledged) and
 * counts their answers under read_committed. Example:
 * {@code SoakClient publish --count 100 --prefix c1-a --ids ids.txt}, then {@code SoakClient count --ids ids.txt}.
 */
@Command(name = "soak-client", mixinStandardHelpOptions = true, subcommands = {SoakClient.Publish.class, SoakClient.Count.class},
        description = "Publish uploads and count their answers, for tools/soak-lifecycle.")
public final class SoakClient {
    @Option(names = "--bootstrap-servers", defaultValue = "${env:KAFKA_BOOTSTRAP_SERVERS:-localhost:9092}",
            description = "Kafka bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS or ${DEFAULT-VALUE}).", scope = CommandLine.ScopeType.INHERIT)
    String bootstrap;

    @Option(names = "--registry-url", defaultValue = "${env:CLIPGUARD_REGISTRY_URL:-http://localhost:8081}",
            description = "Apicurio Registry root URL (default: $CLIPGUARD_REGISTRY_URL or ${DEFAULT-VALUE}).", scope = CommandLine.ScopeType.INHERIT)
    String registryUrl;

    @Option(names = "--ids", required = true, description = "File of upload ids, one a line (publish appends to it).",
            scope = CommandLine.ScopeType.INHERIT)
    Path ids;

    public static void main(String[] args) {
        QuietLogging.apply();
        System.exit(new CommandLine(new SoakClient()).execute(args));
    }

    @Command(name = "publish", mixinStandardHelpOptions = true, description = "Publish inline uploads; append the acknowledged ids to --ids.")
    static final class Publish implements Callable<Integer> {
        @CommandLine.ParentCommand
        SoakClient parent;

        @Option(names = "--count", defaultValue = "100", description = "Uploads to publish (default ${DEFAULT-VALUE}).")
        int count;

        @Option(names = "--prefix", required = true, description = "Upload id prefix, e.g. the cycle and phase.")
        String prefix;

        @Option(names = "--image", defaultValue = "src/test/resources/golden/images/flower.jpg", description = "Image to upload.")
        Path image;

        @Override
        public Integer call() throws Exception {
            byte[] bytes = Files.readAllBytes(image);
            List<String> acked = new ArrayList<>();
            try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(parent.bootstrap, parent.registryUrl)) {
                List<Map.Entry<String, Future<RecordMetadata>>> sent = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    String id = prefix + "-" + i;
                    sent.add(Map.entry(id, producer.send(new ProducerRecord<>(Topics.UPLOADS, id, TestClients.inline(id, bytes)))));
                }
                for (Map.Entry<String, Future<RecordMetadata>> s : sent) {
                    s.getValue().get();
                    acked.add(s.getKey());
                }
            } finally {
                Files.write(parent.ids, acked, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            }
            System.out.println("published " + acked.size() + " uploads " + prefix + "-*");
            return acked.size() == count ? 0 : 1;
        }
    }

    @Command(name = "count", mixinStandardHelpOptions = true,
            description = "Count verdicts + dead letters per id of --ids under read_committed; exit 0 iff none is lost or doubled.")
    static final class Count implements Callable<Integer> {
        @CommandLine.ParentCommand
        SoakClient parent;

        @Option(names = "--timeout", defaultValue = "PT180S", description = "How long to wait for every answer (default ${DEFAULT-VALUE}).")
        Duration timeout;

        @Option(names = "--application-id", defaultValue = "clipguard",
                description = "The service's application id, its consumer group (default ${DEFAULT-VALUE}).")
        String applicationId;

        @Override
        public Integer call() throws Exception {
            List<String> expected = Files.readAllLines(parent.ids).stream().filter(l -> !l.isBlank()).toList();
            Map<String, Integer> answered = TestClients.answerCounts(parent.bootstrap, parent.registryUrl, Topics.Names.DEFAULT,
                    got -> got.keySet().containsAll(expected), timeout);
            if (answered.keySet().containsAll(expected)) {
                // A doubled answer may still be on its way until the service has committed all it consumed: its answers
                // commit with those offsets.
                try {
                    Waits.committedToEnd(parent.bootstrap, applicationId, Topics.UPLOADS);
                } catch (ConditionTimeoutException e) {
                    System.err.println("counting without a drained service: " + e.getMessage());
                }
            }
            Map<String, Integer> counts = TestClients.answerCounts(parent.bootstrap, parent.registryUrl, Topics.Names.DEFAULT);
            long lost = expected.stream().filter(id -> !counts.containsKey(id)).count();
            long doubled = expected.stream().filter(id -> counts.getOrDefault(id, 0) > 1).count();
            long unknown = counts.keySet().stream().filter(id -> !expected.contains(id)).count();
            System.out.printf("uploads %d answered %d lost %d doubled %d unexpected %d%n", expected.size(), expected.size() - lost,
                    lost, doubled, unknown);
            return lost == 0 && doubled == 0 ? 0 : 1;
        }
    }
}
