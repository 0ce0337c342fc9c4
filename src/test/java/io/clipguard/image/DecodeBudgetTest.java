package io.clipguard.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.clipguard.testing.Waits;
import java.nio.file.Files;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The pixel budget shared by concurrent decodes: waits when short, refuses only what can never fit. */
class DecodeBudgetTest {
    @Test
    void defaultBudgetIsHalfTheHeapAtThreeBytesAPixel() {
        assertThat(DecodeBudget.defaultPixels(600L * 1024 * 1024)).isEqualTo(600L * 1024 * 1024 / 6);
        assertThat(DecodeBudget.defaultPixels(600L * 1024 * 1024)).isGreaterThanOrEqualTo(100_000_000L);
        assertThat(DecodeBudget.of(0).capacity()).isEqualTo(DecodeBudget.defaultPixels(Runtime.getRuntime().maxMemory()));
        assertThat(DecodeBudget.of(1234).capacity()).isEqualTo(1234);
    }

    @Test
    void imageLargerThanTheWholeBudgetIsTooLargeNamingTheSetting() throws Exception {
        byte[] jpeg = Files.readAllBytes(GoldenFixtures.ROOT.resolve("images/china.jpg")); // 640x427
        ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT, new DecodeBudget(640L * 427 - 1));
        ImageDecodeException e = catchThrowableOfType(ImageDecodeException.class, () -> decoder.decode(jpeg));
        assertThat(e.error()).isEqualTo(ImageError.TOO_LARGE);
        assertThat(e.getMessage()).contains(DecodeBudget.SETTING).contains("273280");
        assertThat(new ImageDecoder(ImageLimits.DEFAULT, new DecodeBudget(640L * 427)).decode(jpeg).width()).isEqualTo(640);
    }

    @Test
    void decodesThatDoNotFitTogetherWaitForEachOtherAndAllFinish() throws Exception {
        byte[] jpeg = Files.readAllBytes(GoldenFixtures.ROOT.resolve("images/china.jpg"));
        // Room for one 640x427 image at a time: four threads must take turns, and the budget must come back whole.
        DecodeBudget budget = new DecodeBudget(640L * 427 * 3 / 2);
        ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT, budget);
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger mostInside = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            CountDownLatch start = new CountDownLatch(1);
            java.util.List<Future<Integer>> results = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return decoder.decode(jpeg, DecodeMode.EXACT, 0, image -> {
                        mostInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                        try {
                            Thread.sleep(20); // hold the pixels a while, as the resize does
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        inside.decrementAndGet();
                        return image.width();
                    });
                }));
            }
            start.countDown();
            for (Future<Integer> r : results) {
                assertThat(r.get(30, TimeUnit.SECONDS)).isEqualTo(640);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(mostInside.get()).as("images holding decoded pixels at once").isEqualTo(1);
        assertThat(budget.available()).isEqualTo(budget.capacity());
    }

    @Test
    void waitersAreServedInArrivalOrderSoALargeImageIsNotStarved() throws Exception {
        DecodeBudget budget = new DecodeBudget(100);
        long first = budget.acquire(60);
        AtomicInteger order = new AtomicInteger();
        int[] served = new int[2];
        Thread large = Thread.ofPlatform().start(() -> {
            try {
                long t = budget.acquire(100);
                served[0] = order.incrementAndGet();
                budget.release(t);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        });
        awaitQueued(large);
        Thread small = Thread.ofPlatform().start(() -> {
            try {
                long t = budget.acquire(10); // would fit now, but arrived after the large one
                served[1] = order.incrementAndGet();
                budget.release(t);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        });
        awaitQueued(small);
        assertThat(order.get()).as("nobody served while the first holder keeps 60").isZero();
        budget.release(first);
        large.join(5000);
        small.join(5000);
        assertThat(served).containsExactly(1, 2);
        assertThat(budget.available()).isEqualTo(100);
    }

    /** Until {@code taker} waits inside {@link DecodeBudget#acquire} (nothing else holds the budget's lock meanwhile). */
    private static void awaitQueued(Thread taker) {
        Waits.await(taker + " waiting for its turn").until(taker::getState, state -> state == Thread.State.WAITING);
    }
}
