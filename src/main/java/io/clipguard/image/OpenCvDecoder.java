package io.clipguard.image;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC1;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_COLOR_RGB;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_IGNORE_ORIENTATION;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_REDUCED_GRAYSCALE_2;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_REDUCED_GRAYSCALE_4;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_REDUCED_GRAYSCALE_8;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * JPEG, PNG and WebP (an animation as its first frame) through OpenCV's imgcodecs: libjpeg-turbo 3.1.2 (SIMD, ISLOW
 * IDCT, fancy upsampling: PIL's defaults), libpng and libwebp, the libraries PIL itself calls. Asked for RGB with EXIF
 * orientation ignored, as PIL opens images; for 8-bit YCbCr/gray/RGB JPEGs, every PNG but 16-bit gray, and WebP the
 * pixels equal PIL's {@code convert("RGB")} (golden tests).
 * The caller checks the header's size against the limits before calling, so OpenCV never allocates more than allowed,
 * and calls only where {@link NativeDecoding} found the natives loaded.
 */
final class OpenCvDecoder {
    private static final int BASE_FLAGS = IMREAD_COLOR_RGB | IMREAD_IGNORE_ORIENTATION;

    private OpenCvDecoder() {
    }

    /**
     * Loads the natives; {@link NativeDecoding} calls it once per JVM and decides on the outcome. Throws whatever the
     * loading throws (UnsatisfiedLinkError, NoClassDefFoundError, ...) where there are none for this platform.
     */
    static void load() {
        // JavaCPP refuses allocations once the process's resident memory passes 2x the heap; decoded images are
        // bounded by the decode budget instead, so lift that check unless the operator set it.
        if (System.getProperty("org.bytedeco.javacpp.maxPhysicalBytes") == null) {
            System.setProperty("org.bytedeco.javacpp.maxPhysicalBytes", "0");
        }
        Loader.load(opencv_imgcodecs.class);
        // imdecode of one image must not fan out to OpenCV's own thread pool: decoding is parallel per image.
        opencv_core.setNumThreads(1);
    }

    /**
     * Decodes to interleaved RGB, JPEGs at 1/{@code reduction} scale in the IDCT ({@code reduction} 1, 2, 4 or 8; only 1
     * for PNG and WebP). Returns null when OpenCV cannot decode the data.
     */
    static RgbImage decode(byte[] encoded, int reduction) {
        // OpenCV 4.13 refuses IMREAD_COLOR_BGR (in IMREAD_REDUCED_COLOR_n) together with IMREAD_COLOR_RGB; the reduced
        // "grayscale" flags carry only the scale, and IMREAD_COLOR_RGB makes the output colour.
        int flags = BASE_FLAGS | switch (reduction) {
            case 1 -> 0;
            case 2 -> IMREAD_REDUCED_GRAYSCALE_2;
            case 4 -> IMREAD_REDUCED_GRAYSCALE_4;
            case 8 -> IMREAD_REDUCED_GRAYSCALE_8;
            default -> throw new IllegalArgumentException("reduction must be 1, 2, 4 or 8, got " + reduction);
        };
        try (Mat buffer = new Mat(1, encoded.length, CV_8UC1)) {
            buffer.data().put(encoded);
            try (Mat decoded = opencv_imgcodecs.imdecode(buffer, flags)) {
                if (decoded == null || decoded.empty() || decoded.type() != CV_8UC3 || !decoded.isContinuous()) {
                    return null;
                }
                int width = decoded.cols();
                int height = decoded.rows();
                byte[] rgb = new byte[Math.multiplyExact(Math.multiplyExact(width, height), 3)];
                decoded.data().capacity(rgb.length).get(rgb);
                return new RgbImage(width, height, rgb);
            }
        }
    }
}
