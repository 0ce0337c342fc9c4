package io.clipguard.inference;

/** An ONNX Runtime run failed, or the batcher was closed before the request ran. Every request of the batch gets it. */
public final class InferenceException extends RuntimeException {
    public InferenceException(String message) {
        super(message);
    }

    public InferenceException(String message, Throwable cause) {
        super(message, cause);
    }
}
