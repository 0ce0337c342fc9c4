package io.clipguard.model;

/**
 * A model folder, head file or ONNX session could not be loaded or does not match its manifest. The message says what
 * was expected, what was found, and what to do about it.
 */
public final class ModelLoadException extends Exception {
    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
