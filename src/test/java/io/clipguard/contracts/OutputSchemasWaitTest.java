package io.clipguard.contracts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.clipguard.avro.ModerationVerdict;
import io.clipguard.testing.ApicurioRegistry;
import io.clipguard.testing.Waits;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * The service's start-up registers its schemas with a wait: a real Apicurio Registry that comes up only after the
 * first attempt is waited for, a registry that never comes fails once the wait is over, naming the setting, and the
 * CLI (no wait) fails at once.
 */
class OutputSchemasWaitTest {
    private static final String SETTING = "clipguard.registry.startup-wait";
    private static final String SUBJECT = OutputSchemas.subject("moderation-verdicts");

    @Test
    void registryThatStartsAfterTheFirstAttemptIsWaitedFor() throws Exception {
        int port = ApicurioRegistry.freePort();
        String url = "http://127.0.0.1:" + port;
        OutputSchemas schemas = new OutputSchemas(url, Duration.ofSeconds(150), SETTING);
        // OutputSchemas says once, in a warning, that its first attempt failed and it goes on asking.
        List<String> warnings = new CopyOnWriteArrayList<>();
        Logger logger = Logger.getLogger(OutputSchemas.class.getName());
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                warnings.add(record.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(handler);
        CompletableFuture<String> version;
        try {
            version = CompletableFuture.supplyAsync(() -> schemas.register(SUBJECT, ModerationVerdict.getClassSchema()));
            Waits.await("the first attempt failed").until(() -> warnings.stream()
                    .anyMatch(w -> w.startsWith("cannot reach the schema registry at " + url) && w.contains("asking again")));
        } finally {
            logger.removeHandler(handler);
        }
        assertThat(version).isNotDone(); // nothing listens on the port yet: it keeps asking
        Path log = Files.createTempFile("apicurio-late", ".log");
        try (ApicurioRegistry registry = ApicurioRegistry.start(log, port)) {
            assertThat(version.get(150, TimeUnit.SECONDS)).isEqualTo("1");
            HttpResponse<String> versions = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(registry.ccompatUrl() + "/subjects/" + SUBJECT + "/versions")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(versions.statusCode()).isEqualTo(200);
            assertThat(versions.body()).isEqualTo("[1]");
        }
    }

    @Test
    void registryThatNeverComesFailsAfterTheWaitNamingTheSettingAndTheFix() throws Exception {
        String url = "http://127.0.0.1:" + ApicurioRegistry.freePort();
        OutputSchemas schemas = new OutputSchemas(url, Duration.ofSeconds(2), SETTING);
        long start = System.nanoTime();
        assertThatThrownBy(() -> schemas.register(SUBJECT, ModerationVerdict.getClassSchema()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot reach the schema registry at " + url)
                .hasMessageContaining("still failing after waiting 2 s, " + SETTING)
                .hasMessageContaining("CLIPGUARD_REGISTRY_URL");
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(took).isBetween(Duration.ofMillis(1_000), Duration.ofSeconds(10));
    }

    @Test
    void withoutAWaitTheFirstFailureIsFinal() throws Exception {
        String url = "http://127.0.0.1:" + ApicurioRegistry.freePort();
        long start = System.nanoTime();
        assertThatThrownBy(() -> new OutputSchemas(url).register(SUBJECT, ModerationVerdict.getClassSchema()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot reach the schema registry at " + url)
                .hasMessageNotContaining("still failing");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }
}
