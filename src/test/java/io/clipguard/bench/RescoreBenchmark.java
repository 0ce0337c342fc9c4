package io.clipguard.bench;

import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.contracts.HeadCatalog;
import io.clipguard.contracts.OutputRecords;
import io.clipguard.contracts.OutputSchemas;
import io.clipguard.contracts.Topics;
import io.clipguard.model.LinearHead;
import io.clipguard.recalibration.Rescorer;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.testing.ApicurioRegistry;
import io.clipguard.testing.KafkaBroker;
import io.clipguard.testing.QuietLogging;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Properties;
import java.util.SplittableRandom;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Benchmark harness for {@code tools/clipguard rescore}: rescored verdicts per second from stored 1,024-d embeddings
 * (ViT-L/14's width) through a real Kafka broker and registry on this machine, side by side with replaying the same
 * number of uploads through the encoder (the bare scoring engine on a ViT-B/16-shaped random tower, decode +
 * preprocess + ONNX Runtime on CPU: an upper bound for any replay, and ViT-L/14 is slower still). Prints both rates
 * and their ratio.
 *
 * <p>The rescore part times {@link Rescorer#run} end to end, as the CLI runs it: planning, reading every verdict of
 * the range (the ledger and the uploads without embedding), reading and decoding every embedding, applying the head,
 * and writing verdicts (and alerts) in transactions of 5,000 records, committed.
 *
 * <p>Run: {@code tools/bench-rescore [--embeddings 100000] [--dim 1024] [--replay-model DIR] [--replay-images 32]
 * [--batch 8]}.
 */
public final class RescoreBenchmark {
    static final String MODEL = "bench-vit-l14-width";

    public static void main(String[] args) throws Exception {
        QuietLogging.apply();
        int n = Integer.parseInt(PipelineBenchmark.arg(args, "--embeddings", "100000"));
        int dim = Integer.parseInt(PipelineBenchmark.arg(args, "--dim", "1024"));
        Path replayModel = Path.of(PipelineBenchmark.arg(args, "--replay-model", "target/bench-models/vit-b-16-random-seed0"));
        int replayImages = Integer.parseInt(PipelineBenchmark.arg(args, "--replay-images", "32"));
        int batch = Integer.parseInt(PipelineBenchmark.arg(args, "--batch", "8"));
        if (!Files.isRegularFile(replayModel.resolve("manifest.json"))) {
            System.err.println(replayModel + " is missing: make it with tools/make-bench-models vit-b-16");
            System.exit(2);
        }
        System.out.printf(Locale.ROOT, "%d cores, load average %s", Runtime.getRuntime().availableProcessors(),
                Files.readString(Path.of("/proc/loadavg")));

        Path tmp = Files.createTempDirectory("clipguard-bench-rescore");
        double rescoreRate;
        try (KafkaBroker broker = KafkaBroker.start(); ApicurioRegistry registry = ApicurioRegistry.start(tmp.resolve("registry.log"))) {
            Topics.Names topics = Topics.Names.DEFAULT;
            broker.createTopics(4, topics.all());
            LinearHead head = randomHead(dim);
            HeadCatalog catalog = new HeadCatalog(broker.bootstrapServers(), registry.url(), topics.heads());
            catalog.publish(head, new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(head), false, "bench");

            Instant from = Instant.now().minusSeconds(1);
            long produceStart = System.nanoTime();
            produce(broker, registry.url(), topics, n, dim, head);
            System.out.printf(Locale.ROOT, "stored %,d embeddings (%d-d float32, %,d bytes of vector each) and their verdicts in %.1f s%n",
                    n, dim, dim * 4, (System.nanoTime() - produceStart) / 1e9);

            Rescorer.Options options = new Rescorer.Options(broker.bootstrapServers(), registry.url(), topics, topics.verdicts(),
                    0.9, 5000);
            Rescorer rescorer = new Rescorer(options, catalog.find(head.version(), MODEL), () -> {
                throw new IllegalStateException("the benchmark's uploads all have embeddings");
            });
            long start = System.nanoTime();
            Rescorer.Summary summary = rescorer.run(new Rescorer.Range.Times(from, Instant.now().plusSeconds(60)), Rescorer.Progress.NONE);
            double seconds = (System.nanoTime() - start) / 1e9;
            if (summary.rescored() != n) {
                throw new IllegalStateException("rescored " + summary.rescored() + " of " + n + ": " + summary);
            }
            rescoreRate = n / seconds;
            System.out.printf(Locale.ROOT, "rescore from embeddings:  %,10.0f verdicts/s  (%,d in %.2f s, %,d alerts)%n",
                    rescoreRate, n, seconds, summary.alerts());
        }
        double replay = PipelineBenchmark.bareDetectors(io.clipguard.scoring.EngineConfig.builder(replayModel)
                .device(io.clipguard.inference.Device.AUTO).maxBatchSize(batch).mergeWindow(Duration.ofMillis(2)).build(),
                io.clipguard.testing.ScoringParts.Detectors.CLIP_ONLY, PipelineBenchmark.corpus(), replayImages, batch);
        System.out.printf(Locale.ROOT, "replay through encoder:   %,10.1f images/s    (%s, batch %d, %d images, bare engine)%n",
                replay, replayModel.getFileName(), batch, replayImages);
        System.out.printf(Locale.ROOT, "rescore / replay:         %,10.0f x%n", rescoreRate / replay);
        System.out.printf(Locale.ROOT, "goals: >= 10,000 verdicts/s: %s; >= 1,000x replay: %s%n",
                rescoreRate >= 10_000 ? "met" : "NOT met", rescoreRate / replay >= 1000 ? "met" : "NOT met");
    }

    /** A random head of {@code dim} weights for the benchmark's model id. */
    static LinearHead randomHead(int dim) {
        SplittableRandom random = new SplittableRandom(1);
        float[] w = new float[dim];
        for (int i = 0; i < dim; i++) {
            w[i] = (float) random.nextGaussian();
        }
        return new LinearHead(LinearHead.FORMAT, MODEL, "bench-head", w, 0.0, LinearHead.Calibration.IDENTITY, 0.0, "benchmark");
    }

    /** n random raw vectors, each with the live verdict the service would have written for it. */
    private static void produce(KafkaBroker broker, String registryUrl, Topics.Names topics, int n, int dim, LinearHead head) {
        OutputSchemas schemas = new OutputSchemas(registryUrl);
        Serializer<ImageEmbedding> embeddings = Topics.embeddings(topics.embeddings(), schemas).valueSerde().serializer();
        Serializer<ModerationVerdict> verdicts = Topics.verdicts(topics.verdicts(), schemas).valueSerde().serializer();
        Properties props = broker.clientProperties();
        props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        SplittableRandom random = new SplittableRandom(2);
        Instant now = Instant.now();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            for (int i = 0; i < n; i++) {
                String id = "upload-" + i;
                float[] v = new float[dim];
                for (int j = 0; j < dim; j++) {
                    v[j] = (float) random.nextGaussian();
                }
                var ref = new OutputRecords.UploadRef(id, "uploader-" + (i % 1000), "0".repeat(64), i % 4, i / 4);
                ImageEmbedding e = OutputRecords.embedding(ref, MODEL, "exact", v, false, now);
                ScoreOutcome.Scored live = (ScoreOutcome.Scored) io.clipguard.scoring.ScoringEngine.applyHead(head, v, true);
                ModerationVerdict verdict = OutputRecords.verdict(ref, live, head, MODEL, "exact", now, 50, false);
                long ts = now.toEpochMilli();
                producer.send(new ProducerRecord<>(topics.embeddings(), null, ts, id, embeddings.serialize(topics.embeddings(), e)));
                producer.send(new ProducerRecord<>(topics.verdicts(), null, ts, id, verdicts.serialize(topics.verdicts(), verdict)));
            }
            producer.flush();
        }
    }
}
