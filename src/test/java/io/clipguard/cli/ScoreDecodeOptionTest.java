package io.clipguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.image.LargeJpegs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `score --decode exact|fast`: fast changes the score of a phone-sized JPEG only slightly, and not a small one's. */
class ScoreDecodeOptionTest {
    @TempDir
    Path tmp;

    private List<CSVRecord> score(Path images, String mode) throws Exception {
        Path out = tmp.resolve("scores-" + mode + ".csv");
        ScoreCommandTest.Run run = ScoreCommandTest.run("score", "--input", images.toString(), "--output",
                out.toString(), "--device", "cpu", "--threads", "1", "--decode", mode, "--no-progress");
        assertThat(run.exitCode()).as(run.err()).isZero();
        return ScoreCommandTest.readCsv(out);
    }

    @Test
    void fastDecodeScoresPhoneSizedJpegsCloseToExact() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("images"));
        Files.write(images.resolve("a_phone.jpg"), LargeJpegs.make("china.jpg", 4032, 3024, 1));
        Files.copy(Path.of("src/test/resources/golden/images/grace_hopper.jpg"), images.resolve("b_small.jpg"));
        List<CSVRecord> exact = score(images, "exact");
        List<CSVRecord> fast = score(images, "fast");
        double phoneExact = Double.parseDouble(exact.get(0).get("llr"));
        double phoneFast = Double.parseDouble(fast.get(0).get("llr"));
        assertThat(phoneFast).isNotEqualTo(phoneExact).isCloseTo(phoneExact, org.assertj.core.data.Offset.offset(0.01));
        assertThat(fast.get(1).get("llr")).as("512x600 JPEG is decoded exactly in fast mode too")
                .isEqualTo(exact.get(1).get("llr"));
    }

    @Test
    void unknownDecodeModeIsAUsageError() {
        ScoreCommandTest.Run run = ScoreCommandTest.run("score", "--input", "x", "--output", "y", "--decode", "turbo");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("exact or fast");
        assertThat(ScoreCommandTest.run("score", "--help").out()).contains("--decode=exact|fast")
                .contains("--decode-budget-pixels");
    }
}
