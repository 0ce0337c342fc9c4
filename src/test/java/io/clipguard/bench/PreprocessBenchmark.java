package io.clipguard.bench;

import io.clipguard.image.ClipPreprocessor;
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
 * ({@code tools/bench_preprocess_reference.py}: PIL open+convert, torchvision Resize+CenterCrop+ToTensor+Normalize).
 * <ul>
 *   <li>{@code decodeResizeCropNormalize}: encoded bytes in memory → {@link ImageDecoder#decode} →
 *       {@link ClipPreprocessor#resizeAndCrop} → {@link ClipPreprocessor#normalizeInto};</li>
 *   <li>{@code resizeCropNormalize}: the same without the decode (image decoded once in setup).</li>
 * </ul>
 * Fixtures come from {@code src/test/resources/golden/images} (run from the repository root, or set
 * {@code -Dclipguard.golden.images=DIR}): a ~500 px JPEG (grace_hopper.jpg, 512x600), a 4096x3072 JPEG, a 640x427 PNG.
 *
 * <p>Run both sides and print a side-by-side table: {@code tools/bench-preprocess} (does everything below). By hand:
 * <pre>
 * export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
 * ./mvnw -o -q test-compile
 * ./mvnw -o -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
 * $JAVA_HOME/bin/java -cp target/test-classes:target/classes:$(cat target/test-classpath.txt) \
 *     org.openjdk.jmh.Main PreprocessBenchmark -f 1 -wi 2 -w 2s -i 3 -r 3s
 * /usr/bin/python3 tools/bench_preprocess_reference.py --seconds 3
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class PreprocessBenchmark {
    @Param({"grace_hopper.jpg", "photo_4096x3072.jpg", "rgb_640x427.png"})
    public String fixture;

    private final ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
    private final ClipPreprocessor preprocessor = new ClipPreprocessor(PreprocessSpec.CLIP_224);
    private byte[] encoded;
    private RgbImage decoded;
    private FloatBuffer tensor;

    @Setup
    public void load() throws IOException, ImageDecodeException {
        Path dir = Path.of(System.getProperty("clipguard.golden.images", "src/test/resources/golden/images"));
        encoded = Files.readAllBytes(dir.resolve(fixture));
        decoded = decoder.decode(encoded);
        int crop = PreprocessSpec.CLIP_224.cropSize();
        tensor = ByteBuffer.allocateDirect(3 * crop * crop * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    @Benchmark
    public FloatBuffer decodeResizeCropNormalize() throws ImageDecodeException {
        preprocessor.normalizeInto(preprocessor.resizeAndCrop(decoder.decode(encoded)), tensor, 0);
        return tensor;
    }

    @Benchmark
    public FloatBuffer resizeCropNormalize() {
        preprocessor.normalizeInto(preprocessor.resizeAndCrop(decoded), tensor, 0);
        return tensor;
    }
}
