package io.clipguard.testing;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Log levels for the stand-alone mains (benchmark, worker JVMs), which run outside Quarkus's logging setup. Without it
 * every level counts as enabled and Kafka's producer renders each record with toString() for its trace log: for an
 * Avro upload with inline image bytes that is a multi-megabyte string per send.
 */
public final class QuietLogging {
    private QuietLogging() {}

    public static void apply() {
        Logger.getLogger("").setLevel(Level.INFO);
        Logger.getLogger("org.apache.kafka").setLevel(Level.WARNING);
        Logger.getLogger("kafka").setLevel(Level.WARNING);
        Logger.getLogger("state.change.logger").setLevel(Level.WARNING);
        Logger.getLogger("io.apicurio").setLevel(Level.WARNING);
    }
}
