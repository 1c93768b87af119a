package dev.shrink4j.train;

import dev.shrink4j.tensors.ShrinkException;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Line2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Loss curves of training runs as a PNG, drawn like the project's other plots (prune's
 * {@code SparsityPlot}: headless java.awt, same palette and layout): NLL (nats/token) against training
 * tokens, per run the training loss (thin, a moving mean over 10 steps) and the held-out NLL (thick,
 * with points). Reads each run's {@code trainer_state.json}.
 *
 * <pre>java -cp shrink4j.jar dev.shrink4j.train.LossCurvePlot OUT.png "TITLE" NAME=RUN_DIR/model …</pre>
 */
public final class LossCurvePlot {
    private static final int WIDTH = 900, HEIGHT = 560, LEFT = 80, RIGHT = 250, TOP = 40, BOTTOM = 60;
    private static final int SMOOTH = 10;
    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd),
        new Color(0xff7f0e), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf)};

    /** One run: tokens and losses per step, held-out points where measured (NaN elsewhere). */
    public record Run(String name, double[] tokens, double[] trainLoss, double[] heldOut) {
        /** From a run's {@code trainer_state.json} history. */
        public static Run read(String name, Path stateDir) {
            Object h = TrainCheckpoint.readJson(stateDir.resolve(TrainCheckpoint.STATE)).get("history");
            if (!(h instanceof List<?> list) || list.isEmpty()) throw new ShrinkException(stateDir + ": no training history");
            int n = list.size();
            double[] t = new double[n], l = new double[n], e = new double[n];
            for (int i = 0; i < n; i++) {
                Map<?, ?> m = (Map<?, ?>) list.get(i);
                t[i] = ((Number) m.get("tokens")).doubleValue();
                l[i] = ((Number) m.get("loss")).doubleValue();
                e[i] = m.get("heldout_nll") instanceof Number x ? x.doubleValue() : Double.NaN;
            }
            return new Run(name, t, l, e);
        }
    }

    private LossCurvePlot() {}

    public static void main(String[] args) {
        if (args.length < 3) {
            System.err.println("usage: LossCurvePlot OUT.png TITLE NAME=RUN_DIR...");
            System.exit(2);
        }
        List<Run> runs = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            runs.add(Run.read(args[i].substring(0, eq), Path.of(args[i].substring(eq + 1))));
        }
        write(Path.of(args[0]), args[1], runs);
    }

    public static void write(Path png, String title, List<Run> runs) {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            draw(g, title, runs);
        } finally {
            g.dispose();
        }
        try {
            if (png.toAbsolutePath().getParent() != null) Files.createDirectories(png.toAbsolutePath().getParent());
            ImageIO.write(img, "png", png.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png, e);
        }
    }

    private static double[] smooth(double[] v) {
        double[] s = new double[v.length];
        double sum = 0;
        for (int i = 0; i < v.length; i++) {
            sum += v[i];
            if (i >= SMOOTH) sum -= v[i - SMOOTH];
            s[i] = sum / Math.min(i + 1, SMOOTH);
        }
        return s;
    }

    private static void draw(Graphics2D g, String title, List<Run> runs) {
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);
        double xMax = 1, yMin = Double.MAX_VALUE, yMax = -Double.MAX_VALUE;
        List<double[]> smoothed = new ArrayList<>();
        for (Run r : runs) {
            double[] s = smooth(r.trainLoss());
            smoothed.add(s);
            for (int i = 0; i < s.length; i++) {
                xMax = Math.max(xMax, r.tokens()[i]);
                if (i >= SMOOTH / 2) {
                    yMin = Math.min(yMin, s[i]);
                    yMax = Math.max(yMax, s[i]);
                }
                if (!Double.isNaN(r.heldOut()[i])) {
                    yMin = Math.min(yMin, r.heldOut()[i]);
                    yMax = Math.max(yMax, r.heldOut()[i]);
                }
            }
        }
        double pad = Math.max(0.05, 0.05 * (yMax - yMin));
        double y0 = Math.floor((yMin - pad) * 2) / 2, y1 = Math.ceil((yMax + pad) * 2) / 2, xm = xMax;
        int pw = WIDTH - LEFT - RIGHT, ph = HEIGHT - TOP - BOTTOM;
        java.util.function.DoubleUnaryOperator px = x -> LEFT + x / xm * pw;
        java.util.function.DoubleUnaryOperator py = y -> TOP + (1 - (Math.min(y1, Math.max(y0, y)) - y0) / (y1 - y0)) * ph;
        g.setColor(Color.BLACK);
        g.drawRect(LEFT, TOP, pw, ph);
        boolean text = true;
        try {
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            double step = niceStep(xm / 6);
            for (double x = 0; x <= xm + 1e-9; x += step) {
                int xx = (int) px.applyAsDouble(x);
                g.drawLine(xx, TOP + ph, xx, TOP + ph + 5);
                g.drawString(x >= 1e6 ? String.format(Locale.ROOT, "%.1fM", x / 1e6) : String.format(Locale.ROOT, "%.0fk", x / 1e3), xx - 14, TOP + ph + 20);
            }
            for (double y = y0; y <= y1 + 1e-9; y += 0.5) {
                int yy = (int) py.applyAsDouble(y);
                g.drawLine(LEFT - 5, yy, LEFT, yy);
                g.drawString(String.format(Locale.ROOT, "%.1f", y), 40, yy + 4);
            }
            g.drawString("training tokens", LEFT + pw / 2 - 40, HEIGHT - 15);
            g.drawString("NLL (nats/token)", 8, TOP - 10);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.drawString(title, LEFT + 60, 24);
        } catch (RuntimeException | Error e) {
            text = false; // a headless JDK without fonts: curves only
        }
        for (int ri = 0; ri < runs.size(); ri++) {
            Run r = runs.get(ri);
            double[] s = smoothed.get(ri);
            Color c = PALETTE[ri % PALETTE.length];
            g.setColor(c);
            g.setStroke(new BasicStroke(1f));
            for (int i = 0; i + 1 < s.length; i++) {
                g.draw(new Line2D.Double(px.applyAsDouble(r.tokens()[i]), py.applyAsDouble(s[i]), px.applyAsDouble(r.tokens()[i + 1]), py.applyAsDouble(s[i + 1])));
            }
            g.setStroke(new BasicStroke(2.5f));
            double lx = Double.NaN, ly = Double.NaN;
            for (int i = 0; i < s.length; i++) {
                if (Double.isNaN(r.heldOut()[i])) continue;
                double x = px.applyAsDouble(r.tokens()[i]), y = py.applyAsDouble(r.heldOut()[i]);
                if (!Double.isNaN(lx)) g.draw(new Line2D.Double(lx, ly, x, y));
                g.fillOval((int) x - 3, (int) y - 3, 6, 6);
                lx = x;
                ly = y;
            }
            if (text) {
                int yy = TOP + 20 + 40 * ri;
                g.fillRect(LEFT + pw + 15, yy - 8, 18, 4);
                g.setColor(Color.BLACK);
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                g.drawString(r.name(), LEFT + pw + 40, yy);
                double last = Double.NaN;
                for (double v : r.heldOut()) if (!Double.isNaN(v)) last = v;
                g.drawString(String.format(Locale.ROOT, "held-out %.3f", last), LEFT + pw + 40, yy + 16);
            }
        }
        if (text) {
            g.setColor(Color.BLACK);
            int yy = TOP + 20 + 40 * runs.size() + 10;
            g.drawString("thin: train loss (mean of " + SMOOTH + " steps)", LEFT + pw + 15, yy);
            g.drawString("thick + dots: held-out NLL", LEFT + pw + 15, yy + 18);
        }
    }

    private static double niceStep(double raw) {
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[] {1, 2, 5, 10}) if (m * p >= raw) return m * p;
        return 10 * p;
    }
}
