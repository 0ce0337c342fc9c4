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
}
