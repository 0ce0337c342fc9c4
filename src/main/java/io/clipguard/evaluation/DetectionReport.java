package io.clipguard.evaluation;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * The reference's compute_metrics.py for our scores: every generator type against the real rows, for each score
 * column: AUC, balanced accuracy at the threshold, TPR at 1 % and 5 % FPR, and their mean over generators (AVG).
 * Rows whose score is missing (NaN: the image failed) are left out of that column's figures.
 */
public final class DetectionReport {
    public static final String REAL = "real";
    public static final List<String> METRICS = List.of("auc", "bacc", "tpr@1%fpr", "tpr@5%fpr");

    /** One line of metrics.csv: a score column's metric for each generator, and their mean. */
    public record Row(String score, String metric, Map<String, Double> byGenerator, double average) {}

    private final List<String> generators;
    private final List<Row> rows;

    private DetectionReport(List<String> generators, List<Row> rows) {
        this.generators = generators;
        this.rows = rows;
    }

    /**
     * @param typs   each row's typ ({@value #REAL} = negative, anything else = that generator)
     * @param scores score columns by name (in the order to report them), one value per row, NaN where missing
     */
    public static DetectionReport compute(List<String> typs, Map<String, double[]> scores, double threshold) {
        List<String> generators = generators(typs);
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<String, double[]> column : scores.entrySet()) {
            Map<String, Map<String, Double>> byMetric = new LinkedHashMap<>();
            for (String metric : METRICS) {
                byMetric.put(metric, new LinkedHashMap<>());
            }
            for (String generator : generators) {
                Subset s = subset(typs, column.getValue(), generator);
                byMetric.get("auc").put(generator, BinaryMetrics.auc(s.scores(), s.positive()));
                byMetric.get("bacc").put(generator, BinaryMetrics.balancedAccuracy(s.scores(), s.positive(), threshold));
                byMetric.get("tpr@1%fpr").put(generator, BinaryMetrics.tprAtFpr(s.scores(), s.positive(), 0.01));
                byMetric.get("tpr@5%fpr").put(generator, BinaryMetrics.tprAtFpr(s.scores(), s.positive(), 0.05));
            }
            byMetric.forEach((metric, values) -> rows.add(new Row(column.getKey(), metric, values,
                    values.values().stream().mapToDouble(Double::doubleValue).average().orElseThrow())));
        }
        return new DetectionReport(generators, rows);
    }

    /** The generator types present (every typ but real), sorted; fails unless there are real rows and one generator. */
    public static List<String> generators(List<String> typs) {
        TreeSet<String> all = new TreeSet<>(typs);
        if (!all.remove(REAL)) {
            throw new IllegalArgumentException("no row has typ 'real': the metrics compare each generator with real"
                    + " images; label the real ones typ=real (typs found: " + all + ")");
        }
        if (all.isEmpty()) {
            throw new IllegalArgumentException("every row has typ 'real': add images of at least one generator");
        }
        return List.copyOf(all);
    }

    /** The real rows and one generator's rows of a score column, without missing scores. */
    public record Subset(double[] scores, boolean[] positive) {}

    public static Subset subset(List<String> typs, double[] scores, String generator) {
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < scores.length; i++) {
            if (!Double.isNaN(scores[i]) && (typs.get(i).equals(REAL) || typs.get(i).equals(generator))) {
                keep.add(i);
            }
        }
        double[] s = new double[keep.size()];
        boolean[] p = new boolean[keep.size()];
        for (int k = 0; k < s.length; k++) {
            s[k] = scores[keep.get(k)];
            p[k] = !typs.get(keep.get(k)).equals(REAL);
        }
        return new Subset(s, p);
    }

    public List<String> generators() {
        return generators;
    }

    public List<Row> rows() {
        return rows;
    }

    /** metrics.csv: {@code score,metric,<generators, sorted>,AVG}, values in full precision. */
    public void writeCsv(Path file) throws IOException {
        try (BufferedWriter writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
             CSVPrinter csv = new CSVPrinter(writer, CSVFormat.DEFAULT)) {
            List<String> header = new ArrayList<>(List.of("score", "metric"));
            header.addAll(generators);
            header.add("AVG");
            csv.printRecord(header);
            for (Row row : rows) {
                List<String> record = new ArrayList<>(List.of(row.score(), row.metric()));
                generators.forEach(g -> record.add(Double.toString(row.byGenerator().get(g))));
                record.add(Double.toString(row.average()));
                csv.printRecord(record);
            }
        }
    }

    /** The table for a terminal: percentages with one decimal, as the paper prints them. */
    public String format() {
        StringBuilder out = new StringBuilder();
        int width = Math.max(9, generators.stream().mapToInt(String::length).max().orElse(0) + 1);
        int scoreWidth = Math.max(6, rows.stream().mapToInt(r -> r.score().length()).max().orElse(0) + 1);
        out.append(String.format("%-" + scoreWidth + "s %-10s", "score", "metric"));
        generators.forEach(g -> out.append(String.format(" %" + width + "s", g)));
        out.append(String.format(" %" + width + "s%n", "AVG"));
        for (Row row : rows) {
            out.append(String.format("%-" + scoreWidth + "s %-10s", row.score(), row.metric()));
            generators.forEach(g -> out.append(String.format(" %" + width + ".1f", 100 * row.byGenerator().get(g))));
            out.append(String.format(" %" + width + ".1f%n", 100 * row.average()));
        }
        return out.toString();
    }
}
