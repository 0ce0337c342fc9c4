package io.clipguard.image;

/**
 * The colour space of a JPEG's stored components, decided by libjpeg's own rule (see {@link JpegHeader#parse}). We
 * need it because we read rasters raw (the JDK decoder would otherwise apply ICC profiles that PIL ignores) and
 * convert ourselves.
 */
enum JpegColorSpace {
    GRAY, YCBCR, RGB, CMYK, YCCK;

    /** The colour space, or null without a frame header or for a component count PIL cannot open. */
    static JpegColorSpace sniff(byte[] data) {
        JpegHeader header = JpegHeader.parse(data);
        return header == null ? null : header.colorSpace();
    }
}
