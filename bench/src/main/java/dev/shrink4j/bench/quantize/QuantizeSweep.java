package dev.shrink4j.bench.quantize;

import dev.shrink4j.model.Calibration;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Perplexity;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.quantize.QuantMethod;
import dev.shrink4j.quantize.QuantizeOptions;
import dev.shrink4j.quantize.Quantizer;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * The quality table of docs/quantize.md: every method at 2, 3 and 4 bits on one model, calibrated on
 * one text and scored on others (ΔNLL and KL against the original, total bits per weight), written as
 * {@code sweep.tsv}, {@code sweep.md} and a ΔNLL-vs-bits plot {@code delta-nll-vs-bits.png}.
 *
 * <pre>java … QuantizeSweep MODEL CALIB.txt SAMPLES SEQ_LEN EVAL_SEQ_LEN MAX_WINDOWS OUT_DIR EVAL1.txt [EVAL2.txt …]</pre>
 */
public final class QuantizeSweep {
    private record Row(QuantMethod method, int bits, double bitsPerWeight, String text, double nllBefore, double nllAfter,
                       double kl, double seconds) {}

    private QuantizeSweep() {}

    public static void main(String[] a) throws IOException {
        Locale.setDefault(Locale.ROOT);
        System.setProperty("java.awt.headless", "true");
        if (a[0].equals("--plot")) { // --plot sweep.tsv TEXT out.png: redraw from a finished sweep
            List<Row> rows = new ArrayList<>();
            for (String line : Files.readAllLines(Path.of(a[1])).subList(1, Files.readAllLines(Path.of(a[1])).size())) {
                String[] f = line.split("\t");
                rows.add(new Row(QuantMethod.parse(f[0]), Integer.parseInt(f[1]), Double.parseDouble(f[2]), f[3],
                        Double.parseDouble(f[4]), Double.parseDouble(f[5]), Double.parseDouble(f[7]), Double.parseDouble(f[8])));
            }
            plot(rows, a[2], Path.of(a[3]));
            return;
        }
        Path modelDir = Path.of(a[0]);
        Path calibFile = Path.of(a[1]);
        int samples = Integer.parseInt(a[2]), seqLen = Integer.parseInt(a[3]), evalT = Integer.parseInt(a[4]);
        int maxWindows = Integer.parseInt(a[5]);
        Path outDir = Files.createDirectories(Path.of(a[6]));
        List<Path> evals = new ArrayList<>();
        for (int i = 7; i < a.length; i++) evals.add(Path.of(a[i]));
        String methodsProp = System.getProperty("methods", "rtn,gptq,squeezellm,lnq,guidedquant,guided-gptq");
        String bitsProp = System.getProperty("bits", "2,3,4");
        int guidedGroups = Integer.getInteger("guidedGroups", 0); // 0 = docs/methods/guidedquant-lnq.md §6 default

        List<Row> rows = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            LlamaModel reference = LlamaModel.load(modelDir, arena);
            Tokenizer tok = Tokenizer.load(modelDir, reference.config());
            Calibration calib = Calibration.fromFile(calibFile, tok, reference.config(), samples, seqLen, 0);
            List<int[]> streams = new ArrayList<>();
            List<Perplexity.Result> before = new ArrayList<>();
            for (Path e : evals) {
                int[] s = tok.encode(Files.readString(e), false);
                streams.add(s);
                before.add(Perplexity.evaluate(reference, s, evalT, maxWindows, null));
            }
            for (String bitsS : bitsProp.split(",")) {
                int bits = Integer.parseInt(bitsS);
                for (String mName : methodsProp.split(",")) {
                    QuantMethod m = QuantMethod.parse(mName);
                    try (Arena run = Arena.ofShared()) {
                        LlamaModel model = LlamaModel.load(modelDir, run);
                        long t0 = System.nanoTime();
                        Quantizer.Result r = new Quantizer(QuantizeOptions.defaults(m, bits).withGuidedGroups(guidedGroups), run).run(model, calib, new Quantizer.Listener() {});
                        double secs = (System.nanoTime() - t0) / 1e9;
                        for (int i = 0; i < evals.size(); i++) {
                            Perplexity.Result p = Perplexity.evaluate(model, streams.get(i), evalT, maxWindows, reference);
                            Row row = new Row(m, bits, r.totalBitsPerWeight(), evals.get(i).getFileName().toString(),
                                    before.get(i).nll(), p.nll(), p.kl(), secs);
                            rows.add(row);
                            System.out.printf("%-12s %d-bit %6.3f bits/w  %-28s ΔNLL %+.4f  KL %.4f  (%.1fs)%n", m.cliName(), bits,
                                    row.bitsPerWeight, row.text, row.nllAfter - row.nllBefore, row.kl, secs);
                        }
                    }
                }
            }
            StringBuilder tsv = new StringBuilder("method\tbits\tbits_per_weight\ttext\tnll_before\tnll_after\tdelta_nll\tkl\tseconds\n");
            for (Row r : rows) {
                tsv.append(String.format("%s\t%d\t%.4f\t%s\t%.5f\t%.5f\t%.5f\t%.5f\t%.1f%n", r.method.cliName(), r.bits, r.bitsPerWeight,
                        r.text, r.nllBefore, r.nllAfter, r.nllAfter - r.nllBefore, r.kl, r.seconds));
            }
            Files.writeString(outDir.resolve("sweep.tsv"), tsv);
            Files.writeString(outDir.resolve("sweep.md"), markdown(rows, evals));
            plot(rows, evals.get(0).getFileName().toString(), outDir.resolve("delta-nll-vs-bits.png"));
        }
    }

    private static String markdown(List<Row> rows, List<Path> evals) {
        StringBuilder md = new StringBuilder("| method | bits | total bits/weight |");
        for (Path e : evals) md.append(" ΔNLL ").append(e.getFileName()).append(" | KL ").append(e.getFileName()).append(" |");
        md.append("\n|---|---|---|").append("---|---|".repeat(evals.size())).append('\n');
        for (int i = 0; i < rows.size(); i += evals.size()) {
            Row r = rows.get(i);
            md.append(String.format("| %s | %d | %.3f |", r.method.cliName(), r.bits, r.bitsPerWeight));
            for (int k = 0; k < evals.size(); k++) {
                Row q = rows.get(i + k);
                md.append(String.format(" %+.4f | %.4f |", q.nllAfter - q.nllBefore, q.kl));
            }
            md.append('\n');
        }
        return md.toString();
    }

    /** ΔNLL (log scale) against total bits per weight, one line per method, for one evaluation text. */
    private static void plot(List<Row> all, String text, Path png) throws IOException {
        List<Row> rows = all.stream().filter(r -> r.text.equals(text)).toList();
        int w = 900, h = 600, left = 90, right = 200, top = 50, bottom = 70;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        double xMin = rows.stream().mapToDouble(r -> r.bitsPerWeight).min().orElse(2) - 0.2;
        double xMax = rows.stream().mapToDouble(r -> r.bitsPerWeight).max().orElse(8) + 0.2;
        double yMin = Math.log10(Math.max(1e-4, rows.stream().mapToDouble(r -> r.nllAfter - r.nllBefore).filter(d -> d > 0).min().orElse(1e-3))) - 0.1;
        double yMax = Math.log10(Math.max(1e-3, rows.stream().mapToDouble(r -> r.nllAfter - r.nllBefore).max().orElse(1))) + 0.1;
        int pw = w - left - right, ph = h - top - bottom;
        g.setColor(Color.BLACK);
        g.drawRect(left, top, pw, ph);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        for (double x = Math.ceil(xMin * 2) / 2; x <= xMax; x += 0.5) {
            int px = left + (int) ((x - xMin) / (xMax - xMin) * pw);
            g.setColor(new Color(230, 230, 230));
            g.drawLine(px, top, px, top + ph);
            g.setColor(Color.BLACK);
            g.drawString(String.format("%.1f", x), px - 10, top + ph + 18);
        }
        for (double y = Math.floor(yMin); y <= yMax; y += 1) {
            for (int m = 1; m < 10; m++) {
                double ly = y + Math.log10(m);
                if (ly < yMin || ly > yMax) continue;
                int py = top + ph - (int) ((ly - yMin) / (yMax - yMin) * ph);
                g.setColor(m == 1 ? new Color(200, 200, 200) : new Color(240, 240, 240));
                g.drawLine(left, py, left + pw, py);
                if (m == 1 || m == 3) {
                    g.setColor(Color.BLACK);
                    g.drawString(String.format("%.0e", Math.pow(10, ly)), 20, py + 5);
                }
            }
        }
        g.setColor(Color.BLACK);
        g.drawString("total bits per weight (codes + scales/zeros or codebooks)", left + pw / 2 - 170, h - 25);
        g.drawString("ΔNLL (nats/token, log scale) on " + text, left, top - 15);
        Color[] colors = {new Color(0x999999), new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd)};
        int legend = 0;
        g.setStroke(new BasicStroke(2f));
        for (QuantMethod m : QuantMethod.values()) {
            List<Row> mr = rows.stream().filter(r -> r.method == m).sorted((p, q) -> Double.compare(p.bitsPerWeight, q.bitsPerWeight)).toList();
            if (mr.isEmpty()) continue;
            Color c = colors[m.ordinal() % colors.length];
            g.setColor(c);
            int[] xs = new int[mr.size()], ys = new int[mr.size()];
            for (int i = 0; i < mr.size(); i++) {
                double d = Math.max(1e-4, mr.get(i).nllAfter - mr.get(i).nllBefore);
                xs[i] = left + (int) ((mr.get(i).bitsPerWeight - xMin) / (xMax - xMin) * pw);
                ys[i] = top + ph - (int) ((Math.log10(d) - yMin) / (yMax - yMin) * ph);
                g.fillOval(xs[i] - 4, ys[i] - 4, 8, 8);
            }
            g.drawPolyline(xs, ys, xs.length);
            int ly = top + 20 + 22 * legend++;
            g.drawLine(left + pw + 15, ly, left + pw + 45, ly);
            g.setColor(Color.BLACK);
            g.drawString(m.cliName(), left + pw + 52, ly + 5);
        }
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }
}
