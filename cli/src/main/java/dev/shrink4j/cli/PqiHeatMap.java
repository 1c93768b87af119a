package dev.shrink4j.cli;

import dev.shrink4j.model.Proj;
import dev.shrink4j.quantize.PqiSummary;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import javax.imageio.ImageIO;

/** The PQI heat map: mean |PQI| per weight, layers (rows) × q/k/v/o/gate/up/down (columns), log colour scale. */
final class PqiHeatMap {
    private static final int CELL_W = 90, CELL_H = 28, LEFT = 70, TOP = 50, LEGEND = 60;

    private PqiHeatMap() {}

    static void write(Path png, PqiSummary s, int layers, String title) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Proj[] cols = Proj.values();
        double[][] v = new double[layers][cols.length];
        double lo = Double.POSITIVE_INFINITY, hi = 0;
        for (PqiSummary.Module m : s.modules()) {
            v[m.layer()][m.proj().ordinal()] = m.meanAbs();
            if (m.meanAbs() > 0) {
                lo = Math.min(lo, m.meanAbs());
                hi = Math.max(hi, m.meanAbs());
            }
        }
        if (!(hi > 0)) lo = hi = 1;
        int w = LEFT + cols.length * CELL_W + 20, h = TOP + layers * CELL_H + LEGEND;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, w, h);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
            g.drawString(title, 10, 20);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            String[] names = {"q", "k", "v", "o", "gate", "up", "down"};
            for (int c = 0; c < cols.length; c++) g.drawString(names[c], LEFT + c * CELL_W + CELL_W / 2 - 10, TOP - 6);
            double span = Math.log(hi / lo);
            for (int l = 0; l < layers; l++) {
                g.setColor(Color.BLACK);
                g.drawString("layer " + l, 8, TOP + l * CELL_H + CELL_H / 2 + 4);
                for (int c = 0; c < cols.length; c++) {
                    double x = v[l][c] > 0 && span > 0 ? Math.log(v[l][c] / lo) / span : v[l][c] > 0 ? 1 : 0;
                    g.setColor(colour(x));
                    g.fillRect(LEFT + c * CELL_W, TOP + l * CELL_H, CELL_W - 2, CELL_H - 2);
                    g.setColor(x > 0.6 ? Color.WHITE : Color.BLACK);
                    g.drawString(String.format(Locale.ROOT, "%.2e", v[l][c]), LEFT + c * CELL_W + 8, TOP + l * CELL_H + CELL_H / 2 + 4);
                }
            }
            g.setColor(Color.BLACK);
            g.drawString(String.format(Locale.ROOT, "mean |PQI| per weight, log colour scale %.2e (light) … %.2e (dark)", lo, hi),
                    10, TOP + layers * CELL_H + 30);
        } finally {
            g.dispose();
        }
        ImageIO.write(img, "png", png.toFile());
    }

    /** 0 → pale yellow, 1 → dark red. */
    private static Color colour(double x) {
        x = Math.max(0, Math.min(1, x));
        int r = (int) (255 - 115 * x), gr = (int) (245 - 225 * x), b = (int) (200 - 180 * x);
        return new Color(r, gr, b);
    }
}
