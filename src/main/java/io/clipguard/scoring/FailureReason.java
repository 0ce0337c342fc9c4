package io.clipguard.scoring;

/** Why an input got no score. */
public enum FailureReason {
    /** Zero bytes. */
    EMPTY,
    /** Not an image format we decode. */
    UNSUPPORTED_FORMAT,
    /** A recognised format with broken data (truncated, bad markers). */
    CORRUPT,
    /** Over the configured encoded-size or pixel-count limit; refused before decoding. */
    TOO_LARGE,
    /** The model produced no usable score for this input (a non-finite output). */
    INFERENCE_FAILED,
    /**
     * The engine could not run the input at all: it was shut down, or the ONNX Runtime run failed (device error,
     * out of memory). Not the input's fault; the same input may score fine later, so callers should retry, not
     * dead-letter it.
     */
    ENGINE_UNAVAILABLE
}
