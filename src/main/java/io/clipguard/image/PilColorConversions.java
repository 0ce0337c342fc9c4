package io.clipguard.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.util.function.IntUnaryOperator;

/**
 * ImageIO's decoded samples to 8-bit RGB exactly as PIL 9.4 + libjpeg-turbo compute them in {@code convert("RGB")}:
 * palette and gray expanded, alpha dropped (not composited), 16-bit samples cut as PIL cuts them, and no ICC colour
 * management. JPEG rasters arrive raw (no colour conversion, no ICC) so that we can apply libjpeg's own integer tables
 * and PIL's own CMYK formula; other formats arrive as the plugin's samples, never through {@code getRGB()}.
 */
final class PilColorConversions {
    private static final int SCALEBITS = 16;
    private static final int ONE_HALF = 1 << (SCALEBITS - 1);
    // libjpeg jdcolor.c build_ycc_rgb_table, indexed by the chroma sample (0..255).
    private static final int[] CR_R = new int[256];
    private static final int[] CB_B = new int[256];
    private static final int[] CR_G = new int[256];
    private static final int[] CB_G = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int x = i - 128;
            CR_R[i] = (fix(1.40200) * x + ONE_HALF) >> SCALEBITS;
            CB_B[i] = (fix(1.77200) * x + ONE_HALF) >> SCALEBITS;
            CR_G[i] = -fix(0.71414) * x;
            CB_G[i] = -fix(0.34414) * x + ONE_HALF;
        }
    }

    private PilColorConversions() {
    }

    private static int fix(double x) {
        return (int) (x * (1L << SCALEBITS) + 0.5);
    }

    private static int clamp8(int v) {
        return v < 0 ? 0 : (v > 255 ? 255 : v);
    }

    /** libjpeg's YCbCr to RGB over {@code n} pixels of packed Y, Cb, Cr samples; {@code rgb} may be {@code ycc} itself. */
    private static void ycbcrToRgb(byte[] ycc, byte[] rgb, int n) {
        for (int i = 0; i < n * 3; i += 3) {
            int y = ycc[i] & 0xFF;
            int cb = ycc[i + 1] & 0xFF;
            int cr = ycc[i + 2] & 0xFF;
            rgb[i] = (byte) clamp8(y + CR_R[cr]);
            rgb[i + 1] = (byte) clamp8(y + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
            rgb[i + 2] = (byte) clamp8(y + CB_B[cb]);
        }
    }

    /**
     * PIL's Convert.c cmyk2rgb: {@code nk - c*nk/255} with its MULDIV255 rounding, on PIL-side (already un-inverted)
     * CMYK values.
     */
    private static void cmykToRgb(int c, int m, int y, int k, byte[] out, int o) {
        int nk = 255 - k;
        out[o] = (byte) (nk - mulDiv255(c, nk));
        out[o + 1] = (byte) (nk - mulDiv255(m, nk));
        out[o + 2] = (byte) (nk - mulDiv255(y, nk));
    }

    private static int mulDiv255(int a, int b) {
        int tmp = a * b + 128;
        return ((tmp >> 8) + tmp) >> 8;
    }

    /**
     * Adobe CMYK as stored in the file, {@code n} pixels of packed C, M, Y, K samples: PIL reads it as "CMYK;I" (every
     * sample inverted), then cmyk2rgb.
     */
    private static void storedCmykToRgb(byte[] cmyk, byte[] rgb, int n) {
        for (int i = 0, o = 0; o < n * 3; i += 4, o += 3) {
            cmykToRgb(255 - (cmyk[i] & 0xFF), 255 - (cmyk[i + 1] & 0xFF), 255 - (cmyk[i + 2] & 0xFF),
                    255 - (cmyk[i + 3] & 0xFF), rgb, o);
        }
    }

    /**
     * Adobe YCCK, {@code n} pixels of packed Y, Cb, Cr, K samples: libjpeg converts YCC to inverted RGB = CMYK (K passed
     * through); PIL then inverts all four ("CMYK;I") so C = clamp(R), and applies cmyk2rgb.
     */
    private static void storedYcckToRgb(byte[] ycck, byte[] rgb, int n) {
        for (int i = 0, o = 0; o < n * 3; i += 4, o += 3) {
            int yy = ycck[i] & 0xFF;
            int cb = ycck[i + 1] & 0xFF;
            int cr = ycck[i + 2] & 0xFF;
            int c = clamp8(yy + CR_R[cr]);
            int m = clamp8(yy + ((CB_G[cb] + CR_G[cr]) >> SCALEBITS));
            int y = clamp8(yy + CB_B[cb]);
            cmykToRgb(c, m, y, 255 - (ycck[i + 3] & 0xFF), rgb, o);
        }
    }

    /**
     * A JPEG's raw raster, whose components are stored in {@code space}: libjpeg's YCbCr tables, PIL's CMYK formula on
     * the inverted Adobe samples, gray replicated.
     */
    static RgbImage jpegToRgb(Raster raster, JpegColorSpace space) throws ImageDecodeException {
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
            case YCBCR -> ycbcrToRgb(samples, rgb, n);
            case CMYK -> storedCmykToRgb(samples, rgb, n);
            case YCCK -> storedYcckToRgb(samples, rgb, n);
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
    static RgbImage toRgb(BufferedImage image) throws ImageDecodeException {
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
