package io.clipguard.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.clipguard.image.RgbImage;
import io.clipguard.model.ModelManifest;
import io.clipguard.model.TestModels;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DynamicBatcherTest {
    static OnnxImageEncoder encoder;
    static List<RgbImage> crops;
    static float[][] single;

    @BeforeAll
    static void open() throws Exception {
        ModelManifest manifest = ModelManifest.load(TestModels.TINY);
        encoder = OnnxImageEncoder.open(TestModels.TINY, manifest, Device.CPU, 1, 8);
        crops = OnnxImageEncoderTest.crops(OnnxImageEncoderTest.PHOTOS);
        single = new float[crops.size()][];
        for (int i = 0; i < crops.size(); i++) {
            single[i] = encoder.encode(List.of(crops.get(i)))[0];
        }
    }

    @AfterAll
    static void close() {
        encoder.close();
    }

    record Batch(int size, Throwable failure) {}

    @Test
    void concurrentSubmissionsAreMergedIntoBatchesWithPerImageResults() throws Exception {
        ConcurrentLinkedQueue<Batch> seen = new ConcurrentLinkedQueue<>();
        int threads = 16;
        try (DynamicBatcher batcher = new DynamicBatcher(encoder, 8, Duration.ofMillis(50), 64,
                     (size, wait, run, failure) -> seen.add(new Batch(size, failure)));
             ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            CountDownLatch start = new CountDownLatch(1);
            List<CompletableFuture<CompletableFuture<float[]>>> submitted = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                RgbImage crop = crops.get(t % crops.size());
                submitted.add(CompletableFuture.supplyAsync(() -> {
                    await(start);
                    return batcher.submit(crop);
                }, pool));
            }
            start.countDown();
            for (int t = 0; t < threads; t++) {
                float[] features = submitted.get(t).get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
                float[] expected = single[t % crops.size()];
                for (int j = 0; j < expected.length; j++) {
                    assertThat(Math.abs(features[j] - expected[j])).isLessThanOrEqualTo(1e-5f);
                }
            }
            BatchStats stats = batcher.stats();
            assertThat(stats.images()).isEqualTo(threads);
            assertThat(stats.failedBatches()).isZero();
            assertThat(stats.largestBatch()).isGreaterThan(1).isLessThanOrEqualTo(8);
            assertThat(stats.batches()).isLessThan(threads).isGreaterThanOrEqualTo(2);
            long histogramTotal = 0;
            for (int s = 1; s < stats.batchSizeCounts().length; s++) {
                histogramTotal += s * stats.batchSizeCounts()[s];
            }
            assertThat(histogramTotal).isEqualTo(threads);
            assertThat(seen).hasSize((int) stats.batches()).allMatch(b -> b.failure() == null);
            assertThat(seen.stream().mapToInt(Batch::size).sum()).isEqualTo(threads);
        }
    }

    @Test
    void aFullBatchRunsWithoutWaitingForTheDelay() throws Exception {
        try (DynamicBatcher batcher = new DynamicBatcher(encoder, 4, Duration.ofSeconds(60), 16, null)) {
            List<CompletableFuture<float[]>> futures = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                futures.add(batcher.submit(crops.get(i)));
            }
            // 60 s delay, but 4 = max batch: it must run at once
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
            assertThat(batcher.stats().batchSizeCounts()[4]).isEqualTo(1);
        }
    }

    @Test
    void aLoneRequestRunsAfterTheMergeWindow() throws Exception {
        try (DynamicBatcher batcher = new DynamicBatcher(encoder, 8, Duration.ofMillis(100), 16, null)) {
            long start = System.nanoTime();
            float[] features = batcher.submit(crops.get(0)).get(10, TimeUnit.SECONDS);
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(waitedMs).isGreaterThanOrEqualTo(100);
            assertThat(features).hasSize(64);
            assertThat(batcher.stats().batchSizeCounts()[1]).isEqualTo(1);
        }
    }

    @Test
    void aFailingBatchFailsEveryRequestInItAndTheBatcherGoesOn() throws Exception {
        ConcurrentLinkedQueue<Batch> seen = new ConcurrentLinkedQueue<>();
        try (DynamicBatcher batcher = new DynamicBatcher(encoder, 3, Duration.ofSeconds(60), 16,
                (size, wait, run, failure) -> seen.add(new Batch(size, failure)))) {
            // three of one (wrong) size: one batch, which the encoder refuses
            RgbImage wrongSize = new RgbImage(16, 16, new byte[16 * 16 * 3]);
            CompletableFuture<float[]> a = batcher.submit(wrongSize);
            CompletableFuture<float[]> b = batcher.submit(wrongSize);
            CompletableFuture<float[]> c = batcher.submit(wrongSize);
            for (CompletableFuture<float[]> f : List.of(a, b, c)) {
                assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOf(InferenceException.class).hasMessageContaining("16x16");
            }
            assertThat(batcher.stats().failedBatches()).isEqualTo(1);
            assertThat(seen).singleElement().satisfies(s -> assertThat(s.failure()).isNotNull());
            // the next batch runs normally
            List<CompletableFuture<float[]>> next = List.of(batcher.submit(crops.get(0)), batcher.submit(crops.get(1)),
                    batcher.submit(crops.get(2)));
            assertThat(next.get(2).get(10, TimeUnit.SECONDS)).hasSize(64);
        }
    }

    /** Images of another size than the rest of the merge window run as their own batch, not in (or failing) theirs. */
    @Test
    void imagesOfAnotherSizeRunAsTheirOwnBatch() throws Exception {
        ConcurrentLinkedQueue<Batch> seen = new ConcurrentLinkedQueue<>();
        try (DynamicBatcher batcher = new DynamicBatcher(encoder, 3, Duration.ofSeconds(60), 16,
                (size, wait, run, failure) -> seen.add(new Batch(size, failure)))) {
            RgbImage wrongSize = new RgbImage(16, 16, new byte[16 * 16 * 3]);
            CompletableFuture<float[]> a = batcher.submit(crops.get(0));
            CompletableFuture<float[]> b = batcher.submit(wrongSize);
            CompletableFuture<float[]> c = batcher.submit(crops.get(1));
            assertThat(a.get(10, TimeUnit.SECONDS)).hasSize(64);
            assertThat(c.get(10, TimeUnit.SECONDS)).hasSize(64);
            assertThatThrownBy(() -> b.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(InferenceException.class)
                    .hasMessageContaining("16x16");
            assertThat(seen).extracting(Batch::size).containsExactly(2, 1);
        }
    }

    @Test
    void closeRunsWhatIsQueuedAndRefusesNewRequests() throws Exception {
        DynamicBatcher batcher = new DynamicBatcher(encoder, 8, Duration.ofSeconds(60), 16, null);
        List<CompletableFuture<float[]>> queued = List.of(batcher.submit(crops.get(0)), batcher.submit(crops.get(1)));
        long start = System.nanoTime();
        batcher.close(); // must not wait for the 60 s delay
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        for (int i = 0; i < queued.size(); i++) {
            assertThat(queued.get(i)).isDone();
            float[] features = queued.get(i).get();
            assertThat(Math.abs(features[0] - single[i][0])).isLessThanOrEqualTo(1e-5f);
        }
        CompletableFuture<float[]> late = batcher.submit(crops.get(0));
        assertThat(late).isCompletedExceptionally();
        assertThatThrownBy(late::get).cause().isInstanceOf(InferenceException.class).hasMessageContaining("shut down");
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
