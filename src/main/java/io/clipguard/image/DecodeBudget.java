package io.clipguard.image;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * How many decoded pixels may be in memory at once, over all decoding threads. Each image takes its pixel count,
 * read from its header, before any pixel buffer exists, and gives it back once its crop is made; an image that does not
 * fit waits for others to finish (first come, first served), so that concurrent large images queue instead of running
 * the heap out. Only an image larger than the whole budget is refused.
 *
 * <p>The default budget is half the maximum heap at 3 bytes a pixel (the decoded RGB array; the native decoder's
 * own buffer is outside the heap): 100 MP under a 600 MB heap.
 */
public final class DecodeBudget {
    /** Where the budget is configured, named in refusals so that an operator knows what to raise. */
    public static final String SETTING = "clipguard.engine.decode-budget-pixels";
    static final int BYTES_PER_PIXEL = 3;

    private final long capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long available;
    private long nextTicket;
    private long serving;

    /** A budget of {@code pixels} decoded pixels at once. */
    public DecodeBudget(long pixels) {
        if (pixels < 1) {
            throw new IllegalArgumentException("decode budget must be at least 1 pixel, got " + pixels);
        }
        this.capacity = pixels;
        this.available = pixels;
    }

    /** Half of {@link Runtime#maxMemory()} at 3 bytes a pixel. */
    public static DecodeBudget fromHeap() {
        return new DecodeBudget(defaultPixels(Runtime.getRuntime().maxMemory()));
    }

    /** {@code configured} pixels, or the heap-sized default when it is 0. */
    public static DecodeBudget of(long configured) {
        return configured > 0 ? new DecodeBudget(configured) : fromHeap();
    }

    static long defaultPixels(long maxHeapBytes) {
        return Math.max(1, maxHeapBytes / 2 / BYTES_PER_PIXEL);
    }

    public long capacity() {
        return capacity;
    }

    /** Pixels not taken right now. */
    public long available() {
        lock.lock();
        try {
            return available;
        } finally {
            lock.unlock();
        }
    }

    /** Whether an image of {@code pixels} can ever be admitted. */
    boolean fits(long pixels) {
        return pixels <= capacity;
    }

    /**
     * Takes {@code pixels} (at most the whole budget), waiting until they are free and every earlier taker has been
     * served. Returns what was taken, for {@link #release}.
     */
    long acquire(long pixels) throws InterruptedException {
        long take = Math.min(Math.max(pixels, 0), capacity);
        lock.lock();
        try {
            long ticket = nextTicket++;
            try {
                while (ticket != serving || available < take) {
                    changed.await();
                }
            } catch (InterruptedException e) {
                // Give up our turn without blocking those queued behind us.
                abandonedTickets.add(ticket);
                skipAbandoned();
                changed.signalAll();
                throw e;
            }
            available -= take;
            serving++;
            skipAbandoned();
            changed.signalAll();
            return take;
        } finally {
            lock.unlock();
        }
    }

    void release(long taken) {
        if (taken <= 0) {
            return;
        }
        lock.lock();
        try {
            available += taken;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // Tickets whose threads were interrupted while queued; rare, so a small set is enough.
    private final java.util.TreeSet<Long> abandonedTickets = new java.util.TreeSet<>();

    private void skipAbandoned() {
        while (abandonedTickets.remove(serving)) {
            serving++;
        }
    }

    @Override
    public String toString() {
        return "DecodeBudget[" + capacity + " pixels, " + available() + " free]";
    }
}
