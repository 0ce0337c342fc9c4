package io.clipguard.streams;

import io.clipguard.contracts.Topics;
import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.testing.TestClients;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.Test;

/**
 * The packaged service as Quarkus runs it (CDI wiring, application.properties, health, metrics) against a real broker
 * and registry: ready only when streams run and the model is loaded, then an upload becomes a verdict and the
 * Prometheus endpoint counts it.
 */
@QuarkusTest
@QuarkusTestResource(value = ServiceTestResources.class, restrictToAnnotatedClass = true)
class ModerationServiceTest extends RunningService {
    @Test
    void readyThenAnUploadBecomesAVerdictCountedInMetrics() throws Exception {
        String health = awaitBody(ready, "\"status\": \"UP\"", Duration.ofSeconds(60));
        assertThat(health).contains("clipguard-model").contains("tiny-clip-test").contains("CPU");
        // Start rule: the empty detector-heads was seeded with the configured head, which is now the active one.
        assertThat(health).contains("clipguard-head").contains("\"active-head\": \"random-seed0\"");
        // Scoring on (the default): Quarkus' own Kafka Streams check stays enabled (it follows clipguard.scoring.enabled).
        assertThat(health).contains("Kafka Streams topics health check").doesNotContain("clipguard.scoring.enabled=false");

        byte[] photo = Files.readAllBytes(Path.of("src/test/resources/golden/images/grace_hopper.jpg"));
        try (KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(bootstrap, registryUrl)) {
            TestClients.send(producer, Topics.UPLOADS, "svc-1", TestClients.inline("svc-1", photo));
        }
        var verdicts = TestClients.readCommitted(bootstrap, Topics.VERDICTS, TestClients.<ModerationVerdict>avroReader(registryUrl),
                got -> got.stream().anyMatch(r -> r.value().getUploadId().equals("svc-1")), Duration.ofSeconds(60));
        assertThat(verdicts).extracting(r -> r.value().getUploadId()).containsExactly("svc-1");
        assertThat(verdicts.get(0).value().getModelId()).isEqualTo("tiny-clip-test");
        assertThat(verdicts.get(0).value().getDecodeMode()).isEqualTo("exact");

        String scraped = awaitBody(metrics, "clipguard_verdicts_out_total 1.0", Duration.ofSeconds(10));
        assertThat(scraped).contains("clipguard_records_in_total 1.0")
                .contains("clipguard_inference_batch_size_count")
                .contains("clipguard_end_to_end_latency_seconds_bucket")
                .contains("clipguard_engine_device{device=\"CPU\",model=\"tiny-clip-test\"} 1.0")
                .contains("clipguard_detector_scored_total{detector=\"tiny-clip-test\"} 1.0")
                .contains("clipguard_inference_latency_seconds_count{detector=\"tiny-clip-test\"}")
                .contains("clipguard_pending_uploads 0.0")
                .contains("clipguard_decode_native_total{detector=\"tiny-clip-test\",scaled=\"false\"} 1.0")
                .contains("clipguard_decode_fallback_total{detector=\"tiny-clip-test\",reason=\"JPEG_CMYK\"} 0.0")
                .contains("clipguard_embedding_cache_misses_total 1.0")
                .contains("clipguard_embedding_cache_hits_total 0.0")
                .contains("clipguard_head_refusals_total{model=\"tiny-clip-test\"} 0.0");
    }
}
