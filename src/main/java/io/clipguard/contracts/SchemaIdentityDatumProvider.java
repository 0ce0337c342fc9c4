package io.clipguard.contracts;

import io.apicurio.registry.serde.avro.DefaultAvroDatumProvider;
import java.util.IdentityHashMap;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Apicurio's datum provider, with its readers and writers found by the schema object before its fingerprint.
 *
 * <p>Why: {@link DefaultAvroDatumProvider} keys its caches by {@code SchemaNormalization.parsingFingerprint64}, which
 * it computes for every record it writes or reads: the schema's whole canonical form is rebuilt and hashed each time
 * (about 7 µs for a verdict on the build VM, three times per upload in the service). The schemas it is handed are the
 * same few objects record after record: the generated classes' own, and the registry client's cached writer schemas.
 * So a lookup by identity answers almost every call; a schema object not seen before goes through the fingerprint
 * path once, and past {@link #MAX_SCHEMAS} objects (a registry cache that keeps handing out fresh copies) the
 * fingerprint path is all there is, as before.
 */
public final class SchemaIdentityDatumProvider<T> extends DefaultAvroDatumProvider<T> {
    /** More schema objects than our topics have schemas, with room for a registry cache's refreshed copies. */
    static final int MAX_SCHEMAS = 64;

    // Copy-on-write: the serdes are shared by every stream thread, and after the first records nothing is added.
    private volatile Map<Schema, DatumWriter<T>> specificWriters = new IdentityHashMap<>();
    private volatile Map<Schema, DatumReader<T>> readers = new IdentityHashMap<>();

    public SchemaIdentityDatumProvider() {
        super();
    }

    @Override
    public DatumWriter<T> createDatumWriter(T data, Schema schema) {
        if (!(data instanceof SpecificRecord)) {
            return super.createDatumWriter(data, schema); // generic data: not our records, leave it as it was
        }
        DatumWriter<T> writer = specificWriters.get(schema);
        if (writer == null) {
            writer = super.createDatumWriter(data, schema);
            specificWriters = with(specificWriters, schema, writer);
        }
        return writer;
    }

    @Override
    public DatumReader<T> createDatumReader(Schema schema) {
        DatumReader<T> reader = readers.get(schema);
        if (reader == null) {
            reader = super.createDatumReader(schema);
            readers = with(readers, schema, reader);
        }
        return reader;
    }

    /** Schema objects whose writer is found by identity (for tests: the default provider has no such map). */
    int writersByIdentity() {
        return specificWriters.size();
    }

    /** Schema objects whose reader is found by identity. */
    int readersByIdentity() {
        return readers.size();
    }

    private static <V> Map<Schema, V> with(Map<Schema, V> map, Schema schema, V value) {
        if (map.size() >= MAX_SCHEMAS) {
            return map;
        }
        Map<Schema, V> copy = new IdentityHashMap<>(map);
        copy.put(schema, value);
        return copy;
    }
}
