package io.clipguard.recalibration;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The codec a rescore compresses its record batches with (the producer's {@code compression.type}). A consumer must
 * support the codec of every batch it fetches: the live service writes uncompressed batches, which every
 * Confluent-protocol client reads, while some clients need an extra codec package for the others (kafkajs reads only
 * gzip without one), and one batch it cannot decompress fails the whole partition's fetch. So the default is
 * {@link #NONE}, and any other codec is a choice made for the topic's consumers (docs/recalibration.md).
 */
public enum Compression {
    NONE, GZIP, SNAPPY, LZ4, ZSTD;

    /** The name Kafka's {@code compression.type} and the command line use. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException not one of none, gzip, snappy, lz4, zstd (any case) */
    public static Compression parse(String text) {
        for (Compression c : values()) {
            if (c.name().equalsIgnoreCase(text.trim())) {
                return c;
            }
        }
        throw new IllegalArgumentException("compression must be one of "
                + Arrays.stream(values()).map(Compression::label).collect(Collectors.joining(", ")) + ", got '" + text + "'");
    }
}
