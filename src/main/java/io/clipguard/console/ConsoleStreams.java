package io.clipguard.console;

import io.clipguard.console.store.ConsoleTopology;
import io.clipguard.console.store.ReadModel;
import io.clipguard.contracts.Topics;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The console's own Kafka Streams instance (application id {@code <app-id>-console}), separate from the scoring
 * topology so that the console runs the same with scoring on or off. Its topology holds only global stores, so it
 * joins no consumer group: every console instance reads all four topics and can answer every page. It starts once the
 * topics exist (a console may start before {@code create-topics} has run) and serves pages once its stores are
 * restored (state RUNNING); until then pages answer 503 saying why.
 */
@ApplicationScoped
public class ConsoleStreams {
    private static final Logger LOG = Logger.getLogger(ConsoleStreams.class);

    @Inject
    ConsoleConfig config;
    @Inject
    ConsoleConfig.Cluster cluster;
    @ConfigProperty(name = "clipguard.state-dir")
    Path stateDir;

    private volatile KafkaStreams streams;
    private volatile String waitingFor = "starting";
    private volatile boolean stopping;
    private Thread starter;
    private final Map<String, ReadOnlyKeyValueStore<String, byte[]>> stores = new ConcurrentHashMap<>();
    private final ReadModel readModel = new ReadModel(this::store);

    void onStart(@Observes StartupEvent event) {
        if (!config.enabled()) {
            return;
        }
        starter = Thread.ofPlatform().daemon().name("console-streams-start").start(() -> {
            try {
                startWhenTopicsExist();
            } catch (RuntimeException e) {
                waitingFor = "the console's streams could not start: " + e.getMessage();
                LOG.error("console: " + waitingFor, e);
            }
        });
    }

    void onStop(@Observes ShutdownEvent event) {
        stopping = true;
        if (starter != null) starter.interrupt();
        KafkaStreams s = streams;
        if (s != null) s.close(Duration.ofSeconds(5));
    }

    /** Why pages cannot be served yet (topics missing, stores restoring, streams failed); empty once they can. */
    public java.util.Optional<String> notReady() {
        KafkaStreams s = streams;
        return s != null && s.state() == KafkaStreams.State.RUNNING ? java.util.Optional.empty() : java.util.Optional.of(waitingFor);
    }

    /** The read model over this instance's stores (throws {@link ConsoleUnavailableException} until they are ready). */
    public ReadModel readModel() {
        return readModel;
    }

    private ReadOnlyKeyValueStore<String, byte[]> store(String name) {
        KafkaStreams s = streams;
        if (s == null || s.state() != KafkaStreams.State.RUNNING) {
            throw new ConsoleUnavailableException("the console's stores are not ready: " + waitingFor, null);
        }
        return stores.computeIfAbsent(name, n -> s.store(StoreQueryParameters.fromNameAndType(n,
                QueryableStoreTypes.<String, byte[]>keyValueStore())));
    }

    private void startWhenTopicsExist() {
        List<String> topics = List.of(cluster.alertsTopic, cluster.burstAlertsTopic, cluster.verdictsTopic,
                cluster.decisionsTopic);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000))) {
            long backoff = 500;
            while (!stopping) {
                try {
                    Set<String> present = admin.listTopics().names().get();
                    List<String> missing = topics.stream().filter(t -> !present.contains(t)).toList();
                    if (missing.isEmpty()) break;
                    waitingFor = "waiting for topics " + missing + " (create them with tools/clipguard create-topics)";
                } catch (Exception e) {
                    waitingFor = "waiting for the Kafka cluster at " + cluster.bootstrap + ": " + e.getMessage();
                }
                LOG.warn("console: " + waitingFor);
                Thread.sleep(backoff);
                backoff = Math.min(backoff * 2, 10_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (stopping) return;
        waitingFor = "restoring the stores from the topics";
        rebuildIfLayoutChanged(stateDir.resolve("console"));
        KafkaStreams s = new KafkaStreams(ConsoleTopology.build(
                new ConsoleTopology.Sources(cluster.alertsTopic, cluster.burstAlertsTopic, cluster.verdictsTopic,
                        cluster.decisionsTopic),
                new ConsoleTopology.Readers() {
                    @Override
                    public <T> Deserializer<T> reader() {
                        return Topics.avroReader(cluster.registryUrl);
                    }
                }), properties());
        s.setStateListener((now, before) -> {
            LOG.infof("console streams %s -> %s", before, now);
            if (now == KafkaStreams.State.ERROR) waitingFor = "the console's streams failed (see the log)";
            stores.clear();
        });
        streams = s;
        s.start();
    }

    /**
     * Stores built with another key layout (an older console) are deleted, so that they are rebuilt from the topics
     * with every index; the folder then records this layout's version.
     */
    static void rebuildIfLayoutChanged(Path dir) {
        Path marker = dir.resolve("layout-version");
        String current = String.valueOf(ConsoleTopology.LAYOUT_VERSION);
        try {
            if (java.nio.file.Files.isDirectory(dir)) {
                String found = java.nio.file.Files.isRegularFile(marker) ? java.nio.file.Files.readString(marker).strip() : "none";
                if (found.equals(current)) return;
                LOG.infof("console: stores in %s have key layout %s, this console uses %s: rebuilding them from the topics",
                        dir, found, current);
                try (var files = java.nio.file.Files.walk(dir)) {
                    for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        java.nio.file.Files.delete(p);
                    }
                }
            }
            java.nio.file.Files.createDirectories(dir);
            java.nio.file.Files.writeString(marker, current + "\n");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("could not prepare the console's state folder " + dir
                    + " (delete it by hand to rebuild the stores)", e);
        }
    }

    private Properties properties() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrap);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.resolve("console").toString());
        // A record the registry cannot decode is logged and skipped: one bad record must not stop the console.
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueExceptionHandler.class);
        return p;
    }
}
