package io.clipguard.image.impair;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The spec syntax of impairments: {@code name[:strength]}, chained with {@code +} ({@code resize:0.5+jpeg:70}).
 * <ul>
 *   <li>{@code jpeg:Q}, {@code webp:Q}: quality 1..100;</li>
 *   <li>{@code resize:S}: scale factor &gt; 0; {@code crop:F}: centre crop keeping 0 &lt; F &le; 1 of each side;</li>
 *   <li>{@code blur:R}: Gaussian blur radius &ge; 0;</li>
 *   <li>{@code social:1} (long side &le; 2048, JPEG 85), {@code social:2} (1024, JPEG 75); {@code social} is level 1;</li>
 *   <li>{@code dmid}: the seeded DMimageDetection crop, resize to 200 and JPEG 65..100.</li>
 * </ul>
 * A file lists one impairment a line; blank lines and {@code #} comments are skipped, and a line {@code default} stands
 * for the {@link #DEFAULT} set.
 */
public final class Impairments {
    /** The default set, mild to strong within each family. */
    public static final List<String> DEFAULT_SPECS = List.of(
            "jpeg:95", "jpeg:90", "jpeg:80", "jpeg:70", "jpeg:60", "jpeg:50",
            "resize:1.5", "resize:0.75", "resize:0.5", "resize:0.25",
            "crop:0.9", "crop:0.75", "crop:0.5",
            "blur:0.5", "blur:1", "blur:2",
            "webp:80", "webp:50",
            "social:1", "social:2",
            "dmid");
    public static final List<Impairment> DEFAULT = DEFAULT_SPECS.stream().map(Impairments::parse).toList();

    private Impairments() {}

    /** Parses one impairment; throws IllegalArgumentException naming the bad part and the syntax. */
    public static Impairment parse(String text) {
        String spec = text.strip().toLowerCase(Locale.ROOT);
        if (spec.isEmpty()) {
            throw new IllegalArgumentException("empty impairment; " + SYNTAX);
        }
        List<Operation> operations = new ArrayList<>();
        for (String step : spec.split("\\+", -1)) {
            operations.add(operation(step.strip(), text));
        }
        String canonical = String.join("+", operations.stream().map(Operation::spec).toList());
        return new Impairment(canonical, operations);
    }

    /** The impairments of a file, or {@link #DEFAULT} for the word {@code default}; no duplicates. */
    public static List<Impairment> read(String fileOrDefault) throws IOException {
        if (fileOrDefault.equals("default")) {
            return DEFAULT;
        }
        Path file = Path.of(fileOrDefault);
        if (!Files.isRegularFile(file)) {
            throw new IOException("--impairments " + fileOrDefault + " is neither 'default' nor a file (one impairment"
                    + " a line, e.g. 'jpeg:70' or 'resize:0.5+jpeg:70')");
        }
        Set<String> seen = new LinkedHashSet<>();
        List<Impairment> impairments = new ArrayList<>();
        int lineNumber = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNumber++;
            int hash = line.indexOf('#');
            String text = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (text.isEmpty()) {
                continue;
            }
            List<Impairment> parsed;
            try {
                parsed = text.equalsIgnoreCase("default") ? DEFAULT : List.of(parse(text));
            } catch (IllegalArgumentException e) {
                throw new IOException(file + " line " + lineNumber + ": " + e.getMessage(), e);
            }
            for (Impairment impairment : parsed) {
                if (seen.add(impairment.spec())) {
                    impairments.add(impairment);
                }
            }
        }
        if (impairments.isEmpty()) {
            throw new IOException(file + " lists no impairment; " + SYNTAX);
        }
        return impairments;
    }

    static final String SYNTAX = "the syntax is name[:strength] chained with '+': jpeg:Q, webp:Q (1..100), resize:S"
            + " (> 0), crop:F (0 < F <= 1), blur:R (>= 0), social[:1|2], dmid; e.g. resize:0.5+jpeg:70";

    private static Operation operation(String step, String whole) {
        int colon = step.indexOf(':');
        String name = colon < 0 ? step : step.substring(0, colon).strip();
        String value = colon < 0 ? null : step.substring(colon + 1).strip();
        try {
            return switch (name) {
                case "jpeg" -> new Operation.Jpeg(quality(name, value), name + ":" + value);
                case "webp" -> new Operation.Webp(quality(name, value), name + ":" + value);
                case "resize" -> {
                    double s = number(name, value);
                    require(s > 0, "resize scale must be > 0");
                    yield new Operation.Resize(s, name + ":" + value);
                }
                case "crop" -> {
                    double f = number(name, value);
                    require(f > 0 && f <= 1, "crop fraction must be in (0, 1]");
                    yield new Operation.Crop(f, name + ":" + value);
                }
                case "blur" -> {
                    double r = number(name, value);
                    require(r >= 0, "blur radius must be >= 0");
                    yield new Operation.Blur(r, name + ":" + value);
                }
                case "social" -> {
                    int level = value == null ? 1 : (int) number(name, value);
                    require((value == null || value.equals("1") || value.equals("2")),
                            "social level must be 1 (2048 px, JPEG 85) or 2 (1024 px, JPEG 75)");
                    yield new Operation.Social(level, name + ":" + level);
                }
                case "dmid" -> {
                    require(value == null, "dmid takes no strength (its parameters are drawn per image)");
                    yield new Operation.Dmid("dmid");
                }
                default -> throw new IllegalArgumentException("unknown impairment '" + name + "'");
            };
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad impairment '" + whole.strip() + "': " + e.getMessage() + "; "
                    + SYNTAX, e);
        }
    }

    private static int quality(String name, String value) {
        require(value != null, name + " needs a quality, e.g. " + name + ":80");
        int q;
        try {
            q = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " quality must be a whole number, got '" + value + "'");
        }
        require(q >= 1 && q <= 100, name + " quality must be 1..100, got " + q);
        return q;
    }

    private static double number(String name, String value) {
        require(value != null && !value.isEmpty(), name + " needs a strength, e.g. " + name + ":0.5");
        double v;
        try {
            v = Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " strength must be a number, got '" + value + "'");
        }
        require(Double.isFinite(v), name + " strength must be finite");
        return v;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
