package io.clipguard.bench;

import io.clipguard.image.ClipPreprocessor;
import io.clipguard.image.DecodeMode;
import io.clipguard.image.ImageDecoder;
import io.clipguard.image.ImageLimits;
import io.clipguard.image.PreprocessSpec;
import io.clipguard.image.RgbImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Single-threaded images/s of decoding and preprocessing, the Java side of {@code tools/bench-preprocess}, to compare
 * with the Python reference on one core ({@code tools/bench_preprocess_reference.py}: PIL open+convert (with
 * {@code draft} in fast mode), torchvision Resize+CenterCrop+ToTensor+Normalize). Cases per fixture:
 * <ul>
 *   <li>{@code decodeResizeCropNormalize:exact} / {@code :fast}: encoded bytes in memory → {@link ImageDecoder#decode}
 *       in that mode → {@link ClipPreprocessor#resizeAndCrop} → {@link ClipPreprocessor#normalizeInto};</li>
 *   <li>{@code decode:exact}: the decode alone (exact, no resize), the floor under the first case;</li>
 *   <li>{@code resizeCropNormalize}: the preprocessing alone (image decoded once beforehand).</li>
 * </ul>
 * and once {@code jpegDecodeAtEighthScale}: the 12 MP JPEG decoded at libjpeg's smallest IDCT scale, 1/8, and nothing
 * else. Every DCT-scaled decode still Huffman-decodes all coefficients, so this is the ceiling of any fast mode built on
 * libjpeg-turbo.
 *
 * <p>Prints "fixture case images/s images/cpu-s" per case, each the best of the windows ({@link BestOfWindows}): per
 * wall-clock second and per second of the process's CPU time, which other processes sharing the core do not inflate.
 * Args: SECONDS_PER_WINDOW WINDOWS DIR [FIXTURE...] (DIR: the upload mix that {@code tools/make_upload_mix.py} writes
 * to {@code target/upload-mix}; FIXTURE: file names in it, default the six of the mix).
 */
public final class PreprocessBenchmark {
    static final List<String> FIXTURES = List.of("phone_4032x3024_q90.jpg", "photo_1920x1080.jpg", "photo_512x512.jpg",
            "square_1024x1024.png", "square_1024x1024.webp", "screenshot_1920x1080.png");
    private static final String LARGE_JPEG = "phone_4032x3024_q90.jpg";

    private PreprocessBenchmark() {}

    public static void main(String[] args) throws Exception {
        double seconds = Double.parseDouble(args[0]);
        int windows = Integer.parseInt(args[1]);
        Path dir = Path.of(args[2]);
        List<String> fixtures = args.length > 3 ? List.of(args).subList(3, args.length) : FIXTURES;
        ImageDecoder decoder = new ImageDecoder(ImageLimits.DEFAULT);
        ClipPreprocessor preprocessor = new ClipPreprocessor(PreprocessSpec.CLIP_224);
        int crop = PreprocessSpec.CLIP_224.cropSize();
        FloatBuffer tensor = ByteBuffer.allocateDirect(3 * crop * crop * Float.BYTES).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        int fastShorterSide = preprocessor.fastDecodeShorterSide();
        for (String fixture : fixtures) {
            byte[] encoded = Files.readAllBytes(dir.resolve(fixture));
            RgbImage decoded = decoder.decode(encoded);
            for (DecodeMode mode : List.of(DecodeMode.EXACT, DecodeMode.FAST)) {
                print(fixture, "decodeResizeCropNormalize:" + mode.name().toLowerCase(Locale.ROOT),
                        BestOfWindows.measure(seconds, windows, () -> preprocessor.normalizeInto(
                                decoder.decode(encoded, mode, fastShorterSide, preprocessor::resizeAndCrop), tensor, 0)));
            }
            print(fixture, "decode:exact", BestOfWindows.measure(seconds, windows, () -> decoder.decode(encoded)));
            print(fixture, "resizeCropNormalize", BestOfWindows.measure(seconds, windows,
                    () -> preprocessor.normalizeInto(preprocessor.resizeAndCrop(decoded), tensor, 0)));
        }
        if (fixtures.contains(LARGE_JPEG)) {
            byte[] encoded = Files.readAllBytes(dir.resolve(LARGE_JPEG));
            // A shorter side of at least 1 px lets fast mode pick the smallest scale libjpeg has.
            print(LARGE_JPEG, "jpegDecodeAtEighthScale", BestOfWindows.measure(seconds, windows,
                    () -> decoder.decode(encoded, DecodeMode.FAST, 1, image -> image)));
        }
    }

    private static void print(String fixture, String label, BestOfWindows.Rates rates) {
        System.out.printf(Locale.ROOT, "%s %s %.3f %.3f%n", fixture, label, rates.perSecond(), rates.perCpuSecond());
    }
}
