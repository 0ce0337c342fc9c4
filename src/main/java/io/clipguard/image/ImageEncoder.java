package io.clipguard.image;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMWRITE_JPEG_OPTIMIZE;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMWRITE_JPEG_PROGRESSIVE;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMWRITE_JPEG_QUALITY;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMWRITE_JPEG_SAMPLING_FACTOR_420;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMWRITE_WEBP_QUALITY;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_RGB2BGR;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * Encodes RGB images as PIL 9.4 saves them, through the libraries PIL itself calls (OpenCV's imgcodecs bundles
 * libjpeg-turbo and libwebp): {@code save(f, "JPEG", quality=Q)} (4:2:0 chroma, baseline, no optimise, ISLOW DCT,
 * standard Huffman tables) and {@code save(f, "WEBP", quality=Q)} (lossy, method 4). The bytes equal Pillow's on
 * Debian's python3-pil 9.4 (libjpeg62-turbo 2.1.5, libwebp 1.2.4): checked by the robustness fixtures.
 */
public final class ImageEncoder {
    /** The largest side each format can hold (libjpeg's JPEG_MAX_DIMENSION, WebP's 14-bit sizes). */
    static final int JPEG_MAX_SIDE = 65500;
    static final int WEBP_MAX_SIDE = 16383;

    private ImageEncoder() {}

    /** Whether encoding can work here: the OpenCV natives loaded. */
    public static boolean available() {
        return NativeDecoding.get().usable();
    }

    /** PIL's {@code image.save(f, "JPEG", quality=quality)}, quality 1..100. */
    public static byte[] jpeg(RgbImage image, int quality) throws ImageDecodeException {
        checkQuality("JPEG", quality);
        return encode(image, ".jpg", JPEG_MAX_SIDE, IMWRITE_JPEG_QUALITY, quality, IMWRITE_JPEG_SAMPLING_FACTOR,
                IMWRITE_JPEG_SAMPLING_FACTOR_420, IMWRITE_JPEG_OPTIMIZE, 0, IMWRITE_JPEG_PROGRESSIVE, 0);
    }

    /** PIL's {@code image.save(f, "WEBP", quality=quality)} (lossy, method 4), quality 1..100. */
    public static byte[] webp(RgbImage image, int quality) throws ImageDecodeException {
        checkQuality("WebP", quality);
        // OpenCV encodes lossless only above 100; 1..100 is libwebp's lossy quality with the default preset.
        return encode(image, ".webp", WEBP_MAX_SIDE, IMWRITE_WEBP_QUALITY, quality);
    }

    private static void checkQuality(String format, int quality) {
        if (quality < 1 || quality > 100) {
            throw new IllegalArgumentException(format + " quality must be 1..100, got " + quality);
        }
    }

    private static byte[] encode(RgbImage image, String extension, int maxSide, int... params)
            throws ImageDecodeException {
        if (image.width() > maxSide || image.height() > maxSide) {
            throw new ImageDecodeException(ImageError.TOO_LARGE, "a " + image.width() + "x" + image.height()
                    + " image cannot be saved as " + extension + " (at most " + maxSide + " pixels a side)");
        }
        if (!available()) {
            throw new ImageDecodeException(ImageError.UNSUPPORTED_FORMAT, "cannot encode " + extension + ": "
                    + NativeDecoding.get());
        }
        // OpenCV's encoders take BGR: the pixels are copied in as they are and swapped there (SIMD, in place).
        try (Mat mat = new Mat(image.height(), image.width(), CV_8UC3);
             IntPointer options = new IntPointer(params);
             BytePointer out = new BytePointer()) {
            mat.data().put(image.rgb());
            opencv_imgproc.cvtColor(mat, mat, COLOR_RGB2BGR);
            if (!opencv_imgcodecs.imencode(extension, mat, out, options)) {
                throw new ImageDecodeException(ImageError.CORRUPT, "OpenCV could not encode a " + image.width() + "x"
                        + image.height() + " image as " + extension);
            }
            byte[] encoded = new byte[Math.toIntExact(out.limit())];
            out.get(encoded);
            return encoded;
        }
    }
}
