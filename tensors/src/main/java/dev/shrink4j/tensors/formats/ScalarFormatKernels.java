package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * The scalar reference kernels: plain loops in the order the formulas read, float accumulation per
 * group (so the vector kernels, which also accumulate in float, can be held to tight tolerances).
 */
public final class ScalarFormatKernels implements FormatKernels {
    static final ScalarFormatKernels INSTANCE = new ScalarFormatKernels();

    private ScalarFormatKernels() {}

    @Override public String name() {
        return "scalar";
    }

    @Override public void denseMatvec(DenseWeight w, float[] x, float[] y) {
        int n = w.dIn();
        float[] row = new float[n];
        for (int j = 0; j < w.dOut(); j++) {
            w.dequantizeRow(j, row, 0);
            y[j] = dot(row, 0, x, 0, n);
        }
    }

    @Override public void denseMatmul(DenseWeight w, float[] x, int m, float[] y) {
        int n = w.dIn(), dOut = w.dOut();
        float[] row = new float[n];
        for (int j = 0; j < dOut; j++) {
            w.dequantizeRow(j, row, 0);
            for (int r = 0; r < m; r++) {
                y[r * dOut + j] = dot(row, 0, x, r * n, n);
            }
        }
    }

    @Override public void uniformMatvec(UniformQuantized w, float[] x, float[] y) {
        int n = w.dIn(), ng = w.nGroups();
        int[] q = new int[n];
        float[] s = new float[ng];
        int[] z = new int[ng];
        float[] acc = new float[ng];
        MemorySegment qw = w.qweight().segment();
        int[] gIdx = w.gIdx() == null ? null : w.gIdx().segment().toArray(java.lang.foreign.ValueLayout.JAVA_INT.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN));
        for (int j = 0; j < w.dOut(); j++) {
            BitPacking.unpackRow(qw, j * w.rowBytes(), n, w.bits(), q);
            w.readScales(j, s);
            w.readZeros(j, z);
            float sum = 0;
            if (gIdx == null) {
                int gs = w.groupSize();
                for (int g = 0, i0 = 0; g < ng; g++, i0 += gs) {
                    float a = 0;
                    for (int i = i0, e = Math.min(n, i0 + gs); i < e; i++) a += (q[i] - z[g]) * x[i];
                    sum += s[g] * a;
                }
            } else {
                java.util.Arrays.fill(acc, 0f);
                for (int i = 0; i < n; i++) acc[gIdx[i]] += (q[i] - z[gIdx[i]]) * x[i];
                for (int g = 0; g < ng; g++) sum += s[g] * acc[g];
            }
            y[j] = sum;
        }
    }

    @Override public void uniformMatmul(UniformQuantized w, float[] x, int m, float[] y) {
        rowsMatmul(w, x, m, y);
    }

    @Override public void lutMatvec(LutQuantized w, float[] x, float[] y) {
        int n = w.dIn(), gs = w.groupSize(), e = w.entries();
        int[] q = new int[n];
        float[] c = new float[w.nGroups() * e];
        for (int j = 0; j < w.dOut(); j++) {
            BitPacking.unpackRow(w.qweight().segment(), j * w.rowBytes(), n, w.bits(), q);
            w.readLut(j, c);
            float sum = 0;
            for (int i = 0; i < n; i++) sum += c[(i / gs) * e + q[i]] * x[i];
            y[j] = sum;
        }
    }

    @Override public void lutMatmul(LutQuantized w, float[] x, int m, float[] y) {
        rowsMatmul(w, x, m, y);
    }

    @Override public void csrMatvecAdd(CsrSparse s, float[] x, float[] y) {
        MemorySegment rp = s.rowptr().segment(), ix = s.indices().segment();
        Tensor v = s.values();
        DType vt = v.dtype();
        MemorySegment vs = v.segment();
        for (int j = 0; j < s.dOut(); j++) {
            float sum = 0;
            for (int p = rp.getAtIndex(Tensor.I32, j), e = rp.getAtIndex(Tensor.I32, j + 1); p < e; p++) {
                float val = switch (vt) {
                    case F16 -> Float.float16ToFloat(vs.getAtIndex(Tensor.I16, p));
                    case BF16 -> Float.intBitsToFloat(vs.getAtIndex(Tensor.I16, p) << 16);
                    default -> v.getFloat(p);
                };
                sum += val * x[ix.getAtIndex(Tensor.I32, p)];
            }
            y[j] += sum;
        }
    }

    @Override public void nmMatvec(NmSparse w, float[] x, float[] y) {
        int k = w.keptPerRow();
        float[] v = new float[k];
        int[] c = new int[k];
        for (int j = 0; j < w.dOut(); j++) {
            w.readRow(j, v, c);
            float sum = 0;
            for (int t = 0; t < k; t++) sum += v[t] * x[c[t]];
            y[j] = sum;
        }
    }

    /**
     * The spec of quantized N:M: per row, y_j = Σ_t s[j, g(t)]·(q[j, t] − z[j, g(t)])·x[col(j, t)], the kept
     * values decoded in order and summed left to right.
     */
    @Override public void nmUniformMatvec(NmQuantized w, float[] x, float[] y) {
        int k = w.keptPerRow();
        float[] v = new float[k];
        int[] c = new int[k];
        for (int j = 0; j < w.dOut(); j++) {
            w.values().dequantizeRow(j, v, 0);
            w.readColumns(j, c);
            float sum = 0;
            for (int t = 0; t < k; t++) sum += v[t] * x[c[t]];
            y[j] = sum;
        }
    }

    /** The spec of the block-format kernels: widen each row ({@code GgufBlocks.dequantize}), then a dot product. */
    @Override public void ggufMatvec(GgufBlockWeight w, float[] x, float[] y) {
        float[] row = new float[w.dIn()];
        for (int j = 0; j < w.dOut(); j++) {
            w.dequantizeRow(j, row, 0);
            y[j] = dot(row, 0, x, 0, w.dIn());
        }
    }

    @Override public void ggufMatmul(GgufBlockWeight w, float[] x, int m, float[] y) {
        rowsMatmul(w, x, m, y);
    }

    /** Y = X·Ŵᵀ by widening one row of Ŵ at a time and taking its dot with every row of X. */
    static void rowsMatmul(CompressedWeight w, float[] x, int m, float[] y) {
        int n = w.dIn(), dOut = w.dOut();
        float[] row = new float[n];
        for (int j = 0; j < dOut; j++) {
            w.dequantizeRow(j, row, 0);
            for (int r = 0; r < m; r++) {
                y[r * dOut + j] = dot(row, 0, x, r * n, n);
            }
        }
    }

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }
}
