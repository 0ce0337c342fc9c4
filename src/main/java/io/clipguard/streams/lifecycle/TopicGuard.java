package io.clipguard.streams.lifecycle;

import io.clipguard.streams.config.ClipguardConfig;
import io.quarkus.kafka.streams.runtime.KafkaStreamsTopologyManager;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.jboss.logging.Logger;

/**
 * Runs the {@link TopicCheck} before Kafka Streams starts, and again every {@code topic-check-interval} while it runs.
 *
 * <p>At start: missing internal topics are created with Kafka Streams' settings; anything else wrong (a missing input
 * or output, a partition count or cleanup policy that does not match) refuses the start: one error message naming each
 * topic, what was expected, what was found and the fixing command; Kafka Streams is closed before it ever starts, and
 * liveness and readiness are DOWN with that message. While running: the same check, plus the cluster id and every
 * topic id must stay those seen at start. A new cluster under the same address, or a topic deleted and recreated, stops
 * Kafka Streams the same way rather than letting its clients write into topics that are not the ones it started with.
 * An unreachable cluster is not a failure (Kafka Streams rides out broker restarts); the check waits for the next round.
 */
@ApplicationScoped
public class TopicGuard {
    private static final Logger LOG = Logger.getLogger(TopicGuard.class);
    private static final Duration ADMIN_CALL_TIMEOUT = Duration.ofSeconds(10);

    // Looked up only when scoring runs: with clipguard.scoring.enabled=false there is no topology, and the Quarkus
    // extension makes no Kafka Streams, streams config or topology manager.
    @Inject
    Instance<KafkaStreams> streamsInstance;

    @Inject
    Instance<StreamsConfig> streamsConfigInstance;

    @Inject
    Instance<Topology> topologyInstance;

    @Inject
    ServiceRoles roles;

    @Inject
    ClipguardConfig config;

    @Inject
    LifecycleStatus status;

    @Inject
    Instance<KafkaStreamsTopologyManager> extensionStarter;

    private KafkaStreams streams;

    private Admin admin;
    private TopicCheck check;
    private TopicCheck.Result baseline;
    private ScheduledExecutorService monitor;

    // After ShutdownDeadline (0), before the Kafka Streams extension starts the streams (default priority).
    void beforeStreamsStart(@Observes @Priority(10) StartupEvent event) throws InterruptedException {
        if (!roles.scoring()) {
            return;
        }
        streams = streamsInstance.get();
        StreamsConfig streamsConfig = streamsConfigInstance.get();
        Topology topology = topologyInstance.get();
        admin = Admin.create(streamsConfig.getAdminConfigs("clipguard-topic-check"));
        Duration timeout = config.topicCheckTimeout();
        check = new TopicCheck(topology, streamsConfig, timeout.compareTo(ADMIN_CALL_TIMEOUT) < 0 ? timeout : ADMIN_CALL_TIMEOUT);
        long deadline = System.nanoTime() + timeout.toNanos();
        TopicCheck.Result result = null;
        while (result == null) {
            try {
                result = check.run(admin, true);
                // A topic created a moment ago (tools/run-local, an operator) may not be visible to every broker yet.
                if (result.problems().stream().anyMatch(p -> p.found().equals(TopicCheck.NO_SUCH_TOPIC))
                        && System.nanoTime() < deadline) {
                    LOG.infof("topic check: waiting for %s", result.problems().stream()
                            .filter(p -> p.found().equals(TopicCheck.NO_SUCH_TOPIC)).map(TopicCheck.Problem::topic).toList());
                    result = null;
                    Thread.sleep(1000);
                }
            } catch (RuntimeException e) {
                // E.g. an internal topic that could not be created (ACLs, broker limits): refuse, saying why.
                LOG.debug("topic check failed", e);
                stop("clipguard refuses to start: its topic check failed: " + e + "\nFix: see the cause above; the"
                        + " topics of application " + check.applicationId() + " must be creatable or already in place.");
                return;
            } catch (TimeoutException e) {
                if (System.nanoTime() > deadline) {
                    stop("clipguard refuses to start: the Kafka cluster did not answer within " + timeout
                            + " (clipguard.topic-check-timeout): " + e.getMessage() + "\nFix: check kafka.bootstrap.servers"
                            + " (KAFKA_BOOTSTRAP_SERVERS) and that the brokers are up, then restart clipguard.");
                    return;
                }
                LOG.warnf("topic check: %s; retrying", e.getMessage());
                Thread.sleep(1000);
            }
        }
        if (!result.ok()) {
            stop(check.message(result.problems(), "clipguard refuses to start: its topics are not what its topology needs"));
            return;
        }
        baseline = result;
        LOG.infof("topics checked on cluster %s: %s%s", baseline.clusterId(), baseline.expected().stream()
                        .map(e -> e.topic() + "(" + baseline.found().get(e.topic()).partitions() + ")").toList(),
                baseline.created().isEmpty() ? "" : "; created the internal topics " + baseline.created());
        if (!config.topicCheckInterval().isZero()) {
            monitor = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "clipguard-topic-guard");
                t.setDaemon(true);
                return t;
            });
            long every = config.topicCheckInterval().toMillis();
            monitor.scheduleWithFixedDelay(this::recheck, every, every, TimeUnit.MILLISECONDS);
        }
    }

    void recheck() {
        TopicCheck.Result now;
        try {
            now = check.run(admin, false);
        } catch (TimeoutException e) {
            LOG.debugf("topic check skipped, the cluster does not answer: %s", e.getMessage());
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (RuntimeException e) {
            LOG.warnf(e, "topic check failed; retrying in %s", config.topicCheckInterval());
            return;
        }
        List<TopicCheck.Problem> problems = new ArrayList<>();
        if (!now.clusterId().equals(baseline.clusterId())) {
            problems.add(new TopicCheck.Problem("(cluster)", "cluster id " + baseline.clusterId() + ", where clipguard started",
                    "cluster id " + now.clusterId() + ": a different cluster answers at the same address",
                    "create the topics on the new cluster (tools/clipguard create-topics), then restart clipguard;"
                            + " uploads that were waiting on the old cluster are gone with it"));
        }
        for (Map.Entry<String, TopicCheck.Found> e : baseline.found().entrySet()) {
            TopicCheck.Found current = now.found().get(e.getKey());
            if (current != null && !current.id().equals(e.getValue().id())) {
                problems.add(new TopicCheck.Problem(e.getKey(), "topic id " + e.getValue().id() + ", as at start",
                        "topic id " + current.id() + " (deleted and recreated)",
                        "restart clipguard; it checks the topics again before it processes anything"));
            }
        }
        problems.addAll(now.problems());
        if (!problems.isEmpty()) {
            stop(check.message(problems, "clipguard stops: its topics changed while it ran"));
            monitor.shutdown();
        }
    }

    /** Refuses to go on: liveness DOWN with the message, Kafka Streams closed (bounded) so its clients touch nothing. */
    private void stop(String message) {
        LOG.error(message);
        status.fail(message);
        if (streams.state() == KafkaStreams.State.CREATED) {
            cancelExtensionStart();
        }
        if (!streams.close(new KafkaStreams.CloseOptions().timeout(config.shutdownCloseTimeout()))) {
            LOG.warnf("Kafka Streams did not close within %s", config.shutdownCloseTimeout());
        }
    }

    /**
     * The Quarkus extension starts Kafka Streams from its own startup observer, after this one, unless its topology
     * manager is closed (what its shutdown does). Closing it here keeps a refused instance from being started; its
     * close() is package-private, hence reflection. Were that to fail, the extension's start of the closed streams
     * fails with an IllegalStateException in its executor: noisy, not harmful.
     */
    private void cancelExtensionStart() {
        try {
            java.lang.reflect.Method close = KafkaStreamsTopologyManager.class.getDeclaredMethod("close");
            close.setAccessible(true);
            close.invoke(extensionStarter.get());
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debugf(e, "could not cancel the Kafka Streams extension's start");
        }
    }

    void onShutdown(@Observes @Priority(0) ShutdownEvent event) {
        if (monitor != null) {
            monitor.shutdownNow();
        }
        if (admin != null) {
            admin.close(Duration.ZERO);
        }
    }
}
