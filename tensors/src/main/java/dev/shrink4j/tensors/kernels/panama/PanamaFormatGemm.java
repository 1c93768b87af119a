package dev.shrink4j.tensors.kernels.panama;

import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.FS;
import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.L;

import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.BitPacking;
import dev.shrink4j.tensors.formats.GgufBlockWeight;
import dev.shrink4j.tensors.formats.LutQuantized;
import dev.shrink4j.tensors.formats.UniformQuantized;
import dev.shrink4j.tensors.gguf.GgufBlocks;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

/**
 * Y = X·Ŵᵀ for many rows of X (prefill, evaluation windows) through the F32 GEMM micro-kernel:
 * {@link PanamaGemm} packs B as KC × NR panels, and here each panel is widened straight from the
 * compressed codes ({@link Panel.Decoded}), so Ŵ is decoded once per call whatever m is and the
 * arithmetic runs register-blocked like the dense GEMM. The widen-two-rows-then-dot kernels
 * ({@link PanamaFormatDots}) stream all of X once per pair of weight rows, which at m = 512 (4 MiB of
 * X per 2048 columns) left them memory-bound and 7–11× slower than the F32 GEMM.
 *
 * <p>Decoders widen a row slice [p0, p0 + len) with p0 a multiple of {@link PanamaGemm#KC}. The
 * uniform one works in the kernels' permuted order ({@link PanamaFormatPacked#permute}; X is permuted
 * the same way, which leaves every dot product unchanged) and needs KC to be whole blocks; the
 * others (act-order g_idx, odd groups, codebooks, ggml blocks) widen in natural order, scalar.
 */
final class PanamaFormatGemm {
    private PanamaFormatGemm() {}

    /**
     * Below this many rows of X the per-row kernels are used: widening every weight into the packed
     * panels costs as much as several rows of those. Measured (2048², one thread, paired with F32,
     * loaded AMD EPYC): int4 g128 per-row kernels 3.7 ms at m = 7 vs the GEMM path 10.1 ms at m = 8;
     * at m = 16 the GEMM path took 9.0 ms (int4 g32). {@code docs/kernels.md} ("Batched forward").
     */
    static final int MIN_ROWS = 16;

    /** Y (m, d_out) = X (m, d_in)·Ŵᵀ with Ŵ widened slice by slice by {@code rows}; X in the decoder's order. */
    static void matmul(Panel.RowSlices rows, float[] x, int m, int dIn, int dOut, float[] y) {
        PanamaGemm.gemm(0, m, 0, dOut, dIn, new Panel.ReductionContiguous(x, 0, dIn), new Panel.Decoded(rows), y, 0, dOut, false, false);
    }

    // ---------------------------------------------------------------- uniform

    /** Y = X·Ŵᵀ for uniform group quantization, any code width, groups and g_idx. */
    static void uniform(UniformQuantized w, float[] x, int m, float[] y) {
        int n = w.dIn();
        PanamaFormatUniform.Plan plan = PanamaFormatUniform.plan(w);
        if (plan == null || PanamaGemm.KC % plan.p() != 0) {
            matmul(new UniformNatural(w), x, m, n, w.dOut(), y);
            return;
        }
        float[] xp = new float[Math.multiplyExact(m, n)];
        for (int r = 0; r < m; r++) PanamaFormatPacked.permute(x, r * n, n, plan.blocks(), plan.bits(), false, xp, r * n);
        matmul(new UniformPermuted(w, plan), xp, m, n, w.dOut(), y);
    }

    /** The permuted-order decoder of {@code w}, or null when a KC-slice is not whole blocks of its plan. */
    static Panel.RowSlices permutedSlices(UniformQuantized w, PanamaFormatUniform.Plan plan) {
        return PanamaGemm.KC % plan.p() == 0 ? new UniformPermuted(w, plan) : null;
    }

    /**
     * Uniform codes widened a block at a time in the permuted order: lane l of block t holds codes
     * t·P + l·C … + C − 1, all in one group (the plan guarantees it), so a block needs one scale and
     * one −s·z per lane; field k is ŵ = field·(s·2^(−b·k)) − s·z, one fma (as {@code decodeRow}).
     */
    private static final class UniformPermuted implements Panel.RowSlices {
        private final UniformQuantized w;
        private final int bits, c, p, blocks, gs, ng;
        private final long rb, bb;
        private final MemorySegment seg;
        private final float[] fieldScale;
        private final float[] laneS, laneNz; // per lane of the slice's blocks
        private final float[] srow;
        private final int[] zrow;

        UniformPermuted(UniformQuantized w, PanamaFormatUniform.Plan plan) {
            this.w = w;
            this.bits = plan.bits();
            this.c = plan.c();
            this.p = plan.p();
            this.blocks = plan.blocks();
            this.gs = w.groupSize();
            this.ng = w.nGroups();
            this.rb = w.rowBytes();
            this.bb = PanamaFormatPacked.blockBytes(bits);
            this.seg = w.qweight().segment();
            this.fieldScale = new float[c];
            for (int k = 0; k < c; k++) fieldScale[k] = PanamaFormatPacked.fieldScale(k, bits, c);
            this.laneS = new float[PanamaGemm.KC / c];
            this.laneNz = new float[PanamaGemm.KC / c];
            this.srow = new float[ng];
            this.zrow = new int[ng];
        }

        @Override
        public void decode(int j, int p0, int len, float[] dst, int off) {
            int end = p0 + len;
            int g0 = p0 / gs, g1 = Math.min(ng, (end - 1) / gs + 1);
            w.scales().readFloats((long) j * ng + g0, srow, g0, g1 - g0);
            if (w.symmetric()) {
                java.util.Arrays.fill(zrow, g0, g1, 1 << (bits - 1));
            } else {
                MemorySegment zs = w.zeros().segment();
                long zb = j * w.width().rowBytes(ng);
                for (int g = g0; g < g1; g++) zrow[g] = BitPacking.get(zs, zb, g, bits);
            }
            int t0 = p0 / p, t1 = Math.min(blocks, end / p);
            for (int t = t0, lane = 0; t < t1; t++) {
                for (int l = 0; l < L; l++, lane++) {
                    int g = (t * p + l * c) / gs;
                    laneS[lane] = srow[g];
                    laneNz[lane] = -srow[g] * zrow[g];
                }
            }
            long r0 = j * rb;
            for (int t = t0; t < t1; t++) {
                IntVector wv = PanamaFormatPacked.load(seg, r0 + t * bb, bits);
                FloatVector sv = FloatVector.fromArray(FS, laneS, (t - t0) * L);
                FloatVector nz = FloatVector.fromArray(FS, laneNz, (t - t0) * L);
                int o = off + t * p - p0;
                for (int k = 0; k < c; k++) {
                    PanamaFormatPacked.field(wv, k, bits, c).fma(sv.mul(fieldScale[k]), nz).intoArray(dst, o + k * L);
                }
            }
            for (int i = Math.max(p0, t1 * p); i < end; i++) { // the row's tail, unpermuted
                int g = i / gs;
                dst[off + i - p0] = srow[g] * (BitPacking.get(seg, r0, i, bits) - zrow[g]);
            }
        }
    }

    /** Uniform codes in natural order, scalar: any group size and act-order g_idx. */
    private static final class UniformNatural implements Panel.RowSlices {
        private final UniformQuantized w;
        private final int[] gIdx; // (d_in) or null
        private final float[] srow;
        private final int[] zrow;
        private final int[] q = new int[PanamaGemm.KC];

        UniformNatural(UniformQuantized w) {
            this.w = w;
            Tensor gi = w.gIdx();
            this.gIdx = gi == null ? null : gi.segment().toArray(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN));
            this.srow = new float[w.nGroups()];
            this.zrow = new int[w.nGroups()];
        }

        @Override
        public void decode(int j, int p0, int len, float[] dst, int off) {
            w.readScales(j, srow);
            w.readZeros(j, zrow);
            int bits = w.bits(), gs = w.groupSize();
            // p0 is a multiple of KC = 256, so the slice starts on a byte for every code width
            BitPacking.unpackRow(w.qweight().segment(), j * w.rowBytes() + (long) p0 * bits / 8, len, bits, q);
            for (int i = 0; i < len; i++) {
                int g = gIdx == null ? (p0 + i) / gs : gIdx[p0 + i];
                dst[off + i] = srow[g] * (q[i] - zrow[g]);
            }
        }
    }

    // ---------------------------------------------------------------- lut, gguf

    /** Y = X·Ŵᵀ for codebook quantization: codes looked up in natural order. */
    static void lut(LutQuantized w, float[] x, int m, float[] y) {
        int e = w.entries(), gs = w.groupSize(), bits = w.bits();
        float[] lut = new float[w.nGroups() * e];
        int[] q = new int[PanamaGemm.KC];
        MemorySegment seg = w.qweight().segment();
        long rb = w.rowBytes();
        matmul((j, p0, len, dst, off) -> {
            w.readLut(j, lut);
            BitPacking.unpackRow(seg, j * rb + (long) p0 * bits / 8, len, bits, q);
            for (int i = 0; i < len; i++) dst[off + i] = lut[(p0 + i) / gs * e + q[i]];
        }, x, m, w.dIn(), w.dOut(), y);
    }

    /** Whether {@link #gguf} applies: KC-slices must be whole ggml blocks. */
    static boolean supports(GgufBlockWeight w) {
        return PanamaGemm.KC % w.type().blockSize == 0;
    }

    /** Y = X·Ŵᵀ for ggml block formats: each slice widened by the scalar reference {@link GgufBlocks#dequantize} (K-quants: its vector twin). */
    static void gguf(GgufBlockWeight w, float[] x, int m, float[] y) {
        long n = w.dIn();
        if (PanamaFormatGgufK.supports(w)) { // K-quants: the Vector API widening, bit-identical to the reference
            matmul((j, p0, len, dst, off) -> PanamaFormatGgufK.decode(w, j * n + p0, len, dst, off), x, m, w.dIn(), w.dOut(), y);
            return;
        }
        matmul((j, p0, len, dst, off) -> GgufBlocks.dequantize(w.type(), w.blocks(), j * n + p0, dst, off, len), x, m, w.dIn(), w.dOut(), y);
    }
}
