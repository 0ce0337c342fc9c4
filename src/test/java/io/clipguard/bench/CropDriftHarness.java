package io.clipguard.bench;

import io.clipguard.image.ImageDecoder;
import io.clipguard.image.ImageLimits;
import io.clipguard.image.NativeResolutionPreprocessor;
import io.clipguard.image.RgbImage;
import io.clipguard.inference.Device;
import io.clipguard.inference.OnnxImageEncoder;
import io.clipguard.model.ModelManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The drift that a native-resolution detector's pixel cap ({@code max_pixels}) causes: on every image larger than the
 * cap, the logit of the centre crop the engine would run against the logit of the whole image, as the reference runs
 * it. Prints one line per image and the max and median |crop − whole| as a percentage of the whole-image logits'
 * spread (max − min over the images). Images whose whole-image run does not fit the heap are reported and skipped.
 *
 * <p>Run: {@code java -cp <test classpath> io.clipguard.bench.CropDriftHarness --model-dir DIR --max-pixels N
 * [--threads T] [IMAGE|FOLDER ...]} (default images: the golden images). With the random tiny model the figure
 * measures the plumbing; with real weights it is the figure to publish (docs/scoring.md).
 */
public final class CropDriftHarness {
    private CropDriftHarness() {}

    public static void main(String[] args) throws Exception {
        Path modelDir = Path.of("models/tiny-res50nodown-test");
        long cap = 256 * 256;
        int threads = 0;
        List<Path> inputs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model-dir" -> modelDir = Path.of(args[++i]);
                case "--max-pixels" -> cap = Long.parseLong(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "-h", "--help" -> {
                    System.out.println("usage: CropDriftHarness [--model-dir DIR] [--max-pixels N] [--threads T]"
                            + " [IMAGE|FOLDER ...]");
                    return;
                }
                default -> inputs.add(Path.of(args[i]));
            }
        }
        if (inputs.isEmpty()) {
            inputs.add(Path.of("src/test/resources/golden/images"));
        }
        List<Path> files = new ArrayList<>();
        for (Path p : inputs) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.walk(p)) {
                    s.filter(Files::isRegularFile).sorted().forEach(files::add);
                }
            } else {
                files.add(p);
            }
        }
        ModelManifest manifest = ModelManifest.load(modelDir);
        NativeResolutionPreprocessor capped = (NativeResolutionPreprocessor) OnnxImageEncoder.preprocessorOf(manifest, cap);
        ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        System.out.printf(Locale.ROOT, "# model %s, max_pixels %d; image,width,height,crop,whole_logit,crop_logit,"
                + "abs_diff%n", manifest.id(), cap);
        List<double[]> pairs = new ArrayList<>();
        try (OnnxImageEncoder encoder = OnnxImageEncoder.open(modelDir, manifest, Device.CPU, threads, 1)) {
            for (Path file : files) {
                RgbImage whole;
                try {
                    whole = decoder.decode(Files.readAllBytes(file));
                } catch (Exception e) {
                    System.out.println("# skipped " + file + ": " + e.getMessage());
                    continue;
                }
                if ((long) whole.width() * whole.height() <= cap) {
                    continue;
                }
                RgbImage crop = capped.prepare(whole);
                double w;
                try {
                    w = encoder.encode(List.of(whole))[0][0];
                } catch (OutOfMemoryError | RuntimeException e) {
                    System.out.println("# skipped " + file + " (whole image does not run here): " + e);
                    continue;
                }
                double c = encoder.encode(List.of(crop))[0][0];
                pairs.add(new double[] {w, c});
                System.out.printf(Locale.ROOT, "%s,%d,%d,%dx%d,%.6f,%.6f,%.6f%n", file.getFileName(), whole.width(),
                        whole.height(), crop.width(), crop.height(), w, c, Math.abs(c - w));
            }
        }
        if (pairs.size() < 2) {
            System.out.println("# fewer than 2 images larger than the cap: no spread, no figure");
            return;
        }
        double max = pairs.stream().mapToDouble(p -> p[0]).max().orElseThrow();
        double min = pairs.stream().mapToDouble(p -> p[0]).min().orElseThrow();
        double spread = max - min;
        double[] diffs = pairs.stream().mapToDouble(p -> Math.abs(p[1] - p[0])).sorted().toArray();
        int n = diffs.length;
        double median = n % 2 == 1 ? diffs[n / 2] : (diffs[n / 2 - 1] + diffs[n / 2]) / 2;
        System.out.printf(Locale.ROOT, "# %d images over the cap; whole-image logit spread %.6f; |crop - whole| max"
                        + " %.6f (%.2f %% of spread), median %.6f (%.2f %% of spread)%n", n, spread,
                diffs[n - 1], 100 * diffs[n - 1] / spread, median, 100 * median / spread);
        System.out.println("# all diffs: " + Arrays.toString(diffs));
    }
}
