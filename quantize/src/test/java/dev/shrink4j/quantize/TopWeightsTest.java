package dev.shrink4j.quantize;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The radix select against a sort, with negatives, ties, NaNs and excluded positions, at awkward sizes. */
class TopWeightsTest {
    @Test
    void selectsExactlyTheKLargestEligibleValues() {
        Random r = new Random(11);
        for (int trial = 0; trial < 50; trial++) {
            Map<String, float[]> v = Map.of("a", new float[1 + r.nextInt(300)], "b", new float[1 + r.nextInt(77)]);
            Map<String, boolean[]> ok = Map.of("a", new boolean[v.get("a").length], "b", new boolean[v.get("b").length]);
            List<Float> eligible = new ArrayList<>();
            for (String n : List.of("a", "b")) {
                for (int i = 0; i < v.get(n).length; i++) {
                    float x = (float) r.nextGaussian();
                    if (r.nextInt(5) == 0) x = Math.round(x * 2) / 2f; // ties, ±0 included
                    if (r.nextInt(40) == 0) x = Float.NaN;
                    v.get(n)[i] = x;
                    ok.get(n)[i] = r.nextInt(6) != 0;
                    if (ok.get(n)[i] && !Float.isNaN(x)) eligible.add(x);
                }
            }
            float[] sorted = new float[eligible.size()];
            for (int i = 0; i < sorted.length; i++) sorted[i] = eligible.get(i);
            Arrays.sort(sorted);
            long k = r.nextInt(sorted.length + 3);
            TopWeights.Threshold th = TopWeights.threshold(List.of("a", "b"), v::get, ok::get, k);
            double want = 0, got = 0;
            long taken = 0, ties = th.ties();
            for (int i = 0; i < Math.min(k, sorted.length); i++) want += sorted[sorted.length - 1 - i];
            for (String n : List.of("a", "b")) {
                for (int i = 0; i < v.get(n).length; i++) {
                    float x = v.get(n)[i];
                    if (!ok.get(n)[i] || Float.isNaN(x)) continue;
                    int key = TopWeights.key(x);
                    if (key > th.key() || (key == th.key() && ties-- > 0)) {
                        got += x;
                        taken++;
                    }
                }
            }
            assertEquals(Math.min(k, sorted.length), taken, "trial " + trial);
            assertEquals(want, got, 1e-9, "trial " + trial);
        }
    }
}
