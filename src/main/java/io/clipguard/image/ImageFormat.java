package io.clipguard.image;

import static io.clipguard.image.ByteFields.ascii;
import static io.clipguard.image.ByteFields.uint16Le;

/**
 * The formats we decode, told apart by their magic bytes (never by a file name or a declared content type), each with
 * the ImageIO reader we prefer for it: fidelity to PIL differs between plugins. A format that does not sniff is
 * refused before anything else is read.
 */
enum ImageFormat {
    JPEG("jpeg", "com.twelvemonkeys.imageio.plugins.jpeg."),
    PNG("png", "com.sun.imageio.plugins.png."),
    GIF("gif", "com.sun.imageio.plugins.gif."),
    WEBP("webp", "com.luciad.imageio.webp."), // libwebp via JNI: the decoder PIL uses
    BMP("bmp", "com.twelvemonkeys.imageio.plugins.bmp.");

    /** BMP info-header sizes PIL's BmpImagePlugin accepts; "BM" alone would also match ordinary text. */
    private static final int[] BMP_HEADER_SIZES = {12, 40, 52, 56, 64, 108, 124};

    final String imageIoName;
    final String preferredReaderPackage;

    ImageFormat(String imageIoName, String preferredReaderPackage) {
        this.imageIoName = imageIoName;
        this.preferredReaderPackage = preferredReaderPackage;
    }

    /** The format {@code d} starts as, or null for none of ours. */
    static ImageFormat sniff(byte[] d) {
        if (d.length >= 3 && (d[0] & 0xFF) == 0xFF && (d[1] & 0xFF) == 0xD8 && (d[2] & 0xFF) == 0xFF) {
            return JPEG;
        }
        if (PngHeader.hasSignature(d)) {
            return PNG;
        }
        if (d.length >= 6 && ascii(d, 0, "GIF8") && (d[4] == '7' || d[4] == '9') && d[5] == 'a') {
            return GIF;
        }
        if (d.length >= 12 && ascii(d, 0, "RIFF") && ascii(d, 8, "WEBP")) {
            return WEBP;
        }
        if (d.length >= 18 && d[0] == 'B' && d[1] == 'M') {
            int headerSize = uint16Le(d, 14) | uint16Le(d, 16) << 16;
            for (int size : BMP_HEADER_SIZES) {
                if (headerSize == size) {
                    return BMP;
                }
            }
        }
        return null;
    }
}
