package io.clipguard.evaluation;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.statistics.HistogramDataset;
import org.jfree.data.statistics.HistogramType;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The evaluation's PNG charts, drawn headless with JFreeChart: ROC curves, LLR histograms, reliability diagram. */
public final class EvaluationCharts {
    public static final int WIDTH = 900;
    public static final int HEIGHT = 600;
    private static final int HISTOGRAM_BINS = 40;
    private static final int RELIABILITY_BINS = 10;

    static {
        System.setProperty("java.awt.headless", "true"); // servers and CI have no display
    }

    private EvaluationCharts() {}

    /**
     * One ROC curve per series (e.g. per generator). {@code logFpr}: a logarithmic FPR axis, which shows the
     * low-false-positive end that moderation runs at; FPR 0 is drawn at half the smallest nonzero rate.
     */
    public static void roc(Path png, String title, Map<String, List<BinaryMetrics.RocPoint>> curves, boolean logFpr)
            throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        double smallest = curves.values().stream().flatMap(List::stream).mapToDouble(BinaryMetrics.RocPoint::fpr)
                .filter(f -> f > 0).min().orElse(1e-3);
        for (Map.Entry<String, List<BinaryMetrics.RocPoint>> curve : curves.entrySet()) {
            XYSeries series = new XYSeries(curve.getKey(), false, true);
            for (BinaryMetrics.RocPoint p : curve.getValue()) {
                series.add(logFpr ? Math.max(p.fpr(), smallest / 2) : p.fpr(), p.tpr());
            }
            data.addSeries(series);
        }
        XYSeries chance = new XYSeries("chance", false, true);
        for (double f : logFpr ? new double[] {smallest / 2, 0.01, 0.1, 1} : new double[] {0, 1}) {
            chance.add(f, f);
        }
        data.addSeries(chance);
        JFreeChart chart = ChartFactory.createXYLineChart(title, "false-positive rate (real images flagged)",
                "true-positive rate (generated images caught)", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        if (logFpr) {
            LogAxis axis = new LogAxis("false-positive rate (real images flagged), log scale");
            axis.setRange(smallest / 2, 1);
            plot.setDomainAxis(axis);
        } else {
            ((NumberAxis) plot.getDomainAxis()).setRange(0, 1);
        }
        ((NumberAxis) plot.getRangeAxis()).setRange(0, 1.02);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        int last = data.getSeriesCount() - 1;
        renderer.setSeriesPaint(last, Color.GRAY);
        renderer.setSeriesStroke(last, new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                new float[] {6f, 6f}, 0f));
        plot.setRenderer(renderer);
        save(png, chart);
    }

    /** Histograms of the real rows' scores and each generator's, on shared bins, with the threshold marked. */
    public static void llrHistogram(Path png, String title, String scoreName, Map<String, double[]> bySeries,
                                    double threshold) throws IOException {
        double min = Math.min(threshold, bySeries.values().stream().flatMapToDouble(Arrays::stream).min().orElse(-1));
        double max = Math.max(threshold, bySeries.values().stream().flatMapToDouble(Arrays::stream).max().orElse(1));
        if (max - min < 1e-9) {
            min -= 1;
            max += 1;
        }
        HistogramDataset data = new HistogramDataset();
        data.setType(HistogramType.RELATIVE_FREQUENCY);
        for (Map.Entry<String, double[]> s : bySeries.entrySet()) {
            if (s.getValue().length > 0) {
                data.addSeries(s.getKey() + " (n=" + s.getValue().length + ")", s.getValue(), HISTOGRAM_BINS, min, max);
            }
        }
        JFreeChart chart = ChartFactory.createHistogram(title, scoreName, "fraction of the type's images", data,
                PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setForegroundAlpha(0.55f);
        ((XYBarRenderer) plot.getRenderer()).setShadowVisible(false);
        ((XYBarRenderer) plot.getRenderer()).setDrawBarOutline(false);
        ValueMarker marker = new ValueMarker(threshold, Color.BLACK, new BasicStroke(2f));
        marker.setLabel("threshold " + String.format("%.3g", threshold));
        marker.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        marker.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
        marker.setLabelTextAnchor(TextAnchor.TOP_LEFT);
        plot.addDomainMarker(marker);
        save(png, chart);
    }

    /**
     * Reliability diagram: the predicted probability of "synthetic", in 10 equal bins, against the fraction of
     * synthetic images in each bin; a calibrated detector lies on the diagonal.
     */
    public static void reliability(Path png, String title, double[] probability, boolean[] positive)
            throws IOException {
        double[] sum = new double[RELIABILITY_BINS];
        int[] count = new int[RELIABILITY_BINS];
        int[] hits = new int[RELIABILITY_BINS];
        for (int i = 0; i < probability.length; i++) {
            if (Double.isNaN(probability[i])) {
                continue;
            }
            int bin = Math.min(RELIABILITY_BINS - 1, (int) (probability[i] * RELIABILITY_BINS));
            sum[bin] += probability[i];
            count[bin]++;
            hits[bin] += positive[i] ? 1 : 0;
        }
        XYSeries observed = new XYSeries("observed frequency (per bin of 10 %)", false, true);
        for (int b = 0; b < RELIABILITY_BINS; b++) {
            if (count[b] > 0) {
                observed.add(sum[b] / count[b], (double) hits[b] / count[b]);
            }
        }
        XYSeries diagonal = new XYSeries("perfect calibration", false, true);
        diagonal.add(0, 0);
        diagonal.add(1, 1);
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(observed);
        data.addSeries(diagonal);
        JFreeChart chart = ChartFactory.createXYLineChart(title, "predicted probability of synthetic",
                "observed fraction synthetic", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        ((NumberAxis) plot.getDomainAxis()).setRange(0, 1);
        ((NumberAxis) plot.getRangeAxis()).setRange(0, 1);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        renderer.setSeriesStroke(0, new BasicStroke(2f));
        renderer.setSeriesPaint(1, Color.GRAY);
        renderer.setSeriesShapesVisible(1, false);
        plot.setRenderer(renderer);
        save(png, chart);
    }

    /**
     * One robustness panel: a family of impairments (e.g. jpeg) at its strengths (x, in the order given: mild to
     * strong), a metric's value per series (one per generator, and AVG), and the unimpaired AVG as a reference.
     */
    public record RobustnessPanel(String family, List<String> strengths, Map<String, double[]> series,
                                  double unimpaired) {}

    /**
     * The robustness picture: one panel per impairment family in a grid, {@code metric} against strength, a thin line
     * per generator, a thick black AVG line, the unimpaired AVG as a dashed line; one legend, under the grid.
     */
    public static void robustness(Path png, String title, String metric, List<RobustnessPanel> panels)
            throws IOException {
        int columns = Math.min(4, Math.max(1, panels.size()));
        int rows = (panels.size() + columns - 1) / columns;
        int panelWidth = 420;
        int panelHeight = 320;
        int titleHeight = 50;
        int legendHeight = 40;
        java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(columns * panelWidth,
                titleHeight + rows * panelHeight + legendHeight, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(java.awt.RenderingHints.KEY_ANTIALIASING, java.awt.RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(java.awt.RenderingHints.KEY_TEXT_ANTIALIASING,
                    java.awt.RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, image.getWidth(), image.getHeight());
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
            g.drawString(title, 12, 30);
            List<String> seriesNames = panels.isEmpty() ? List.of() : List.copyOf(panels.get(0).series().keySet());
            Map<String, Color> colors = seriesColors(seriesNames);
            for (int p = 0; p < panels.size(); p++) {
                JFreeChart chart = robustnessPanel(panels.get(p), metric, colors);
                chart.draw(g, new java.awt.geom.Rectangle2D.Double((p % columns) * panelWidth,
                        titleHeight + (p / columns) * panelHeight, panelWidth, panelHeight));
            }
            // One legend for every panel.
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
            int x = 12;
            int y = titleHeight + rows * panelHeight + 25;
            for (String name : seriesNames) {
                g.setColor(colors.get(name));
                g.setStroke(new BasicStroke(name.equals(AVG) ? 4f : 2f));
                g.drawLine(x, y - 5, x + 28, y - 5);
                g.setColor(Color.BLACK);
                g.drawString(name, x + 34, y);
                x += 34 + g.getFontMetrics().stringWidth(name) + 24;
            }
            g.setColor(Color.DARK_GRAY);
            g.setStroke(new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 6f}, 0f));
            g.drawLine(x, y - 5, x + 28, y - 5);
            g.setColor(Color.BLACK);
            g.drawString("unimpaired AVG", x + 34, y);
        } finally {
            g.dispose();
        }
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) {
            java.nio.file.Files.createDirectories(parent);
        }
        javax.imageio.ImageIO.write(image, "png", png.toFile());
    }

    private static final String AVG = "AVG";

    private static Map<String, Color> seriesColors(List<String> names) {
        Color[] palette = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
                new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf), new Color(0xbcbd22)};
        Map<String, Color> colors = new java.util.LinkedHashMap<>();
        int i = 0;
        for (String name : names) {
            colors.put(name, name.equals(AVG) ? Color.BLACK : palette[i++ % palette.length]);
        }
        return colors;
    }

    private static JFreeChart robustnessPanel(RobustnessPanel panel, String metric, Map<String, Color> colors) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Map.Entry<String, double[]> series : panel.series().entrySet()) {
            XYSeries line = new XYSeries(series.getKey(), false, true);
            double[] values = series.getValue();
            for (int i = 0; i < values.length; i++) {
                if (!Double.isNaN(values[i])) {
                    line.add(i, values[i]);
                }
            }
            data.addSeries(line);
        }
        JFreeChart chart = ChartFactory.createXYLineChart(panel.family(), null, metric, data,
                PlotOrientation.VERTICAL, false, false, false);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        org.jfree.chart.axis.SymbolAxis strengths = new org.jfree.chart.axis.SymbolAxis(
                "strength (milder \u2192 stronger)", panel.strengths().toArray(String[]::new));
        strengths.setGridBandsVisible(false);
        strengths.setTickLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        strengths.setLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        strengths.setRange(-0.3, Math.max(0.3, panel.strengths().size() - 0.7));
        plot.setDomainAxis(strengths);
        NumberAxis range = (NumberAxis) plot.getRangeAxis();
        range.setRange(0, 1.02);
        range.setTickLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            String name = (String) data.getSeriesKey(i);
            renderer.setSeriesPaint(i, colors.getOrDefault(name, Color.GRAY));
            renderer.setSeriesStroke(i, new BasicStroke(name.equals(AVG) ? 4f : 1.8f));
            renderer.setSeriesShape(i, new java.awt.geom.Ellipse2D.Double(-4, -4, 8, 8));
        }
        plot.setRenderer(renderer);
        ValueMarker unimpaired = new ValueMarker(panel.unimpaired(), Color.DARK_GRAY, new BasicStroke(2f,
                BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 6f}, 0f));
        plot.addRangeMarker(unimpaired);
        return chart;
    }

    private static void save(Path png, JFreeChart chart) throws IOException {
        chart.setBackgroundPaint(Color.WHITE);
        chart.getPlot().setBackgroundPaint(Color.WHITE);
        if (chart.getPlot() instanceof XYPlot xy) {
            xy.setDomainGridlinePaint(Color.LIGHT_GRAY);
            xy.setRangeGridlinePaint(Color.LIGHT_GRAY);
        }
        ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
    }
}
