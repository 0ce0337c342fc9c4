package io.clipguard.inference;

/**
 * Counters of a {@link DynamicBatcher} since it started.
 *
 * @param batches          batches run (successful or failed)
 * @param images           images in those batches
 * @param failedBatches    batches whose run failed
 * @param batchSizeCounts  {@code batchSizeCounts[s]} = number of batches of size s (index 0 unused)
 */
public record BatchStats(long batches, long images, long failedBatches, long[] batchSizeCounts) {
    /** Mean images per batch, 0 before the first batch. */
    public double meanBatchSize() {
        return batches == 0 ? 0 : (double) images / batches;
    }

    /** Largest batch size run so far, 0 before the first batch. */
    public int largestBatch() {
        for (int s = batchSizeCounts.length - 1; s > 0; s--) {
            if (batchSizeCounts[s] > 0) {
                return s;
            }
        }
        return 0;
    }
}
