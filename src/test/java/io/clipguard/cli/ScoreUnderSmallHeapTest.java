package io.clipguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.clipguard.model.TestModels;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory-bounded decoding, end to end: `score` with 4 decode threads in a JVM with a 600 MB heap gets six valid PNGs
 * of exactly the 100 MP limit (10000x10000, 97 KB each) plus a photo. Without the decode budget several PNGs were
 * decoded at once and some failed with "out of memory", which ones depending on timing; with it they queue, and every
 * image is scored.
 */
class ScoreUnderSmallHeapTest {
    @TempDir
    Path tmp;

    /** A valid 8-bit grayscale PNG, all zeros: 100 MB of pixels that deflate to about 97 KB. */
    static byte[] zeroPng(int width, int height) throws IOException {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        byte[] row = new byte[width + 1]; // filter byte 0 + zero samples
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        byte[] buffer = new byte[1 << 16];
        for (int y = 0; y < height; y++) {
            deflater.setInput(row);
            while (!deflater.needsInput()) {
                idat.write(buffer, 0, deflater.deflate(buffer));
            }
        }
        deflater.finish();
        while (!deflater.finished()) {
            idat.write(buffer, 0, deflater.deflate(buffer));
        }
        deflater.end();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        chunk(png, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 0)
                .put((byte) 0).put((byte) 0).put((byte) 0).array());
        chunk(png, "IDAT", idat.toByteArray());
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        byte[] typeBytes = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        out.write(ByteBuffer.allocate(4).putInt(data.length).array());
        out.write(typeBytes);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    @Test
    void sixHundredMegapixelPngsAndAPhotoAllScoreWithFourDecodeThreadsInA600MbHeap() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("images"));
        byte[] png = zeroPng(10_000, 10_000);
        assertThat(png.length).isBetween(90_000, 110_000);
        for (int i = 1; i <= 6; i++) {
            Files.write(images.resolve("zeros" + i + ".png"), png);
        }
        Files.copy(TestModels.GOLDEN_IMAGES.resolve("grace_hopper.jpg"), images.resolve("photo.jpg"));
        Path out = tmp.resolve("scores.csv");
        Path log = tmp.resolve("score.log");

        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-Xmx600m", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), ClipguardCli.class.getName(),
                "score", "--input", images.toString(), "--output", out.toString(), "--decode-threads", "4",
                "--device", "cpu", "--threads", "1", "--batch-size", "4", "--no-progress"));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean finished = process.waitFor(5, TimeUnit.MINUTES);
        if (!finished) {
            process.destroyForcibly();
        }
        String output = Files.readString(log);
        assertThat(finished).as("score finished; output:\n" + output).isTrue();
        assertThat(process.exitValue()).as(output).isZero();

        List<CSVRecord> rows = ScoreCommandTest.readCsv(out);
        assertThat(rows).hasSize(7);
        for (CSVRecord row : rows) {
            assertThat(row.get("error")).as(row.get("filename")).isEmpty();
            assertThat(row.get("llr")).as(row.get("filename")).isNotEmpty();
        }
    }

    @Test
    void imageLargerThanTheWholeBudgetIsRefusedNamingTheSetting() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("images"));
        Files.write(images.resolve("zeros.png"), zeroPng(2000, 1000));
        Files.copy(TestModels.GOLDEN_IMAGES.resolve("china.jpg"), images.resolve("photo.jpg"));
        Path out = tmp.resolve("scores.csv");
        ScoreCommandTest.Run run = ScoreCommandTest.run("score", "--input", images.toString(), "--output", out.toString(),
                "--device", "cpu", "--threads", "1", "--decode-budget-pixels", "1000000", "--no-progress");
        assertThat(run.exitCode()).as(run.err()).isZero();
        List<CSVRecord> rows = ScoreCommandTest.readCsv(out);
        assertThat(rows.get(0).get("filename")).isEqualTo("photo.jpg");
        assertThat(rows.get(0).get("error")).isEmpty();
        assertThat(rows.get(1).get("error")).startsWith("TOO_LARGE: ").contains("2000000 pixels")
                .contains("clipguard.engine.decode-budget-pixels");
    }
}
