package io.clipguard.streams.lifecycle;

import io.clipguard.streams.config.ClipguardConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * What this instance runs: scoring ({@code clipguard.scoring.enabled}), the moderators' console
 * ({@code clipguard.console.enabled}), or both. With scoring off nothing of the scoring side is built: no Kafka
 * Streams, no detectors, no head seeding; the lifecycle beans and health checks ask {@link #scoring()} first.
 */
@ApplicationScoped
public class ServiceRoles {
    private static final Logger LOG = Logger.getLogger(ServiceRoles.class);
    /** What the scoring-side health checks report when scoring is off. */
    public static final String SCORING_OFF = ClipguardConfig.Scoring.OFF;

    @Inject
    ClipguardConfig config;

    // The console's own setting (the console package sits above this one; only its on/off matters here).
    @ConfigProperty(name = "clipguard.console.enabled", defaultValue = "false")
    boolean console;

    public boolean scoring() {
        return config.scoring().enabled();
    }

    /** Why an instance with these roles cannot start, if it cannot: both off leaves it nothing to run. */
    static Optional<String> refusal(boolean scoring, boolean console) {
        if (scoring || console) {
            return Optional.empty();
        }
        return Optional.of("clipguard refuses to start: clipguard.scoring.enabled=false (CLIPGUARD_SCORING_ENABLED) and"
                + " clipguard.console.enabled=false (CLIPGUARD_CONSOLE_ENABLED) leave it nothing to run. Fix: set"
                + " clipguard.scoring.enabled=true to score uploads, or clipguard.console.enabled=true for a console-only"
                + " instance, or both.");
    }

    // First of the startup observers, with ShutdownDeadline: an instance with nothing to run refuses before anything.
    void check(@Observes @Priority(0) StartupEvent event) {
        refusal(scoring(), console).ifPresent(message -> {
            throw new IllegalStateException(message);
        });
        if (!scoring()) {
            LOG.info("scoring is off (clipguard.scoring.enabled=false): this instance serves the console only; no"
                    + " scoring Kafka Streams, no detectors");
        }
    }
}
