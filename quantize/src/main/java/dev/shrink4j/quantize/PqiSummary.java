package dev.shrink4j.quantize;

import dev.shrink4j.model.Proj;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a PQI run shows besides the totals (docs/methods/pqi-requant.md §2, "Observed"): mean |PQI|
 * and signed Σ PQI per linear (layers × q/k/v/o/gate/up/down), and the share of Σ PQI carried by the
 * top fractions of weights ranked by PQI (the paper's concentration check: 0.15 %, 0.71 %, 5.25 %).
 *
 * @param modules  one row per decoder linear, in model order
 * @param shares   top fraction → Σ PQI of those weights / Σ PQI of all
 * @param total    Σ PQI over every weight
 */
public record PqiSummary(List<Module> modules, Map<Double, Double> shares, double total) {
    /** The paper's fractions. */
    public static final List<Double> PAPER_FRACTIONS = List.of(0.0015, 0.0071, 0.0525);

    /** One linear: mean |PQI| per weight and Σ PQI. */
    public record Module(int layer, Proj proj, long weights, double meanAbs, double sum) {}

    public static PqiSummary of(Pqi pqi, List<Double> fractions) {
        List<Module> rows = new ArrayList<>();
        long all = 0;
        double total = 0;
        List<String> names = pqi.weightNames();
        for (String name : names) {
            float[] s = pqi.scores(name);
            double abs = 0, sum = 0;
            for (float v : s) {
                abs += Math.abs(v);
                sum += v;
            }
            int layer = Integer.parseInt(name.split("\\.")[2]);
            Proj proj = null;
            for (Proj p : Proj.values()) if (p.weightName(layer).equals(name)) proj = p;
            rows.add(new Module(layer, proj, s.length, abs / s.length, sum));
            all += s.length;
            total += sum;
        }
        Map<Double, Double> shares = new LinkedHashMap<>();
        for (double f : fractions) {
            long k = Math.max(1, Math.round(f * all));
            TopWeights.Threshold th = TopWeights.threshold(names, pqi::scores, null, k);
            double top = 0;
            long ties = th.ties();
            for (String name : names) {
                for (float v : pqi.scores(name)) {
                    if (Float.isNaN(v)) continue;
                    int key = TopWeights.key(v);
                    if (key > th.key()) top += v;
                    else if (key == th.key() && ties > 0) {
                        top += v;
                        ties--;
                    }
                }
            }
            shares.put(f, top / total);
        }
        return new PqiSummary(rows, shares, total);
    }
}
