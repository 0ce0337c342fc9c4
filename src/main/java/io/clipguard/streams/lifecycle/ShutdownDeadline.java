package io.clipguard.streams.lifecycle;

import io.clipguard.streams.config.ClipguardConfig;
import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import org.jboss.logging.Logger;

/**
 * Bounds the whole shutdown: from SIGTERM (or any stop), the process ends within {@code shutdown-drain-timeout +
 * shutdown-close-timeout}. The drain and Kafka Streams' close are themselves bounded ({@link ShutdownDrain},
 * {@link BoundedKafkaClients}); this is the backstop for whatever still waits without limit, e.g. the Quarkus Kafka
 * Streams extension's own {@code KafkaStreams.close()}, which has no timeout. When the deadline passes the JVM halts:
 * safe under exactly-once, as a crash is (open transactions abort; waiting uploads stay in the changelogged store).
 */
@ApplicationScoped
public class ShutdownDeadline {
    /** The exit status of a JVM ended by SIGTERM, kept when the deadline has to end it. */
    static final int EXIT_STATUS = 143;
    private static final Logger LOG = Logger.getLogger(ShutdownDeadline.class);

    @Inject
    ClipguardConfig config;

    private volatile long deadlineNanos = Long.MAX_VALUE;
    private volatile Thread watchdog;

    /** The whole shutdown's bound. */
    public Duration bound() {
        return config.shutdownDrainTimeout().plus(config.shutdownCloseTimeout());
    }

    /** Time left before the deadline (the full bound while no shutdown has begun). */
    public Duration remaining() {
        return deadlineNanos == Long.MAX_VALUE ? bound() : Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime()));
    }

    // First of all startup observers: a SIGTERM while the start-up is still running (topic check, model) is bounded too.
    void onStart(@Observes @Priority(0) StartupEvent event) {
        Runtime.getRuntime().addShutdownHook(new Thread(this::arm, "clipguard-shutdown-deadline-hook"));
    }

    // Before the drain (priority 1) and the Kafka Streams extension's close.
    void onShutdown(@Observes @Priority(0) ShutdownEvent event) {
        arm();
    }

    // Last of the shutdown observers. A test JVM outlives the application it stops, so there the watchdog goes;
    // a production JVM keeps it until the process ends.
    void afterShutdown(@Observes @Priority(Integer.MAX_VALUE) ShutdownEvent event) {
        if (LaunchMode.current() != LaunchMode.NORMAL && watchdog != null) {
            watchdog.interrupt();
        }
    }

    private synchronized void arm() {
        if (watchdog != null) {
            return;
        }
        Duration bound = bound();
        deadlineNanos = System.nanoTime() + bound.toNanos();
        watchdog = new Thread(() -> {
            try {
                Thread.sleep(bound);
            } catch (InterruptedException e) {
                return;
            }
            LOG.errorf("shutdown did not finish within its bound of %s (shutdown-drain-timeout + shutdown-close-timeout);"
                    + " halting the JVM now (exactly-once: open transactions abort, waiting uploads stay in the store)", bound);
            Runtime.getRuntime().halt(EXIT_STATUS);
        }, "clipguard-shutdown-deadline");
        watchdog.setDaemon(true);
        watchdog.start();
    }
}
