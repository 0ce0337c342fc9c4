package io.clipguard.training;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A 2-D float32 matrix in NumPy's .npy format, version 1.0 (numpy.lib.format): magic {@code \x93NUMPY}, version 1 0,
 * a little-endian uint16 header length, an ASCII dict literal padded with spaces to a multiple of 64 bytes and ended
 * by a newline, then the row-major little-endian data. Written here because it is that small: the Java .npy libraries
 * on Maven Central bring a Kotlin runtime or a whole deep-learning framework for these few lines.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern HEADER = Pattern.compile(
            "\\{\\s*'descr':\\s*'(?<descr>[^']*)',\\s*'fortran_order':\\s*(?<fortran>True|False),\\s*'shape':\\s*"
                    + "\\((?<rows>\\d+),\\s*(?<cols>\\d+)\\s*,?\\s*\\),?\\s*}\\s*");
    /** A header longer than this is not one we wrote (v1.0 allows 65535; numpy itself writes well under 128). */
    private static final int MAX_HEADER = 4096;

    private Npy() {}

    /** The matrix: {@code rows × cols} values, row-major. */
    public record Matrix(int rows, int cols, float[] data) {
        public Matrix {
            if ((long) rows * cols != data.length) {
                throw new IllegalArgumentException(rows + "x" + cols + " matrix needs " + (long) rows * cols
                        + " values, got " + data.length);
            }
        }
    }

    public static void write(Path file, Matrix m) throws IOException {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + m.rows() + ", " + m.cols() + "), }";
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(padding) + "\n";
        ByteBuffer data = ByteBuffer.allocate(m.data().length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        data.asFloatBuffer().put(m.data());
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(MAGIC);
            out.write(new byte[] {1, 0, (byte) (header.length() & 0xff), (byte) (header.length() >>> 8)});
            out.write(header.getBytes(StandardCharsets.US_ASCII));
            out.write(data.array());
        }
    }

    /** Reads a C-order little-endian float32 2-D array; the declared shape is checked against the file size first. */
    public static Matrix read(Path file) throws IOException {
        long fileSize = Files.size(file);
        try (InputStream in = Files.newInputStream(file)) {
            byte[] prefix = in.readNBytes(10);
            if (prefix.length < 10 || !java.util.Arrays.equals(prefix, 0, 6, MAGIC, 0, 6)) {
                throw new IOException(file + " is not a .npy file (no \\x93NUMPY magic)");
            }
            int major = prefix[6];
            if (major != 1) {
                throw new IOException(file + ": .npy version " + major + "." + prefix[7] + "; only 1.0 is read"
                        + " (numpy.save writes 1.0 for ordinary arrays)");
            }
            int headerLength = (prefix[8] & 0xff) | (prefix[9] & 0xff) << 8;
            if (headerLength > MAX_HEADER) {
                throw new IOException(file + ": .npy header of " + headerLength + " bytes is not a plain matrix's");
            }
            String header = new String(in.readNBytes(headerLength), StandardCharsets.US_ASCII);
            Matcher match = HEADER.matcher(header);
            if (!match.matches()) {
                throw new IOException(file + ": expected a 2-D array, got header " + header.strip());
            }
            if (!match.group("descr").equals("<f4") || match.group("fortran").equals("True")) {
                throw new IOException(file + ": expected little-endian float32 in C order ('<f4', fortran_order False),"
                        + " got '" + match.group("descr") + "', fortran_order " + match.group("fortran")
                        + "; save with numpy.save(f, np.ascontiguousarray(x, dtype='<f4'))");
            }
            long rows = Long.parseLong(match.group("rows"));
            long cols = Long.parseLong(match.group("cols"));
            long expected = 10L + headerLength + rows * cols * Float.BYTES;
            if (rows > Integer.MAX_VALUE || cols > Integer.MAX_VALUE || rows * cols > Integer.MAX_VALUE - 8
                    || expected != fileSize) {
                throw new IOException(file + " declares a " + rows + "x" + cols + " float32 matrix (" + expected
                        + " bytes with its header) but has " + fileSize + " bytes: truncated or not ours");
            }
            float[] data = new float[(int) (rows * cols)];
            ByteBuffer.wrap(in.readNBytes(data.length * Float.BYTES)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
                    .get(data);
            return new Matrix((int) rows, (int) cols, data);
        }
    }
}
