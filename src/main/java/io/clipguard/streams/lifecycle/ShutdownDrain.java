package io.clipguard.streams.lifecycle;

import io.clipguard.streams.config.ClipguardConfig;
import io.clipguard.streams.metrics.ModerationMetrics;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.time.Duration;
import org.apache.kafka.streams.KafkaStreams;
import org.jboss.logging.Logger;

/**
 * On shutdown, before Kafka Streams is closed, asks every batching processor to flush at its next tick and waits
 * (bounded) until nothing consumed is left unanswered. What is still pending after the timeout is safe in the
 * changelogged store and is scored after the restart. Then it closes the streams leaving the consumer group, so the
 * partitions move to the other instances at once instead of after the session timeout (rolling restarts). The close
 * gets what is left of the shutdown's bound ({@link ShutdownDeadline}).
 */
@ApplicationScoped
public class ShutdownDrain {
    private static final Logger LOG = Logger.getLogger(ShutdownDrain.class);
    private volatile boolean draining;

    // Both looked up only when scoring runs: with scoring off there is no Kafka Streams, and no scoring meters to make.
    @Inject
    Instance<ModerationMetrics> metrics;

    @Inject
    ClipguardConfig config;

    @Inject
    Instance<KafkaStreams> streams;

    @Inject
    ServiceRoles roles;

    @Inject
    ShutdownDeadline deadline;

    @Inject
    LifecycleStatus status;

    public boolean draining() {
        return draining;
    }

    // Priority below the Kafka Streams extension's own shutdown observer, so this runs while the streams still run.
    void onShutdown(@Observes @Priority(1) ShutdownEvent event) throws InterruptedException {
        status.shuttingDown();
        if (!roles.scoring()) {
            return;
        }
        draining = true;
        ModerationMetrics metrics = this.metrics.get();
        long drainEnd = System.nanoTime() + config.shutdownDrainTimeout().toNanos();
        while (metrics.pending() > 0 && System.nanoTime() < drainEnd) {
            Thread.sleep(10);
        }
        LOG.infof("shutdown drain finished with %d upload(s) still pending (kept in the changelogged store for the next start)",
                metrics.pending());
        // What is left of the shutdown's bound, less a second for the rest of Quarkus' shutdown.
        Duration closeTimeout = deadline.remaining().minusSeconds(1);
        if (!streams.get().close(new KafkaStreams.CloseOptions().leaveGroup(true)
                .timeout(closeTimeout.isNegative() ? Duration.ZERO : closeTimeout))) {
            LOG.warnf("Kafka Streams did not close within %s (is the broker gone?); the process ends at the latest %s after"
                    + " the shutdown began", closeTimeout, deadline.bound());
        }
    }
}
