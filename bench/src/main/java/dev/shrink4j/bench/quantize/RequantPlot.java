package dev.shrink4j.bench.quantize;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * The ΔNLL-vs-bits plot of docs/pqi.md from the table {@code bench/requant-table.sh} prints: one line per
 * base over 2/3/4 bits and one per ReQuant version (dashed), ΔNLL on the first evaluation text.
 * <pre>java … RequantPlot table.tsv out.png</pre>
 * Rows: {@code LABEL \t BITS \t TEXT ppl_before ppl_after ΔNLL KL … \t seconds}, LABEL = "base B-bit" or
 * "requant/base B-bit" (ablation rows are skipped).
 */
public final class RequantPlot {
    private RequantPlot() {}

    public static void main(String[] a) throws IOException {
        Locale.setDefault(Locale.ROOT);
        System.setProperty("java.awt.headless", "true");
        Map<String, List<double[]>> series = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of(a[0]))) {
            String[] f = line.split("\t");
            if (f.length < 3 || line.startsWith("ablation") || f[1].isBlank()) continue;
            String[] label = f[0].split(" ");
            String[] ev = f[2].trim().split(" +");
            series.computeIfAbsent(label[0], k -> new ArrayList<>()).add(new double[] {Double.parseDouble(f[1]), Double.parseDouble(ev[3])});
        }
        int w = 900, h = 600, left = 80, right = 220, top = 50, bottom = 60;
        double xMin = Double.MAX_VALUE, xMax = 0, yMin = Double.MAX_VALUE, yMax = 0;
        for (List<double[]> s : series.values()) {
            s.sort((p, q) -> Double.compare(p[0], q[0]));
            for (double[] p : s) {
                xMin = Math.min(xMin, p[0]);
                xMax = Math.max(xMax, p[0]);
                yMin = Math.min(yMin, Math.log(Math.max(p[1], 1e-3)));
                yMax = Math.max(yMax, Math.log(Math.max(p[1], 1e-3)));
            }
        }
        xMin -= 0.2;
        xMax += 0.2;
        yMin -= 0.1;
        yMax += 0.1;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString("ReQuant vs its base: ΔNLL (log) against total bits/weight, " + (a.length > 2 ? a[2] : "first text"), left, 25);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        g.drawRect(left, top, w - left - right, h - top - bottom);
        for (double x = Math.ceil(xMin * 2) / 2; x <= xMax; x += 0.5) {
            int px = left + (int) ((x - xMin) / (xMax - xMin) * (w - left - right));
            g.drawString(String.format("%.1f", x), px - 8, h - bottom + 15);
        }
        for (double y : new double[] {0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5}) {
            double ly = Math.log(y);
            if (ly < yMin || ly > yMax) continue;
            int py = top + (int) ((yMax - ly) / (yMax - yMin) * (h - top - bottom));
            g.drawString(String.valueOf(y), left - 40, py + 4);
            g.drawLine(left - 4, py, left, py);
        }
        g.drawString("total bits per weight (sparse part included)", left + 200, h - 20);
        Color[] palette = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd)};
        List<String> bases = new ArrayList<>();
        int legend = 0;
        for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
            String name = e.getKey();
            boolean rq = name.startsWith("requant/");
            String base = rq ? name.substring(8) : name;
            if (!bases.contains(base)) bases.add(base);
            Color c = palette[bases.indexOf(base) % palette.length];
            g.setColor(c);
            g.setStroke(rq ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f) : new BasicStroke(2f));
            int[] prev = null;
            for (double[] p : e.getValue()) {
                int px = left + (int) ((p[0] - xMin) / (xMax - xMin) * (w - left - right));
                int py = top + (int) ((yMax - Math.log(Math.max(p[1], 1e-3))) / (yMax - yMin) * (h - top - bottom));
                g.fillOval(px - 4, py - 4, 8, 8);
                if (prev != null) g.drawLine(prev[0], prev[1], px, py);
                prev = new int[] {px, py};
            }
            g.drawLine(w - right + 15, top + 20 + legend * 20, w - right + 45, top + 20 + legend * 20);
            g.setColor(Color.BLACK);
            g.drawString(name, w - right + 50, top + 24 + legend * 20);
            legend++;
        }
        g.dispose();
        ImageIO.write(img, "png", Path.of(a[1]).toFile());
    }
}
