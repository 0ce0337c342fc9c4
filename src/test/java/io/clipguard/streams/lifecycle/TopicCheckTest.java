package io.clipguard.streams.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.testing.KafkaBroker;
import io.clipguard.testing.Waits;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The topic check on a real broker, with a topology shaped like the service's plus what later issues add (a global
 * store, a windowed aggregation behind a repartition): every internal topic is derived from the topology, created as
 * Kafka Streams would create it, and a wrong one is refused with a message that names it and says how to fix it.
 */
class TopicCheckTest {
    static KafkaBroker broker;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        broker = KafkaBroker.start();
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
    }

    @AfterAll
    static void stop() throws Exception {
        if (admin != null) admin.close();
        if (broker != null) broker.close();
    }

    /** uploads → (changelogged store) → verdicts; uploads → group by uploader → 1-min windowed count → bursts; heads → global store. */
    static Topology topology(String p) {
        StreamsBuilder b = new StreamsBuilder();
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore("pending"), Serdes.String(), Serdes.String()));
        b.addGlobalStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore("heads"), Serdes.String(), Serdes.String())
                        .withLoggingDisabled(), p + "heads", Consumed.with(Serdes.String(), Serdes.String()),
                () -> new Processor<String, String, Void, Void>() {
                    @Override
                    public void process(Record<String, String> record) {}
                });
        var uploads = b.stream(p + "uploads", Consumed.with(Serdes.String(), Serdes.String()));
        uploads.process(() -> new Processor<String, String, String, String>() {
            @Override
            public void process(Record<String, String> record) {}
        }, "pending").to(p + "verdicts", Produced.with(Serdes.String(), Serdes.String()));
        uploads.groupBy((k, v) -> v, Grouped.with("by-uploader", Serdes.String(), Serdes.String()))
                .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofMinutes(1)))
                .count(Materialized.as("bursts"))
                .toStream((w, n) -> w.key()).to(p + "bursts", Produced.with(Serdes.String(), Serdes.Long()));
        return b.build();
    }

    static Properties streamsProps(String p) throws java.io.IOException {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, p + "app");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(StreamsConfig.STATE_DIR_CONFIG, java.nio.file.Files.createTempDirectory("topic-check").toString());
        return props;
    }

    /** As in the service: the check runs on the topology that a constructed (not yet started) KafkaStreams holds. */
    static TopicCheck check(String p, Topology topology, KafkaStreams streams) throws java.io.IOException {
        assertThat(streams.state()).isEqualTo(KafkaStreams.State.CREATED);
        return new TopicCheck(topology, new StreamsConfig(streamsProps(p)), Duration.ofSeconds(10));
    }

    static void create(int partitions, String... names) throws Exception {
        broker.createTopics(partitions, names);
    }

    @Test
    void internalTopicsAreDerivedFromTheTopologyAndCreatedWithKafkaStreamsSettings() throws Exception {
        String p = "derive-";
        create(3, p + "uploads", p + "verdicts", p + "bursts");
        create(1, p + "heads");
        Topology topology = topology(p);
        try (KafkaStreams streams = new KafkaStreams(topology, streamsProps(p))) {
            TopicCheck.Result result = check(p, topology, streams).run(admin, true);

            assertThat(result.problems()).isEmpty();
            assertThat(result.expected()).extracting(TopicCheck.Expected::topic, TopicCheck.Expected::role, TopicCheck.Expected::partitions)
                    .containsExactlyInAnyOrder(
                            org.assertj.core.groups.Tuple.tuple(p + "uploads", TopicCheck.Role.INPUT, 0),
                            org.assertj.core.groups.Tuple.tuple(p + "verdicts", TopicCheck.Role.OUTPUT, 3),
                            org.assertj.core.groups.Tuple.tuple(p + "bursts", TopicCheck.Role.OUTPUT, 3),
                            org.assertj.core.groups.Tuple.tuple(p + "heads", TopicCheck.Role.GLOBAL_INPUT, 0),
                            org.assertj.core.groups.Tuple.tuple(p + "app-pending-changelog", TopicCheck.Role.CHANGELOG, 3),
                            org.assertj.core.groups.Tuple.tuple(p + "app-by-uploader-repartition", TopicCheck.Role.REPARTITION, 3),
                            org.assertj.core.groups.Tuple.tuple(p + "app-bursts-changelog", TopicCheck.Role.CHANGELOG, 3));
            assertThat(result.created()).containsExactlyInAnyOrder(p + "app-pending-changelog", p + "app-by-uploader-repartition",
                    p + "app-bursts-changelog");

            // Topics just created reach every broker's metadata cache a moment later (seconds on a loaded machine).
            var described = Waits.await("the created topics in the broker's metadata").ignoreExceptions()
                    .until(() -> admin.describeTopics(result.created()).allTopicNames().get(), d -> d.size() == 3);
            assertThat(described.values()).allSatisfy(d -> assertThat(d.partitions()).hasSize(3));
            assertThat(cleanupPolicy(p + "app-pending-changelog")).isEqualTo("compact");
            assertThat(cleanupPolicy(p + "app-bursts-changelog")).isEqualTo("compact,delete");
            assertThat(cleanupPolicy(p + "app-by-uploader-repartition")).isEqualTo("delete");

            // A second check finds everything in order and creates nothing.
            assertThat(check(p, topology, streams).run(admin, true)).satisfies(r -> {
                assertThat(r.problems()).isEmpty();
                assertThat(r.created()).isEmpty();
            });
            // Kafka Streams itself accepts what was created: it starts without complaining about its internal topics.
            streams.start();
            Waits.await("streams RUNNING")
                    .failFast("streams failed", () -> streams.state() == KafkaStreams.State.ERROR
                            || streams.state() == KafkaStreams.State.PENDING_ERROR)
                    .until(streams::state, state -> state == KafkaStreams.State.RUNNING);
        }
    }

    @Test
    void aChangelogWithOnePartitionIsRefusedWithWhatWasExpectedFoundAndTheFix() throws Exception {
        String p = "onepart-";
        create(4, p + "uploads", p + "verdicts", p + "bursts");
        create(1, p + "heads");
        broker.createTopics(new NewTopic(p + "app-pending-changelog", 1, (short) 1).configs(Map.of("cleanup.policy", "compact")));
        Topology topology = topology(p);
        KafkaStreams streams = new KafkaStreams(topology, streamsProps(p));
        TopicCheck check = check(p, topology, streams);
        TopicCheck.Result result = check.run(admin, true);
        streams.close();

        assertThat(result.problems()).singleElement().satisfies(problem -> {
            assertThat(problem.topic()).isEqualTo(p + "app-pending-changelog");
            assertThat(problem.expected()).startsWith("4 partitions").contains(p + "uploads");
            assertThat(problem.found()).isEqualTo("1 partitions");
            assertThat(problem.fix()).contains("kafka-topics.sh --bootstrap-server " + broker.bootstrapServers()
                    + " --delete --topic " + p + "app-pending-changelog")
                    .contains("kafka-streams-application-reset.sh --bootstrap-server " + broker.bootstrapServers()
                            + " --application-id " + p + "app");
        });
        // Nothing is created while something is wrong.
        assertThat(result.created()).isEmpty();
        assertThat(broker.topics()).doesNotContain(p + "app-bursts-changelog", p + "app-by-uploader-repartition");
        assertThat(check.message(result.problems(), "refused")).startsWith("refused (application id " + p + "app")
                .contains(p + "app-pending-changelog: expected 4 partitions").contains("found 1 partitions");
    }

    @Test
    void aChangelogThatIsNotCompactedAndAMissingOutputAreEachNamed() throws Exception {
        String p = "policy-";
        create(2, p + "uploads", p + "verdicts");
        create(1, p + "heads");
        broker.createTopics(new NewTopic(p + "app-pending-changelog", 2, (short) 1).configs(Map.of("cleanup.policy", "delete")));
        Topology topology = topology(p);
        KafkaStreams streams = new KafkaStreams(topology, streamsProps(p));
        TopicCheck.Result result = check(p, topology, streams).run(admin, true);
        streams.close();

        assertThat(result.problems()).extracting(TopicCheck.Problem::topic)
                .containsExactlyInAnyOrder(p + "app-pending-changelog", p + "bursts");
        assertThat(result.problems()).filteredOn(x -> x.topic().equals(p + "app-pending-changelog")).singleElement()
                .satisfies(x -> {
                    assertThat(x.expected()).startsWith("cleanup.policy=compact");
                    assertThat(x.found()).isEqualTo("cleanup.policy=delete");
                    assertThat(x.fix()).contains("kafka-configs.sh").contains("cleanup.policy=[compact]");
                });
        assertThat(result.problems()).filteredOn(x -> x.topic().equals(p + "bursts")).singleElement()
                .satisfies(x -> {
                    assertThat(x.expected()).contains("2 partitions");
                    assertThat(x.found()).isEqualTo("no such topic");
                    assertThat(x.fix()).contains("kafka-topics.sh --bootstrap-server " + broker.bootstrapServers()
                            + " --create --topic " + p + "bursts --partitions 2");
                });
    }

    private static String cleanupPolicy(String topic) throws Exception {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Collection<org.apache.kafka.clients.admin.ConfigEntry> entries = admin.describeConfigs(List.of(r)).all().get().get(r).entries();
        return entries.stream().filter(e -> e.name().equals("cleanup.policy")).findFirst().orElseThrow().value();
    }
}
