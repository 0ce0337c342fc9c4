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
    /** The model run failed (or the engine was shut down before it ran). */
    INFERENCE_FAILED
}
