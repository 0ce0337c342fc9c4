package io.clipguard.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.avro.ImageEmbedding;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

class SchemaIdentityDatumProviderTest {
    private final ImageEmbedding record = OutputRecords.embedding(OutputRecordsTest.UPLOAD, "m", "exact",
            new float[] {0.5f, -1.25f, 3f}, false, Instant.ofEpochMilli(1_700_000_000_123L));

    @Test
    void theSameSchemaObjectGetsTheSameWriterAndReaderEveryTime() {
        SchemaIdentityDatumProvider<ImageEmbedding> provider = provider();
        Schema schema = ImageEmbedding.getClassSchema();
        for (int i = 0; i < 100; i++) {
            assertThat(provider.createDatumWriter(record, schema)).isSameAs(provider.createDatumWriter(record, schema));
            assertThat(provider.createDatumReader(schema)).isSameAs(provider.createDatumReader(schema));
        }
        // One entry each, found by identity from the second call on: no fingerprint per record.
        assertThat(provider.writersByIdentity()).isEqualTo(1);
        assertThat(provider.readersByIdentity()).isEqualTo(1);
    }

    @Test
    void recordsRoundTripThroughItsWriterAndReader() throws IOException {
        SchemaIdentityDatumProvider<ImageEmbedding> provider = provider();
        // A writer schema parsed from text, as the registry client hands it over: another object, the same content.
        Schema writerSchema = new Schema.Parser().parse(ImageEmbedding.getClassSchema().toString());
        byte[] bytes = write(provider.createDatumWriter(record, ImageEmbedding.getClassSchema()), record);
        ImageEmbedding back = provider.createDatumReader(writerSchema).read(null, DecoderFactory.get().binaryDecoder(bytes, null));
        assertThat(back).isEqualTo(record);
        // Both schema objects have a reader of their own now, and it is the one the fingerprint path gave.
        assertThat(provider.createDatumReader(ImageEmbedding.getClassSchema())).isSameAs(provider.createDatumReader(writerSchema));
        assertThat(provider.readersByIdentity()).isEqualTo(2);
    }

    @Test
    void pastItsBoundEveryNewSchemaObjectStillGetsAWorkingReader() throws IOException {
        SchemaIdentityDatumProvider<ImageEmbedding> provider = provider();
        byte[] bytes = write(provider.createDatumWriter(record, ImageEmbedding.getClassSchema()), record);
        for (int i = 0; i < SchemaIdentityDatumProvider.MAX_SCHEMAS + 5; i++) {
            Schema copy = new Schema.Parser().parse(ImageEmbedding.getClassSchema().toString());
            DatumReader<ImageEmbedding> reader = provider.createDatumReader(copy);
            assertThat(reader.read(null, DecoderFactory.get().binaryDecoder(bytes, null))).isEqualTo(record);
        }
        assertThat(provider.readersByIdentity()).isEqualTo(SchemaIdentityDatumProvider.MAX_SCHEMAS);
    }

    private static SchemaIdentityDatumProvider<ImageEmbedding> provider() {
        SchemaIdentityDatumProvider<ImageEmbedding> provider = new SchemaIdentityDatumProvider<>();
        provider.setUseSpecificAvroReader(true);
        return provider;
    }

    private static byte[] write(DatumWriter<ImageEmbedding> writer, ImageEmbedding value) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        writer.write(value, encoder);
        encoder.flush();
        return out.toByteArray();
    }
}
