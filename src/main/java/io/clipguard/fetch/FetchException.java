package io.clipguard.fetch;

/** The bytes behind a URI could not be had; {@link #refused()} tells a policy refusal from a failed attempt. */
public final class FetchException extends Exception {
    private final boolean refused;

    private FetchException(boolean refused, String message, Throwable cause) {
        super(message, cause);
        this.refused = refused;
    }

    /** The policy forbids this location (scheme, address, root, size): retrying will not help. */
    public static FetchException refused(String message) {
        return new FetchException(true, message, null);
    }

    /** The attempt failed (not found, timeout, HTTP error, I/O error). */
    public static FetchException failed(String message, Throwable cause) {
        return new FetchException(false, message, cause);
    }

    public boolean refused() {
        return refused;
    }
}
