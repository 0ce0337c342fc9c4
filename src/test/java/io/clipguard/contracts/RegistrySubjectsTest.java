package io.clipguard.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clipguard.avro.ImageUploaded;
import io.clipguard.cli.ClipguardCli;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.testing.BrokerAndRegistry;
import io.clipguard.testing.ModerationPipeline;
import io.clipguard.testing.NodeClients;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.config.ConfigResource;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry subjects clipguard owns, as Confluent clients find them, on a real broker and the real Apicurio
 * Registry: after {@code create-topics} (default topic names) and after the service's start (its own topic names)
 * every subject (moderation-decisions' too) is at {@link OutputSchemas#COMPATIBILITY} with the text of its {@code avro/*.avsc} file, so an
 * incompatible ImageUploaded is refused and a lookup by the file's content finds it. Then the third-party clients of
 * {@code src/test/node}: kafkajs's registry client with default options registers and finds ImageUploaded.avsc, its
 * upload is scored, and a kafkajs consumer (default codecs only) reads the verdict.
 */
class RegistrySubjectsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path AVRO = Path.of("avro").toAbsolutePath();
    static final Path PHOTO = Path.of("src/test/resources/golden/images/china.jpg").toAbsolutePath();
    /** The service's topics, apart from create-topics' default ones: each path claims its own subjects. */
    static final Topics.Names SERVICE = Topics.Names.DEFAULT.withSuffix("-svc");

    @TempDir
    static Path tmp;
    @RegisterExtension
    static final BrokerAndRegistry kafka = new BrokerAndRegistry();
    static ModerationPipeline service;

    @BeforeAll
    static void start() throws Exception {
        // image-uploads-value as publish left it before: Schema.toString() of the generated class, Apicurio's level NONE.
        assertThat(kafka.registry().ccompat("POST", "/subjects/" + OutputSchemas.subject(Topics.UPLOADS) + "/versions",
                schemaBody(ImageUploaded.getClassSchema().toString())).statusCode()).isEqualTo(200);
        assertThat(ClipguardCli.commandLine().execute("create-topics", "--bootstrap-servers", kafka.broker().bootstrapServers(),
                "--registry-url", kafka.registry().url(), "--partitions", "2")).isZero();

        var settings = new io.clipguard.streams.ModerationTopology.Settings(SERVICE, 8, Duration.ofMillis(50), 0.5);
        kafka.broker().createTopics(SERVICE.all().stream().map(t -> SERVICE.newTopic(t, 2, (short) 1, 16 * 1024 * 1024))
                .toArray(org.apache.kafka.clients.admin.NewTopic[]::new));
        service = new ModerationPipeline(kafka.broker().bootstrapServers(), kafka.registry().url(), "clipguard-subjects",
                tmp.resolve("state"), settings, ModerationPipeline.fetchPolicy(List.of())).start(Duration.ofSeconds(60));
    }

    @AfterAll
    static void stop() throws Exception {
        if (service != null) service.close();
    }

    @Test
    void createTopicsSetsEverySubjectToBackwardWithTheAvscText() throws Exception {
        assertEverySubjectClaimed(Topics.Names.DEFAULT);
    }

    /** The topics whose configs are part of the contract: embeddings compacted by upload id, decisions kept whole. */
    @Test
    void createTopicsKeepsEveryDecisionAndCompactsEmbeddings() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.broker().bootstrapServers()))) {
            assertThat(topicConfig(admin, Topics.DECISIONS, "cleanup.policy")).isEqualTo("delete");
            assertThat(topicConfig(admin, Topics.DECISIONS, "retention.ms")).isEqualTo("-1");
            assertThat(topicConfig(admin, Topics.EMBEDDINGS, "cleanup.policy")).isEqualTo("compact,delete");
            assertThat(topicConfig(admin, Topics.EMBEDDINGS, "retention.ms"))
                    .isEqualTo(String.valueOf(Topics.EMBEDDINGS_RETENTION.toMillis()));
            assertThat(admin.describeTopics(List.of(Topics.DECISIONS)).allTopicNames().get().get(Topics.DECISIONS)
                    .partitions()).hasSize(2);
        }
    }

    private static String topicConfig(Admin admin, String topic, String name) throws Exception {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return admin.describeConfigs(List.of(r)).all().get().get(r).get(name).value();
    }

    @Test
    void theServiceStartSetsEverySubjectToBackwardWithTheAvscText() throws Exception {
        assertEverySubjectClaimed(SERVICE);
    }

    @Test
    void kafkajsWithDefaultOptionsRegistersAndFindsImageUploadedAfterCreateTopics() throws Exception {
        NodeClients.install();
        String subject = OutputSchemas.subject(Topics.UPLOADS);
        JsonNode out = NodeClients.run("produce-upload.js", kafka.broker().bootstrapServers(), kafka.registry().ccompatUrl(),
                AVRO.resolve("ImageUploaded.avsc").toString(), Topics.UPLOADS, "kafkajs-after-create-topics", PHOTO.toString());
        // The id create-topics registered: kafkajs added no version of its own.
        int registered = json(kafka.registry().ccompat("GET", "/subjects/" + subject + "/versions/latest", null)).get("id").asInt();
        assertThat(out.get("id").asInt()).isEqualTo(registered);
        assertThat(out.get("lookedUpId").asInt()).isEqualTo(registered);
    }

    @Test
    void aKafkajsUploadIsScoredAndAKafkajsConsumerReadsTheVerdict() throws Exception {
        NodeClients.install();
        String id = "kafkajs-upload";
        JsonNode sent = NodeClients.run("produce-upload.js", kafka.broker().bootstrapServers(), kafka.registry().ccompatUrl(),
                AVRO.resolve("ImageUploaded.avsc").toString(), SERVICE.uploads(), id, PHOTO.toString());
        assertThat(sent.get("lookedUpId").asInt()).isEqualTo(sent.get("id").asInt());

        JsonNode verdicts = NodeClients.run("consume.js", kafka.broker().bootstrapServers(), kafka.registry().ccompatUrl(),
                SERVICE.verdicts(), "1", "60000");
        assertThat(verdicts).hasSize(1);
        JsonNode verdict = verdicts.get(0);
        assertThat(verdict.get("key").asText()).isEqualTo(id);
        ScoreOutcome.Scored bare = (ScoreOutcome.Scored) service.engine().scoreAll(List.of(Files.readAllBytes(PHOTO))).get(0);
        assertThat(verdict.at("/value/uploadId").asText()).isEqualTo(id);
        assertThat(verdict.at("/value/uploaderId").asText()).isEqualTo("kafkajs");
        assertThat(verdict.at("/value/llr").asDouble()).isCloseTo(bare.llr(), Offset.offset(1e-6));
        assertThat(verdict.at("/value/probability").asDouble()).isCloseTo(bare.probability(), Offset.offset(1e-9));
        assertThat(verdict.at("/value/label").asText()).isEqualTo(bare.synthetic() ? "SYNTHETIC" : "REAL");
        assertThat(verdict.at("/value/sourceOffset").asLong()).isEqualTo(sent.get("offset").asLong());
    }

    /** Each subject of {@code names}: BACKWARD, found by its file's exact text; an incompatible ImageUploaded refused. */
    private static void assertEverySubjectClaimed(Topics.Names names) throws Exception {
        for (Map.Entry<String, Schema> e : names.valueSchemas().entrySet()) {
            String subject = OutputSchemas.subject(e.getKey());
            assertThat(json(kafka.registry().ccompat("GET", "/config/" + subject, null)).get("compatibilityLevel").asText())
                    .as(subject).isEqualTo("BACKWARD");
            String file = Files.readString(AVRO.resolve(e.getValue().getName() + ".avsc"));
            JsonNode found = json(kafka.registry().ccompat("POST", "/subjects/" + subject, schemaBody(file)));
            assertThat(found.get("subject").asText()).isEqualTo(subject);
            // The raw text behind the id (Apicurio's /schemas/ids/{id} serves it re-serialised by Avro).
            HttpResponse<String> stored = kafka.registry().ccompat("GET", "/schemas/ids/" + found.get("id").asInt() + "/schema", null);
            assertThat(stored.body()).as(subject).isEqualTo(file);
        }
        // A required field added without a default: new readers could not read the records already there.
        ObjectNode incompatible = (ObjectNode) JSON.readTree(AVRO.resolve("ImageUploaded.avsc").toFile());
        ((ArrayNode) incompatible.get("fields")).addObject().put("name", "tenantId").put("type", "string");
        HttpResponse<String> refused = kafka.registry().ccompat("POST", "/subjects/" + OutputSchemas.subject(names.uploads())
                + "/versions", schemaBody(incompatible.toString()));
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
        assertThat(refused.body()).contains("tenantId");
    }

    private static String schemaBody(String schema) throws Exception {
        return JSON.writeValueAsString(Map.of("schema", schema));
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }
}
