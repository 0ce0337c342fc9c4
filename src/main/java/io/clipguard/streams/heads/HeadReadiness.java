package io.clipguard.streams.heads;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Reports the head every verdict of this instance is scored with now, and the last refused activation if there is
 * one. A refusal does not make the instance unready: it goes on scoring with the previous head, as it should.
 */
@Readiness
@ApplicationScoped
public class HeadReadiness implements HealthCheck {
    @Inject
    ActiveHeads heads;

    @Override
    public HealthCheckResponse call() {
        return describe(heads);
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
