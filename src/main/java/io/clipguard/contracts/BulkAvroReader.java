package io.clipguard.contracts;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;

/**
 * Reads our topics' values (Confluent wire format) in bulk: each schema id is looked up once, through the registry's
 * Confluent-compatible API, and gets one resolving reader into our generated classes (so an older writer schema reads
 * with the new fields' defaults). For scans of whole topics, where the registry deserializer's per-record work (a
 * schema fingerprint and a new reader each time) dominated. Not thread-safe: one per reading thread.
 */
public final class BulkAvroReader {
    private final OutputSchemas schemas;
    private final Map<Integer, DatumReader<Object>> readers = new HashMap<>();
    private BinaryDecoder decoder;

    public BulkAvroReader(OutputSchemas schemas) {
        this.schemas = schemas;
    }

    /**
     * The record in {@code value}: an instance of the generated class of its schema's full name.
     *
     * @throws IllegalArgumentException not in the Confluent wire format, or not valid Avro for its schema
     */
    public Object read(byte[] value) {
        if (value == null || value.length < 5 || value[0] != 0) {
            throw new IllegalArgumentException("not in the Confluent wire format (magic byte 0, 4-byte schema id)");
        }
        int id = ByteBuffer.wrap(value, 1, 4).getInt();
        DatumReader<Object> reader = readers.computeIfAbsent(id, this::readerFor);
        decoder = DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, decoder);
        try {
            return reader.read(null, decoder);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not valid Avro for schema id " + id + ": " + e, e);
        }
    }

    private DatumReader<Object> readerFor(int id) {
        Schema writer = schemas.schemaById(id);
        Class<?> generated = SpecificData.get().getClass(writer);
        if (generated == null) {
            return new SpecificDatumReader<>(writer);
        }
        // The generated class's own model carries its logical-type conversions (timestamp-millis → Instant).
        SpecificData model = SpecificData.getForClass(generated);
        return new SpecificDatumReader<>(writer, model.getSchema(generated), model);
    }
}
