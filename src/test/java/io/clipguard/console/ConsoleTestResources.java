package io.clipguard.console;

import io.clipguard.console.security.UsersFile;
import io.clipguard.contracts.Topics;
import io.clipguard.testing.ApicurioRegistry;
import io.clipguard.testing.KafkaBroker;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * For the console's @QuarkusTest: a real broker (the service's topics and moderation-decisions) and registry, the
 * console on, a users file with two reviewers, a viewer and Prometheus' metrics user, and scoring off (a
 * console-only instance): only the records the test writes reach the console.
 */
public class ConsoleTestResources implements QuarkusTestResourceLifecycleManager {
    public static final String DECISIONS = Topics.DECISIONS;
    public static final String PASSWORD = "correct horse battery staple";
    /** The users file's user with the role metrics: what Prometheus scrapes /q/metrics as (HTTP Basic). */
    public static final String METRICS_USER = "prometheus";
    protected KafkaBroker broker;
    private ApicurioRegistry registry;

    /** The test's broker (a subclass may start one it can stop and restart). */
    protected KafkaBroker startBroker() throws Exception {
        return KafkaBroker.start();
    }

    /** Settings a subclass changes or adds. */
    protected Map<String, String> settings() {
        return Map.of();
    }

    @Override
    public Map<String, String> start() {
        try {
            Path tmp = Files.createTempDirectory("clipguard-console-test");
            broker = startBroker();
            broker.createTopics(2, Topics.Names.DEFAULT.all());
            registry = ApicurioRegistry.start(tmp.resolve("registry.log"));
            Path users = tmp.resolve("console-users");
            Files.writeString(users, String.join("\n",
                    "# test users",
                    UsersFile.line("alice", Set.of("reviewer"), PASSWORD.toCharArray()),
                    UsersFile.line("bob", Set.of("reviewer"), PASSWORD.toCharArray()),
                    UsersFile.line("vera", Set.of("viewer"), PASSWORD.toCharArray()),
                    UsersFile.line(METRICS_USER, Set.of("metrics"), PASSWORD.toCharArray())) + "\n");
            Map<String, String> config = new java.util.HashMap<>(Map.of(
                    "kafka.bootstrap.servers", broker.bootstrapServers(),
                    "clipguard.registry.url", registry.url(),
                    "clipguard.state-dir", tmp.resolve("streams").toString(),
                    "clipguard.engine.device", "cpu",
                    "clipguard.scoring.enabled", "false",
                    "clipguard.console.enabled", "true",
                    "clipguard.console.users-file", users.toString(),
                    "clipguard.console.decision-timeout", "5s",
                    "clipguard.console.metrics.refresh", "300ms"));
            config.putAll(settings());
            return config;
        } catch (Exception e) {
            throw new IllegalStateException("could not start Kafka and the registry for the console test", e);
        }
    }

    @Override
    public void stop() {
        try {
            if (registry != null) registry.close();
            if (broker != null) broker.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
