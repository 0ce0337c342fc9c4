package io.clipguard.streams;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.moderation.UploadScorer;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.testing.ApicurioRegistry;
import io.clipguard.testing.ModerationPipeline;
import io.clipguard.testing.PipelineStack;
import io.clipguard.testing.TestClients;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The topology end to end on a real KRaft broker, the real Apicurio Registry and the bundled tiny ONNX model: an
 * upload's verdict, read under read_committed from the broker, decodes through a plain Confluent-style consumer (the
 * registry's Confluent-compatible API and plain Avro). Routing of verdicts, alerts and dead letters is tested without a
 * broker, in ModerationTopologyTest.
 */
class ModerationPipelineTest {
    static final Path IMAGES = Path.of("src/test/resources/golden/images");
    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;
    static PipelineStack stack;

    @BeforeAll
    static void start() throws Exception {
        stack = PipelineStack.start(tmp, "clipguard-it", ModerationPipeline.settings("", 8, Duration.ofMillis(50), 0.5),
                List.of(), WAIT, r -> {
                    // Same schema under two subjects: the registry's global ids and content ids now differ, so the
                    // interop test below can tell which one we put in the wire format.
                    String schema = "{\"type\":\"record\",\"name\":\"U\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}";
                    registerViaCcompat(r, "unrelated-a-value", schema);
                    registerViaCcompat(r, "unrelated-b-value", schema);
                });
    }

    @AfterAll
    static void stop() throws Exception {
        if (stack != null) stack.close();
    }

    @Test
    void aConfluentStyleConsumerDecodesVerdictsWithTheCcompatApiAndPlainAvro() throws Exception {
        byte[] photo = Files.readAllBytes(IMAGES.resolve("china.jpg"));
        try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(stack.broker().bootstrapServers(), stack.registry().url())) {
            TestClients.send(producer, stack.settings().topics().uploads(), "interop", TestClients.inline("interop", photo));
        }
        ConsumerRecord<byte[], byte[]> record = TestClients.readCommitted(stack.broker().bootstrapServers(), stack.settings().topics().verdicts(),
                        new ByteArrayDeserializer(), got -> got.stream().anyMatch(r -> new String(r.key()).equals("interop")), WAIT)
                .stream()
                .filter(r -> new String(r.key()).equals("interop")).findFirst().orElseThrow();
        GenericRecord decoded = TestClients.decodeAsConfluentConsumer(stack.registry().ccompatUrl(), record.value());
        assertThat(decoded.getSchema().getFullName()).isEqualTo(ModerationVerdict.getClassSchema().getFullName());
        ScoreOutcome.Scored bare = (ScoreOutcome.Scored) stack.pipeline().engine().scoreAll(List.of(photo)).get(0);
        assertThat(decoded.get("uploadId").toString()).isEqualTo("interop");
        assertThat((Double) decoded.get("llr")).isCloseTo(bare.llr(), org.assertj.core.data.Offset.offset(1e-6));
        assertThat(decoded.get("imageSha256").toString()).isEqualTo(UploadScorer.sha256(photo));
    }

    private static void registerViaCcompat(ApicurioRegistry target, String subject, String schema) throws Exception {
        HttpResponse<String> r = target.ccompat("POST", "/subjects/" + subject + "/versions",
                new ObjectMapper().writeValueAsString(Map.of("schema", schema)));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
}
