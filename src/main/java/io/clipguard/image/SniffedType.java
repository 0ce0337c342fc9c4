package io.clipguard.image;

import java.util.Optional;

/** The media type an encoded image's magic bytes say it is (what the console serves it as), by {@link ImageFormat}. */
public final class SniffedType {
    private SniffedType() {}

    /** image/jpeg, image/png, image/gif, image/webp or image/bmp; empty for bytes that are none of our formats. */
    public static Optional<String> mediaType(byte[] encoded) {
        ImageFormat format = ImageFormat.sniff(encoded);
        return format == null ? Optional.empty() : Optional.of("image/" + format.imageIoName);
    }
}
