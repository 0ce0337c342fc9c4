package io.clipguard.image;

import java.io.IOException;
import java.util.HexFormat;
import java.util.function.LongUnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Decodes JPEG, PNG, GIF (first frame), WebP and BMP to 8-bit RGB as PIL 9.4's {@code Image.open(p).convert("RGB")}
 * would: EXIF orientation ignored, alpha dropped (not composited), palette and gray expanded, CMYK by PIL's formula,
 * 16-bit PNG as PIL converts it, and no ICC colour management. The format is sniffed from magic bytes. Limits are
 * checked before any pixel buffer exists: encoded size first, then the pixel count from the header; then the image
 * takes its pixels from the {@link DecodeBudget} (waiting while other decodes hold it).
 *
 * <p>JPEG, PNG and WebP decode through libjpeg-turbo / libpng / libwebp ({@link OpenCvDecoder}), as PIL does, where
 * the natives loaded ({@link NativeDecoding}); what that path would not decode exactly as PIL ({@link NativePlan},
 * {@link DecodeFallback}) and the other formats go through ImageIO ({@link ImageIoDecoder}).
 *
 * <p>Thread-safe: every call gets its own ImageIO reader.
 */
public final class ImageDecoder {
    private static final Logger LOG = Logger.getLogger(ImageDecoder.class.getName());

    private final ImageLimits limits;
    private final DecodeBudget budget;
    private final NativeDecoding nativeDecoding = NativeDecoding.get();
    private final ImageIoDecoder imageIo;
    private final DecodeCounters counters = new DecodeCounters();

    /** A decoder whose decode budget is sized from the heap ({@link DecodeBudget#fromHeap()}). */
    public ImageDecoder(ImageLimits limits) {
        this(limits, DecodeBudget.fromHeap());
    }

    public ImageDecoder(ImageLimits limits, DecodeBudget budget) {
        this.limits = limits;
        this.budget = budget;
        this.imageIo = new ImageIoDecoder(limits);
    }

    /** Native decodes and fallbacks to ImageIO so far, by reason. */
    public DecodeCounters counters() {
        return counters;
    }

    public DecodeBudget budget() {
        return budget;
    }

    /** Whether JPEG, PNG and WebP decode through the native libjpeg-turbo / libpng / libwebp path here. */
    public static boolean nativeDecoderAvailable() {
        return NativeDecoding.get().usable();
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
        return decode(encoded, mode, minShorterSide, pixels -> 0, use);
    }

    /**
     * As {@link #decode(byte[], DecodeMode, int, DecodedImageUse)}, also taking {@code heldAlongside.applyAsLong(
     * pixels)} budget pixels for the whole of {@code use}: what it allocates beside the decoded image, such as a
     * native-resolution model's float tensor, which grows with the image (see docs/decoding.md).
     */
    public <T> T decode(byte[] encoded, DecodeMode mode, int minShorterSide, LongUnaryOperator heldAlongside,
                        DecodedImageUse<T> use) throws ImageDecodeException {
        if (encoded == null || encoded.length == 0) {
            throw new ImageDecodeException(ImageError.EMPTY, "no image data (0 bytes)");
        }
        limits.checkEncodedSize(encoded.length);
        ImageFormat format = ImageFormat.sniff(encoded);
        if (format == null) {
            throw new ImageDecodeException(ImageError.UNSUPPORTED_FORMAT, "not a JPEG, PNG, GIF, WebP or BMP image (first bytes: "
                    + HexFormat.of().formatHex(encoded, 0, Math.min(12, encoded.length)) + ")");
        }
        try (DecodeAdmission admission = new DecodeAdmission(budget, heldAlongside)) {
            RgbImage image = decodeAdmitted(encoded, format, mode, minShorterSide, admission);
            return use.apply(image);
        }
    }

    private RgbImage decodeAdmitted(byte[] encoded, ImageFormat format, DecodeMode mode, int minShorterSide,
                                    DecodeAdmission admission) throws ImageDecodeException {
        try {
            if (format == ImageFormat.PNG) {
                PngHeader.checkChunks(encoded);
            }
            DecodeFallback fallback;
            if (format == ImageFormat.JPEG || format == ImageFormat.PNG || format == ImageFormat.WEBP) {
                NativePlan plan = NativePlan.of(format, encoded, mode, minShorterSide, limits, nativeDecoding);
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
            return imageIo.decode(format, encoded, admission);
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

    /** What is done with a decoded image while its pixels are held (typically the resize and crop); may refuse it. */
    @FunctionalInterface
    public interface DecodedImageUse<T> {
        T apply(RgbImage image) throws ImageDecodeException;
    }
}
