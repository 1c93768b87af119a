package dev.shrink4j.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparsityPlotTest {
    @Test
    void writesAPngWithTheCurvesDrawn(@TempDir Path dir) throws Exception {
        double[] p = {0, 0.1, 0.2, 0.3, 0.4, 0.5};
        double[] ppl = {10, 10.02, 10.05, 10.3, 12, 20};
        Path png = dir.resolve("plot.png");
        SparsityPlot.write(png, "test", List.of(
                new SparsityPlot.Series("global", p, ppl, 2),
                new SparsityPlot.Series("2:4", new double[] {0.5}, new double[] {30}, -1)), 10, 0.01);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(900, img.getWidth());
        // the first curve's colour appears somewhere in the plot area
        boolean found = false;
        for (int x = 80; x < 700 && !found; x++) {
            for (int y = 40; y < 500 && !found; y++) {
                found = (img.getRGB(x, y) & 0xffffff) == 0x1f77b4;
            }
        }
        assertNotEquals(false, found, "no pixel of the first curve's colour");
    }
}
