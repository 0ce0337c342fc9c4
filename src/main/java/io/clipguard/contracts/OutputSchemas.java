package io.clipguard.contracts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.apicurio.registry.serde.avro.AvroSerde;
import io.apicurio.registry.serde.config.SerdeConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.logging.Logger;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;

/**
 * Registers each schema whole, through the registry's Confluent-compatible API, and pins our serializers to exactly
 * that version. Every subject it registers into is first set to {@link #COMPATIBILITY}, and the text registered is the
 * {@code avro/*.avsc} file as is (see {@link #avscText}).
 *
 * <p>Why not let the Apicurio serializer auto-register: it registers named nested types (our enums) as separate
 * schema references, and a Confluent-style consumer that only reads {@code GET /schemas/ids/{id}} then cannot parse
 * the schema. Registered whole, the schema behind the id in every record is self-contained, as a Confluent producer
 * would have registered it. Registering the same schema again is idempotent (the registry returns the same id).
 *
 * <p>With a wait (the service's start-up), a registry that cannot be reached, times out or answers 5xx is asked again
 * until the wait is over: a registry that starts beside the service, or is slow on its first write, does not fail the
 * start. A 4xx answer (an incompatible or invalid schema) fails at once.
 */
public final class OutputSchemas {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final Logger LOG = Logger.getLogger(OutputSchemas.class.getName());
    private static final long MAX_BACKOFF_MILLIS = 4_000;

    /**
     * The compatibility level of every subject clipguard owns (docs/contracts.md, "Schema evolution rule"): the
     * registry refuses a new version that cannot read the records of the latest one, e.g. a field added without a
     * default. Not FULL: Confluent-style clients with default options (kafkajs's registry client) register only into
     * a subject that is missing or BACKWARD (an Apicurio subject without a level of its own answers the global
     * NONE, which they refuse).
     */
    public static final String COMPATIBILITY = "BACKWARD";

    /** Subject and schema name → version, so the subjects claimed at start are not registered again per serde. */
    private final Map<String, String> registered = new HashMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String registryBaseUrl;
    private final Map<String, Object> baseConfig;
    private final Duration wait;
    private final String waitSetting;

    /**
     * Asks the registry once per request (the CLI's Kafka commands).
     *
     * @param registryBaseUrl the registry's root, e.g. http://localhost:8081 (APIs are under /apis/...)
     */
    public OutputSchemas(String registryBaseUrl) {
        this(registryBaseUrl, Duration.ZERO, null);
    }

    /**
     * Keeps asking a registry that is unreachable, times out or answers 5xx for up to {@code wait}.
     *
     * @param waitSetting the setting that sets {@code wait}, named when it runs out
     */
    public OutputSchemas(String registryBaseUrl, Duration wait, String waitSetting) {
        this.registryBaseUrl = registryBaseUrl.replaceAll("/+$", "");
        this.baseConfig = Topics.serdeConfig(registryBaseUrl);
        this.wait = wait;
        this.waitSetting = waitSetting;
    }

    /** Subject for a topic's values (Confluent's TopicNameStrategy; Apicurio's TopicIdStrategy agrees). */
    public static String subject(String topic) {
        return topic + "-value";
    }

    /** Registers {@code schema} under the topic's subject and returns a serde writing with exactly that version's id. */
    public <T extends SpecificRecord> Serde<T> pinnedSerde(String topic, Schema schema) {
        String version = register(subject(topic), schema);
        Map<String, Object> config = new HashMap<>(baseConfig);
        config.put(SerdeConfig.AUTO_REGISTER_ARTIFACT, false);
        config.put(SerdeConfig.EXPLICIT_ARTIFACT_GROUP_ID, "default");
        config.put(SerdeConfig.EXPLICIT_ARTIFACT_ID, subject(topic));
        config.put(SerdeConfig.EXPLICIT_ARTIFACT_VERSION, version);
        AvroSerde<T> serde = new AvroSerde<>();
        serde.configure(config, false);
        return serde;
    }

    /**
     * Claims the subject of every topic of {@code names}, input first ({@link Topics.Names#valueSchemas()}): sets
     * its level and registers the value schema, so a third-party producer finds it as a Confluent registry would
     * leave it (BACKWARD, our schema) even before clipguard wrote to it.
     */
    public void registerAll(Topics.Names names) {
        names.valueSchemas().forEach((topic, schema) -> register(subject(topic), schema));
    }

    /** Returns the subject version that holds {@code schema}, registering it if it is new. */
    synchronized String register(String subject, Schema schema) {
        String key = subject + " " + schema.getFullName();
        String known = registered.get(key);
        if (known != null) {
            return known;
        }
        // The level first: a subject that exists with another level (Apicurio's NONE) then checks this version too.
        send("PUT", registryBaseUrl + "/apis/ccompat/v7/config/" + subject,
                JSON.createObjectNode().put("compatibility", COMPATIBILITY).toString());
        String body = JSON.createObjectNode().put("schema", avscText(schema)).toString();
        String base = registryBaseUrl + "/apis/ccompat/v7/subjects/" + subject;
        send("POST", base + "/versions", body);
        // Look the schema up to learn which version of the subject it is (registration only answers the id).
        String version = send("POST", base, body).get("version").asText();
        registered.put(key, version);
        return version;
    }

    /**
     * The text of {@code avro/<name>.avsc}, as is (the build copies the folder into the jar): a client that looks the
     * file up by content finds our version. {@code Schema.toString()} differs from it, since the generated classes add
     * {@code avro.java.string} properties and the registry compares properties.
     */
    static String avscText(Schema schema) {
        String resource = "/avro/" + schema.getName() + ".avsc";
        String text;
        try (InputStream in = OutputSchemas.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is not on the classpath: the build copies avro/*.avsc there "
                        + "(pom.xml, <resources>)");
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource + ": " + e, e);
        }
        // A file edited after the classes were generated must not be registered for records it does not describe.
        if (SchemaNormalization.parsingFingerprint64(new Schema.Parser().parse(text))
                != SchemaNormalization.parsingFingerprint64(schema)) {
            throw new IllegalStateException(resource + " does not match the compiled " + schema.getFullName()
                    + ": rebuild (./mvnw compile)");
        }
        return text;
    }

    /** The schema behind a wire-format id, as a Confluent client reads it ({@code GET /schemas/ids/{id}}). */
    public Schema schemaById(int id) {
        String url = registryBaseUrl + "/apis/ccompat/v7/schemas/ids/" + id;
        return new Schema.Parser().parse(send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build())
                .get("schema").asText());
    }

    private JsonNode send(String method, String url, String body) {
        return send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", CONTENT_TYPE).method(method, HttpRequest.BodyPublishers.ofString(body)).build());
    }

    private JsonNode send(HttpRequest request) {
        String url = request.method() + " " + request.uri();
        long deadline = System.nanoTime() + wait.toNanos();
        long backoffMillis = 250;
        boolean waiting = false;
        while (true) {
            String failure;
            IOException cause = null;
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return parse(response.body(), url);
                }
                failure = "schema registry answered " + response.statusCode() + " to " + url + ": " + response.body();
                if (response.statusCode() < 500) {
                    throw new IllegalStateException(failure);
                }
            } catch (IOException e) { // refused, reset, timed out
                failure = "cannot reach the schema registry at " + registryBaseUrl + ": " + e;
                cause = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while registering schemas", e);
            }
            if (System.nanoTime() + backoffMillis * 1_000_000 - deadline > 0) {
                throw new IllegalStateException(failure + (wait.isZero() ? "" : " (still failing after waiting "
                        + wait.toSeconds() + " s, " + waitSetting + ")")
                        + ". Fix: start the registry, or point clipguard.registry.url / CLIPGUARD_REGISTRY_URL (the CLI's "
                        + "--registry-url) at it", cause);
            }
            if (!waiting) {
                waiting = true;
                LOG.warning(failure + "; asking again for up to " + wait.toSeconds() + " s (" + waitSetting + ")");
            }
            try {
                Thread.sleep(backoffMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the schema registry", e);
            }
            backoffMillis = Math.min(backoffMillis * 2, MAX_BACKOFF_MILLIS);
        }
    }

    private static JsonNode parse(String body, String url) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new IllegalStateException("schema registry answered " + url + " with something that is not JSON: " + e, e);
        }
    }
}
