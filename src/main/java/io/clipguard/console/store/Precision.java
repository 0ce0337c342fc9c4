package io.clipguard.console.store;

/**
 * A share with its Wilson score interval at 95 % (z = 1.96), which stays inside [0, 1] and is honest for the small
 * counts a new head or generator starts with (the normal approximation is not).
 */
public record Precision(long hits, long trials, double value, double low, double high) {
    private static final double Z = 1.96;

    public static Precision of(long hits, long trials) {
        if (trials <= 0) {
            return new Precision(hits, 0, Double.NaN, 0, 1);
        }
        double n = trials;
        double p = hits / n;
        double z2 = Z * Z;
        double denominator = 1 + z2 / n;
        double centre = (p + z2 / (2 * n)) / denominator;
        double half = Z * Math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator;
        return new Precision(hits, trials, p, Math.max(0, centre - half), Math.min(1, centre + half));
    }

    public boolean defined() {
        return trials > 0;
    }

    /** As a page shows it: "0.83 (0.61–0.94)", or "–" before any trial. */
    public String text() {
        return defined() ? String.format("%.2f (%.2f–%.2f)", value, low, high) : "–";
    }
}
