package io.clipguard.image;

import com.twelvemonkeys.imageio.stream.ByteArrayImageInputStream;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntUnaryOperator;
import java.util.zip.CRC32;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes JPEG, PNG, GIF (first frame), WebP and BMP to 8-bit RGB as PIL 9.4's {@code Image.open(p).convert("RGB")}
 * would: EXIF orientation ignored, alpha dropped (not composited), palette and gray expanded, CMYK by PIL's formula,
 * 16-bit PNG as PIL converts it, and no ICC colour management. The format is sniffed from magic bytes. Limits are
 * checked before any pixel buffer exists: encoded size first, then the pixel count from the header.
 *
 * <p>Thread-safe: every call gets its own ImageIO reader.
 */
public final class ImageDecoder {
    /** Formats we decode, with the reader we prefer for each (fidelity to PIL differs between plugins). */
    enum Format {
        JPEG("jpeg", "com.twelvemonkeys.imageio.plugins.jpeg."),
        PNG("png", "com.sun.imageio.plugins.png."),
        GIF("gif", "com.sun.imageio.plugins.gif."),
        WEBP("webp", "com.luciad.imageio.webp."), // libwebp via JNI: the decoder PIL uses
        BMP("bmp", "com.twelvemonkeys.imageio.plugins.bmp.");

        final String imageIoName;
        final String preferredReaderPackage;

        Format(String imageIoName, String preferredReaderPackage) {
            this.imageIoName = imageIoName;
            this.preferredReaderPackage = preferredReaderPackage;
        }
    }

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    /** BMP info-header sizes PIL's BmpImagePlugin accepts; "BM" alone would also match ordinary text. */
    private static final int[] BMP_HEADER_SIZES = {12, 40, 52, 56, 64, 108, 124};

    private final ImageLimits limits;
    private final Map<Format, ImageReaderSpi> readers;

    public ImageDecoder(ImageLimits limits) {
        this.limits = limits;
        this.readers = findReaders();
    }

    private static Map<Format, ImageReaderSpi> findReaders() {
        Map<Format, ImageReaderSpi> found = lookUpReaders();
        if (found.size() < Format.values().length) {
            // Plugins on the class path are registered by the context class loader of whoever first touched ImageIO;
            // under another loader (e.g. an application server) ask ImageIO to look again.
            ImageIO.scanForPlugins();
            found = lookUpReaders();
        }
        return found;
    }

    private static Map<Format, ImageReaderSpi> lookUpReaders() {
        Map<Format, ImageReaderSpi> found = new EnumMap<>(Format.class);
        IIORegistry registry = IIORegistry.getDefaultInstance();
        for (Format format : Format.values()) {
            Iterator<ImageReaderSpi> it = registry.getServiceProviders(ImageReaderSpi.class,
                    spi -> List.of(((ImageReaderSpi) spi).getFormatNames()).stream()
                            .anyMatch(n -> n.equalsIgnoreCase(format.imageIoName)), true);
            ImageReaderSpi fallback = null;
            while (it.hasNext()) {
                ImageReaderSpi spi = it.next();
                if (spi.getClass().getName().startsWith(format.preferredReaderPackage)) {
                    fallback = spi;
                    break;
                }
                if (fallback == null) {
                    fallback = spi;
                }
            }
            if (fallback != null) {
                found.put(format, fallback);
            }
        }
        return found;
    }

    /** Decode as PIL's Image.open(..).convert("RGB") would: EXIF ignored, alpha dropped (not composited), palette/gray expanded. */
    public RgbImage decode(byte[] encoded) throws ImageDecodeException {
        if (encoded == null || encoded.length == 0) {
            throw new ImageDecodeException(ImageError.EMPTY, "no image data (0 bytes)");
        }
        if (encoded.length > limits.maxEncodedBytes()) {
            throw new ImageDecodeException(ImageError.TOO_LARGE, "encoded image is " + encoded.length
                    + " bytes, over the limit of " + limits.maxEncodedBytes() + " bytes (ImageLimits.maxEncodedBytes)");
        }
        Format format = sniff(encoded);
        if (format == null) {
            throw new ImageDecodeException(ImageError.UNSUPPORTED_FORMAT, "not a JPEG, PNG, GIF, WebP or BMP image (first bytes: "
                    + HexFormat.of().formatHex(encoded, 0, Math.min(12, encoded.length)) + ")");
        }
        ImageReaderSpi spi = readers.get(format);
        if (spi == null) {
            throw new ImageDecodeException(ImageError.UNSUPPORTED_FORMAT, "no ImageIO reader for " + format
                    + " on the class path (TwelveMonkeys imageio-jpeg and imageio-bmp, and webp-imageio, are required)");
        }
        try {
            if (format == Format.PNG) {
                checkPngChunks(encoded);
            }
            return decodeWith(spi, format, encoded);
        } catch (ImageDecodeException e) {
            throw e;
        } catch (IOException e) {
            throw new ImageDecodeException(ImageError.CORRUPT, format + " data is broken: " + e.getMessage(), e);
        } catch (OutOfMemoryError e) {
            throw new ImageDecodeException(ImageError.CORRUPT, format + " decoding ran out of memory; lower "
                    + "ImageLimits.maxPixels or give the JVM more heap", e);
        } catch (RuntimeException | Error e) {
            // Plugins throw unchecked exceptions (IndexOutOfBounds, NegativeArraySize, ...) on malformed data.
            throw new ImageDecodeException(ImageError.CORRUPT, format + " decoder failed on malformed data: " + e, e);
        }
    }

    static Format sniff(byte[] d) {
        if (d.length >= 3 && (d[0] & 0xFF) == 0xFF && (d[1] & 0xFF) == 0xD8 && (d[2] & 0xFF) == 0xFF) {
            return Format.JPEG;
        }
        if (d.length >= 8 && java.util.Arrays.equals(d, 0, 8, PNG_SIGNATURE, 0, 8)) {
            return Format.PNG;
        }
        if (d.length >= 6 && ascii(d, 0, "GIF8") && (d[4] == '7' || d[4] == '9') && d[5] == 'a') {
            return Format.GIF;
        }
        if (d.length >= 12 && ascii(d, 0, "RIFF") && ascii(d, 8, "WEBP")) {
            return Format.WEBP;
        }
        if (d.length >= 18 && d[0] == 'B' && d[1] == 'M') {
            int headerSize = (d[14] & 0xFF) | (d[15] & 0xFF) << 8 | (d[16] & 0xFF) << 16 | (d[17] & 0xFF) << 24;
            for (int size : BMP_HEADER_SIZES) {
                if (headerSize == size) {
                    return Format.BMP;
                }
            }
        }
        return null;
    }

    private static boolean ascii(byte[] d, int offset, String s) {
        for (int i = 0; i < s.length(); i++) {
            if (d[offset + i] != (byte) s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The JDK's PNG reader never checks chunk CRCs (and reads a truncated IDAT as far as it goes), so walk the chunks:
     * every CRC must match and the stream must reach IEND.
     */
    private static void checkPngChunks(byte[] d) throws ImageDecodeException {
        CRC32 crc = new CRC32();
        int pos = 8;
        while (true) {
            if (pos + 12 > d.length) {
                throw new ImageDecodeException(ImageError.CORRUPT, "PNG is truncated at byte " + pos + " of "
                        + d.length + " (no IEND chunk)");
            }
            long length = readUint32(d, pos);
            if (length > d.length - pos - 12L) {
                throw new ImageDecodeException(ImageError.CORRUPT, "PNG chunk at byte " + pos + " claims " + length
                        + " bytes but the file ends first (truncated)");
            }
            int n = (int) length;
            crc.reset();
            crc.update(d, pos + 4, 4 + n);
            if (crc.getValue() != readUint32(d, pos + 8 + n)) {
                throw new ImageDecodeException(ImageError.CORRUPT, "PNG chunk '"
                        + new String(d, pos + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1)
                        + "' at byte " + pos + " has a bad CRC (file damaged)");
            }
            if (d[pos + 4] == 'I' && d[pos + 5] == 'E' && d[pos + 6] == 'N' && d[pos + 7] == 'D') {
                return;
            }
            pos += 12 + n;
        }
    }

    private static long readUint32(byte[] d, int p) {
        return ((long) (d[p] & 0xFF) << 24) | ((d[p + 1] & 0xFF) << 16) | ((d[p + 2] & 0xFF) << 8) | (d[p + 3] & 0xFF);
    }

    private RgbImage decodeWith(ImageReaderSpi spi, Format format, byte[] encoded) throws IOException, ImageDecodeException {
        ImageReader reader = spi.createReaderInstance();
        TruncationWarnings warnings = new TruncationWarnings();
        try (ImageInputStream in = new ByteArrayImageInputStream(encoded)) {
            reader.setInput(in, true, true);
            reader.addIIOReadWarningListener(warnings);
            int width = reader.getWidth(0);
            int height = reader.getHeight(0);
            checkPixelCount(format, width, height);
            RgbImage image;
            if (format == Format.JPEG) {
                image = decodeJpeg(reader, encoded);
            } else {
                image = toRgb(reader.read(0, reader.getDefaultReadParam()));
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

    private void checkPixelCount(Format format, int width, int height) throws ImageDecodeException {
        long pixels = (long) width * height;
        if (width <= 0 || height <= 0) {
            throw new ImageDecodeException(ImageError.CORRUPT, format + " header declares an empty image (" + width
                    + "x" + height + ")");
        }
        if (pixels > limits.maxPixels() || pixels * 3 > Integer.MAX_VALUE - 16) {
            throw new ImageDecodeException(ImageError.TOO_LARGE, format + " header declares " + width + "x" + height
                    + " = " + pixels + " pixels, over the limit of " + limits.maxPixels()
                    + " (ImageLimits.maxPixels); refused before decoding");
        }
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

    /** JPEG: raw raster (no ICC, no colour conversion by ImageIO), then libjpeg's/PIL's own conversion. */
    private static RgbImage decodeJpeg(ImageReader reader, byte[] encoded) throws IOException, ImageDecodeException {
        JpegColorSpace space = JpegColorSpace.sniff(encoded);
        if (space == null) {
            throw new ImageDecodeException(ImageError.CORRUPT, "JPEG has no usable frame header (need 1, 3 or 4 components)");
        }
        Raster raster = reader.readRaster(0, null);
        int expectedBands = switch (space) {
            case GRAY -> 1;
            case YCBCR, RGB -> 3;
            case CMYK, YCCK -> 4;
        };
        if (raster.getNumBands() != expectedBands || raster.getSampleModel().getSampleSize(0) != 8) {
            throw new ImageDecodeException(ImageError.CORRUPT, "JPEG decoder returned " + raster.getNumBands()
                    + " bands of " + raster.getSampleModel().getSampleSize(0) + " bits for a " + space + " image");
        }
        int w = raster.getWidth();
        int h = raster.getHeight();
        byte[] samples = PackedSamples.packed8(raster, IntUnaryOperator.identity());
        int n = w * h;
        // Three-band samples are converted in place: the raster was decoded for us alone, so its array becomes the image.
        byte[] rgb = expectedBands == 3 ? samples : new byte[n * 3];
        switch (space) {
            case GRAY -> expandGray(samples, 1, rgb);
            case RGB -> { } // already R, G, B
            case YCBCR -> PilColorConversions.ycbcrToRgb(samples, rgb, n);
            case CMYK -> PilColorConversions.storedCmykToRgb(samples, rgb, n);
            case YCCK -> PilColorConversions.storedYcckToRgb(samples, rgb, n);
        }
        return new RgbImage(w, h, rgb);
    }

    /** Gray to RGB: the first of every {@code stride} samples, replicated. */
    private static void expandGray(byte[] samples, int stride, byte[] rgb) {
        for (int i = 0, o = 0; o < rgb.length; i += stride, o += 3) {
            byte v = samples[i];
            rgb[o] = v;
            rgb[o + 1] = v;
            rgb[o + 2] = v;
        }
    }

    /**
     * PNG/GIF/WebP/BMP: take the decoded samples, not getRGB() (which colour-converts gray as linear and rescales 16-bit),
     * and expand them the way PIL's convert("RGB") does for the mode PIL would have opened.
     */
    private static RgbImage toRgb(BufferedImage image) throws ImageDecodeException {
        ColorModel cm = image.getColorModel();
        Raster raster = image.getRaster();
        int w = raster.getWidth();
        int h = raster.getHeight();
        int bands = raster.getNumBands();
        int bits = raster.getSampleModel().getSampleSize(0);
        int n = w * h;
        if (cm instanceof IndexColorModel icm) {
            if (bits > 8) {
                throw new ImageDecodeException(ImageError.UNSUPPORTED_FORMAT, "palette image with " + bits + "-bit indices");
            }
            byte[] indices = PackedSamples.packed8(raster, IntUnaryOperator.identity()); // 1..8-bit indices fit a byte
            int size = icm.getMapSize();
            byte[] palette = new byte[256 * 3]; // PIL's palette is padded with black past the map's end
            for (int i = 0; i < size && i < 256; i++) {
                int argb = icm.getRGB(i);
                palette[3 * i] = (byte) (argb >> 16);
                palette[3 * i + 1] = (byte) (argb >> 8);
                palette[3 * i + 2] = (byte) argb;
            }
            byte[] rgb = new byte[n * 3];
            for (int i = 0, p = 0, o = 0; p < n; i += bands, p++, o += 3) {
                int c = (indices[i] & 0xFF) * 3;
                rgb[o] = palette[c];
                rgb[o + 1] = palette[c + 1];
                rgb[o + 2] = palette[c + 2];
            }
            return new RgbImage(w, h, rgb);
        }
        int space = cm.getColorSpace().getType();
        if (space == ColorSpace.TYPE_GRAY) {
            // PIL: 8-bit L replicated; 16-bit gray opens as mode I and convert("RGB") clips at 255; 16-bit gray+alpha
            // opens as RGBA from "LA;16B" (high byte); 1/2/4-bit gray are scaled to 0..255.
            boolean highByte = bits == 16 && cm.hasAlpha();
            int max = (1 << bits) - 1;
            IntUnaryOperator to8 = bits == 16 ? (highByte ? v -> v >> 8 : v -> Math.min(v, 255)) : v -> v * 255 / max;
            byte[] rgb = new byte[n * 3];
            expandGray(PackedSamples.packed8(raster, to8), bands, rgb);
            return new RgbImage(w, h, rgb);
        }
        if (space == ColorSpace.TYPE_RGB && bands >= 3) {
            if (bits != 8 && bits != 16) {
                throw new ImageDecodeException(ImageError.UNSUPPORTED_FORMAT, "RGB with " + bits + "-bit samples");
            }
            // PIL keeps the high byte of 16-bit RGB(A).
            byte[] samples = PackedSamples.packed8(raster, bits == 16 ? v -> v >> 8 : IntUnaryOperator.identity());
            if (bands == 3) {
                return new RgbImage(w, h, samples); // decoded for us alone: its array becomes the image
            }
            byte[] rgb = new byte[n * 3];
            for (int i = 0, o = 0; o < rgb.length; i += bands, o += 3) {
                rgb[o] = samples[i];
                rgb[o + 1] = samples[i + 1];
                rgb[o + 2] = samples[i + 2];
            }
            return new RgbImage(w, h, rgb);
        }
        throw new ImageDecodeException(ImageError.UNSUPPORTED_FORMAT, "unsupported colour model: " + cm);
    }
}
