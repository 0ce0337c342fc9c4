package io.clipguard.streams.lifecycle;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyDescription;
import org.apache.kafka.streams.processor.internals.InternalTopicConfig;
import org.apache.kafka.streams.processor.internals.InternalTopicManager;
import org.apache.kafka.streams.processor.internals.InternalTopologyBuilder;

/**
 * Checks a topology's Kafka topics before (and while) it runs, and creates its missing internal topics.
 *
 * <p>Every expectation is derived from the built {@link Topology}, the way Kafka Streams' own partition assignor
 * derives it, so a store, repartition step or output added to the topology later is covered without touching this
 * class:
 * <ul>
 *   <li>source and global-store topics must exist; sources that Kafka Streams copartitions must agree;</li>
 *   <li>each store changelog has as many partitions as its subtopology has tasks (the largest partition count of the
 *       subtopology's sources), and the cleanup policy Kafka Streams gives it (compact for key-value stores);</li>
 *   <li>each repartition topic has its fixed partition count, or as many as the subtopology that writes it;</li>
 *   <li>each output (sink) topic exists with as many partitions as the subtopology that writes it.</li>
 * </ul>
 * Missing internal topics are created through Kafka Streams' own {@link InternalTopicManager}, so they get exactly
 * the settings (cleanup policy, replication factor, {@code topic.*} overrides) Kafka Streams would have given them.
 *
 * <p>Why internals: {@link TopologyDescription} does not say which stores are changelogged nor how repartition topics
 * are named; {@link InternalTopologyBuilder#subtopologyToTopicsInfo()} is what the assignor itself uses. Kafka's
 * version is pinned by the Quarkus BOM; {@code TopicCheckTest} fails if these internals change shape.
 */
public final class TopicCheck {
    /** What a topic is to the topology. */
    public enum Role { INPUT, GLOBAL_INPUT, OUTPUT, CHANGELOG, REPARTITION }

    /** {@link Problem#found()} of a topic that does not exist. */
    public static final String NO_SUCH_TOPIC = "no such topic";

    /** One topic as the topology needs it; {@code partitions} is 0 when it cannot be known (its sources are missing). */
    public record Expected(String topic, Role role, int partitions, String why, Optional<String> cleanupPolicy) {
        boolean internal() {
            return role == Role.CHANGELOG || role == Role.REPARTITION;
        }
    }

    /** A topic that is not what the topology needs: what was expected, what was found, and the command that fixes it. */
    public record Problem(String topic, String expected, String found, String fix) {
        @Override
        public String toString() {
            return topic + ": expected " + expected + "; found " + found + ".\n    Fix: " + fix;
        }
    }

    /** A topic as found on the cluster. */
    public record Found(Uuid id, int partitions) {}

    /** The outcome: problems (empty when all is well), the topics as found, and the internal topics created now. */
    public record Result(String clusterId, List<Expected> expected, Map<String, Found> found, List<Problem> problems,
                         Set<String> created) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    private final Topology topology;
    private final StreamsConfig config;
    private final String applicationId;
    private final String bootstrap;
    private final long timeoutMs;

    /**
     * @param topology the topology Kafka Streams runs, after KafkaStreams' constructor has prepared it for its config
     *                 (which decides, e.g., which stores are changelogged); before start
     * @param config   the application's Streams config (application id, topic.* overrides, replication factor)
     * @param timeout  bound for each round of Admin calls
     */
    public TopicCheck(Topology topology, StreamsConfig config, java.time.Duration timeout) {
        this.topology = topology;
        this.config = config;
        this.applicationId = config.getString(StreamsConfig.APPLICATION_ID_CONFIG);
        this.bootstrap = String.join(",", config.getList(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG));
        this.timeoutMs = timeout.toMillis();
    }

    public String applicationId() {
        return applicationId;
    }

    /**
     * Checks every topic; when {@code createMissingInternal} and nothing else is wrong, creates the missing internal
     * topics with Kafka Streams' settings.
     *
     * @throws TimeoutException when the cluster does not answer within the timeout
     */
    public Result run(Admin admin, boolean createMissingInternal) throws TimeoutException, InterruptedException {
        String clusterId = get(admin.describeCluster().clusterId());
        List<InternalTopologyBuilder.TopicsInfo> subtopologies = subtopologies();
        Set<String> names = new TreeSet<>();
        subtopologies.forEach(info -> {
            names.addAll(info.sourceTopics);
            names.addAll(info.sinkTopics);
            names.addAll(info.stateChangelogTopics.keySet());
        });
        Set<String> globalInputs = globalInputs();
        names.addAll(globalInputs);
        Map<String, Found> found = describe(admin, names);

        List<Expected> expected = expectations(subtopologies, globalInputs, found);
        List<Problem> problems = new ArrayList<>();
        problems.addAll(copartitionProblems(found));
        Map<String, Expected> missingInternal = new LinkedHashMap<>();
        Map<String, String> policies = cleanupPolicies(admin, expected.stream()
                .filter(e -> e.internal() && found.containsKey(e.topic())).map(Expected::topic).toList());
        for (Expected e : expected) {
            Found f = found.get(e.topic());
            if (f == null) {
                if (e.internal()) {
                    missingInternal.put(e.topic(), e);
                } else {
                    problems.add(missingUserTopic(e));
                }
            } else if (e.partitions() > 0 && f.partitions() != e.partitions()) {
                problems.add(wrongPartitions(e, f));
            } else if (e.cleanupPolicy().isPresent() && !samePolicy(e.cleanupPolicy().get(), policies.get(e.topic()))) {
                problems.add(new Problem(e.topic(), "cleanup.policy=" + e.cleanupPolicy().get() + " (" + e.why() + ")",
                        "cleanup.policy=" + policies.get(e.topic()),
                        "kafka-configs.sh --bootstrap-server " + bootstrap + " --alter --entity-type topics --entity-name "
                                + e.topic() + " --add-config cleanup.policy=[" + e.cleanupPolicy().get() + "]"));
            }
        }
        Set<String> created = Set.of();
        if (problems.isEmpty() && !missingInternal.isEmpty()) {
            if (!createMissingInternal || missingInternal.values().stream().anyMatch(e -> e.partitions() == 0)) {
                missingInternal.values().forEach(e -> problems.add(new Problem(e.topic(), e.partitions() + " partitions ("
                        + e.why() + ")", NO_SUCH_TOPIC, "start clipguard again: it creates its internal topics when every"
                        + " other topic is in order")));
            } else {
                created = create(admin, missingInternal);
                found.putAll(describe(admin, created));
            }
        }
        return new Result(clusterId, expected, found, problems, created);
    }

    /** One message for all problems, naming each topic, what was expected, what was found and the fix. */
    public String message(List<Problem> problems, String context) {
        return context + " (application id " + applicationId + ", bootstrap servers " + bootstrap + "):\n  - "
                + problems.stream().map(Problem::toString).collect(Collectors.joining("\n  - "))
                + "\nKafka Streams and clipguard never create the input and output topics; keep auto.create.topics.enable=false"
                + " on the brokers so that no client recreates a lost topic with the wrong partition count.";
    }

    // ---- expectations, derived from the topology ----

    private List<Expected> expectations(List<InternalTopologyBuilder.TopicsInfo> subtopologies, Set<String> globalInputs,
                                        Map<String, Found> found) {
        Map<String, Integer> repartitionPartitions = repartitionPartitions(subtopologies, found);
        Map<String, Expected> out = new LinkedHashMap<>();
        for (InternalTopologyBuilder.TopicsInfo info : subtopologies) {
            Set<String> repartitionSources = info.repartitionSourceTopics.keySet();
            // Tasks of this subtopology: the largest partition count among its sources (0 = not known yet).
            int tasks = 0;
            String widest = null;
            for (String source : info.sourceTopics) {
                int p = repartitionSources.contains(source) ? repartitionPartitions.getOrDefault(source, 0)
                        : Optional.ofNullable(found.get(source)).map(Found::partitions).orElse(0);
                if (p > tasks) {
                    tasks = p;
                    widest = source;
                }
            }
            String sourceNote = widest == null ? "its sources " + info.sourceTopics + " are missing"
                    : "as many as " + widest + ", the widest source of its subtopology";
            for (String source : info.sourceTopics) {
                if (!repartitionSources.contains(source)) {
                    out.putIfAbsent(source, new Expected(source, Role.INPUT, 0, "input", Optional.empty()));
                }
            }
            for (String sink : info.sinkTopics) {
                if (!isRepartition(sink, subtopologies)) {
                    out.putIfAbsent(sink, new Expected(sink, Role.OUTPUT, tasks, "output, " + sourceNote, Optional.empty()));
                }
            }
            for (Map.Entry<String, InternalTopicConfig> e : info.stateChangelogTopics.entrySet()) {
                if (info.sourceTopicChangelogs().contains(e.getKey())) {
                    continue; // a source topic reused as a changelog: checked as an input
                }
                out.put(e.getKey(), new Expected(e.getKey(), Role.CHANGELOG, tasks, "store changelog, " + sourceNote,
                        Optional.ofNullable(policy(e.getValue()))));
            }
            for (Map.Entry<String, InternalTopicConfig> e : info.repartitionSourceTopics.entrySet()) {
                int p = repartitionPartitions.getOrDefault(e.getKey(), 0);
                out.put(e.getKey(), new Expected(e.getKey(), Role.REPARTITION, p, e.getValue().hasEnforcedNumberOfPartitions()
                        ? "fixed by the topology" : "repartition topic, as many as the subtopology writing it",
                        Optional.ofNullable(policy(e.getValue()))));
            }
        }
        for (String g : globalInputs) {
            out.putIfAbsent(g, new Expected(g, Role.GLOBAL_INPUT, 0, "global store input", Optional.empty()));
        }
        return List.copyOf(out.values());
    }

    /** Repartition topics: the fixed count, or the task count of the subtopology writing them (resolved upstream first). */
    private static Map<String, Integer> repartitionPartitions(List<InternalTopologyBuilder.TopicsInfo> subtopologies,
                                                              Map<String, Found> found) {
        Map<String, Integer> result = new HashMap<>();
        Map<String, InternalTopicConfig> all = new HashMap<>();
        subtopologies.forEach(i -> all.putAll(i.repartitionSourceTopics));
        all.forEach((name, c) -> c.numberOfPartitions().filter(n -> c.hasEnforcedNumberOfPartitions())
                .ifPresent(n -> result.put(name, n)));
        boolean progress = true;
        while (progress) {
            progress = false;
            for (String topic : all.keySet()) {
                if (result.containsKey(topic)) {
                    continue;
                }
                int max = 0;
                for (InternalTopologyBuilder.TopicsInfo writer : subtopologies) {
                    if (!writer.sinkTopics.contains(topic)) {
                        continue;
                    }
                    for (String s : writer.sourceTopics) {
                        Integer p = all.containsKey(s) ? result.get(s)
                                : Optional.ofNullable(found.get(s)).map(Found::partitions).orElse(null);
                        max = Math.max(max, p == null ? 0 : p);
                    }
                }
                if (max > 0) {
                    result.put(topic, max);
                    progress = true;
                }
            }
        }
        return result;
    }

    private static boolean isRepartition(String topic, List<InternalTopologyBuilder.TopicsInfo> subtopologies) {
        return subtopologies.stream().anyMatch(i -> i.repartitionSourceTopics.containsKey(topic));
    }

    private List<Problem> copartitionProblems(Map<String, Found> found) {
        List<Problem> problems = new ArrayList<>();
        for (Set<String> group : builder().copartitionGroups()) {
            Map<String, Integer> counts = group.stream().filter(found::containsKey)
                    .collect(Collectors.toMap(t -> t, t -> found.get(t).partitions(), (a, b) -> a, LinkedHashMap::new));
            if (new HashSet<>(counts.values()).size() > 1) {
                problems.add(new Problem(String.join(", ", counts.keySet()), "the same partition count (they are joined)",
                        counts.toString(), "give them the same partition count (kafka-topics.sh --alter --partitions N on the"
                        + " smaller ones), then reset the application (kafka-streams-application-reset.sh)"));
            }
        }
        return problems;
    }

    private Problem missingUserTopic(Expected e) {
        String partitions = e.partitions() > 0 ? String.valueOf(e.partitions()) : "N";
        return new Problem(e.topic(), "an existing topic (" + e.why() + (e.partitions() > 0 ? ", " + e.partitions()
                + " partitions" : "") + ")", NO_SUCH_TOPIC,
                "kafka-topics.sh --bootstrap-server " + bootstrap + " --create --topic " + e.topic() + " --partitions "
                        + partitions + " (tools/clipguard create-topics --partitions " + partitions
                        + " creates the default topics)");
    }

    private Problem wrongPartitions(Expected e, Found f) {
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

    // ---- the cluster ----

    private Map<String, Found> describe(Admin admin, Collection<String> names) throws TimeoutException, InterruptedException {
        Map<String, Found> found = new HashMap<>();
        if (names.isEmpty()) {
            return found;
        }
        Map<String, KafkaFuture<TopicDescription>> futures = admin.describeTopics(names).topicNameValues();
        for (Map.Entry<String, KafkaFuture<TopicDescription>> e : futures.entrySet()) {
            try {
                TopicDescription d = e.getValue().get(timeoutMs, TimeUnit.MILLISECONDS);
                found.put(e.getKey(), new Found(d.topicId(), d.partitions().size()));
            } catch (ExecutionException ex) {
                if (!(ex.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw timeout("describe topic " + e.getKey(), ex.getCause());
                }
            }
        }
        return found;
    }

    private Map<String, String> cleanupPolicies(Admin admin, List<String> topics) throws TimeoutException, InterruptedException {
        if (topics.isEmpty()) {
            return Map.of();
        }
        Map<ConfigResource, Config> configs = get(admin.describeConfigs(topics.stream()
                .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList()).all());
        Map<String, String> out = new HashMap<>();
        configs.forEach((r, c) -> out.put(r.name(), Optional.ofNullable(c.get(TopicConfig.CLEANUP_POLICY_CONFIG))
                .map(ConfigEntry::value).orElse("")));
        return out;
    }

    /** Creates the missing internal topics with Kafka Streams' own settings and the partition counts derived above. */
    private Set<String> create(Admin admin, Map<String, Expected> missing) {
        Map<String, InternalTopicConfig> configs = new HashMap<>();
        for (InternalTopologyBuilder.TopicsInfo info : subtopologies()) {
            configs.putAll(info.stateChangelogTopics);
            configs.putAll(info.repartitionSourceTopics);
        }
        configs.keySet().retainAll(missing.keySet());
        configs.forEach((name, c) -> {
            if (!c.hasEnforcedNumberOfPartitions()) {
                c.setNumberOfPartitions(missing.get(name).partitions());
            }
        });
        return new InternalTopicManager(Time.SYSTEM, admin, config).makeReady(configs);
    }

    private <T> T get(KafkaFuture<T> future) throws TimeoutException, InterruptedException {
        try {
            return future.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw timeout("reach the cluster", e.getCause());
        }
    }

    private TimeoutException timeout(String what, Throwable cause) {
        TimeoutException t = new TimeoutException("could not " + what + " at " + bootstrap + ": " + cause);
        t.initCause(cause);
        return t;
    }

    // ---- the topology, as Kafka Streams' assignor sees it ----

    private List<InternalTopologyBuilder.TopicsInfo> subtopologies() {
        // Subtopologies sort by id: upstream first, as the assignor resolves them.
        return List.copyOf(new java.util.TreeMap<>(builder().subtopologyToTopicsInfo()).values());
    }

    private Set<String> globalInputs() {
        Set<String> out = new TreeSet<>();
        for (TopologyDescription.GlobalStore g : topology.describe().globalStores()) {
            out.addAll(g.source().topicSet());
        }
        return out;
    }

    private InternalTopologyBuilder builder() {
        try {
            Field f = Topology.class.getDeclaredField("internalTopologyBuilder");
            f.setAccessible(true);
            InternalTopologyBuilder b = (InternalTopologyBuilder) f.get(topology);
            // Internal topic names are prefixed with the application id; KafkaStreams' constructor sets the same one.
            return b.setApplicationId(applicationId);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("this Kafka Streams version has no Topology.internalTopologyBuilder", e);
        }
    }

    private String policy(InternalTopicConfig c) {
        return c.properties(Map.of(), config.getLong(StreamsConfig.WINDOW_STORE_CHANGE_LOG_ADDITIONAL_RETENTION_MS_CONFIG))
                .get(TopicConfig.CLEANUP_POLICY_CONFIG);
    }

    private static boolean samePolicy(String expected, String actual) {
        return actual != null && policySet(expected).equals(policySet(actual));
    }

    private static Set<String> policySet(String policy) {
        return java.util.Arrays.stream(policy.replaceAll("[\\[\\]]", "").split(",")).map(String::strip)
                .filter(s -> !s.isEmpty()).collect(Collectors.toSet());
    }
}
