package io.clipguard.console;

import io.clipguard.contracts.Topics;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import jakarta.inject.Singleton;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** The console's settings ({@code clipguard.console.*}; documented in application.properties and docs/console.md). */
@ConfigMapping(prefix = "clipguard.console")
public interface ConsoleConfig {
    /** Serve the console (pages, images, decisions) from this instance. */
    @WithDefault("false")
    boolean enabled();

    /** The console's own Kafka Streams application id (its global stores; never the scoring service's). */
    @WithDefault("${quarkus.kafka-streams.application-id}-console")
    String applicationId();

    /** name:role[,role]:bcrypt-hash per line; unset = no one can log in (OIDC aside). */
    Optional<Path> usersFile();

    @WithDefault("50")
    int pageSize();

    /** Store entries one queue page may read before it returns what it found with a "more" link. */
    @WithDefault("5000")
    int scanBudget();

    /** How long a decision POST waits for the broker's acknowledgement before telling the moderator it failed. */
    @WithDefault("10s")
    Duration decisionTimeout();

    /** How long reading an image back from the uploads topic may take. */
    @WithDefault("5s")
    Duration imageReadTimeout();

    Login login();

    Metrics metrics();

    interface Metrics {
        /** How often the Prometheus gauges are read again from the stores (and new heads and generators added). */
        @WithDefault("10s")
        Duration refresh();

        /**
         * Generator names are moderators' free text: at most this many get series (those with the most confirmed
         * uploads first), so that a stream of odd names cannot blow up Prometheus' series count.
         */
        @WithDefault("50")
        int maxGenerators();
    }

    /**
     * The service's settings the console shares (outside {@code clipguard.console}, so not in this mapping): the
     * cluster, the registry and the topic names, read once here for ConsoleStreams, UploadImages and DecisionWriter.
     * The console cannot read them from streams.config.ClipguardConfig: it depends on no service package.
     */
    @Singleton
    class Cluster {
        @ConfigProperty(name = "kafka.bootstrap.servers")
        String bootstrap;
        @ConfigProperty(name = "clipguard.registry.url")
        String registryUrl;
        @ConfigProperty(name = "clipguard.topics.uploads", defaultValue = Topics.UPLOADS)
        String uploadsTopic;
        @ConfigProperty(name = "clipguard.topics.alerts", defaultValue = Topics.ALERTS)
        String alertsTopic;
        @ConfigProperty(name = "clipguard.topics.burst-alerts", defaultValue = Topics.BURST_ALERTS)
        String burstAlertsTopic;
        @ConfigProperty(name = "clipguard.topics.verdicts", defaultValue = Topics.VERDICTS)
        String verdictsTopic;
        @ConfigProperty(name = "clipguard.topics.decisions", defaultValue = Topics.DECISIONS)
        String decisionsTopic;
    }

    interface Login {
        /** Failed logins per user name and per client address within the window before further tries are refused. */
        @WithDefault("5")
        int maxFailures();

        @WithDefault("5m")
        Duration failureWindow();
    }
}
