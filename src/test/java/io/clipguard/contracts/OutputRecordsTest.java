package io.clipguard.contracts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.clipguard.avro.FailureReason;
import io.clipguard.avro.ImageEmbedding;
import io.clipguard.avro.VectorEncoding;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

class OutputRecordsTest {
    static final OutputRecords.UploadRef UPLOAD = new OutputRecords.UploadRef("3f1c2a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f",
            "uploader-123", "ab".repeat(32), 3, 123_456_789L);

    @Test
    void aStoredVectorComesBackBitForBit() {
        float[] v = {0.1f, -2.5f, Float.MIN_VALUE, 3.4e38f, 0f, -0f};
        ImageEmbedding e = OutputRecords.embedding(UPLOAD, "m", "exact", v, false, Instant.EPOCH);
        assertThat(e.getEncoding()).isEqualTo(VectorEncoding.FLOAT32_LE);
        assertThat(e.getVector().remaining()).isEqualTo(v.length * 4);
        assertThat(e.getVector().duplicate().order(ByteOrder.LITTLE_ENDIAN).getFloat(4)).isEqualTo(-2.5f);
        float[] back = OutputRecords.vector(e);
        for (int i = 0; i < v.length; i++) {
            assertThat(Float.floatToRawIntBits(back[i])).isEqualTo(Float.floatToRawIntBits(v[i]));
        }
    }

    @Test
    void float16VectorsAreReadToo() {
        ByteBuffer half = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
        half.putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-0.25f)).putShort(Float.floatToFloat16(1000f)).flip();
        ImageEmbedding e = ImageEmbedding.newBuilder(OutputRecords.embedding(UPLOAD, "m", "exact", new float[3], true, Instant.EPOCH))
                .setEncoding(VectorEncoding.FLOAT16_LE).setVector(half).build();
        assertThat(OutputRecords.vector(e)).containsExactly(1.5f, -0.25f, 1000f);
    }

    @Test
    void aDeclaredDimensionThatDisagreesWithTheBytesIsRefusedBeforeAllocating() {
        ImageEmbedding e = OutputRecords.embedding(UPLOAD, "m", "exact", new float[4], false, Instant.EPOCH);
        e.setDimension(Integer.MAX_VALUE);
        assertThatThrownBy(() -> OutputRecords.vector(e)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("declares " + Integer.MAX_VALUE);
        e.setDimension(5);
        assertThatThrownBy(() -> OutputRecords.vector(e)).hasMessageContaining("holds 16 bytes");
    }

    /**
     * The figure docs/recalibration.md states: a ViT-L/14 embedding is 4,096 bytes of vector and about 4.26 KB as a
     * record value.
     */
    @Test
    void aVitL14EmbeddingIsAbout4point26KilobytesOnTheWire() throws Exception {
        ImageEmbedding e = OutputRecords.embedding(UPLOAD, "clip-vit-l14-commonpool", "exact", new float[1024], false, Instant.now());
        var out = new java.io.ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<>(ImageEmbedding.class).write(e, encoder);
        encoder.flush();
        int wire = 5 + out.size(); // Confluent header: magic byte + 4-byte schema id
        assertThat(wire).isBetween(4096 + 100, 4096 + 200);
    }

    /** Dead-letter reasons that arise before or around scoring, not from the engine's FailureReason. */
    static final Set<FailureReason> NOT_FROM_THE_ENGINE = EnumSet.of(FailureReason.MALFORMED_EVENT,
            FailureReason.FETCH_FAILED, FailureReason.FETCH_REFUSED, FailureReason.SOURCE_EXPIRED, FailureReason.OTHER);

    @Test
    void everyEngineFailureThatIsTheUploadsMapsToTheDeadLetterReasonOfTheSameName() {
        Set<FailureReason> mapped = EnumSet.noneOf(FailureReason.class);
        for (io.clipguard.scoring.FailureReason reason : io.clipguard.scoring.FailureReason.values()) {
            if (reason == io.clipguard.scoring.FailureReason.ENGINE_UNAVAILABLE) {
                assertThatThrownBy(() -> OutputRecords.failureReason(reason)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("never dead-lettered");
                continue;
            }
            FailureReason avro = OutputRecords.failureReason(reason);
            assertThat(avro.name()).as(reason.name()).isEqualTo(reason.name());
            assertThat(mapped.add(avro)).as("%s is the only reason mapped to %s", reason, avro).isTrue();
        }
        assertThat(mapped).doesNotContainAnyElementsOf(NOT_FROM_THE_ENGINE);
    }

    @Test
    void everyDeadLetterReasonIsAnEngineFailureOrOneOfTheKnownOthers() {
        // A symbol added to ScoringFailure.avsc must either come from the engine (then the engine's enum gets it and
        // the mapping above) or join NOT_FROM_THE_ENGINE: none is left that nothing can write.
        Set<FailureReason> accounted = EnumSet.copyOf(NOT_FROM_THE_ENGINE);
        Arrays.stream(io.clipguard.scoring.FailureReason.values())
                .filter(r -> r != io.clipguard.scoring.FailureReason.ENGINE_UNAVAILABLE)
                .forEach(r -> accounted.add(OutputRecords.failureReason(r)));
        assertThat(accounted).containsExactlyInAnyOrder(FailureReason.values());
    }

    /**
     * A fused verdict carries each detector's entry and the rule; a plain Avro reader with the .avsc file (no generated
     * classes, no serde) reads them, and the schema of before the field (no detectors, no fusion) still reads the
     * record, so old consumers keep working.
     */
    @Test
    void aFusedVerdictCarriesEveryDetectorAndOldReadersStillReadIt() throws Exception {
        var head = io.clipguard.model.LinearHead.load(java.nio.file.Path.of("models/tiny-clip-test/head.json"),
                io.clipguard.model.ModelManifest.load(java.nio.file.Path.of("models/tiny-clip-test")));
        var detectors = java.util.List.of(
                new io.clipguard.scoring.DetectorScore("clip", "tiny-clip-test", "random-seed0", 0.25, false, null, null),
                new io.clipguard.scoring.DetectorScore("corvi", "tiny-res50nodown-test", null, null, true,
                        io.clipguard.scoring.FailureReason.TOO_LARGE, "over 1000 pixels"));
        var verdict = OutputRecords.fusedVerdict(UPLOAD, new io.clipguard.scoring.ScoreOutcome.Scored(0.25, 0.56, true),
                head, "tiny-clip-test", "exact", Instant.parse("2026-12-06T00:00:00Z"), 12, false, detectors,
                io.clipguard.scoring.Fusion.SOFT_OR_PROB, 0.0);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
        new SpecificDatumWriter<>(io.clipguard.avro.ModerationVerdict.class).write(verdict, encoder);
        encoder.flush();

        org.apache.avro.Schema schema = new org.apache.avro.Schema.Parser().parse(
                java.nio.file.Path.of("avro/ModerationVerdict.avsc").toFile());
        var decoder = org.apache.avro.io.DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null);
        org.apache.avro.generic.GenericRecord read =
                new org.apache.avro.generic.GenericDatumReader<org.apache.avro.generic.GenericRecord>(schema).read(null, decoder);
        assertThat(read.get("fusion").toString()).isEqualTo("soft_or_prob");
        assertThat(read.get("threshold")).isEqualTo(0.0);
        var entries = (java.util.List<?>) read.get("detectors");
        assertThat(entries).hasSize(2);
        var clip = (org.apache.avro.generic.GenericRecord) entries.get(0);
        var corvi = (org.apache.avro.generic.GenericRecord) entries.get(1);
        assertThat(clip.get("detectorId").toString()).isEqualTo("clip");
        assertThat(clip.get("logit")).isEqualTo(0.25);
        assertThat(clip.get("headVersion").toString()).isEqualTo("random-seed0");
        assertThat(corvi.get("logit")).isNull();
        assertThat(corvi.get("headVersion")).isNull();
        assertThat(corvi.get("cropped")).isEqualTo(true);
        assertThat(corvi.get("error").toString()).isEqualTo("TOO_LARGE: over 1000 pixels");

        // the schema as it was before detector sets: same record, fields dropped by resolution
        var old = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                java.nio.file.Path.of("avro/ModerationVerdict.avsc").toFile());
        var fields = (com.fasterxml.jackson.databind.node.ArrayNode) old.get("fields");
        for (int i = fields.size() - 1; i >= 0; i--) {
            String name = fields.get(i).get("name").asText();
            if (name.equals("detectors") || name.equals("fusion")) {
                fields.remove(i);
            }
        }
        org.apache.avro.Schema oldSchema = new org.apache.avro.Schema.Parser().parse(old.toString());
        assertThat(org.apache.avro.SchemaCompatibility.checkReaderWriterCompatibility(oldSchema, schema).getType())
                .isEqualTo(org.apache.avro.SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
        assertThat(org.apache.avro.SchemaCompatibility.checkReaderWriterCompatibility(schema, oldSchema).getType())
                .isEqualTo(org.apache.avro.SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
        var oldRead = new org.apache.avro.generic.GenericDatumReader<org.apache.avro.generic.GenericRecord>(schema, oldSchema)
                .read(null, org.apache.avro.io.DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
        assertThat(oldRead.get("llr")).isEqualTo(0.25);
    }
}
