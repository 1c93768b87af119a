package dev.shrink4j.prune;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Line2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * The essential-sparsity plot (docs/methods/essential-sparsity.md §5 item 1) as a PNG, drawn with java.awt in headless mode: perplexity
 * (log axis) against sparsity, one curve per variant, the dense line, the τ band, and the detected
 * points marked. Single-point series (N:M) are drawn as markers only.
 */
public final class SparsityPlot {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 560;
    private static final int LEFT = 80;
    private static final int RIGHT = 200;
    private static final int TOP = 40;
    private static final int BOTTOM = 60;
    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd),
        new Color(0xff7f0e), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf)};

    /** One variant's curve; {@code marker} ≥ 0 marks that index as its detected point. */
    public record Series(String name, double[] sparsity, double[] ppl, int marker) {}

    private SparsityPlot() {}

    /** Writes the plot; {@code dense} is ppl(0), {@code tau} the tolerance of the band. */
    public static void write(Path png, String title, List<Series> series, double dense, double tau) {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            draw(g, title, series, dense, tau);
        } finally {
            g.dispose();
        }
        try {
            ImageIO.write(img, "png", png.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png, e);
        }
    }

    private static void draw(Graphics2D g, String title, List<Series> series, double dense, double tau) {
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);
        double xMax = 0;
        double yMin = Math.log(dense);
        double yMax = Math.log(dense * (1 + tau));
        for (Series s : series) {
            for (int i = 0; i < s.sparsity().length; i++) {
                xMax = Math.max(xMax, s.sparsity()[i]);
                if (Double.isFinite(s.ppl()[i]) && s.ppl()[i] > 0) {
                    yMin = Math.min(yMin, Math.log(s.ppl()[i]));
                    yMax = Math.max(yMax, Math.log(s.ppl()[i]));
                }
            }
        }
        xMax = Math.max(0.05, Math.ceil(xMax * 10 - 1e-9) / 10);
        double pad = Math.max(0.02, 0.05 * (yMax - yMin));
        final double y0 = yMin - pad;
        final double y1 = yMax + pad;
        final double xm = xMax;
        int pw = WIDTH - LEFT - RIGHT;
        int ph = HEIGHT - TOP - BOTTOM;
        java.util.function.DoubleUnaryOperator px = x -> LEFT + x / xm * pw;
        java.util.function.DoubleUnaryOperator py = y -> TOP + (1 - (Math.log(y) - y0) / (y1 - y0)) * ph;

        // τ band between ppl(0) and ppl(0)·(1 + τ)
        g.setColor(new Color(0xe8f4e8));
        int bandTop = (int) py.applyAsDouble(dense * (1 + tau));
        int bandBottom = (int) py.applyAsDouble(dense);
        g.fillRect(LEFT, bandTop, pw, Math.max(1, bandBottom - bandTop));
        g.setColor(Color.GRAY);
        g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
        g.draw(new Line2D.Double(LEFT, py.applyAsDouble(dense), LEFT + pw, py.applyAsDouble(dense)));
        g.setStroke(new BasicStroke(1f));
        g.setColor(Color.BLACK);
        g.drawRect(LEFT, TOP, pw, ph);

        boolean text = true;
        try {
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (int t = 0; t <= Math.round(xm * 10); t++) {
                double x = t / 10.0;
                int xx = (int) px.applyAsDouble(x);
                g.drawLine(xx, TOP + ph, xx, TOP + ph + 5);
                g.drawString(String.format(Locale.ROOT, "%d%%", Math.round(x * 100)), xx - 12, TOP + ph + 20);
            }
            for (double v : niceTicks(Math.exp(y0), Math.exp(y1))) {
                int yy = (int) py.applyAsDouble(v);
                g.drawLine(LEFT - 5, yy, LEFT, yy);
                g.drawString(format(v), 8, yy + 4);
            }
            g.drawString("sparsity of the block linear weights", LEFT + pw / 2 - 110, HEIGHT - 15);
            g.drawString("perplexity (log scale)", 8, TOP - 10);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.drawString(title, LEFT + 150, 24);
        } catch (RuntimeException | Error e) {
            text = false; // a headless JDK without fonts: curves only
        }

        for (int si = 0; si < series.size(); si++) {
            Series s = series.get(si);
            Color c = PALETTE[si % PALETTE.length];
            g.setColor(c);
            g.setStroke(new BasicStroke(2f));
            double[] xs = s.sparsity();
            double[] ys = s.ppl();
            for (int i = 0; i + 1 < xs.length; i++) {
                if (Double.isFinite(ys[i]) && Double.isFinite(ys[i + 1])) {
                    g.draw(new Line2D.Double(px.applyAsDouble(xs[i]), py.applyAsDouble(ys[i]),
                            px.applyAsDouble(xs[i + 1]), py.applyAsDouble(ys[i + 1])));
                }
            }
            for (int i = 0; i < xs.length; i++) {
                if (!Double.isFinite(ys[i])) {
                    continue;
                }
                int xx = (int) px.applyAsDouble(xs[i]);
                int yy = (int) py.applyAsDouble(ys[i]);
                int r = xs.length == 1 ? 6 : 3;
                g.fillOval(xx - r, yy - r, 2 * r, 2 * r);
                if (i == s.marker()) {
                    g.setStroke(new BasicStroke(2f));
                    g.drawOval(xx - 9, yy - 9, 18, 18);
                    g.drawLine(xx, yy + 9, xx, TOP + ph);
                }
            }
            if (text) {
                int ly = TOP + 20 + 22 * si;
                g.fillRect(LEFT + pw + 15, ly - 8, 18, 4);
                g.setColor(Color.BLACK);
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                g.drawString(s.name(), LEFT + pw + 40, ly);
            }
        }
        if (text) {
            int ly = TOP + 20 + 22 * series.size() + 10;
            g.setColor(Color.BLACK);
            g.drawString(String.format(Locale.ROOT, "band: dense +%.0f%%", tau * 100), LEFT + pw + 15, ly);
            g.drawString("circle: detected point", LEFT + pw + 15, ly + 18);
        }
    }

    private static String format(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : v >= 10 ? String.format(Locale.ROOT, "%.1f", v)
                : String.format(Locale.ROOT, "%.2f", v);
    }

    /** Ticks at 1, 2, 5 × 10^k inside [lo, hi]; only powers of ten when that gives too many. */
    private static double[] niceTicks(double lo, double hi) {
        java.util.List<Double> all = new java.util.ArrayList<>();
        java.util.List<Double> decades = new java.util.ArrayList<>();
        for (int e = (int) Math.floor(Math.log10(lo)) - 1; e <= (int) Math.ceil(Math.log10(hi)); e++) {
            for (double m : new double[] {1, 2, 5}) {
                double v = m * Math.pow(10, e);
                if (v >= lo && v <= hi) {
                    all.add(v);
                    if (m == 1) {
                        decades.add(v);
                    }
                }
            }
        }
        java.util.List<Double> pick = all.size() > 9 && decades.size() >= 2 ? decades : all;
        if (pick.size() < 2) {
            pick = java.util.List.of(lo, hi);
        }
        return pick.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
