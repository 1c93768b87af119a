package dev.shrink4j.tensors.kernels.panama;

import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.BitPacking;
import dev.shrink4j.tensors.formats.NmQuantized;
import dev.shrink4j.tensors.formats.NmSparse;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Y = X·Ŵᵀ for many rows of X with N:M sparse Ŵ (kept values stored as floats, {@code nm}, or quantized,
 * {@code nm_uniform}) through the F32 GEMM micro-kernel ({@link PanamaFormatGemm#matmul}): each KC-slice of a
 * row of Ŵ is widened to dense F32 — zeros, then the slice's kept values written at their columns — so Ŵ is
 * decoded once per call, as for the other formats (docs/kernels.md "Batched forward"). The GEMM multiplies the
 * zeros too (twice the needed flops at 2:4), which its register blocking still wins over m sparse matvecs.
 *
 * <p>2:4 quantized slices with the matvec kernel's code widths are decoded in registers a chunk at a time
 * ({@link PanamaFormatNm#decodeDense}); other patterns and widths widen their kept values in bulk and scatter
 * them, scalar. A slice starts at a multiple of KC = 256 columns, so it must hold whole runs of M and start its kept values'
 * codes and positions on a byte ({@link #supports}); other patterns keep the per-row default.
 */
final class PanamaFormatNmGemm {
    private PanamaFormatNmGemm() {}

    /** Whether KC-slices cut no run and start every packed stream (positions, codes of b bits) on a byte. */
    static boolean supports(int n, int m, int codeBits) {
        int kept = PanamaGemm.KC / m * n;
        return PanamaGemm.KC % m == 0 && kept * NmSparse.indexWidth(m).bits % 8 == 0 && kept * codeBits % 8 == 0;
    }

    static void matmul(NmSparse w, float[] x, int rows, float[] y) {
        PanamaFormatGemm.matmul(new FloatRows(w), x, rows, w.dIn(), w.dOut(), y);
    }

    static void matmul(NmQuantized w, float[] x, int rows, float[] y) {
        PanamaFormatGemm.matmul(new QuantizedRows(w), x, rows, w.dIn(), w.dOut(), y);
    }

    /** The slice's kept values (already widened into {@code vals}) scattered to their columns; the rest zero. */
    private static void scatter(MemorySegment idx, long idxRow, int t0, int cnt, int n, int m, int[] pos, float[] vals, float[] dst, int off, int len) {
        Arrays.fill(dst, off, off + len, 0f);
        int ibits = NmSparse.indexWidth(m).bits;
        BitPacking.unpackRow(idx, idxRow + (long) t0 * ibits / 8, cnt, ibits, pos);
        for (int i = 0, base = off; i < cnt; base += m) {
            for (int k = 0; k < n; k++, i++) dst[base + pos[i]] = vals[i];
        }
    }

    /** Float kept values (F16, BF16 or F32 as stored), widened in bulk. */
    private static final class FloatRows implements Panel.RowSlices {
        private final NmSparse w;
        private final int[] pos = new int[PanamaGemm.KC];
        private final float[] vals = new float[PanamaGemm.KC];

        FloatRows(NmSparse w) {
            this.w = w;
        }

        @Override
        public void decode(int j, int p0, int len, float[] dst, int off) {
            int n = w.n(), m = w.m(), t0 = p0 / m * n, cnt = len / m * n;
            Tensor v = w.values();
            Convert.toF32(v.dtype(), v.segment(), ((long) j * w.keptPerRow() + t0) * v.dtype().byteSize(), vals, 0, cnt);
            scatter(w.indices().segment(), j * w.indexRowBytes(), t0, cnt, n, m, pos, vals, dst, off, len);
        }
    }

    /** Quantized kept values: codes unpacked, then s·(q − z) group by group (no division per value). */
    private static final class QuantizedRows implements Panel.RowSlices {
        private final NmQuantized w;
        private final UniformQuantized v;
        private final int[] q = new int[PanamaGemm.KC], pos = new int[PanamaGemm.KC];
        private final float[] vals = new float[PanamaGemm.KC];
        private final float[] s;

        private final boolean vector; // 2:4 with the matvec kernel's codes: whole chunks decoded in registers

        QuantizedRows(NmQuantized w) {
            this.w = w;
            this.v = w.values();
            this.s = new float[v.nGroups()];
            this.vector = PanamaFormatNm.supports(w) && PanamaGemm.KC % (2 * PanamaFormatKernels.L) == 0;
        }

        @Override
        public void decode(int j, int p0, int len, float[] dst, int off) {
            if (vector) {
                int done = PanamaFormatNm.decodeDense(w, j, p0, len, s, dst, off);
                p0 += done;
                len -= done;
                off += done;
                if (len == 0) return;
            }
            int n = w.n(), m = w.m(), t0 = p0 / m * n, cnt = len / m * n, bits = v.bits(), gs = v.groupSize(), ng = v.nGroups();
            BitPacking.unpackRow(v.qweight().segment(), j * v.rowBytes() + (long) t0 * bits / 8, cnt, bits, q);
            int g0 = t0 / gs, g1 = (t0 + cnt - 1) / gs + 1;
            Tensor sc = v.scales();
            Convert.toF32(sc.dtype(), sc.segment(), ((long) j * ng + g0) * sc.dtype().byteSize(), s, 0, g1 - g0);
            MemorySegment zs = v.symmetric() ? null : v.zeros().segment();
            long z0 = j * v.width().rowBytes(ng);
            for (int g = g0; g < g1; g++) {
                float sg = s[g - g0];
                int zg = zs == null ? 1 << (bits - 1) : BitPacking.get(zs, z0, g, bits);
                for (int i = Math.max(t0, g * gs) - t0, e = Math.min(t0 + cnt, (g + 1) * gs) - t0; i < e; i++) vals[i] = sg * (q[i] - zg);
            }
            scatter(w.indices().segment(), j * w.indexRowBytes(), t0, cnt, n, m, pos, vals, dst, off, len);
        }
    }
}
