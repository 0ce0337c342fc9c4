package io.clipguard.streams;

import io.clipguard.scoring.EngineInfo;
import io.clipguard.scoring.ScoringEngine;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only with the model loaded (Kafka Streams' own readiness check adds: state RUNNING). Reports which model,
 * head and device are serving.
 */
@Readiness
@ApplicationScoped
public class ModelReadiness implements HealthCheck {
    @Inject
    ScoringEngine engine;

    @Override
    public HealthCheckResponse call() {
        EngineInfo info = engine.info();
        return HealthCheckResponse.named("clipguard-model")
                .status(info != null)
                .withData("model", info == null ? "" : info.modelId())
                .withData("head", info == null ? "" : info.headVersion())
                .withData("device", info == null ? "" : info.device())
                .build();
    }
}
