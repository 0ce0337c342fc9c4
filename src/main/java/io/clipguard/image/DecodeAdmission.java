package io.clipguard.image;

import java.util.function.LongUnaryOperator;

/**
 * One decode's share of the {@link DecodeBudget}: taken once the image's size is known and before its pixels are
 * allocated, given back when the decode and its use are done. At most one take at a time, so that a decode that
 * falls back from the native path to ImageIO re-takes at ImageIO's weight instead of holding both. Not thread-safe:
 * one decode, one thread.
 */
final class DecodeAdmission implements AutoCloseable {
    private final DecodeBudget budget;
    private final LongUnaryOperator heldAlongside;
    private long taken;

    DecodeAdmission(DecodeBudget budget) {
        this(budget, pixels -> 0);
    }

    /**
     * @param heldAlongside budget pixels taken with an image of the given pixel count for what its use allocates
     *                      beside the decoded pixels (a native-resolution model's input tensor)
     */
    DecodeAdmission(DecodeBudget budget, LongUnaryOperator heldAlongside) {
        this.budget = budget;
        this.heldAlongside = heldAlongside;
    }

    /**
     * Takes {@code pixels × weight} plus what is held alongside (at most the whole budget); refuses an image larger
     * than the whole budget.
     */
    void take(long pixels, int weight) throws ImageDecodeException {
        giveBack();
        if (!budget.fits(pixels)) {
            throw new ImageDecodeException(ImageError.TOO_LARGE, "image of " + pixels
                    + " pixels is larger than the whole decode budget of " + budget.capacity() + " pixels; raise "
                    + DecodeBudget.SETTING + " (default: half the heap at 3 bytes a pixel) or the heap (-Xmx)");
        }
        try {
            taken = budget.acquire(Math.addExact(Math.multiplyExact(pixels, (long) weight),
                    Math.max(0, heldAlongside.applyAsLong(pixels))));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the decode budget", e);
        }
    }

    void giveBack() {
        budget.release(taken);
        taken = 0;
    }

    @Override
    public void close() {
        giveBack();
    }
}
