package io.clipguard.bench;

import io.clipguard.image.ClipPreprocessor;
import io.clipguard.image.DecodeMode;
import io.clipguard.image.ImageDecodeException;
import io.clipguard.image.ImageDecoder;
import io.clipguard.image.ImageLimits;
import io.clipguard.image.PreprocessSpec;
import io.clipguard.image.RgbImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Single-threaded images/s of the preprocessing path, to compare with the Python reference on one core
 * ({@code tools/bench_preprocess_reference.py}: PIL open+convert (with {@code draft} in fast mode), torchvision
 * Resize+CenterCrop+ToTensor+Normalize).
 * <ul>
 *   <li>{@code decodeResizeCropNormalize}: encoded bytes in memory → {@link ImageDecoder#decode} in exact or fast mode
 *       → {@link ClipPreprocessor#resizeAndCrop} → {@link ClipPreprocessor#normalizeInto};</li>
 *   <li>{@code resizeCropNormalize}: the same without the decode (image decoded once in setup);</li>
 *   <li>{@code jpegDecodeAtEighthScale}: the 12 MP JPEG decoded at libjpeg's smallest IDCT scale, 1/8, and nothing
 *       else. Every DCT-scaled decode still Huffman-decodes all coefficients, so this is the ceiling of any fast mode
 *       built on libjpeg-turbo, to set beside the fast mode's goal (a multiple of exact mode).</li>
 * </ul>
 * Fixtures: the upload mix that {@code tools/make_upload_mix.py} writes to {@code target/upload-mix} (or
 * {@code -Dclipguard.bench.images=DIR}). {@code tools/bench-preprocess} makes them, runs both sides and prints the table.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "--enable-native-access=ALL-UNNAMED", "--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class PreprocessBenchmark {
    /** One fixture of the upload mix, encoded and decoded. */
    @State(Scope.Thread)
    public static class Fixture {
        @Param({"phone_4032x3024_q90.jpg", "photo_1920x1080.jpg", "photo_512x512.jpg", "square_1024x1024.png",
                "square_1024x1024.webp", "screenshot_1920x1080.png"})
        public String fixture;

        final ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        final ClipPreprocessor preprocessor = new ClipPreprocessor(PreprocessSpec.CLIP_224);
        byte[] encoded;
        RgbImage decoded;
        FloatBuffer tensor;

        @Setup
        public void load() throws IOException, ImageDecodeException {
            Path dir = Path.of(System.getProperty("clipguard.bench.images", "target/upload-mix"));
            encoded = Files.readAllBytes(dir.resolve(fixture));
            decoded = decoder.decode(encoded);
            int crop = PreprocessSpec.CLIP_224.cropSize();
            tensor = ByteBuffer.allocateDirect(3 * crop * crop * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        }
    }

    /** Decode mode; only the decoding benchmark depends on it. */
    @State(Scope.Thread)
    public static class Decode {
        @Param({"exact", "fast"})
        public String mode;

        DecodeMode decodeMode;

        @Setup
        public void parse() {
            decodeMode = DecodeMode.parse(mode);
        }
    }

    /** The large JPEG of the upload mix, for the scaled-decode ceiling. */
    @State(Scope.Thread)
    public static class LargeJpeg {
        @Param({"phone_4032x3024_q90.jpg"})
        public String jpeg;

        final ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        byte[] encoded;

        @Setup
        public void load() throws IOException {
            encoded = Files.readAllBytes(Path.of(System.getProperty("clipguard.bench.images", "target/upload-mix"), jpeg));
        }
    }

    @Benchmark
    public RgbImage jpegDecodeAtEighthScale(LargeJpeg j) throws ImageDecodeException {
        // A shorter side of at least 1 px lets fast mode pick the smallest scale libjpeg has.
        return j.decoder.decode(j.encoded, DecodeMode.FAST, 1, image -> image);
    }

    @Benchmark
    public FloatBuffer decodeResizeCropNormalize(Fixture f, Decode d) throws ImageDecodeException {
        RgbImage crop = f.decoder.decode(f.encoded, d.decodeMode, 2 * PreprocessSpec.CLIP_224.resizeShorterSide(),
                f.preprocessor::resizeAndCrop);
        f.preprocessor.normalizeInto(crop, f.tensor, 0);
        return f.tensor;
    }

    @Benchmark
    public FloatBuffer resizeCropNormalize(Fixture f) throws ImageDecodeException {
        f.preprocessor.normalizeInto(f.preprocessor.resizeAndCrop(f.decoded), f.tensor, 0);
        return f.tensor;
    }
}
