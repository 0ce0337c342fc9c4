package io.clipguard.streams.lifecycle;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.util.Set;
import org.apache.kafka.streams.KafkaStreams;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/**
 * Liveness and readiness that tell the truth: DOWN, with the reason, once this instance has stopped processing for
 * good — its topics were refused at start or changed under it, a stream thread died of a fatal error (Kafka Streams
 * ERROR), or Kafka Streams stopped without a shutdown being asked for. Only a restart helps then, which is what a
 * failing liveness probe asks the orchestrator for. With scoring off there is no scoring Kafka Streams: UP, saying so.
 */
@Liveness
@Readiness
@ApplicationScoped
public class StreamsHealth implements HealthCheck {
    private static final Set<KafkaStreams.State> DEAD = Set.of(KafkaStreams.State.PENDING_ERROR, KafkaStreams.State.ERROR);
    private static final Set<KafkaStreams.State> STOPPED = Set.of(KafkaStreams.State.PENDING_SHUTDOWN, KafkaStreams.State.NOT_RUNNING);

    @Inject
    Instance<KafkaStreams> streams; // none with clipguard.scoring.enabled=false

    @Inject
    ServiceRoles roles;

    @Inject
    LifecycleStatus status;

    @Override
    public HealthCheckResponse call() {
        if (!roles.scoring()) {
            return HealthCheckResponse.named("clipguard-streams").up().withData("scoring", ServiceRoles.SCORING_OFF).build();
        }
        KafkaStreams.State state = streams.get().state();
        HealthCheckResponseBuilder response = HealthCheckResponse.named("clipguard-streams").withData("state", state.name());
        if (status.failure().isPresent()) {
            return response.down().withData("reason", status.failure().get()).build();
        }
        if (DEAD.contains(state)) {
            return response.down().withData("reason", "Kafka Streams is in " + state + " after a fatal error (see the log)").build();
        }
        if (STOPPED.contains(state) && !status.isShuttingDown()) {
            return response.down().withData("reason", "Kafka Streams stopped without a shutdown being asked for").build();
        }
        return response.up().build();
    }
}
