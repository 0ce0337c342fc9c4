package io.clipguard.inference;

/**
 * Told about every batch the {@link DynamicBatcher} runs (for metrics, e.g. Prometheus histograms). Called on the
 * batcher's worker thread: keep it cheap and non-blocking.
 */
public interface BatchListener {
    /**
     * @param size             images in the batch
     * @param queueWaitNanos   how long the batch's oldest request waited before the run started
     * @param inferenceNanos   duration of the ONNX Runtime run (including tensor assembly)
     * @param failure          null on success, else the error every request of the batch received
     */
    void onBatch(int size, long queueWaitNanos, long inferenceNanos, Throwable failure);

    BatchListener NONE = (size, queueWaitNanos, inferenceNanos, failure) -> { };
}
