package io.clipguard.bench;

import io.clipguard.image.ClipPreprocessor;
import io.clipguard.image.ImageDecoder;
import io.clipguard.image.ImageLimits;
import io.clipguard.image.RgbImage;
import io.clipguard.inference.OnnxImageEncoder;
import io.clipguard.model.ModelManifest;
import io.clipguard.inference.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * ONNX Runtime CPU throughput of the CLIP image tower: one {@link OnnxImageEncoder#encode} of {@code batchSize}
 * 224×224 crops per op (normalisation into the direct input buffer + the ORT run). The {@code images} secondary result
 * is images/s. Compared with PyTorch on the same towers by {@code tools/bench-inference}, which also exports the
 * ViT-B/16 and ViT-L/14 random towers ({@code tools/make-bench-models} → target/bench-models/).
 *
 * <p>Run: {@code tools/bench-inference} (see its --help), or directly
 * {@code java -cp target/test-classes:target/classes:<test classpath> org.openjdk.jmh.Main InferenceBenchmark
 * -p modelDir=target/bench-models/vit-b-16-random-seed0 -p batchSize=1,8 -p threads=2}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 3)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@Threads(1)
@State(Scope.Benchmark)
public class InferenceBenchmark {
    /** Model folder (manifest.json + model.onnx). */
    @Param("models/tiny-clip-test")
    public String modelDir;

    @Param({"1", "8", "32"})
    public int batchSize;

    /** ORT intra-op threads; 0 = ORT default (one per physical core). */
    @Param("0")
    public int threads;

    private OnnxImageEncoder encoder;
    private List<RgbImage> batch;

    /** Counts images so JMH reports images/s next to batches/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Images {
        public long images;

        @Setup(Level.Iteration)
        public void reset() {
            images = 0;
        }
    }

    @Setup(Level.Trial)
    public void open() throws Exception {
        Path dir = Path.of(modelDir);
        ModelManifest manifest = ModelManifest.load(dir);
        encoder = OnnxImageEncoder.open(dir, manifest, Device.CPU, threads, batchSize);
        ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        ClipPreprocessor preprocessor = new ClipPreprocessor(manifest.preprocessSpec());
        Path images = Path.of("src", "test", "resources", "golden", "images");
        List<RgbImage> photos = new ArrayList<>();
        for (String name : List.of("grace_hopper.jpg", "china.jpg", "flower.jpg")) {
            photos.add(preprocessor.resizeAndCrop(decoder.decode(Files.readAllBytes(images.resolve(name)))));
        }
        batch = new ArrayList<>();
        for (int i = 0; i < batchSize; i++) {
            batch.add(photos.get(i % photos.size()));
        }
        encoder.encode(batch); // fail in setup, not in the first measured op, if anything is wrong
    }

    @TearDown(Level.Trial)
    public void close() {
        encoder.close();
    }

    @Benchmark
    public float[][] encodeBatch(Images counter) {
        float[][] features = encoder.encode(batch);
        counter.images += batchSize;
        return features;
    }
}
