package io.clipguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.clipguard.model.TestModels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyModelCommandTest {
    @TempDir
    Path tmp;

    @Test
    void theBundledModelMatchesItsPyTorchReference() {
        ScoreCommandTest.Run run = ScoreCommandTest.run("verify-model", "--model-dir", TestModels.TINY.toString(),
                "--samples", TestModels.TINY.resolve("verification.json").toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("PASS").contains("max |diff|").contains("128 values");
    }

    @Test
    void aPerturbedReferenceFailsWithTheMaxDifference() {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        TestModels.editJson(dir.resolve("verification.json"), j -> {
            ObjectNode expected = (ObjectNode) j.get("expected");
            ByteBuffer values = ByteBuffer.wrap(Base64.getDecoder().decode(expected.get("data").asText()))
                    .order(ByteOrder.LITTLE_ENDIAN);
            values.putFloat(5 * 4, values.getFloat(5 * 4) + 0.01f); // one feature off by 0.01
            expected.put("data", Base64.getEncoder().encodeToString(values.array()));
        });
        ScoreCommandTest.Run run = ScoreCommandTest.run("verify-model", "--model-dir", dir.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).contains("FAIL").contains("1 out of tolerance").containsPattern("max \\|diff\\| 0\\.0100");
    }

    @Test
    void samplesOfAnotherExportAreRefused() {
        Path dir = TestModels.copyTiny(tmp.resolve("m"));
        TestModels.editJson(dir.resolve("verification.json"), j -> j.put("model_sha256", "ab".repeat(32)));
        ScoreCommandTest.Run run = ScoreCommandTest.run("verify-model", "--model-dir", dir.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("abab").contains("same export");
    }
}
