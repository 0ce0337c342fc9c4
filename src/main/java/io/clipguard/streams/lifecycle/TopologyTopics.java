package io.clipguard.streams.lifecycle;

import io.clipguard.streams.lifecycle.TopicCheck.Expected;
import io.clipguard.streams.lifecycle.TopicCheck.Found;
import io.clipguard.streams.lifecycle.TopicCheck.Role;
import java.lang.reflect.Field;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyDescription;
import org.apache.kafka.streams.processor.internals.InternalTopicConfig;
import org.apache.kafka.streams.processor.internals.InternalTopologyBuilder;

/**
 * The topics a topology needs, derived from the built {@link Topology} the way Kafka Streams' own partition assignor
 * derives them, so a store, repartition step or output added to the topology later is covered without touching this
 * class:
 * <ul>
 *   <li>source and global-store topics must exist; sources that Kafka Streams copartitions must agree;</li>
 *   <li>each store changelog has as many partitions as its subtopology has tasks (the largest partition count of the
 *       subtopology's sources), and the cleanup policy Kafka Streams gives it (compact for key-value stores);</li>
 *   <li>each repartition topic has its fixed partition count, or as many as the subtopology that writes it;</li>
 *   <li>each output (sink) topic exists with as many partitions as the subtopology that writes it.</li>
 * </ul>
 *
 * <p>Why internals: {@link TopologyDescription} does not say which stores are changelogged nor how repartition topics
 * are named; {@link InternalTopologyBuilder#subtopologyToTopicsInfo()} is what the assignor itself uses. Kafka's
 * version is pinned by the Quarkus BOM; {@code TopicCheckTest} fails if these internals change shape.
 */
final class TopologyTopics {
    private final Topology topology;
    private final StreamsConfig config;
    private final String applicationId;

    TopologyTopics(Topology topology, StreamsConfig config, String applicationId) {
        this.topology = topology;
        this.config = config;
        this.applicationId = applicationId;
    }

    /** Every topic the subtopologies and global stores read or write. */
    static Set<String> names(List<InternalTopologyBuilder.TopicsInfo> subtopologies, Set<String> globalInputs) {
        Set<String> names = new TreeSet<>();
        subtopologies.forEach(info -> {
            names.addAll(info.sourceTopics);
            names.addAll(info.sinkTopics);
            names.addAll(info.stateChangelogTopics.keySet());
        });
        names.addAll(globalInputs);
        return names;
    }

    /** Each topic as the topology needs it, given the partition counts of the topics found on the cluster. */
    List<Expected> expectations(List<InternalTopologyBuilder.TopicsInfo> subtopologies, Set<String> globalInputs,
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

    /** The groups of source topics that Kafka Streams copartitions (joined: same partition count required). */
    Collection<Set<String>> copartitionGroups() {
        return builder().copartitionGroups();
    }

    /** Kafka Streams' settings of every internal topic (changelogs and repartition topics), by name. */
    Map<String, InternalTopicConfig> internalTopicConfigs() {
        Map<String, InternalTopicConfig> configs = new HashMap<>();
        for (InternalTopologyBuilder.TopicsInfo info : subtopologies()) {
            configs.putAll(info.stateChangelogTopics);
            configs.putAll(info.repartitionSourceTopics);
        }
        return configs;
    }

    /** The subtopologies with their topics, as Kafka Streams' assignor sees them. */
    List<InternalTopologyBuilder.TopicsInfo> subtopologies() {
        // Subtopologies sort by id: upstream first, as the assignor resolves them.
        return List.copyOf(new java.util.TreeMap<>(builder().subtopologyToTopicsInfo()).values());
    }

    Set<String> globalInputs() {
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
}
