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
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import io.clipguard.inference.BatchListener;
import io.clipguard.inference.BatchStats;
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
 *       not share the 2 cores during the timed part). Each round's fresh instance first drains backlogs of as many
 *       uploads until the JIT has settled ({@code --settle-seconds}): the steady state a deployment runs in;</li>
 *   <li>pipeline latency at half that throughput, or at {@code --latency-rate N} (paced producer): p50/p99/max from
 *       the upload record's timestamp to the verdict being readable, against the bound batch wait + 2 batch times,
 *       after a paced warm-up that lasts until the JIT has settled ({@code --settle-seconds}, at most 300 s by
 *       default), and split by stage ({@link StageLatencies}).</li>
 * </ol>
 * After a warm-up of both sides ({@code --warmup N} images, default as many as a round, so the JIT has compiled the
 * broker's and the clients' paths too), bare and pipeline rounds alternate ({@code --rounds R}, default 3), each pair
 * on the same machine state, and each timed part starts once the JIT has worked off its queue ({@link JitQuiet}). Each
 * round prints both rates, their ratio, and the CPU seconds per image that every thread of the process spent (the
 * broker runs in this JVM, so its work counts; the registry is a separate, idle process). The last round prints the
 * CPU by thread group ({@link ThreadCpuBreakdown}) for both sides: where the pipeline's extra CPU goes. With
 * {@code --extra-model DIR[,DIR] [--fusion RULE]} the service runs first with the CLIP model alone, then with the
 * detector set (clipguard.detectors.extra-model-dirs), and the ratio of their pipeline throughputs is printed.
 * Run: {@code tools/bench-pipeline [--model models/tiny-clip-test] [--batch 32] [--images 1000] [--seconds 20]
 * [--batch-wait-ms 20] [--decode exact|fast] [--corpus golden|phone] [--warmup N] [--rounds 3] [--settle-seconds 300]
 * [--latency-rate N] [--merge-window-ms 2] [--batches-in-flight 0] [--streams num.stream.threads=2,...]} ({@code --rounds 0 --latency-rate N}:
 * the paced run alone); {@code --corpus phone} scores 12 MP and 1080p JPEGs of the upload mix (target/upload-mix, made
 * by tools/make_upload_mix.py).
 */
public final class PipelineBenchmark {
    public static void main(String[] args) throws Exception {
        QuietLogging.apply();
        Path model = Path.of(arg(args, "--model", "models/tiny-clip-test"));
        int batch = Integer.parseInt(arg(args, "--batch", "32"));
        int images = Integer.parseInt(arg(args, "--images", "1000"));
        int latencySeconds = Integer.parseInt(arg(args, "--seconds", "20"));
        // Images through each side before its timed part, so that the JIT has compiled the broker's, the clients' and
        // the engine's paths alike (one batch left the Kafka side compiling during the timed run).
        int warmup = Integer.parseInt(arg(args, "--warmup", String.valueOf(images)));
        int rounds = Integer.parseInt(arg(args, "--rounds", "3"));
        // The longest the paced warm-up before the latency run goes on waiting for the JIT to settle (0: no wait).
        int settleSeconds = Integer.parseInt(arg(args, "--settle-seconds", "300"));
        // The paced run's rate: half the pipeline's best round unless given (--rounds 0 then times no round at all).
        double latencyRate = Double.parseDouble(arg(args, "--latency-rate", "0"));
        if (rounds < 1 && latencyRate <= 0) {
            throw new IllegalArgumentException("--rounds 0 needs --latency-rate N (images/s): there is no round to take half of");
        }
        // --streams KEY=VALUE[,KEY=VALUE]: Kafka Streams settings over the service's, e.g. num.stream.threads=2
        Map<String, String> streamsOverrides = new java.util.TreeMap<>();
        for (String kv : arg(args, "--streams", "").split(",")) {
            if (!kv.isBlank()) {
                streamsOverrides.put(kv.substring(0, kv.indexOf('=')).trim(), kv.substring(kv.indexOf('=') + 1).trim());
            }
        }
        // The longest an image waits for its batch: the pipeline's partition-batch-max-wait and the bare engine's merge
        // window, so both batch alike. It was --max-queue-delay-ms, a name that said neither.
        String batchWaitMs = arg(args, "--batch-wait-ms", null);
        String oldName = arg(args, "--max-queue-delay-ms", null);
        if (oldName != null) {
            System.err.println("bench-pipeline: --max-queue-delay-ms is deprecated, use --batch-wait-ms (same meaning)");
        }
        Duration batchWait = Duration.ofMillis(Long.parseLong(batchWaitMs != null ? batchWaitMs : oldName != null ? oldName : "20"));
        DecodeMode decode = DecodeMode.parse(arg(args, "--decode", "exact"));
        // clipguard.engine.batches-in-flight: the service's default unless given.
        int batchesInFlight = Integer.parseInt(arg(args, "--batches-in-flight",
                String.valueOf(ModerationTopology.Settings.DEFAULT_BATCHES_IN_FLIGHT)));
        // The pipeline engine's clipguard.engine.merge-window: the service's 2 ms unless given.
        Duration pipelineMergeWindow = Duration.ofMillis(Long.parseLong(arg(args, "--merge-window-ms", "2")));
        String corpusName = arg(args, "--corpus", "golden");
        List<byte[]> corpus = corpusName.equals("phone") ? phoneCorpus() : corpus();

        // --extra-model DIR[,DIR]: logit models beside the CLIP model (clipguard.detectors.extra-model-dirs); then the
        // service runs first with the CLIP model alone, then with the set, on the same broker, and the ratio is printed.
        List<Path> extra = Arrays.stream(arg(args, "--extra-model", "").split(",")).filter(x -> !x.isBlank()).map(Path::of).toList();
        String fusion = arg(args, "--fusion", "soft_or_prob");
        System.out.printf(Locale.ROOT, "model %s%s, batch %d, batch wait %d ms, %d images (%s corpus), decode %s, %d cores%s%n",
                model, extra.isEmpty() ? "" : " + " + extra + " fused by " + fusion, batch, batchWait.toMillis(), images,
                corpusName, decode.label(), Runtime.getRuntime().availableProcessors(),
                streamsOverrides.isEmpty() ? "" : ", streams " + streamsOverrides);
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
                ModerationTopology.Settings s = ModerationPipeline.settings("-" + k, batch, batchWait, 0.99)
                        .withBatchesInFlight(batchesInFlight);
                broker.createTopics(4, s.topics().all());
                // A fresh instance per round, closed before the next bare round: no stream thread polls meanwhile.
                String appId = "bench-" + k;
                Path stateDir = tmp.resolve("state-" + k);
                try (DetectorSet bareSet = EngineProducer.openDetectors(engine, set.extraModelDirs(), set.fusion(),
                        set.fusionThreshold(), set.maxPixels(), set.maxImagePixels(), id -> BatchListener.NONE);
                     KafkaProducer<String, ImageUploaded> producer = TestClients.uploadProducer(broker.bootstrapServers(), registry.url());
                     VerdictClock verdicts = new VerdictClock(broker.bootstrapServers(), s.topics().verdicts(), registry.url())) {
                    // Each instance puts two batches through before it is used: its ONNX Runtime session is new, and a
                    // session's first runs (memory arena, weight pre-packing) are slower than the bare one's.
                    PipelineFactory open = () -> {
                        ModerationPipeline started = new ModerationPipeline(broker.bootstrapServers(), registry.url(), appId,
                                stateDir, s, ModerationPipeline.fetchPolicy(List.of()), EngineConfig.builder(model)
                                .device(Device.AUTO).maxBatchSize(batch).mergeWindow(pipelineMergeWindow).decodeMode(decode)
                                .build(), set, 0, streamsOverrides) // cache off: the corpus repeats, a stream of uploads does not
                                .start(Duration.ofSeconds(60));
                        send(producer, s, corpus, 2 * batch, 0);
                        verdicts.expect(2 * batch, Duration.ofMinutes(5));
                        return started;
                    };
                    // Warm-up of both sides: model loaded, clients connected, and their paths compiled before timing.
                    double bare = bareRound(bareSet, corpus, warmup).rate(); // the bound's batch time when no round runs
                    try (ModerationPipeline pipeline = open.start()) {
                        send(producer, s, corpus, warmup, 0);
                        verdicts.expect(warmup, Duration.ofMinutes(5));
                    }

                    // Rounds alternate bare and pipeline, so that each pair saw the same machine (load, clocks).
                    double[] ratios = new double[rounds];
                    for (int r = 1; r <= rounds; r++) {
                        // The bare side settles the same way before its round, so both are timed in their steady state.
                        String bareSettle = JitQuiet.settle(settleSeconds, () -> bareRound(bareSet, corpus, images));
                        if (bareSettle != null) {
                            System.out.println("  [" + label + "] round " + r + ": the bare engine's warm-up "
                                    + bareSettle);
                        }
                        Round b = bareRound(bareSet, corpus, images);
                        Round p;
                        try (ModerationPipeline pipeline = open.start()) {
                            // Backlogs through this instance until the JIT has settled, as in a deployment after its
                            // first minutes: a fresh instance's per-batch and per-transaction paths compile meanwhile.
                            String settle = JitQuiet.settle(settleSeconds, () -> {
                                send(producer, s, corpus, images, 0);
                                verdicts.expect(images, Duration.ofMinutes(10));
                            });
                            if (settle != null) {
                                System.out.println("  [" + label + "] round " + r + ": the pipeline's backlog warm-up " + settle);
                            }
                            pipeline.pause();
                            send(producer, s, corpus, images, 0);
                            JitQuiet.beforeTimedPart();
                            ThreadCpuBreakdown cpu = new ThreadCpuBreakdown();
                            BatchStats before = pipeline.engine().batchStats();
                            long start = System.nanoTime();
                            pipeline.resume();
                            verdicts.expect(images, Duration.ofMinutes(10));
                            p = new Round(images / ((System.nanoTime() - start) / 1e9), cpu.stop(),
                                    meanBatch(before, pipeline.engine().batchStats()));
                        }
                        ratios[r - 1] = p.rate() / b.rate();
                        bare = r == 1 ? b.rate() : Math.max(bare, b.rate());
                        pipelineRates[k] = Math.max(pipelineRates[k], p.rate());
                        System.out.printf(Locale.ROOT, "[%s] round %d: bare %7.1f images/s, pipeline %7.1f images/s = %.0f %% of bare;"
                                        + " CPU per image: bare %.2f ms, pipeline %.2f ms (bare / pipeline %.0f %%);"
                                        + " mean ONNX batch: bare %.1f, pipeline %.1f%n", label, r,
                                b.rate(), p.rate(), 100 * ratios[r - 1], b.cpuMsPerImage(images), p.cpuMsPerImage(images),
                                100 * b.cpuMsPerImage(images) / p.cpuMsPerImage(images), b.meanBatch(), p.meanBatch());
                        if (r == rounds) {
                            System.out.println("  bare, last round:");
                            System.out.println(b.cpu().report(0.005));
                            System.out.println("  pipeline, last round:");
                            System.out.println(p.cpu().report(0.005));
                        }
                    }
                    if (last) { // latency on a fresh instance, after the rounds
                        try (ModerationPipeline pipeline = open.start()) {
                            latency(producer, s, corpus, verdicts, pipeline.meters(),
                                    latencyRate > 0 ? latencyRate : pipelineRates[k] / 2,
                                    latencyRate > 0 ? "--latency-rate" : "half of pipeline max", latencySeconds, settleSeconds,
                                    batch, batchWait, bare, label);
                        }
                    }
                    if (rounds < 1) {
                        continue;
                    }
                    double[] sorted = ratios.clone();
                    Arrays.sort(sorted);
                    System.out.printf(Locale.ROOT, "[%s] pipeline / bare over %d rounds: median %.0f %%, range %.0f-%.0f %%%n", label,
                            rounds, 100 * (sorted[(rounds - 1) / 2] + sorted[rounds / 2]) / 2, 100 * sorted[0], 100 * sorted[rounds - 1]);
                }
            }
        }
        if (pipelineRates.length == 2) {
            System.out.printf(Locale.ROOT, "pipeline with the set / CLIP alone: %.2f (%.1f vs %.1f images/s)%n",
                    pipelineRates[1] / pipelineRates[0], pipelineRates[1], pipelineRates[0]);
        }
        System.exit(0);
    }

    /**
     * Opens and starts a pipeline instance and puts two batches through it (same application id each time: it resumes
     * where the last one stopped).
     */
    private interface PipelineFactory {
        ModerationPipeline start() throws Exception;
    }

    /**
     * Latency at a paced rate below the maximum: p50/p99/max from each upload record's timestamp to its verdict being
     * readable under read_committed, against the bound batch wait + 2 batch times.
     */
    private static void latency(KafkaProducer<String, ImageUploaded> producer,
                                ModerationTopology.Settings s, List<byte[]> corpus, VerdictClock verdicts,
                                MeterRegistry meters, double rate,
                                String rateNote, int seconds, int settleSeconds, int batch, Duration batchWait, double bare,
                                String label)
            throws Exception {
        int paced = (int) (rate * seconds);
        // The same pace for half as long first: a paced producer and the broker's answers to it run code that the
        // backlog rounds did not, and its first compilations would otherwise land in the measured tail.
        int warm = (int) Math.max(1, rate * seconds / 2.0);
        send(producer, s, corpus, warm, rate);
        verdicts.expect(warm, Duration.ofMinutes(10));
        // Then the same pace in 10 s steps until the JIT compiles for under 2 % of a core, at most settleSeconds: at this
        // pace Kafka's code keeps crossing compile thresholds for minutes (docs/benchmarks.md, run t).
        int[] settled = {0};
        String settle = JitQuiet.settle(settleSeconds, () -> {
            int step = (int) Math.max(1, rate * 10);
            send(producer, s, corpus, step, rate);
            verdicts.expect(step, Duration.ofMinutes(10));
            settled[0] += step;
        });
        warm += settled[0];
        if (settle != null) {
            System.out.println("  paced warm-up " + settle);
        }
        verdicts.latencies.clear();
        verdicts.scoredLatencies.clear();
        JitQuiet.beforeTimedPart();
        ThreadCpuBreakdown cpu = new ThreadCpuBreakdown();
        StageLatencies stages = new StageLatencies(meters);
        send(producer, s, corpus, paced, rate);
        verdicts.expect(paced, Duration.ofMinutes(10));
        cpu.stop();
        long[] lat = verdicts.latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        double batchTimeMs = 1000.0 * batch / bare;
        System.out.printf(Locale.ROOT, "[%s] latency at %.1f images/s (%s), %d uploads after %d at the same pace:"
                + " p50 %d ms, p99 %d ms, max %d ms%n", label, rate, rateNote, lat.length, warm, pct(lat, 0.50), pct(lat, 0.99),
                lat[lat.length - 1]);
        long[] scored = verdicts.scoredLatencies.stream().mapToLong(Long::longValue).sorted().toArray();
        System.out.printf(Locale.ROOT, "  of which upload to scored (the verdict's endToEndLatencyMs, before its transaction commits):"
                + " p50 %d ms, p99 %d ms%n", pct(scored, 0.50), pct(scored, 0.99));
        System.out.println(stages.report());
        System.out.printf(Locale.ROOT, "  CPU per image while paced: %.2f ms (the producer's sends included)%n",
                1000 * cpu.cpuSeconds() / paced);
        System.out.println(cpu.report(0.01));
        System.out.printf(Locale.ROOT, "bound: batch wait + 2 batch times = %d + 2 x %.1f = %.1f ms -> p99 %s%n",
                batchWait.toMillis(), batchTimeMs, batchWait.toMillis() + 2 * batchTimeMs,
                pct(lat, 0.99) <= batchWait.toMillis() + 2 * batchTimeMs ? "within" : "OVER");
    }

    /** A timed part: images per second, and the CPU every thread of the process spent meanwhile. */
    private record Round(double rate, ThreadCpuBreakdown cpu, double meanBatch) {
        double cpuMsPerImage(int images) {
            return 1000 * cpu.cpuSeconds() / images;
        }
    }

    /** Every image through the detector set at once, as the service's engines run it (no Kafka). */
    private static Round bareRound(DetectorSet detectors, List<byte[]> corpus, int images) {
        JitQuiet.beforeTimedPart();
        ThreadCpuBreakdown cpu = new ThreadCpuBreakdown();
        BatchStats before = detectors.featuresEngine().batchStats();
        long start = System.nanoTime();
        List<CompletableFuture<FusedOutcome>> all = new ArrayList<>(images);
        for (int i = 0; i < images; i++) {
            all.add(detectors.submit(corpus.get(i % corpus.size())));
        }
        all.forEach(CompletableFuture::join);
        return new Round(images / ((System.nanoTime() - start) / 1e9), cpu.stop(),
                meanBatch(before, detectors.featuresEngine().batchStats()));
    }

    /** Mean images per ONNX run of the CLIP detector between two readings of its counters. */
    private static double meanBatch(BatchStats before, BatchStats after) {
        long batches = after.batches() - before.batches();
        return batches == 0 ? 0 : (double) (after.images() - before.images()) / batches;
    }

    /** The bare detector set's throughput after a warm-up (for other benchmarks that compare against it). */
    static double bareDetectors(EngineConfig engine, ScoringParts.Detectors set, List<byte[]> corpus, int images,
                                int warmup) throws Exception {
        try (DetectorSet detectors = EngineProducer.openDetectors(engine, set.extraModelDirs(), set.fusion(),
                set.fusionThreshold(), set.maxPixels(), set.maxImagePixels(), id -> BatchListener.NONE)) {
            bareRound(detectors, corpus, warmup);
            return bareRound(detectors, corpus, images).rate();
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
        /** The verdicts' own endToEndLatencyMs: upload timestamp to scored, before the transaction commits. */
        final List<Long> scoredLatencies = java.util.Collections.synchronizedList(new ArrayList<>());
        private final KafkaConsumer<byte[], ModerationVerdict> consumer;
        private final Thread thread;
        /** Guards {@link #seen}: the reader thread counts and notifies, {@link #expect} waits (no polling). */
        private final Object progress = new Object();
        private int seen;
        private int expected;
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
                    int read = 0;
                    for (ConsumerRecord<byte[], ModerationVerdict> r : consumer.poll(Duration.ofMillis(20))) {
                        ModerationVerdict v = r.value();
                        long uploadTimestamp = v.getScoredAt().toEpochMilli() - v.getEndToEndLatencyMs();
                        latencies.add(System.currentTimeMillis() - uploadTimestamp);
                        scoredLatencies.add(v.getEndToEndLatencyMs());
                        read++;
                    }
                    if (read > 0) {
                        synchronized (progress) {
                            seen += read;
                            progress.notifyAll();
                        }
                    }
                }
                consumer.close();
            });
        }

        /**
         * Waits for {@code more} verdicts beyond those already expected. Woken by the reader thread as verdicts arrive,
         * so the wait ends the measured interval at once; it was an Awaitility poll every 5 ms, whose matcher
         * descriptions were formatted, compiled and deoptimised inside the timed parts.
         */
        void expect(int more, Duration timeout) throws InterruptedException {
            int n = expected += more;
            long deadline = System.nanoTime() + timeout.toNanos();
            synchronized (progress) {
                while (seen < n) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new IllegalStateException("only " + seen + " of " + n + " verdicts after " + timeout);
                    }
                    progress.wait(Math.max(1, left / 1_000_000));
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join();
        }
    }
}
