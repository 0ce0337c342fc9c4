package io.clipguard.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.avro.FailureReason;
import io.clipguard.avro.ScoringFailure;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class AvroSchemaTest {
    @Test
    void failureReasonHasDefaultSoOldReadersSurviveNewReasons() {
        Schema reason = ScoringFailure.getClassSchema().getField("reason").schema();
        assertThat(reason.getEnumDefault()).isEqualTo(FailureReason.OTHER.name());
    }
}
