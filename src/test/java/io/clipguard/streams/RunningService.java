package io.clipguard.streams;

import io.clipguard.testing.Waits;
import io.quarkus.test.common.http.TestHTTPResource;
import java.net.URL;
import java.net.http.HttpClient;
import java.time.Duration;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * What a @QuarkusTest of the whole service reaches it by: its readiness and metrics endpoints, the broker and the
 * registry it was given (see {@link ServiceTestResources}).
 */
public abstract class RunningService {
    @TestHTTPResource("/q/health/ready")
    protected URL ready;

    @TestHTTPResource("/q/metrics")
    protected URL metrics;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    protected String bootstrap;

    @ConfigProperty(name = "clipguard.registry.url")
    protected String registryUrl;

    protected final HttpClient http = HttpClient.newHttpClient();

    /** Polls {@code url} until its body contains {@code expected}, and returns that body. */
    protected String awaitBody(URL url, String expected, Duration timeout) throws Exception {
        return Waits.bodyContains(http, url.toURI(), expected, timeout);
    }
}
