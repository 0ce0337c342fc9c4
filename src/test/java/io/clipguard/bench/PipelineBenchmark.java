package io.clipguard.bench;

import io.clipguard.avro.ImageUploaded;
import io.clipguard.avro.ModerationVerdict;
import io.clipguard.image.DecodeMode;
import io.clipguard.inference.Device;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import io.clipguard.streams.ModerationTopology;
import io.clipguard.testing.ApicurioRegistry;
import io.clipguard.testing.KafkaBroker;
import io.clipguard.testing.ModerationPipeline;
import io.clipguard.testing.QuietLogging;
import io.clipguard.testing.TestClients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import io.clipguard.inference.BatchListener;
import io.clipguard.scoring.DetectorSet;
import io.clipguard.scoring.FusedOutcome;
import io.clipguard.streams.EngineProducer;
import io.clipguard.testing.ScoringParts;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * End-to-end benchmark harness: the moderation pipeline through a real Kafka broker and registry vs the bare scoring
 * engine, on the same model, images and batch size. Prints:
 * <ol>
 *   <li>bare engine throughput: all images submitted at once to {@link ScoringEngine} (decode + preprocess + ONNX);</li>
 *   <li>pipeline throughput: the same images as upload events, produced as a backlog while the instance is paused,
 *       then drained through the topology until every verdict is readable under read_committed (so the producer does
 *       not share the 2 cores during the timed part);</li>
 *   <li>pipeline latency at half that throughput (paced producer): p50/p99/max from the upload record's timestamp to
 *       the verdict being readable, against the bound batch wait + 2 batch times.</li>
 * </ol>
 * With each throughput figure: how busy the decode threads were (their CPU time over wall time × threads).
 * With {@code --extra-model DIR[,DIR] [--fusion RULE]} the service runs first with the CLIP model alone, then with the
 * detector set (clipguard.detectors.extra-model-dirs), and the ratio of their pipeline throughputs is printed.
 * Run: {@code tools/bench-pipeline [--model models/tiny-clip-test] [--batch 32] [--images 1000] [--seconds 20]
 * [--batch-wait-ms 20] [--decode exact|fast] [--corpus golden|phone]}; {@code --corpus phone} scores 12 MP and 1080p JPEGs of the upload mix
 * (target/upload-mix, made by tools/make_upload_mix.py).
 */
public final class PipelineBenchmark {
    public static void main(String[] args) throws Exception {
        QuietLogging.apply();
        Path model = Path.of(arg(args, "--model", "models/tiny-clip-test"));
        int batch = Integer.parseInt(arg(args, "--batch", "32"));
        int images = Integer.parseInt(arg(args, "--images", "1000"));
        int latencySeconds = Integer.parseInt(arg(args, "--seconds", "20"));
        // The longest an image waits for its batch: the pipeline's partition-batch-max-wait and the bare engine's merge
        // window, so both batch alike. It was --max-queue-delay-ms, a name that said neither.
        String batchWaitMs = arg(args, "--batch-wait-ms", null);
        String oldName = arg(args, "--max-queue-delay-ms", null);
        if (oldName != null) {
            System.err.println("bench-pipeline: --max-queue-delay-ms is deprecated, use --batch-wait-ms (same meaning)");
        }
        Duration batchWait = Duration.ofMillis(Long.parseLong(batchWaitMs != null ? batchWaitMs : oldName != null ? oldName : "20"));
        DecodeMode decode = DecodeMode.parse(arg(args, "--decode", "exact"));
        String corpusName = arg(args, "--corpus", "golden");
        List<byte[]> corpus = corpusName.equals("phone") ? phoneCorpus() : corpus();

        // --extra-model DIR[,DIR]: logit models beside the CLIP model (clipguard.detectors.extra-model-dirs); then the
        // service runs first with the CLIP model alone, then with the set, on the same broker, and the ratio is printed.
        List<Path> extra = Arrays.stream(arg(args, "--extra-model", "").split(",")).filter(x -> !x.isBlank()).map(Path::of).toList();
        String fusion = arg(args, "--fusion", "soft_or_prob");
        System.out.printf(Locale.ROOT, "model %s%s, batch %d, batch wait %d ms, %d images (%s corpus), decode %s, %d cores%n",
                model, extra.isEmpty() ? "" : " + " + extra + " fused by " + fusion, batch, batchWait.toMillis(), images,
                corpusName, decode.label(), Runtime.getRuntime().availableProcessors());
        EngineConfig engine = EngineConfig.builder(model).device(Device.AUTO).maxBatchSize(batch).mergeWindow(batchWait)
                .decodeMode(decode).build();
        List<ScoringParts.Detectors> sets = new ArrayList<>(List.of(ScoringParts.Detectors.CLIP_ONLY));
        if (!extra.isEmpty()) {
            sets.add(new ScoringParts.Detectors(extra, fusion, 0, List.of(), null));
        }
        double[] pipelineRates = new double[sets.size()];

        Path tmp = Files.createTempDirectory("clipguard-bench");
        try (KafkaBroker broker = KafkaBroker.start(); ApicurioRegistry registry = ApicurioRegistry.start(tmp.resolve("registry.log"))) {
            for (int k = 0; k < sets.size(); k++) {
                ScoringParts.Detectors set = sets.get(k);
                boolean last = k == sets.size() - 1;
                String label = set.extraModelDirs().isEmpty() ? "CLIP alone" : "CLIP + " + set.extraModelDirs().size()
                        + " logit model(s)";
                double bare = bareDetectors(engine, set, corpus, images);
                System.out.printf(Locale.ROOT, "[%s] bare detectors:  %8.1f images/s%n", label, bare);
                ModerationTopology.Settings s = ModerationPipeline.settings("-" + k, batch, batchWait, 0.99);
                broker.createTopics(4, s.topics().all());
                try (ModerationPipeline pipeline = new ModerationPipeline(broker.bootstrapServers(), registry.url(), "bench-" + k,
                        tmp.resolve("state-" + k), s, ModerationPipeline.fetchPolicy(List.of()),
                        EngineConfig.builder(model).device(Device.AUTO).maxBatchSize(batch).mergeWindow(Duration.ofMillis(2))
                                .decodeMode(decode).build(), set,
                        0).start(Duration.ofSeconds(60)); // cache off: the corpus repeats, a stream of uploads does not
                     KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(broker.bootstrapServers(), registry.url());
                     VerdictClock verdicts = new VerdictClock(broker.bootstrapServers(), s.topics().verdicts(), registry.url())) {
                    // Warm-up: one batch through, so model and clients are loaded before timing.
                    send(producer, s, corpus, batch, 0);
                    verdicts.await(batch, Duration.ofSeconds(60));

                    pipeline.pause();
                    send(producer, s, corpus, images, 0);
                    DecodeThreadClock decodeClock = new DecodeThreadClock();
                    long start = System.nanoTime();
                    pipeline.resume();
                    verdicts.await(batch + images, Duration.ofMinutes(10));
                    double pipelineRate = images / ((System.nanoTime() - start) / 1e9);
                    pipelineRates[k] = pipelineRate;
                    System.out.printf(Locale.ROOT, "[%s] pipeline:        %8.1f images/s  (%.0f %% of bare); %s%n", label,
                            pipelineRate, 100 * pipelineRate / bare, decodeClock.report());
                    if (!last) {
                        continue;
                    }
                    double rate = pipelineRate / 2;
                    int paced = (int) (rate * latencySeconds);
                    verdicts.latencies.clear();
                    send(producer, s, corpus, paced, rate);
                    verdicts.await(batch + images + paced, Duration.ofMinutes(10));
                    long[] lat = verdicts.latencies.stream().mapToLong(Long::longValue).sorted().toArray();
                    double batchTimeMs = 1000.0 * batch / bare;
                    System.out.printf(Locale.ROOT, "[%s] latency at %.1f images/s (half of pipeline max), %d uploads: p50 %d ms, p99 %d ms, max %d ms%n",
                            label, rate, lat.length, pct(lat, 0.50), pct(lat, 0.99), lat[lat.length - 1]);
                    System.out.printf(Locale.ROOT, "bound: batch wait + 2 batch times = %d + 2 x %.1f = %.1f ms -> p99 %s%n",
                            batchWait.toMillis(), batchTimeMs, batchWait.toMillis() + 2 * batchTimeMs,
                            pct(lat, 0.99) <= batchWait.toMillis() + 2 * batchTimeMs ? "within" : "OVER");
                }
            }
        }
        if (pipelineRates.length == 2) {
            System.out.printf(Locale.ROOT, "pipeline with the set / CLIP alone: %.2f (%.1f vs %.1f images/s)%n",
                    pipelineRates[1] / pipelineRates[0], pipelineRates[1], pipelineRates[0]);
        }
        System.exit(0);
    }

    /** Every image through the detector set at once, as the service's engines run it (no Kafka). */
    static double bareDetectors(EngineConfig engine, ScoringParts.Detectors set, List<byte[]> corpus, int images)
            throws Exception {
        try (DetectorSet detectors = EngineProducer.openDetectors(engine, set.extraModelDirs(), set.fusion(),
                set.fusionThreshold(), set.maxPixels(), set.maxImagePixels(), id -> BatchListener.NONE)) {
            corpus.subList(0, Math.min(engine.maxBatchSize(), corpus.size())).stream().map(detectors::submit).toList()
                    .forEach(CompletableFuture::join); // warm-up
            DecodeThreadClock decodeClock = new DecodeThreadClock();
            long start = System.nanoTime();
            List<CompletableFuture<FusedOutcome>> all = new ArrayList<>(images);
            for (int i = 0; i < images; i++) {
                all.add(detectors.submit(corpus.get(i % corpus.size())));
            }
            all.forEach(CompletableFuture::join);
            double rate = images / ((System.nanoTime() - start) / 1e9);
            System.out.println("bare detectors decode: " + decodeClock.report());
            return rate;
        }
    }

    private static void send(KafkaProducer<String, ImageUploaded> producer, ModerationTopology.Settings s, List<byte[]> corpus,
                             int n, double perSecond) throws InterruptedException {
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            if (perSecond > 0) {
                long due = start + (long) (i * 1e9 / perSecond);
                long wait = due - System.nanoTime();
                if (wait > 0) { // pacing the offered load is what this measures, not a wait for a condition
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
            String id = UUID.randomUUID().toString();
            producer.send(new ProducerRecord<>(s.topics().uploads(), id, TestClients.inline(id, corpus.get(i % corpus.size()))));
        }
        producer.flush();
    }

    /** Phone-sized JPEGs of the upload mix: a 12 MP photo and a 1080p one. */
    private static List<byte[]> phoneCorpus() throws Exception {
        Path dir = Path.of("target/upload-mix");
        if (!Files.isRegularFile(dir.resolve("phone_4032x3024_q90.jpg"))) {
            throw new IllegalStateException("no upload mix in " + dir + ": run /usr/bin/python3 tools/make_upload_mix.py");
        }
        return List.of(Files.readAllBytes(dir.resolve("phone_4032x3024_q90.jpg")),
                Files.readAllBytes(dir.resolve("photo_1920x1080.jpg")));
    }

    /**
     * CPU time of the engine's decode threads ("clipguard-decode-N") since construction, over wall time × their
     * count: how busy decoding kept them.
     */
    private static final class DecodeThreadClock {
        private final java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        private final long startWall = System.nanoTime();
        private final java.util.Map<Long, Long> startCpu = cpuByThread();

        private java.util.Map<Long, Long> cpuByThread() {
            java.util.Map<Long, Long> cpu = new java.util.HashMap<>();
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().startsWith("clipguard-decode-")) {
                    cpu.put(t.threadId(), Math.max(0, threads.getThreadCpuTime(t.threadId())));
                }
            }
            return cpu;
        }

        String report() {
            long wall = System.nanoTime() - startWall;
            java.util.Map<Long, Long> now = cpuByThread();
            long busy = 0;
            for (var e : now.entrySet()) {
                busy += e.getValue() - startCpu.getOrDefault(e.getKey(), 0L);
            }
            return String.format(Locale.ROOT, "decode threads busy %.0f %% (%d threads, %.1f CPU-s of %.1f s)",
                    100.0 * busy / ((double) wall * Math.max(1, now.size())), now.size(), busy / 1e9, wall / 1e9);
        }
    }

    /** The golden photos and images of typical upload sizes (not the 4096-px stress images). */
    static List<byte[]> corpus() throws Exception {
        List<byte[]> out = new ArrayList<>();
        for (String name : List.of("grace_hopper.jpg", "china.jpg", "flower.jpg", "progressive_640x427.jpg", "rgb_640x427.png",
                "webp_lossy_400x300.webp", "jpeg422_225x301.jpg", "gif_320x240.gif", "bmp24_333x222.bmp", "rgba_225x301.png")) {
            out.add(Files.readAllBytes(Path.of("src/test/resources/golden/images", name)));
        }
        return out;
    }

    private static long pct(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    static String arg(String[] args, String name, String fallback) {
        int i = Arrays.asList(args).indexOf(name);
        return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
    }

    /** Reads verdicts as they become readable (read_committed) and records each one's end-to-end latency. */
    private static final class VerdictClock implements AutoCloseable {
        final List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
        private final KafkaConsumer<byte[], ModerationVerdict> consumer;
        private final Thread thread;
        private volatile int seen;
        private volatile boolean running = true;

        VerdictClock(String bootstrap, String topic, String registryUrl) {
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-" + UUID.randomUUID());
            p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), TestClients.<ModerationVerdict>avroReader(registryUrl));
            consumer.subscribe(List.of(topic));
            thread = Thread.ofPlatform().daemon().start(() -> {
                while (running) {
                    for (ConsumerRecord<byte[], ModerationVerdict> r : consumer.poll(Duration.ofMillis(20))) {
                        ModerationVerdict v = r.value();
                        long uploadTimestamp = v.getScoredAt().toEpochMilli() - v.getEndToEndLatencyMs();
                        latencies.add(System.currentTimeMillis() - uploadTimestamp);
                        seen++;
                    }
                }
                consumer.close();
            });
        }

        void await(int n, Duration timeout) {
            // Polled often: the wait ends the measured interval.
            io.clipguard.testing.Waits.await(n + " verdicts").atMost(timeout).pollInterval(Duration.ofMillis(5))
                    .until(() -> seen, count -> count >= n);
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join();
        }
    }
}
