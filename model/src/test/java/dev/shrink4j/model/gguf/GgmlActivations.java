package dev.shrink4j.model.gguf;

import dev.shrink4j.model.Layer;
import dev.shrink4j.model.Linear;
import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.ModelConfig;
import dev.shrink4j.model.Proj;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.gguf.GgufFile;
import dev.shrink4j.tensors.gguf.GgufType;
import java.lang.foreign.Arena;
import java.util.Map;

/**
 * The exact reference for comparing shrink4j with llama.cpp on block-quantized weights: our runtime,
 * with each linear's input rounded the way ggml's CPU backend rounds it before the dot product
 * ({@code vec_dot_type} of the weight's type), so the only remaining difference is float summation
 * order. ggml converts activations to Q8_0 for Q4_0/Q8_0 weights, Q8_1 for Q4_1, F16 for F16 weights,
 * and leaves them F32 for F32 weights. The x86 path it takes here ({@code quantize_row_q8_0/q8_1},
 * AVX): per block of 32, amax = max|x|, d = amax/127, q = round-half-even(x·127/amax), d stored as
 * F16; so the value multiplied is q·fp16(d). For Q8_1 llama.cpp adds the Q4_1 offset as m·s with
 * s = fp16(d·Σq); that term is emulated too ({@link #q41Offsets}). The weights are the dequantized
 * values of the same file (an import), which equal ggml's bit for bit (GgufGgmlReferenceTest).
 */
public final class GgmlActivations {
    private GgmlActivations() {}

    /** Logits (T, vocab) of one sequence through {@code model} with ggml's activation rounding for {@code gguf}'s types. */
    public static float[] logits(LlamaModel model, GgufFile gguf, int[] tokens) {
        ModelConfig c = model.config();
        int heads = c.numHeads(), kvHeads = c.numKvHeads();
        for (int l = 0; l < model.numLayers(); l++) {
            Layer layer = model.layer(l);
            for (Map.Entry<Proj, Linear> e : layer.linears().entrySet()) {
                String hf = e.getKey().weightName(l);
                String g = LlamaGgufNames.toGguf(hf).orElseThrow();
                int ropeHeads = LlamaGgufNames.ropeHeads(hf, heads, kvHeads);
                layer = layer.with(e.getKey(), rounding(e.getValue(), gguf, g, ropeHeads));
            }
            model.setLayer(layer);
        }
        float[] x = model.hidden(tokens, 1);
        int d = c.hiddenSize(), n = tokens.length;
        float[] h = new float[n * d];
        float[] w = model.finalNorm();
        for (int t = 0; t < n; t++) { // the runtime's RMSNorm, restated (it is package-private there)
            float ss = 0;
            for (int i = 0; i < d; i++) ss += x[t * d + i] * x[t * d + i];
            float inv = (float) (1.0 / Math.sqrt(ss / d + c.rmsNormEps()));
            for (int i = 0; i < d; i++) h[t * d + i] = w[i] * (x[t * d + i] * inv);
        }
        String head = gguf.tensors().containsKey("output.weight") ? "output.weight" : "token_embd.weight";
        float[] logits = new float[n * c.vocabSize()];
        rounding(model.lmHead(), gguf, head, 0).forward(h, n, logits);
        return logits;
    }

    /** {@code inner} with its input rounded for the GGUF type of tensor {@code name}. */
    static Linear rounding(Linear inner, GgufFile gguf, String name, int ropeHeads) {
        GgufType type = gguf.entry(name).type();
        float[][] q41 = type == GgufType.Q4_1 ? q41Offsets(gguf, name, inner.outFeatures(), inner.inFeatures(), ropeHeads) : null;
        return new Linear() {
            @Override public int inFeatures() {
                return inner.inFeatures();
            }

            @Override public int outFeatures() {
                return inner.outFeatures();
            }

            @Override public void forward(float[] x, int n, float[] y) {
                int dIn = inFeatures(), dOut = outFeatures();
                float[] xr = x.clone();
                float[] sErr = q41 == null ? null : new float[n * (dIn / 32)];
                for (int r = 0; r < n; r++) round(type, xr, r * dIn, dIn, sErr, r * (dIn / 32));
                inner.forward(xr, n, y);
                if (q41 != null) {
                    // llama.cpp adds m·s with s = fp16(d·Σq); the F32 product above added m·fp16(d)·Σq.
                    for (int r = 0; r < n; r++) {
                        for (int j = 0; j < dOut; j++) {
                            float add = 0;
                            for (int b = 0; b < dIn / 32; b++) add += q41[j][b] * sErr[r * (dIn / 32) + b];
                            y[r * dOut + j] += add;
                        }
                    }
                }
            }

            @Override public void backwardInput(float[] dy, int n, float[] dx) {
                throw new UnsupportedOperationException("forward-only reference");
            }

            @Override public Tensor weight(Arena arena) {
                return inner.weight(arena);
            }

            @Override public float[] bias() {
                return inner.bias();
            }
        };
    }

    /**
     * Rounds x[off, off + n) in place as ggml's CPU backend does for weights of {@code type}; for Q8_1
     * stores per block s − fp16(d)·Σq in {@code sErr} (what llama.cpp's offset term adds beyond ours).
     */
    static void round(GgufType type, float[] x, int off, int n, float[] sErr, int sOff) {
        switch (type) {
            case F32 -> { }
            case F16 -> { for (int i = off; i < off + n; i++) x[i] = Float.float16ToFloat(Float.floatToFloat16(x[i])); }
            case Q4_0, Q8_0, Q4_1 -> {
                for (int b = off; b < off + n; b += 32) {
                    float amax = 0;
                    for (int i = b; i < b + 32; i++) amax = Math.max(amax, Math.abs(x[i]));
                    float d = amax / 127f, id = amax != 0 ? 127f / amax : 0f;
                    float d16 = Float.float16ToFloat(Float.floatToFloat16(d));
                    int sum = 0;
                    for (int i = b; i < b + 32; i++) {
                        float q = (float) Math.rint(x[i] * id);
                        sum += (int) q;
                        x[i] = q * d16;
                    }
                    if (type == GgufType.Q4_1) {
                        float s = Float.float16ToFloat(Float.floatToFloat16(sum * d));
                        sErr[sOff + (b - off) / 32] = s - d16 * sum;
                    }
                }
            }
            default -> throw new IllegalArgumentException("no ggml activation rounding emulated for " + type);
        }
    }

    /** The Q4_1 offsets m[j][b] of tensor {@code name}, rows in Hugging Face order. */
    static float[][] q41Offsets(GgufFile gguf, String name, int dOut, int dIn, int ropeHeads) {
        var seg = gguf.bytes(name);
        int[] g2h = ropeHeads > 0 ? LlamaGgufNames.ggufToHfRows(dOut, ropeHeads) : null;
        float[][] m = new float[dOut][dIn / 32];
        long rowBytes = GgufType.Q4_1.bytes(dIn);
        for (int r = 0; r < dOut; r++) {
            int hfRow = g2h == null ? r : g2h[r];
            for (int b = 0; b < dIn / 32; b++) {
                short h = seg.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, r * rowBytes + b * 20L + 2);
                m[hfRow][b] = Float.float16ToFloat(h);
            }
        }
        return m;
    }

}
