package io.clipguard.bench;

import io.clipguard.image.ClipPreprocessor;
import io.clipguard.image.ImageDecoder;
import io.clipguard.image.ImageLimits;
import io.clipguard.image.PreprocessSpec;
import io.clipguard.image.RgbImage;
import io.clipguard.image.impair.ImageContext;
import io.clipguard.image.impair.Impaired;
import io.clipguard.image.impair.Impairment;
import io.clipguard.image.impair.ImpairmentException;
import io.clipguard.image.impair.Impairments;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Single-threaded robustness work per image, the Java side of {@code tools/bench-robustness}: decode once, then for
 * the original and each default impairment: impair, decode a codec's output again, resize + crop + normalise into a
 * tensor (what the engine does before the model). Prints "name images/s images/cpu-s" per image, each the best of the
 * windows: per wall-clock second, and per second of the process's CPU time (JIT and GC threads included), which
 * other processes sharing the core do not inflate. Args: SECONDS_PER_WINDOW WINDOWS IMAGE...
 *
 * <p>With {@code --breakdown REPEATS} first, prints instead per image one line "name step=ms ..." with the best of
 * REPEATS timings of each step: {@code decode} (the original) and each impairment with its re-decode and
 * preprocessing (the same lines as {@code tools/bench_robustness_reference.py --breakdown}).
 */
public final class RobustnessBenchmark {
    private RobustnessBenchmark() {}

    public static void main(String[] args) throws Exception {
        if (args[0].equals("--breakdown")) {
            breakdown(Integer.parseInt(args[1]), List.of(args).subList(2, args.length));
            return;
        }
        double seconds = Double.parseDouble(args[0]);
        int windows = Integer.parseInt(args[1]);
        Work work = new Work();
        for (int a = 2; a < args.length; a++) {
            Path file = Path.of(args[a]);
            byte[] bytes = Files.readAllBytes(file);
            ImageContext context = work.context(file);
            BestOfWindows.Rates rates = BestOfWindows.measure(seconds, windows, () -> {
                RgbImage original = work.decoder.decode(bytes);
                for (Impairment impairment : work.impairments) {
                    work.impairAndPreprocess(original, impairment, context);
                }
            });
            System.out.printf(Locale.ROOT, "%s %.3f %.3f%n", file.getFileName(), rates.perSecond(),
                    rates.perCpuSecond());
        }
    }

    private static void breakdown(int repeats, List<String> images) throws Exception {
        Work work = new Work();
        for (int round = 0; round < 2; round++) { // the first round warms the JIT up, the second is printed
            for (String image : images) {
                Path file = Path.of(image);
                byte[] bytes = Files.readAllBytes(file);
                ImageContext context = work.context(file);
                RgbImage original = work.decoder.decode(bytes);
                StringBuilder line = new StringBuilder(file.getFileName().toString());
                double total = 0;
                double best = Double.MAX_VALUE;
                for (int r = 0; r < repeats * (round == 0 ? 5 : 1); r++) {
                    long start = System.nanoTime();
                    work.decoder.decode(bytes);
                    best = Math.min(best, (System.nanoTime() - start) / 1e6);
                }
                line.append(String.format(Locale.ROOT, " decode=%.2f", best));
                total += best;
                for (Impairment impairment : work.impairments) {
                    best = Double.MAX_VALUE;
                    for (int r = 0; r < repeats * (round == 0 ? 5 : 1); r++) {
                        long start = System.nanoTime();
                        work.impairAndPreprocess(original, impairment, context);
                        best = Math.min(best, (System.nanoTime() - start) / 1e6);
                    }
                    line.append(String.format(Locale.ROOT, " %s=%.2f", impairment.spec(), best));
                    total += best;
                }
                if (round == 1) {
                    System.out.printf(Locale.ROOT, "%s total=%.2f%n", line, total);
                }
            }
        }
    }

    /** The per-image work both modes time. */
    private static final class Work {
        final ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        final ClipPreprocessor preprocessor = new ClipPreprocessor(PreprocessSpec.CLIP_224);
        final FloatBuffer tensor = ByteBuffer.allocateDirect(3 * 224 * 224 * 4).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        final List<Impairment> impairments = new ArrayList<>();

        Work() {
            impairments.add(Impairment.ORIGINAL);
            impairments.addAll(Impairments.DEFAULT);
        }

        ImageContext context(Path file) {
            return new ImageContext(file.getFileName().toString(), 0, decoder, ImageLimits.DEFAULT);
        }

        void impairAndPreprocess(RgbImage original, Impairment impairment, ImageContext context)
                throws ImpairmentException, io.clipguard.image.ImageDecodeException {
            Impaired impaired = impairment.apply(original, context);
            RgbImage pixels = impaired.decoded(context);
            preprocessor.normalizeInto(preprocessor.resizeAndCrop(pixels), tensor, 0);
        }
    }
}
