package dev.shrink4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Blocked causal attention against a naive triple loop (the spec), at a length spanning several
 * ragged blocks, forward and backward (the backward reference is the analytic softmax gradient).
 */
class AttentionTest {
    static final double TOL = 2e-5;

    @ParameterizedTest
    @ValueSource(ints = {0, 37})
    void blockedMatchesNaive(int window) {
        Map<String, Object> json = TinyModels.config("MistralForCausalLM");
        json.put("head_dim", 8);
        if (window > 0) json.put("sliding_window", window);
        ModelConfig c = ModelConfig.parse(json, "t");
        int batch = 2;
        int T = 2 * Attention.BLOCK + 11;
        int n = batch * T;
        int qw = c.qDim();
        int kw = c.kvDim();
        SplittableRandom r = new SplittableRandom(window + 1);
        float[] q = random(r, n * qw);
        float[] k = random(r, n * kw);
        float[] v = random(r, n * kw);
        float[] da = random(r, n * qw);
        Attention att = new Attention(c);
        float[] a = new float[n * qw];
        att.forward(q, k, v, batch, T, a);
        float[] dq = new float[n * qw];
        float[] dk = new float[n * kw];
        float[] dv = new float[n * kw];
        att.backward(q, k, v, da, batch, T, dq, dk, dv);

        double[] ra = new double[n * qw];
        double[] rdq = new double[n * qw];
        double[] rdk = new double[n * kw];
        double[] rdv = new double[n * kw];
        int hd = c.headDim();
        int group = c.groupSize();
        double scale = 1 / Math.sqrt(hd);
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < c.numHeads(); h++) {
                int g = h / group;
                for (int i = 0; i < T; i++) {
                    int lo = window > 0 ? Math.max(0, i - window + 1) : 0;
                    double[] p = new double[T];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = lo; j <= i; j++) {
                        double s = 0;
                        for (int d = 0; d < hd; d++) s += q[(b * T + i) * qw + h * hd + d] * k[(b * T + j) * kw + g * hd + d];
                        p[j] = s * scale;
                        max = Math.max(max, p[j]);
                    }
                    double sum = 0;
                    for (int j = lo; j <= i; j++) sum += p[j] = Math.exp(p[j] - max);
                    double dot = 0;
                    double[] dp = new double[T];
                    for (int j = lo; j <= i; j++) {
                        p[j] /= sum;
                        for (int d = 0; d < hd; d++) {
                            ra[(b * T + i) * qw + h * hd + d] += p[j] * v[(b * T + j) * kw + g * hd + d];
                            dp[j] += da[(b * T + i) * qw + h * hd + d] * v[(b * T + j) * kw + g * hd + d];
                            rdv[(b * T + j) * kw + g * hd + d] += p[j] * da[(b * T + i) * qw + h * hd + d];
                        }
                        dot += p[j] * dp[j];
                    }
                    for (int j = lo; j <= i; j++) {
                        double ds = p[j] * (dp[j] - dot) * scale;
                        for (int d = 0; d < hd; d++) {
                            rdq[(b * T + i) * qw + h * hd + d] += ds * k[(b * T + j) * kw + g * hd + d];
                            rdk[(b * T + j) * kw + g * hd + d] += ds * q[(b * T + i) * qw + h * hd + d];
                        }
                    }
                }
            }
        }
        check("a", ra, a);
        check("dq", rdq, dq);
        check("dk", rdk, dk);
        check("dv", rdv, dv);
    }

    private static void check(String what, double[] ref, float[] got) {
        for (int i = 0; i < ref.length; i++) assertEquals(ref[i], got[i], TOL * (1 + Math.abs(ref[i])), what + "[" + i + "]");
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }
}
