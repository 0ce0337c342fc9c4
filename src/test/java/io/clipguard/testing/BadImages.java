package io.clipguard.testing;

import io.clipguard.avro.FailureReason;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The bad inputs every part of the product must answer with a typed error: the committed files of
 * src/test/resources/golden/bad (made by tools/make_golden_fixtures.py) plus an empty one.
 */
public final class BadImages {
    public static final Path FOLDER = Path.of("src/test/resources/golden/bad");

    private BadImages() {}

    /** name → (bytes, the reason they must be refused with). */
    public static Map<String, Map.Entry<byte[], FailureReason>> all() {
        Map<String, Map.Entry<byte[], FailureReason>> bad = new LinkedHashMap<>();
        bad.put("empty", Map.entry(new byte[0], FailureReason.EMPTY));
        bad.put("truncated-jpeg", read("truncated_half.jpg", FailureReason.CORRUPT));
        bad.put("truncated-png", read("truncated_half.png", FailureReason.CORRUPT));
        bad.put("text-named-jpg", read("text.jpg", FailureReason.UNSUPPORTED_FORMAT));
        bad.put("random-bytes", read("random_4k.bin", FailureReason.UNSUPPORTED_FORMAT));
        bad.put("png-claims-60000x60000", read("bomb_60000x60000.png", FailureReason.TOO_LARGE));
        bad.put("png-broken-crc", read("bad_crc.png", FailureReason.CORRUPT));
        return bad;
    }

    private static Map.Entry<byte[], FailureReason> read(String file, FailureReason reason) {
        try {
            return Map.entry(Files.readAllBytes(FOLDER.resolve(file)), reason);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
