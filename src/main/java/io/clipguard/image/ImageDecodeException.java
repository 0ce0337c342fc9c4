package io.clipguard.image;

/** A typed decoding failure; {@link #error()} says which kind. */
public final class ImageDecodeException extends Exception {
    private final ImageError error;

    public ImageDecodeException(ImageError error, String message) {
        this(error, message, null);
    }

    public ImageDecodeException(ImageError error, String message, Throwable cause) {
        super(message, cause);
        this.error = error;
    }

    public ImageError error() {
        return error;
    }
}
