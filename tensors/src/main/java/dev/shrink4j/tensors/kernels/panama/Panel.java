package dev.shrink4j.tensors.kernels.panama;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * One GEMM operand seen as a matrix X(idx, p) over an output index (a row of A or a column of B) and
 * the reduction index p, packed into the heap panels the micro-kernel reads: a strip of {@code R}
 * consecutive idx values becomes {@code dst[dstOff + p·R + r] = X(idx0 + r, p0 + p)}, zero-padded
 * for r ≥ cnt. Packing is what lets operands of any layout or dtype (heap, mapped, BF16) share one
 * fast kernel.
 */
sealed interface Panel {
    void pack(float[] dst, int dstOff, int idx0, int cnt, int p0, int kc, int r);

    /** X(idx, p) = x[off + idx·ld + p]: A of A·B, B of A·Bᵀ. */
    record ReductionContiguous(float[] x, int off, int ld) implements Panel {
        @Override
        public void pack(float[] dst, int dstOff, int idx0, int cnt, int p0, int kc, int r) {
            if (cnt == r && r == 8) {
                // Eight read streams, one sequential write stream.
                int b0 = off + idx0 * ld + p0;
                int o = dstOff;
                for (int p = 0; p < kc; p++, o += 8) {
                    int s = b0 + p;
                    dst[o] = x[s];
                    dst[o + 1] = x[s + ld];
                    dst[o + 2] = x[s + 2 * ld];
                    dst[o + 3] = x[s + 3 * ld];
                    dst[o + 4] = x[s + 4 * ld];
                    dst[o + 5] = x[s + 5 * ld];
                    dst[o + 6] = x[s + 6 * ld];
                    dst[o + 7] = x[s + 7 * ld];
                }
                return;
            }
            for (int q = 0; q < r; q++) {
                int o = dstOff + q;
                if (q >= cnt) {
                    for (int p = 0; p < kc; p++, o += r) dst[o] = 0f;
                    continue;
                }
                int s = off + (idx0 + q) * ld + p0;
                for (int p = 0; p < kc; p++, o += r) dst[o] = x[s + p];
            }
        }
    }

    /** X(idx, p) = x[off + p·ld + idx]·scale[scaleOff + p] (scale may be null): B of A·B, A of Aᵀ·B. */
    record IndexContiguous(float[] x, int off, int ld, float[] scale, int scaleOff) implements Panel {
        @Override
        public void pack(float[] dst, int dstOff, int idx0, int cnt, int p0, int kc, int r) {
            for (int p = 0; p < kc; p++) {
                int s = off + (p0 + p) * ld + idx0;
                int o = dstOff + p * r;
                if (scale == null) {
                    System.arraycopy(x, s, dst, o, cnt);
                } else {
                    float w = scale[scaleOff + p0 + p];
                    for (int q = 0; q < cnt; q++) dst[o + q] = x[s + q] * w;
                }
                for (int q = cnt; q < r; q++) dst[o + q] = 0f;
            }
        }
    }

    /** A stored weight W (rows, cols) in F32/BF16/F16; {@code transposed} false: X(idx, p) = W[idx, p], true: X(idx, p) = W[p, idx]. */
    record Stored(Tensor w, boolean transposed) implements Panel {
        @Override
        public void pack(float[] dst, int dstOff, int idx0, int cnt, int p0, int kc, int r) {
            MemorySegment seg = w.segment();
            DType dt = w.dtype();
            long cols = w.shape().dim(1);
            float[] row = PanamaKernels.scratchRow(Math.max(kc, r));
            if (!transposed) {
                for (int q = 0; q < r; q++) {
                    int o = dstOff + q;
                    if (q >= cnt) {
                        for (int p = 0; p < kc; p++, o += r) dst[o] = 0f;
                        continue;
                    }
                    Convert.toF32(dt, seg, ((idx0 + q) * cols + p0) * dt.byteSize(), row, 0, kc);
                    for (int p = 0; p < kc; p++, o += r) dst[o] = row[p];
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    int o = dstOff + p * r;
                    Convert.toF32(dt, seg, ((p0 + p) * cols + idx0) * dt.byteSize(), dst, o, cnt);
                    for (int q = cnt; q < r; q++) dst[o + q] = 0f;
                }
            }
        }
    }
    /** Row j of a compressed weight, widened to F32 one slice of the reduction index at a time. */
    @FunctionalInterface
    interface RowSlices {
        /** dst[off + p] = Ŵ[j, p0 + p] for p < len, in the decoder's order of the reduction index. */
        void decode(int j, int p0, int len, float[] dst, int off);
    }

    /**
     * A compressed weight Ŵ (d_out, d_in) as the B operand of X·Ŵᵀ: X(idx, p) = Ŵ[idx, p]. Each pack
     * widens only the KC-slice it needs, straight into the panel, so a GEMM over all m rows of X
     * decodes every weight once per call and the decode is amortised over m.
     */
    record Decoded(RowSlices rows) implements Panel {
        @Override
        public void pack(float[] dst, int dstOff, int idx0, int cnt, int p0, int kc, int r) {
            float[] row = PanamaKernels.scratchRow(kc);
            for (int q = 0; q < r; q++) {
                int o = dstOff + q;
                if (q >= cnt) {
                    for (int p = 0; p < kc; p++, o += r) dst[o] = 0f;
                    continue;
                }
                rows.decode(idx0 + q, p0, kc, row, 0);
                for (int p = 0; p < kc; p++, o += r) dst[o] = row[p];
            }
        }
    }
}
