package io.clipguard.bench;

import io.clipguard.image.ImageDecoder;
import io.clipguard.image.ImageLimits;
import io.clipguard.image.RgbImage;
import io.clipguard.inference.BatchListener;
import io.clipguard.inference.Device;
import io.clipguard.inference.OnnxImageEncoder;
import io.clipguard.model.ModelManifest;
import io.clipguard.scoring.DetectorSet;
import io.clipguard.scoring.EngineConfig;
import io.clipguard.scoring.Fusion;
import io.clipguard.scoring.FusedOutcome;
import io.clipguard.scoring.ScoreOutcome;
import io.clipguard.scoring.ScoringEngine;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import javax.imageio.ImageIO;

/**
 * Throughput of a native-resolution detector (res50nodown) through our code, at image sizes given on the command line,
 * for side-by-side figures with PyTorch ({@code tools/bench-detectors}, which runs this after
 * {@code tools/bench_res50nodown_reference.py} on the same model, sizes and threads). Not JMH: each measurement runs
 * for a fixed time after a warm-up, because one res50nodown run at 1 MP takes seconds on a CPU.
 *
 * <p>Per size it reports: {@code ort-batch1}: {@link OnnxImageEncoder#encode} of one prepared image (ImageNet
 * normalisation + the ORT run: what PyTorch's batch-1 forward is compared with); {@code engine-batch1}: PNG bytes in,
 * score out through {@link ScoringEngine}, one image at a time (decode + tensor + run), as the reference scores;
 * {@code clip-alone} and {@code clip+res50}: {@link DetectorSet} throughput with 8 images in flight ({@code --in-flight}), the CLIP
 * detector ({@code --clip-dir}) alone against both fused, i.e. what the second detector costs the service.
 *
 * <p>Run: {@code tools/bench-detectors}, or {@code java -cp <test classpath> io.clipguard.bench.DetectorBenchmark
 * --model-dir target/bench-models/res50nodown-random-seed0 --sizes 224x224,512x512 --threads 2 [--seconds 20]
 * [--clip-dir models/tiny-clip-test] [--in-flight 8]}. The machine's load matters: report it beside the figures.
 */
public final class DetectorBenchmark {
    private DetectorBenchmark() {}

    public static void main(String[] args) throws Exception {
        Path modelDir = Path.of("models/tiny-res50nodown-test");
        Path clipDir = Path.of("models/tiny-clip-test");
        List<int[]> sizes = List.of(new int[] {224, 224}, new int[] {512, 512});
        int threads = Runtime.getRuntime().availableProcessors();
        double seconds = 20;
        int inFlight = 8;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model-dir" -> modelDir = Path.of(args[++i]);
                case "--clip-dir" -> clipDir = Path.of(args[++i]);
                case "--sizes" -> sizes = parseSizes(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--in-flight" -> inFlight = Integer.parseInt(args[++i]);
                case "-h", "--help" -> {
                    System.out.println("usage: DetectorBenchmark [--model-dir DIR] [--sizes HxW,...] [--threads N]"
                            + " [--seconds S] [--clip-dir DIR] [--in-flight N]");
                    return;
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (see --help)");
            }
        }
        ModelManifest manifest = ModelManifest.load(modelDir);
        System.out.printf(Locale.ROOT, "# model %s (%s), %d ORT threads, %.0f s per measurement, sets with %s and %d"
                + " images in flight, %d cores, load %s%n", manifest.id(), modelDir, threads, seconds, clipDir, inFlight,
                Runtime.getRuntime().availableProcessors(), loadAverage());
        System.out.println("size,mode,images,seconds,images_per_s,ms_per_image");
        for (int[] hw : sizes) {
            byte[] png = photoPng(hw[0], hw[1]);
            String size = hw[0] + "x" + hw[1];
            RgbImage image = new ImageDecoder(ImageLimits.DEFAULT).decode(png);
            try (OnnxImageEncoder encoder = OnnxImageEncoder.open(modelDir, manifest, Device.CPU, threads, 1)) {
                report(size, "ort-batch1", time(seconds, () -> encoder.encode(List.of(image)), 1));
            }
            EngineConfig config = EngineConfig.builder(modelDir).device(Device.CPU).intraOpThreads(threads)
                    .maxBatchSize(8).mergeWindow(Duration.ofMillis(5)).build();
            try (ScoringEngine engine = ScoringEngine.open(config)) {
                report(size, "engine-batch1", time(seconds, () -> require(engine.submit(png).join()), 1));
            }
            EngineConfig clipConfig = config.forModel(clipDir, null);
            for (boolean both : new boolean[] {false, true}) {
                List<DetectorSet.DetectorSpec> specs = new ArrayList<>(List.of(new DetectorSet.DetectorSpec(null, clipConfig)));
                if (both) {
                    specs.add(new DetectorSet.DetectorSpec(null, config));
                }
                try (DetectorSet set = DetectorSet.open(specs, Fusion.SOFT_OR_PROB, 0, id -> BatchListener.NONE)) {
                    int images = inFlight;
                    report(size, both ? "clip+res50" : "clip-alone", time(seconds, () -> {
                        List<CompletableFuture<FusedOutcome>> pending = new ArrayList<>();
                        for (int k = 0; k < images; k++) {
                            pending.add(set.submit(png));
                        }
                        pending.forEach(f -> require(f.join().outcome()));
                    }, images));
                }
            }
        }
    }

    private static List<int[]> parseSizes(String text) {
        List<int[]> sizes = new ArrayList<>();
        for (String s : text.split(",")) {
            String[] hw = s.strip().split("x");
            sizes.add(new int[] {Integer.parseInt(hw[0]), Integer.parseInt(hw[1])});
        }
        return sizes;
    }

    /** grace_hopper.jpg tiled (mirrored) to height × width, as PNG: a real photo's statistics at any size. */
    static byte[] photoPng(int height, int width) throws Exception {
        BufferedImage photo = ImageIO.read(Path.of("src/test/resources/golden/images/grace_hopper.jpg").toFile());
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            int sy = mirror(y, photo.getHeight());
            for (int x = 0; x < width; x++) {
                out.setRGB(x, y, photo.getRGB(mirror(x, photo.getWidth()), sy));
            }
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ImageIO.write(out, "png", bytes);
        return bytes.toByteArray();
    }

    private static int mirror(int i, int n) {
        int period = 2 * n;
        int m = i % period;
        return m < n ? m : period - 1 - m;
    }

    private static void require(ScoreOutcome outcome) {
        if (!(outcome instanceof ScoreOutcome.Scored)) {
            throw new IllegalStateException("benchmark image failed: " + outcome);
        }
    }

    private record Timing(long images, double seconds) {}

    /** One warm-up call, then calls for {@code budget} seconds (at least 2). */
    private static Timing time(double budget, Runnable op, int imagesPerOp) {
        op.run();
        long start = System.nanoTime();
        long images = 0;
        int calls = 0;
        while (calls < 2 || (System.nanoTime() - start) / 1e9 < budget) {
            op.run();
            images += imagesPerOp;
            calls++;
        }
        return new Timing(images, (System.nanoTime() - start) / 1e9);
    }

    private static void report(String size, String mode, Timing t) {
        System.out.printf(Locale.ROOT, "%s,%s,%d,%.2f,%.3f,%.1f%n", size, mode, t.images(), t.seconds(),
                t.images() / t.seconds(), 1000 * t.seconds() / t.images());
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (Exception e) {
            return "unknown";
        }
    }
}
