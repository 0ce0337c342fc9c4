package io.clipguard.image;

import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.awt.image.SampleModel;

/**
 * Reads a raster one row at a time into an int array of interleaved samples (bands per pixel). Byte rasters with a
 * single bank (what JPEG, 8-bit PNG, BMP, WebP and GIF decode to) are read straight from the backing array; anything
 * else (16-bit, packed 1/2/4-bit, int-packed) goes through {@link Raster#getPixels}.
 */
final class RasterRows {
    private final Raster raster;
    private final int width;
    private final int bands;
    private final byte[] bytes;
    private final int base;
    private final int pixelStride;
    private final int scanlineStride;
    private final int[] bandOffsets;

    RasterRows(Raster raster) {
        this.raster = raster;
        this.width = raster.getWidth();
        this.bands = raster.getNumBands();
        SampleModel sm = raster.getSampleModel();
        DataBuffer db = raster.getDataBuffer();
        if (sm instanceof ComponentSampleModel csm && db instanceof DataBufferByte dbb && dbb.getNumBanks() == 1
                && allZero(csm.getBankIndices())) {
            this.bytes = dbb.getData();
            this.pixelStride = csm.getPixelStride();
            this.scanlineStride = csm.getScanlineStride();
            this.bandOffsets = csm.getBandOffsets();
            // Not csm.getOffset(x, y): that already adds bandOffsets[0], which read() adds per band.
            this.base = db.getOffset() + (raster.getMinY() - raster.getSampleModelTranslateY()) * scanlineStride
                    + (raster.getMinX() - raster.getSampleModelTranslateX()) * pixelStride;
        } else {
            this.bytes = null;
            this.pixelStride = 0;
            this.scanlineStride = 0;
            this.bandOffsets = null;
            this.base = 0;
        }
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

    int bands() {
        return bands;
    }

    /** A buffer big enough for one row. */
    int[] newRow() {
        return new int[width * bands];
    }

    /** Fill {@code row} with row {@code y} (0-based within the raster), samples interleaved. */
    void read(int y, int[] row) {
        if (bytes == null) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, width, 1, row);
            return;
        }
        int p = base + y * scanlineStride;
        int o = 0;
        if (bands == pixelStride && isIdentity(bandOffsets)) { // plain interleaved: one straight copy
            int n = width * bands;
            for (int i = 0; i < n; i++) {
                row[i] = bytes[p + i] & 0xFF;
            }
            return;
        }
        for (int x = 0; x < width; x++, p += pixelStride) {
            for (int b = 0; b < bands; b++) {
                row[o++] = bytes[p + bandOffsets[b]] & 0xFF;
            }
        }
    }
}
