package io.clipguard.image;

import static io.clipguard.image.ByteFields.uint16Le;

import com.twelvemonkeys.imageio.stream.ByteArrayImageInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;

/**
 * The decode path for every image the native decoder does not take: the format's ImageIO reader reads the raw samples
 * (no ICC, no colour conversion of its own), the reader's declared size is checked against the limits and taken from
 * the decode budget before the raster is read, and {@link PilColorConversions} turns the samples into PIL's RGB.
 * Warnings that mean the picture is incomplete, and a raster of another size than declared, make the image corrupt.
 * Thread-safe: every call gets its own reader.
 */
final class ImageIoDecoder {
    /**
     * Budget pixels an ImageIO decode takes per image pixel: its raster (up to 8 bytes a pixel for 16-bit RGBA) and the
     * RGB copy live on the heap together, where the native path holds only the RGB array there.
     */
    private static final int BUDGET_WEIGHT = 3;

    private final ImageLimits limits;
    private final ImageIoReaders readers = ImageIoReaders.find();

    ImageIoDecoder(ImageLimits limits) {
        this.limits = limits;
    }

    RgbImage decode(ImageFormat format, byte[] encoded, DecodeAdmission admission)
            throws IOException, ImageDecodeException {
        ImageReaderSpi spi = readers.get(format);
        if (spi == null) {
            throw new ImageDecodeException(ImageError.UNSUPPORTED_FORMAT, "no ImageIO reader for " + format
                    + " on the class path (TwelveMonkeys imageio-jpeg and imageio-bmp, and webp-imageio, are required)");
        }
        if (format == ImageFormat.GIF && encoded.length >= 10) {
            // The logical screen is the size PIL opens a GIF at (and refuses as a bomb), whatever its frames declare.
            limits.checkPixels(format, uint16Le(encoded, 6), uint16Le(encoded, 8));
        }
        ImageReader reader = spi.createReaderInstance();
        TruncationWarnings warnings = new TruncationWarnings();
        try (ImageInputStream in = new ByteArrayImageInputStream(encoded)) {
            reader.setInput(in, true, true);
            reader.addIIOReadWarningListener(warnings);
            int width = reader.getWidth(0);
            int height = reader.getHeight(0);
            limits.checkPixels(format, width, height);
            admission.take((long) width * height, BUDGET_WEIGHT);
            RgbImage image;
            if (format == ImageFormat.JPEG) {
                image = decodeJpeg(reader, encoded);
            } else {
                image = PilColorConversions.toRgb(reader.read(0, reader.getDefaultReadParam()));
            }
            if (!warnings.messages.isEmpty()) {
                throw new ImageDecodeException(ImageError.CORRUPT, format + " data is truncated or damaged: "
                        + String.join("; ", warnings.messages));
            }
            if (image.width() != width || image.height() != height) {
                throw new ImageDecodeException(ImageError.CORRUPT, format + " header says " + width + "x" + height
                        + " but the decoder produced " + image.width() + "x" + image.height());
            }
            return image;
        } finally {
            reader.dispose();
        }
    }

    /** JPEG: raw raster (no ICC, no colour conversion by ImageIO), then libjpeg's/PIL's own conversion. */
    private static RgbImage decodeJpeg(ImageReader reader, byte[] encoded) throws IOException, ImageDecodeException {
        JpegColorSpace space = JpegColorSpace.sniff(encoded);
        if (space == null) {
            throw new ImageDecodeException(ImageError.CORRUPT, "JPEG has no usable frame header (need 1, 3 or 4 components)");
        }
        return PilColorConversions.jpegToRgb(reader.readRaster(0, null), space);
    }

    /** Only warnings that mean "the picture is incomplete" make the image corrupt; PIL decodes past the rest. */
    private static final class TruncationWarnings implements IIOReadWarningListener {
        final List<String> messages = new ArrayList<>();

        @Override
        public void warningOccurred(ImageReader source, String warning) {
            String w = warning == null ? "" : warning.toLowerCase(Locale.ROOT);
            if (w.contains("premature end") || w.contains("truncated")) {
                messages.add(warning);
            }
        }
    }
}
