package io.clipguard.image;

/** Why an image could not be turned into pixels. */
public enum ImageError {
    /** Zero bytes. */
    EMPTY,
    /** Not a format we decode (or not an image at all). */
    UNSUPPORTED_FORMAT,
    /** Recognised format, but the data is broken (truncated, bad checksum, bad markers). */
    CORRUPT,
    /** Encoded size or header-declared pixel count over the configured limit; refused before decoding. */
    TOO_LARGE
}
