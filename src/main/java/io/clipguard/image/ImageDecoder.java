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
import java.util.logging.Level;
import java.util.logging.Logger;
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
 * checked before any pixel buffer exists: encoded size first, then the pixel count from the header; then the image
 * takes its pixels from the {@link DecodeBudget} (waiting while other decodes hold it).
 *
 * <p>JPEG and PNG decode through libjpeg-turbo / libpng ({@link OpenCvDecoder}), as PIL does; what that path would not
 * decode exactly as PIL (see {@link DecodeFallback}) and the other formats go through ImageIO.
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

    private static final Logger LOG = Logger.getLogger(ImageDecoder.class.getName());
    /**
     * Budget pixels an ImageIO decode takes per image pixel: its raster (up to 8 bytes a pixel for 16-bit RGBA) and the
     * RGB copy live on the heap together, where the native path holds only the RGB array there.
     */
    private static final int IMAGEIO_BUDGET_WEIGHT = 3;

    private final ImageLimits limits;
    private final DecodeBudget budget;
    private final Map<Format, ImageReaderSpi> readers;
    private final DecodeCounters counters = new DecodeCounters();

    /** A decoder whose decode budget is sized from the heap ({@link DecodeBudget#fromHeap()}). */
    public ImageDecoder(ImageLimits limits) {
        this(limits, DecodeBudget.fromHeap());
    }

    public ImageDecoder(ImageLimits limits, DecodeBudget budget) {
        this.limits = limits;
        this.budget = budget;
        this.readers = findReaders();
    }

    /** Native decodes and fallbacks to ImageIO so far, by reason. */
    public DecodeCounters counters() {
        return counters;
    }

    public DecodeBudget budget() {
        return budget;
    }

    /** Whether JPEG and PNG decode through the native libjpeg-turbo / libpng path here. */
    public static boolean nativeDecoderAvailable() {
        return OpenCvDecoder.available();
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

    /**
     * Decode as PIL's Image.open(..).convert("RGB") would: EXIF ignored, alpha dropped (not composited), palette/gray
     * expanded. The image's pixels are taken from the decode budget only while it is decoded.
     */
    public RgbImage decode(byte[] encoded) throws ImageDecodeException {
        return decode(encoded, DecodeMode.EXACT, 0, image -> image);
    }

    /**
     * Decodes and hands the image to {@code use} (typically the resize and crop) while its pixels are still taken from
     * the decode budget, then gives them back. In {@link DecodeMode#FAST} a JPEG whose shorter side is at least twice
     * {@code minShorterSide} is decoded at the smallest IDCT scale (1/2, 1/4, 1/8) keeping its shorter side at least
     * {@code minShorterSide}.
     */
    public <T> T decode(byte[] encoded, DecodeMode mode, int minShorterSide, DecodedImageUse<T> use)
            throws ImageDecodeException {
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
        try (Admission admission = new Admission()) {
            RgbImage image = decodeAdmitted(encoded, format, mode, minShorterSide, admission);
            return use.apply(image);
        }
    }

    private RgbImage decodeAdmitted(byte[] encoded, Format format, DecodeMode mode, int minShorterSide,
                                    Admission admission) throws ImageDecodeException {
        try {
            if (format == Format.PNG) {
                checkPngChunks(encoded);
            }
            DecodeFallback fallback;
            if (format == Format.JPEG || format == Format.PNG || format == Format.WEBP) {
                NativePlan plan = switch (format) {
                    case JPEG -> planJpeg(encoded, mode, minShorterSide);
                    case PNG -> planPng(encoded);
                    default -> planWebp(encoded);
                };
                fallback = plan.fallback();
                if (fallback == null) {
                    admission.take(plan.pixels(), 1);
                    RgbImage image = decodeNative(encoded, plan);
                    if (image != null) {
                        counters.nativeDecode(plan.reduction() > 1);
                        return image;
                    }
                    admission.giveBack();
                    fallback = DecodeFallback.NATIVE_REJECTED;
                }
            } else {
                fallback = DecodeFallback.FORMAT_NOT_NATIVE;
            }
            counters.fallback(fallback);
            if (LOG.isLoggable(Level.FINE)) {
                LOG.fine(format + " of " + encoded.length + " bytes decoded by ImageIO: " + fallback);
            }
            ImageReaderSpi spi = readers.get(format);
            if (spi == null) {
                throw new ImageDecodeException(ImageError.UNSUPPORTED_FORMAT, "no ImageIO reader for " + format
                        + " on the class path (TwelveMonkeys imageio-jpeg and imageio-bmp, and webp-imageio, are required)");
            }
            return decodeWith(spi, format, encoded, admission);
        } catch (ImageDecodeException e) {
            throw e;
        } catch (IOException e) {
            throw new ImageDecodeException(ImageError.CORRUPT, format + " data is broken: " + e.getMessage(), e);
        } catch (OutOfMemoryError e) {
            throw new ImageDecodeException(ImageError.CORRUPT, format + " decoding ran out of memory; lower "
                    + DecodeBudget.SETTING + " or give the JVM more heap", e);
        } catch (RuntimeException | Error e) {
            // Plugins throw unchecked exceptions (IndexOutOfBounds, NegativeArraySize, ...) on malformed data.
            throw new ImageDecodeException(ImageError.CORRUPT, format + " decoder failed on malformed data: " + e, e);
        }
    }

    /**
     * The native decode, or null when it must go to ImageIO. The size must be the header's (scaled), else the native
     * decoder read something else than the header declared.
     */
    private static RgbImage decodeNative(byte[] encoded, NativePlan plan) {
        RgbImage image;
        try {
            image = OpenCvDecoder.decode(encoded, plan.reduction());
        } catch (RuntimeException e) { // cv::Exception on malformed data
            return null;
        }
        if (image == null || image.width() != plan.width() || image.height() != plan.height()) {
            return null;
        }
        return image;
    }

    /** How the native path would decode an image: output size and IDCT reduction, or why it must not. */
    private record NativePlan(DecodeFallback fallback, int width, int height, int reduction) {
        static NativePlan fallBack(DecodeFallback reason) {
            return new NativePlan(reason, 0, 0, 1);
        }

        long pixels() {
            return (long) width * height;
        }
    }

    private NativePlan planJpeg(byte[] encoded, DecodeMode mode, int minShorterSide) throws ImageDecodeException {
        JpegHeader header = JpegHeader.parse(encoded);
        if (header == null || header.colorSpace() == null) {
            return NativePlan.fallBack(DecodeFallback.NATIVE_REJECTED); // ImageIO says what is wrong
        }
        if (header.width() == 0 || header.height() == 0 || header.precision() != 8) {
            return NativePlan.fallBack(DecodeFallback.JPEG_UNUSUAL_FRAME);
        }
        checkPixelCount(Format.JPEG, header.width(), header.height());
        if (header.colorSpace() == JpegColorSpace.CMYK || header.colorSpace() == JpegColorSpace.YCCK) {
            return NativePlan.fallBack(DecodeFallback.JPEG_CMYK);
        }
        if (!JpegHeader.endsWithEoi(encoded)) {
            return NativePlan.fallBack(DecodeFallback.JPEG_NO_EOI);
        }
        if (!OpenCvDecoder.available()) {
            return NativePlan.fallBack(DecodeFallback.NATIVE_UNAVAILABLE);
        }
        int reduction = mode == DecodeMode.FAST ? idctReduction(header.width(), header.height(), minShorterSide) : 1;
        // libjpeg's scaled output size: ceil(size / reduction).
        return new NativePlan(null, ceilDiv(header.width(), reduction), ceilDiv(header.height(), reduction), reduction);
    }

    /** The largest of 1, 2, 4, 8 that keeps the shorter side at least {@code minShorterSide}. */
    static int idctReduction(int width, int height, int minShorterSide) {
        int shorter = Math.min(width, height);
        int reduction = 1;
        while (reduction < 8 && minShorterSide > 0 && ceilDiv(shorter, reduction * 2) >= minShorterSide) {
            reduction *= 2;
        }
        return reduction;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** PNG: IHDR is the first chunk (CRCs already checked); 16-bit gray and animated PNGs go to ImageIO. */
    private NativePlan planPng(byte[] encoded) throws ImageDecodeException {
        if (encoded.length < 33 || !ascii(encoded, 12, "IHDR")) {
            return NativePlan.fallBack(DecodeFallback.NATIVE_REJECTED);
        }
        long width = readUint32(encoded, 16);
        long height = readUint32(encoded, 20);
        if (width > Integer.MAX_VALUE || height > Integer.MAX_VALUE) {
            throw new ImageDecodeException(ImageError.TOO_LARGE, "PNG header declares " + width + "x" + height
                    + ", over the limit of " + limits.maxPixels() + " pixels (ImageLimits.maxPixels); refused before decoding");
        }
        checkPixelCount(Format.PNG, (int) width, (int) height);
        int bitDepth = encoded[24] & 0xFF;
        int colorType = encoded[25] & 0xFF;
        if (bitDepth == 16 && (colorType == 0 || colorType == 4)) {
            return NativePlan.fallBack(DecodeFallback.PNG_16BIT_GRAY);
        }
        if (hasChunk(encoded, "acTL")) {
            return NativePlan.fallBack(DecodeFallback.PNG_ANIMATED);
        }
        if (!OpenCvDecoder.available()) {
            return NativePlan.fallBack(DecodeFallback.NATIVE_UNAVAILABLE);
        }
        return new NativePlan(null, (int) width, (int) height, 1);
    }

    /**
     * WebP: the size is in the first chunk (the VP8 frame header, the VP8L header or the VP8X canvas). An animation
     * decodes natively too, as its first frame on the canvas (PIL's frame 0); webp-imageio cannot decode animations.
     */
    private NativePlan planWebp(byte[] d) throws ImageDecodeException {
        if (d.length < 30) {
            return NativePlan.fallBack(DecodeFallback.NATIVE_REJECTED);
        }
        int width;
        int height;
        if (ascii(d, 12, "VP8 ")) {
            // 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height (the top 2 bits are an upscale hint).
            if ((d[23] & 0xFF) != 0x9D || d[24] != 0x01 || d[25] != 0x2A) {
                return NativePlan.fallBack(DecodeFallback.NATIVE_REJECTED);
            }
            width = readUint16Le(d, 26) & 0x3FFF;
            height = readUint16Le(d, 28) & 0x3FFF;
        } else if (ascii(d, 12, "VP8L")) {
            // Signature 0x2f, then width - 1 and height - 1 in 14 bits each.
            if (d[20] != 0x2F) {
                return NativePlan.fallBack(DecodeFallback.NATIVE_REJECTED);
            }
            int bits = readUint16Le(d, 21) | readUint16Le(d, 23) << 16;
            width = (bits & 0x3FFF) + 1;
            height = ((bits >>> 14) & 0x3FFF) + 1;
        } else if (ascii(d, 12, "VP8X")) {
            width = (readUint16Le(d, 24) | (d[26] & 0xFF) << 16) + 1; // canvas size - 1, 24 bits each
            height = (readUint16Le(d, 27) | (d[29] & 0xFF) << 16) + 1;
        } else {
            return NativePlan.fallBack(DecodeFallback.NATIVE_REJECTED);
        }
        checkPixelCount(Format.WEBP, width, height);
        if (!OpenCvDecoder.available()) {
            return NativePlan.fallBack(DecodeFallback.NATIVE_UNAVAILABLE);
        }
        return new NativePlan(null, width, height, 1);
    }

    private static int readUint16Le(byte[] d, int p) {
        return (d[p] & 0xFF) | (d[p + 1] & 0xFF) << 8;
    }

    /** Whether a chunk of this type comes before the image data (chunk lengths already checked). */
    private static boolean hasChunk(byte[] d, String type) {
        int pos = 8;
        while (pos + 12 <= d.length) {
            int n = (int) readUint32(d, pos);
            if (ascii(d, pos + 4, type)) {
                return true;
            }
            if (ascii(d, pos + 4, "IDAT") || ascii(d, pos + 4, "IEND")) {
                return false;
            }
            pos += 12 + n;
        }
        return false;
    }

    /** The budget taken by one decode: at most one take at a time, given back on close. */
    private final class Admission implements AutoCloseable {
        private long taken;

        /** Takes {@code pixels × weight} (at most the whole budget); refuses an image larger than the whole budget. */
        void take(long pixels, int weight) throws ImageDecodeException {
            giveBack();
            if (!budget.fits(pixels)) {
                throw new ImageDecodeException(ImageError.TOO_LARGE, "image of " + pixels
                        + " pixels is larger than the whole decode budget of " + budget.capacity() + " pixels; raise "
                        + DecodeBudget.SETTING + " (default: half the heap at 3 bytes a pixel) or the heap (-Xmx)");
            }
            try {
                taken = budget.acquire(Math.multiplyExact(pixels, (long) weight));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the decode budget", e);
            }
        }

        void giveBack() {
            budget.release(taken);
            taken = 0;
        }

        @Override
        public void close() {
            giveBack();
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
     * every CRC must match and the stream must reach IEND. On the way, PIL's limits on compressed text and ICC chunks
     * ({@link PngCompressedChunks}): libpng skips such a chunk with a warning, where PIL refuses the image.
     */
    private static void checkPngChunks(byte[] d) throws ImageDecodeException {
        CRC32 crc = new CRC32();
        PngCompressedChunks compressed = new PngCompressedChunks();
        boolean imageData = false;
        boolean nextFrame = false; // PIL stops reading chunks at an animation's next frame
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
            String type = new String(d, pos + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            crc.reset();
            crc.update(d, pos + 4, 4 + n);
            if (crc.getValue() != readUint32(d, pos + 8 + n)) {
                throw new ImageDecodeException(ImageError.CORRUPT, "PNG chunk '" + type + "' at byte " + pos
                        + " has a bad CRC (file damaged)");
            }
            if (type.equals("IEND")) {
                return;
            }
            imageData |= type.equals("IDAT");
            nextFrame |= imageData && type.equals("fcTL");
            if (!nextFrame) {
                compressed.check(type, d, pos + 8, n, pos);
            }
            pos += 12 + n;
        }
    }

    private static long readUint32(byte[] d, int p) {
        return ((long) (d[p] & 0xFF) << 24) | ((d[p + 1] & 0xFF) << 16) | ((d[p + 2] & 0xFF) << 8) | (d[p + 3] & 0xFF);
    }

    private RgbImage decodeWith(ImageReaderSpi spi, Format format, byte[] encoded, Admission admission)
            throws IOException, ImageDecodeException {
        if (format == Format.GIF && encoded.length >= 10) {
            // The logical screen is the size PIL opens a GIF at (and refuses as a bomb), whatever its frames declare.
            checkPixelCount(format, (encoded[6] & 0xFF) | (encoded[7] & 0xFF) << 8, (encoded[8] & 0xFF) | (encoded[9] & 0xFF) << 8);
        }
        ImageReader reader = spi.createReaderInstance();
        TruncationWarnings warnings = new TruncationWarnings();
        try (ImageInputStream in = new ByteArrayImageInputStream(encoded)) {
            reader.setInput(in, true, true);
            reader.addIIOReadWarningListener(warnings);
            int width = reader.getWidth(0);
            int height = reader.getHeight(0);
            checkPixelCount(format, width, height);
            admission.take((long) width * height, IMAGEIO_BUDGET_WEIGHT);
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

    /** What is done with a decoded image while its pixels are held (typically the resize and crop); may refuse it. */
    @FunctionalInterface
    public interface DecodedImageUse<T> {
        T apply(RgbImage image) throws ImageDecodeException;
    }
}
