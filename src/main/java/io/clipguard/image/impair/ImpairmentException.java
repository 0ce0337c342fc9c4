package io.clipguard.image.impair;

/** An image an impairment cannot be applied to, with a typed reason: it becomes an error row, never a dropped one. */
public final class ImpairmentException extends Exception {
    /** Why. {@code CORRUPT}, {@code UNSUPPORTED_FORMAT} and the like come from decoding a codec's output in a chain. */
    private final String reason;

    public ImpairmentException(String reason, String message) {
        super(message);
        this.reason = reason;
    }

    public ImpairmentException(String reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    /** The image is too small for the impairment (a crop or resize below one pixel, a DMID crop below 160). */
    public static final String TOO_SMALL = "TOO_SMALL";
    /** The impaired image would pass the pixel limit or a codec's size limit. */
    public static final String TOO_LARGE = "TOO_LARGE";

    public String reason() {
        return reason;
    }
}
