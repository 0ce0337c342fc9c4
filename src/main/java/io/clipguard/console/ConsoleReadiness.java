package io.clipguard.console;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready when the console's own Kafka Streams instance serves its stores (pages answer 503 until then): the readiness
 * of a console-only instance, which has no scoring streams. UP, saying so, when the console is off.
 */
@Readiness
@ApplicationScoped
public class ConsoleReadiness implements HealthCheck {
    @Inject
    ConsoleConfig config;

    @Inject
    ConsoleStreams streams;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("clipguard-console");
        if (!config.enabled()) {
            return response.up().withData("console", "off (clipguard.console.enabled=false)").build();
        }
        return streams.notReady().map(why -> response.down().withData("reason", why))
                .orElseGet(() -> response.up().withData("stores", "serving")).build();
    }
}
