package io.clipguard.console;

import io.clipguard.avro.DecisionLabel;
import io.quarkus.qute.TemplateExtension;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** Helpers the console's templates call on values ({@code {id.urlEncode}}). */
@TemplateExtension
public final class TemplateExtensions {
    private TemplateExtensions() {}

    /** A user-controlled value as one URL path segment or query value: every reserved character percent-encoded. */
    public static String urlEncode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** A number with {@code digits} decimals, e.g. a probability as 0.9700. */
    public static String fixed(Double value, int digits) {
        return value == null ? "" : String.format(java.util.Locale.ROOT, "%." + digits + "f", value);
    }

    private static final DateTimeFormatter DAY_AND_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm").withZone(ZoneOffset.UTC);

    /** An instant to the second, in UTC (the pages say so): milliseconds and the ISO "T…Z" only made rows wrap. */
    public static String when(Instant value) {
        return value == null ? "" : DAY_AND_TIME.format(value);
    }

    /** A time window, shortest form: "2026-12-06 19:00–20:00" within a day, else both days and times. */
    public static String spanTo(Instant start, Instant end) {
        if (start == null || end == null) return "";
        String day = DAY.format(start);
        // A window that ends at midnight still reads as one day.
        boolean oneDay = day.equals(DAY.format(end)) || day.equals(DAY.format(end.minusMillis(1)));
        return oneDay ? day + " " + CLOCK.format(start) + "–" + CLOCK.format(end)
                : day + " " + CLOCK.format(start) + " – " + DAY.format(end) + " " + CLOCK.format(end);
    }

    /** A decision as moderators name it on the buttons (the record keeps the enum symbol). */
    public static String text(DecisionLabel label) {
        return label == null ? "" : switch (label) {
            case AI_GENERATED -> "AI-generated";
            case REAL -> "Real";
            case UNSURE -> "Unsure";
        };
    }
}
