package io.clipguard.console;

/** The console cannot answer yet or now (its stores are restoring, the broker is away): a 503 page saying why. */
public class ConsoleUnavailableException extends RuntimeException {
    public ConsoleUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
