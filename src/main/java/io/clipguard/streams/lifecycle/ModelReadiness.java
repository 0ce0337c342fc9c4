package io.clipguard.streams.lifecycle;

import io.clipguard.scoring.EngineInfo;
import io.clipguard.scoring.ScoringEngine;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Reports which model, head and device are serving. The engine bean only exists once the model has loaded (a model
 * that fails to load stops the start-up with its reason), so this check is UP whenever it can be asked; Kafka
 * Streams' own readiness check adds the RUNNING state.
 */
@Readiness
@ApplicationScoped
public class ModelReadiness implements HealthCheck {
    @Inject
    ScoringEngine engine;

    @Override
    public HealthCheckResponse call() {
        EngineInfo info = engine.info();
        return HealthCheckResponse.named("clipguard-model").up()
                .withData("model", info.modelId())
                .withData("configured-head", info.headVersion())
                .withData("device", info.device())
                .build();
    }
}
