package io.clipguard.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

/**
 * Waiting for real state instead of sleeping: what a test waits for (a consumer group's committed offsets, a gauge, a
 * health endpoint) is polled until it holds. The timeout is generous because the build machine is 2 shared cores; the
 * poll interval is short, so a wait costs what the condition takes and no more.
 */
public final class Waits {
    /** Long enough for a loaded 2-core machine; a wait that holds returns as soon as it does. */
    public static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final Duration POLL = Duration.ofMillis(50);

    private Waits() {}

    /** Awaitility with this suite's timeout and poll interval; {@code what} names the condition in a timeout's message. */
    public static ConditionFactory await(String what) {
        return Awaitility.await(what).atMost(TIMEOUT).pollDelay(Duration.ZERO).pollInterval(POLL);
    }

    /**
     * Until group {@code groupId} has committed the end offset of every partition of {@code topic}: it consumed all of
     * it, and under exactly-once whatever it wrote for those records (outputs, changelogged store entries) is committed
     * with those offsets. A partition without records counts as consumed.
     */
    public static void committedToEnd(String bootstrap, String groupId, String topic) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            await("group " + groupId + " committed the end of " + topic)
                    .until(() -> lag(admin, groupId, topic), lag -> lag.values().stream().allMatch(n -> n == 0));
        }
    }

    /** Partition → records of {@code topic} not yet committed by {@code groupId}. */
    static Map<TopicPartition, Long> lag(Admin admin, String groupId, String topic) throws ExecutionException, InterruptedException {
        Set<TopicPartition> partitions = admin.describeTopics(Set.of(topic)).allTopicNames().get().get(topic).partitions().stream()
                .map(p -> new TopicPartition(topic, p.partition())).collect(Collectors.toSet());
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(
                partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()))).all().get();
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get();
        return partitions.stream().collect(Collectors.toMap(p -> p, p -> {
            OffsetAndMetadata c = committed.get(p);
            return ends.get(p).offset() - (c == null ? 0 : c.offset());
        }));
    }

    /** Until a GET of {@code url} answers a body containing {@code expected}; returns that body. */
    public static String bodyContains(HttpClient http, URI url, String expected, Duration timeout) {
        return bodyContains(http, HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(5)).build(), expected, timeout);
    }

    /** Until {@code request} (e.g. with credentials) answers a body containing {@code expected}; returns that body. */
    public static String bodyContains(HttpClient http, HttpRequest request, String expected, Duration timeout) {
        return await("'" + expected + "' at " + request.uri()).atMost(timeout).ignoreExceptionsInstanceOf(java.io.IOException.class)
                .until(() -> http.send(request, HttpResponse.BodyHandlers.ofString()).body(), body -> body.contains(expected));
    }
}
