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
