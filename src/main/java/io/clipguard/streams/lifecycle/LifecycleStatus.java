package io.clipguard.streams.lifecycle;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;

/**
 * Why this instance stopped processing for good, if it did: a topic check that failed, or a stream thread that died
 * of a fatal error. {@link StreamsHealth} reports it; the first reason wins (later ones are consequences).
 */
@ApplicationScoped
public class LifecycleStatus {
    private volatile String failure;
    private volatile boolean shuttingDown;

    public synchronized void fail(String reason) {
        if (failure == null) {
            failure = reason;
        }
    }

    public Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    /** Set when a shutdown was asked for: Kafka Streams closing is then expected, not a failure. */
    public void shuttingDown() {
        shuttingDown = true;
    }

    public boolean isShuttingDown() {
        return shuttingDown;
    }
}
