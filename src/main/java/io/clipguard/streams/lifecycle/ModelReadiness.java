package io.clipguard.streams.lifecycle;

import io.clipguard.scoring.EngineInfo;
import io.clipguard.scoring.DetectorSet;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Reports which model, head and device are serving. The engine bean only exists once the model has loaded (a model
 * that fails to load stops the start-up with its reason), so this check is UP whenever it can be asked; Kafka
 * Streams' own readiness check adds the RUNNING state. With scoring off no model is loaded, and the check says so.
 */
@Readiness
@ApplicationScoped
public class ModelReadiness implements HealthCheck {
    @Inject
    Instance<DetectorSet> detectorSet; // looked up only when scoring runs: it opens the models

    @Inject
    ServiceRoles roles;

    @Override
    public HealthCheckResponse call() {
        if (!roles.scoring()) {
            return HealthCheckResponse.named("clipguard-model").up().withData("scoring", ServiceRoles.SCORING_OFF).build();
        }
        DetectorSet detectors = detectorSet.get();
        EngineInfo info = detectors.featuresEngine().info();
        var response = HealthCheckResponse.named("clipguard-model").up()
                .withData("model", info.modelId())
                .withData("configured-head", info.headVersion())
                .withData("device", info.device());
        if (detectors.detectors().size() > 1) {
            response.withData("detectors", String.join(", ", detectors.detectors().stream()
                            .map(d -> d.id() + " (" + d.engine().info().device() + ")").toList()))
                    .withData("fusion", detectors.fusion().ruleName() + " > " + detectors.threshold());
        }
        return response.build();
    }
}
