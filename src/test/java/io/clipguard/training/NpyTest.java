package io.clipguard.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir
    Path tmp;

    @Test
    void readsWhatNumpySavedAndWritesTheSameBytes() throws Exception {
        Path numpyFile = LinearTrainerTest.FIXTURES.resolve("features-test/features.npy"); // numpy.save wrote it
        Npy.Matrix m = Npy.read(numpyFile);
        assertThat(m.rows()).isEqualTo(200);
        assertThat(m.cols()).isEqualTo(64);
        Path ours = tmp.resolve("copy.npy");
        Npy.write(ours, m);
        assertThat(Files.readAllBytes(ours)).isEqualTo(Files.readAllBytes(numpyFile));
    }

    @Test
    void refusesTruncatedAndForeignFiles() throws Exception {
        Path file = tmp.resolve("m.npy");
        Npy.write(file, new Npy.Matrix(3, 2, new float[] {1, 2, 3, 4, 5, 6}));
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 4));
        assertThatThrownBy(() -> Npy.read(file)).hasMessageContaining("3x2 float32 matrix")
                .hasMessageContaining("truncated");
        Files.write(file, new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).replace("<f4", "<f8")
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> Npy.read(file)).hasMessageContaining("'<f8'");
        Files.writeString(file, "row,filename\n");
        assertThatThrownBy(() -> Npy.read(file)).hasMessageContaining("not a .npy file");
    }
}
