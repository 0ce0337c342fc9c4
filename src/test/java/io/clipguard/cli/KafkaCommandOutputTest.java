package io.clipguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.avro.ModerationVerdict;
import io.clipguard.avro.UploaderBurstAlert;
import io.clipguard.avro.VerdictLabel;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import io.clipguard.testing.ApicurioRegistry;
import io.clipguard.testing.KafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka commands print what they say and nothing from the Kafka clients: {@code head publish}, {@code head
 * activate}, {@code head list} and {@code rescore} against a real KRaft broker and the real Apicurio Registry, each in
 * its own JVM started as tools/clipguard starts it (JBoss log manager, {@link ClipguardCli#main}'s logging set-up), so
 * stderr is what a user would see. They used to print dozens of {@code WARN [org.apache.kafka...OffsetFetcherUtils]
 * Not updating last stable offset for partition ... as it is no longer assigned}.
 */
class KafkaCommandOutputTest {
    static final Path HEAD = Path.of("models/tiny-clip-test/head.json");
    static final String VERSION = "random-seed0"; // the version in that file
    /** A warning from a Kafka client logger, as ClipguardCli's log format writes it: {@code WARN [org.apache.kafka...]}. */
    static final Pattern KAFKA_WARNING = Pattern.compile("\\bWARN(ING)?\\b.*\\[org\\.apache\\.kafka");

    @Test
    void headCommandsAndRescorePrintTheirOwnOutputAndNoKafkaClientWarnings(@TempDir Path tmp) throws Exception {
        try (KafkaBroker broker = KafkaBroker.start(); ApicurioRegistry registry = ApicurioRegistry.start(tmp.resolve("registry.log"))) {
            broker.createTopics(2, Topics.Names.DEFAULT.all());
            Cli cli = new Cli(broker.bootstrapServers(), registry.url(), tmp);

            Run publish = cli.run("head", "publish", "--file", HEAD.toString(), "--activate");
            assertThat(publish.out()).contains("published head " + VERSION + " of model tiny-clip-test")
                    .contains("activated head " + VERSION);
            Run activate = cli.run("head", "activate", VERSION);
            assertThat(activate.out()).startsWith("activated head " + VERSION + " of model tiny-clip-test");
            Run list = cli.run("head", "list");
            assertThat(list.out()).containsPattern("\\*\\s+tiny-clip-test\\s+" + VERSION);
            Run rescore = cli.run("rescore", "--head-version", VERSION,
                    "--from", Instant.now().minus(1, ChronoUnit.HOURS).toString(), "--no-progress");
            assertThat(rescore.out()).contains("rescore with head " + VERSION + " of model tiny-clip-test")
                    .containsPattern("rescored \\(from embeddings\\)\\s+0");

            for (Run run : List.of(publish, activate, list, rescore)) {
                assertThat(run.err().lines().filter(l -> KAFKA_WARNING.matcher(l).find()).toList())
                        .as("Kafka client warnings on stderr of a command that wrote:\n" + run.out()).isEmpty();
            }
        }
    }

    @Test
    void watchFromTheBeginningCountsEveryAnswerAndNoAlert(@TempDir Path tmp) throws Exception {
        try (KafkaBroker broker = KafkaBroker.start(); ApicurioRegistry registry = ApicurioRegistry.start(tmp.resolve("registry.log"))) {
            broker.createTopics(2, Topics.Names.DEFAULT.all());
            OutputSchemas schemas = new OutputSchemas(registry.url());
            Map<String, Object> props = Map.of("bootstrap.servers", broker.bootstrapServers(), "acks", "all");
            Instant now = Instant.now();
            ModerationVerdict verdict = ModerationVerdict.newBuilder().setUploadId("w-1").setUploaderId("u").setImageSha256("00")
                    .setLlr(3.5).setProbability(0.97).setLabel(VerdictLabel.SYNTHETIC).setThreshold(0).setModelId("tiny-clip-test")
                    .setHeadVersion(VERSION).setScoredAt(now).setEndToEndLatencyMs(5).setSourcePartition(0).setSourceOffset(0).build();
            UploaderBurstAlert burst = UploaderBurstAlert.newBuilder().setUploaderId("u").setCount(5).setWindowStart(now)
                    .setWindowEnd(now.plusSeconds(600)).setUploadIds(List.of("w-1")).setBurstCount(5).setProbabilityThreshold(0.9)
                    .setVerdictTopic(Topics.VERDICTS).build();
            try (var verdicts = new KafkaProducer<>(props, new StringSerializer(),
                    Topics.verdicts(Topics.VERDICTS, schemas).valueSerde().serializer());
                 var bursts = new KafkaProducer<>(props, new StringSerializer(),
                    Topics.burstAlerts(Topics.BURST_ALERTS, schemas).valueSerde().serializer())) {
                verdicts.send(new ProducerRecord<>(Topics.VERDICTS, "w-1", verdict)).get();
                bursts.send(new ProducerRecord<>(Topics.BURST_ALERTS, "u", burst)).get();
            }
            // Both records are there before the watch joins: its first poll returns them, and they must count.
            Run watch = new Cli(broker.bootstrapServers(), registry.url(), tmp)
                    .run("watch", "--from-beginning", "--expect", "1", "--timeout", "PT60S");
            assertThat(watch.out()).contains("VERDICT SYNTHETIC").contains("upload=w-1").contains("BURST   5 uploads of uploader=u");
            assertThat(watch.err()).doesNotContain("timed out");
        }
    }

    record Run(int exitCode, String out, String err) {}

    /** tools/clipguard against one broker and registry; each run's stdout and stderr are kept in files under {@code dir}. */
    record Cli(String bootstrapServers, String registryUrl, Path dir) {
        /** One run: tools/clipguard's JVM options and main class, this test's classpath; must exit 0. */
        Run run(String... args) throws Exception {
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
                    "--add-modules=jdk.incubator.vector"));
            if (Runtime.version().feature() >= 24) { // as tools/lib/jdk.sh: Netty's Unsafe use, without the JVM's warning
                command.add("--sun-misc-unsafe-memory-access=allow");
            }
            command.addAll(List.of("-Djava.util.logging.manager=org.jboss.logmanager.LogManager",
                    "-cp", System.getProperty("java.class.path"), ClipguardCli.class.getName()));
            command.addAll(List.of(args));
            command.addAll(List.of("--bootstrap-servers", bootstrapServers, "--registry-url", registryUrl));
            String name = String.join("-", List.of(args).subList(0, Math.min(2, args.length)));
            Path out = dir.resolve(name + ".out");
            Path err = dir.resolve(name + ".err");
            Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            boolean finished = process.waitFor(3, TimeUnit.MINUTES);
            if (!finished) {
                process.destroyForcibly().waitFor();
            }
            Run run = new Run(finished ? process.exitValue() : -1, Files.readString(out), Files.readString(err));
            assertThat(run.exitCode()).as("clipguard " + String.join(" ", args) + "\nstdout:\n" + run.out() + "\nstderr:\n" + run.err())
                    .isZero();
            return run;
        }
    }
}
