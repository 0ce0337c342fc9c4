package io.clipguard.console;

import io.quarkus.qute.TemplateExtension;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

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
}
