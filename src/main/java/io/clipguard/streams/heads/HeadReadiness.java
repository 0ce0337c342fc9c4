package io.clipguard.streams.heads;

import io.clipguard.streams.config.ClipguardConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Reports the head every verdict of this instance is scored with now, and the last refused activation if there is
 * one. A refusal does not make the instance unready: it goes on scoring with the previous head, as it should. With
 * scoring off there is no live head (none is seeded or read), and the check says so.
 */
@Readiness
@ApplicationScoped
public class HeadReadiness implements HealthCheck {
    @Inject
    Instance<ActiveHeads> heads; // looked up only when scoring runs: it opens the model and seeds detector-heads

    @Inject
    ClipguardConfig config;

    @Override
    public HealthCheckResponse call() {
        if (!config.scoring().enabled()) {
            return HealthCheckResponse.named("clipguard-head").up().withData("scoring", ClipguardConfig.Scoring.OFF).build();
        }
        return describe(heads.get());
    }

    public static HealthCheckResponse describe(ActiveHeads heads) {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("clipguard-head").up()
                .withData("model", heads.modelId())
                .withData("active-head", heads.get().version());
        heads.refusal().ifPresent(r -> response
                .withData("refused-head", r.version())
                .withData("refused-because", r.reason())
                .withData("refused-at", r.at().toString()));
        return response.build();
    }
}
