package io.clipguard.bench;

import io.clipguard.image.ClipPreprocessor;
import io.clipguard.image.ImageDecoder;
import io.clipguard.image.ImageLimits;
import io.clipguard.image.PreprocessSpec;
import io.clipguard.image.RgbImage;
import io.clipguard.image.impair.ImageContext;
import io.clipguard.image.impair.Impaired;
import io.clipguard.image.impair.Impairment;
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
 * tensor (what the engine does before the model). Prints "name images/s" per image, the best of the windows.
 * Args: SECONDS_PER_WINDOW WINDOWS IMAGE...
 */
public final class RobustnessBenchmark {
    private RobustnessBenchmark() {}

    public static void main(String[] args) throws Exception {
        double seconds = Double.parseDouble(args[0]);
        int windows = Integer.parseInt(args[1]);
        ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        ClipPreprocessor preprocessor = new ClipPreprocessor(PreprocessSpec.CLIP_224);
        FloatBuffer tensor = ByteBuffer.allocateDirect(3 * 224 * 224 * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        List<Impairment> impairments = new ArrayList<>();
        impairments.add(Impairment.ORIGINAL);
        impairments.addAll(Impairments.DEFAULT);
        for (int a = 2; a < args.length; a++) {
            Path file = Path.of(args[a]);
            byte[] bytes = Files.readAllBytes(file);
            ImageContext context = new ImageContext(file.getFileName().toString(), 0, decoder, ImageLimits.DEFAULT);
            double best = 0;
            for (int w = -2; w < windows; w++) { // two warm-up windows
                long start = System.nanoTime();
                long end = start + (long) (seconds * 1e9);
                int done = 0;
                while (System.nanoTime() < end || done == 0) {
                    RgbImage original = decoder.decode(bytes);
                    for (Impairment impairment : impairments) {
                        Impaired impaired = impairment.apply(original, context);
                        RgbImage pixels = impaired.decoded(context);
                        preprocessor.normalizeInto(preprocessor.resizeAndCrop(pixels), tensor, 0);
                    }
                    done++;
                }
                double rate = done / ((System.nanoTime() - start) / 1e9);
                if (w >= 0) {
                    best = Math.max(best, rate);
                }
            }
            System.out.printf(Locale.ROOT, "%s %.3f%n", file.getFileName(), best);
        }
    }
}
