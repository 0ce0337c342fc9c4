package io.clipguard.image;

import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.awt.image.SampleModel;
import java.util.function.IntUnaryOperator;

/**
 * A raster's samples as one packed array of 8-bit values, interleaved ({@code width * height * bands}). Byte rasters
 * with a single bank laid out that way already (what JPEG, 8-bit PNG, WebP and GIF decode to) hand over their backing
 * array itself, with no copy; other byte layouts (BGR, padded strides) are copied straight from the backing array;
 * anything else (16-bit, packed 1/2/4-bit, int-packed) goes through {@link Raster#getPixels} and a per-sample mapping
 * to 8 bits.
 */
final class PackedSamples {
    private PackedSamples() {
    }

    /**
     * The samples, interleaved and packed, 8 bits each. The result may be the raster's own backing array: callers own
     * it only when the raster was made for them (a freshly decoded image), which is the only use here.
     *
     * @param to8 maps one sample to 8 bits (the identity for 8-bit rasters); byte rasters skip it
     */
    static byte[] packed8(Raster raster, IntUnaryOperator to8) {
        int width = raster.getWidth();
        int height = raster.getHeight();
        int bands = raster.getNumBands();
        int rowLength = width * bands;
        byte[] packed;
        SampleModel sm = raster.getSampleModel();
        DataBuffer db = raster.getDataBuffer();
        if (sm instanceof ComponentSampleModel csm && db instanceof DataBufferByte dbb && dbb.getNumBanks() == 1
                && allZero(csm.getBankIndices()) && sm.getSampleSize(0) == 8) {
            byte[] bytes = dbb.getData();
            int pixelStride = csm.getPixelStride();
            int scanlineStride = csm.getScanlineStride();
            int[] bandOffsets = csm.getBandOffsets();
            // Not csm.getOffset(x, y): that already adds bandOffsets[0], which we add per band.
            int base = db.getOffset() + (raster.getMinY() - raster.getSampleModelTranslateY()) * scanlineStride
                    + (raster.getMinX() - raster.getSampleModelTranslateX()) * pixelStride;
            boolean interleaved = pixelStride == bands && isIdentity(bandOffsets);
            if (interleaved && base == 0 && scanlineStride == rowLength && bytes.length == rowLength * height) {
                return bytes;
            }
            packed = new byte[rowLength * height];
            for (int y = 0, o = 0; y < height; y++) {
                int p = base + y * scanlineStride;
                if (interleaved) {
                    System.arraycopy(bytes, p, packed, o, rowLength);
                    o += rowLength;
                    continue;
                }
                for (int x = 0; x < width; x++, p += pixelStride) {
                    for (int b = 0; b < bands; b++) {
                        packed[o++] = bytes[p + bandOffsets[b]];
                    }
                }
            }
            return packed;
        }
        packed = new byte[rowLength * height];
        int[] row = new int[rowLength];
        for (int y = 0, o = 0; y < height; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, width, 1, row);
            for (int i = 0; i < rowLength; i++) {
                packed[o++] = (byte) to8.applyAsInt(row[i]);
            }
        }
        return packed;
    }

    private static boolean allZero(int[] values) {
        for (int v : values) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean isIdentity(int[] offsets) {
        for (int i = 0; i < offsets.length; i++) {
            if (offsets[i] != i) {
                return false;
            }
        }
        return true;
    }
}
