package io.clipguard.image;

import static io.clipguard.image.ByteFields.ascii;

/**
 * What a JPEG's markers before the first scan declare: frame size, sample precision, components and the colour space
 * libjpeg will assume. Read without decoding, so that limits are checked and the decoder chosen before any allocation.
 *
 * @param colorSpace null for a component count PIL cannot open (2, or more than 4)
 */
record JpegHeader(int width, int height, int precision, int components, JpegColorSpace colorSpace) {

    /**
     * Scans the markers before the first SOS. Returns null when the stream has no frame header before the scan. The
     * colour space follows libjpeg's own rule (jdapimin.c default_decompress_parms): JFIF marker, else Adobe APP14
     * transform, else component ids.
     */
    static JpegHeader parse(byte[] data) {
        boolean jfif = false;
        int adobeTransform = -1;
        int components = -1;
        int width = 0;
        int height = 0;
        int precision = 0;
        int[] ids = new int[4];
        int pos = 2; // after SOI
        while (pos + 4 <= data.length) {
            if ((data[pos] & 0xFF) != 0xFF) {
                pos++; // libjpeg skips junk between markers too
                continue;
            }
            int marker = data[pos + 1] & 0xFF;
            if (marker == 0xFF) {
                pos++; // fill byte
                continue;
            }
            if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
                pos += 2; // standalone markers
                continue;
            }
            if (marker == 0xDA || marker == 0xD9) {
                break;
            }
            int length = ((data[pos + 2] & 0xFF) << 8) | (data[pos + 3] & 0xFF);
            int payload = pos + 4;
            int payloadLength = length - 2;
            if (payloadLength < 0 || payload + payloadLength > data.length) {
                break;
            }
            if (marker == 0xE0 && payloadLength >= 5 && ascii(data, payload, "JFIF\0")) {
                jfif = true;
            } else if (marker == 0xEE && payloadLength >= 12 && ascii(data, payload, "Adobe")) {
                adobeTransform = data[payload + 11] & 0xFF;
            } else if (isStartOfFrame(marker) && payloadLength >= 6) {
                precision = data[payload] & 0xFF;
                height = ((data[payload + 1] & 0xFF) << 8) | (data[payload + 2] & 0xFF);
                width = ((data[payload + 3] & 0xFF) << 8) | (data[payload + 4] & 0xFF);
                components = data[payload + 5] & 0xFF;
                for (int c = 0; c < Math.min(components, 4) && payload + 6 + 3 * c < data.length; c++) {
                    ids[c] = data[payload + 6 + 3 * c] & 0xFF;
                }
            }
            pos = payload + payloadLength;
        }
        if (components < 0) {
            return null;
        }
        JpegColorSpace space = switch (components) {
            case 1 -> JpegColorSpace.GRAY;
            case 3 -> {
                if (jfif) {
                    yield JpegColorSpace.YCBCR;
                } else if (adobeTransform >= 0) {
                    yield adobeTransform == 0 ? JpegColorSpace.RGB : JpegColorSpace.YCBCR;
                } else {
                    yield (ids[0] == 'R' && ids[1] == 'G' && ids[2] == 'B') ? JpegColorSpace.RGB : JpegColorSpace.YCBCR;
                }
            }
            case 4 -> (adobeTransform == 0 || adobeTransform < 0) ? JpegColorSpace.CMYK : JpegColorSpace.YCCK;
            default -> null;
        };
        return new JpegHeader(width, height, precision, components, space);
    }

    /** Whether the stream ends with the EOI marker (FF D9), as every complete JPEG without trailing data does. */
    static boolean endsWithEoi(byte[] data) {
        return data.length >= 4 && (data[data.length - 2] & 0xFF) == 0xFF && (data[data.length - 1] & 0xFF) == 0xD9;
    }

    private static boolean isStartOfFrame(int marker) {
        return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    }
}
