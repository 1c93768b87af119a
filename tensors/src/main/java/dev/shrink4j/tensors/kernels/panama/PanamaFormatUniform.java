package dev.shrink4j.tensors.kernels.panama;

import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.FS;
import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.IS;
import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.L;
import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.LE;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.BitPacking;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Uniform group quantization on vectors. ŷ_j = Σ_g s_g·(Σ_{i∈g} q_i·x_i − z_g·Σ_{i∈g} x_i): the
 * inner sums run on code vectors, the zero-point term is one scalar per group from precomputed
 * group sums of x. Groups that hold whole blocks ("broadcast": group_size a multiple of the block,
 * or one group per row) scale a group's partial sums by one broadcast scale; groups that hold whole
 * lanes only ("lanes": group_size a multiple of C) multiply by a per-lane scale vector built per row.
 * Anything else (act-order g_idx, odd group sizes) is left to the scalar reference.
 */
final class PanamaFormatUniform {
    private PanamaFormatUniform() {}

    /** How a weight's rows split into blocks: C codes per lane, P per block, whole blocks per row. */
    record Plan(int bits, int c, int p, int blocks, boolean broadcast, int blocksPerGroup) {}

    /** The vector plan for {@code w}, or null when only the scalar reference applies. */
    static Plan plan(UniformQuantized w) {
        if (w.gIdx() != null) {
            return null;
        }
        int bits = w.bits(), c = PanamaFormatPacked.codesPerLane(bits), p = c * L;
        int blocks = w.dIn() / p, g = w.groupSize();
        if (blocks == 0) {
            return null;
        }
        if (w.nGroups() == 1) {
            return new Plan(bits, c, p, blocks, true, blocks);
        }
        if (g % p == 0) {
            return new Plan(bits, c, p, blocks, true, g / p);
        }
        if (g % c == 0) {
            return new Plan(bits, c, p, blocks, false, 0);
        }
        return null;
    }

    private static float scaleAt(MemorySegment seg, boolean f16, Tensor t, long idx) {
        return f16 ? Float.float16ToFloat(seg.getAtIndex(Tensor.I16, idx)) : t.getFloat(idx);
    }

    /** Σ x_i over the vector part (i < blocks·P) of each group. */
    private static float[] groupSums(UniformQuantized w, Plan plan, float[] x, int xo) {
        int ng = w.nGroups(), gs = w.groupSize(), end = plan.blocks * plan.p;
        float[] sums = new float[ng];
        for (int i = 0; i < end; i++) sums[i / gs] += x[xo + i];
        return sums;
    }

    static void matvec(UniformQuantized w, Plan plan, float[] x, float[] y) {
        int n = w.dIn();
        float[] xp = new float[n];
        PanamaFormatPacked.permute(x, 0, n, plan.blocks, plan.bits, true, xp, 0);
        float[] xsum = groupSums(w, plan, x, 0);
        if (plan.bits == 4 && plan.broadcast) {
            matvec4(w, plan, xp, xsum, y);
        } else {
            matvecGeneric(w, plan, xp, xsum, y);
        }
        if (plan.blocks * plan.p < n) {
            tails(w, plan, x, y);
        }
    }

    /** Adds the scalar contribution of the elements after the last whole block to every y_j. */
    private static void tails(UniformQuantized w, Plan plan, float[] x, float[] y) {
        int n = w.dIn(), from = plan.blocks * plan.p, ng = w.nGroups(), bits = w.bits();
        MemorySegment seg = w.qweight().segment();
        long rb = w.rowBytes();
        for (int j = 0; j < w.dOut(); j++) {
            float s = 0;
            int g = -1;
            float sc = 0;
            int z = 0;
            for (int i = from; i < n; i++) {
                int gi = i / w.groupSize();
                if (gi != g) {
                    g = gi;
                    sc = w.scale(j, g);
                    z = w.zero(j, g);
                }
                s += sc * (BitPacking.get(seg, j * rb, i, bits) - z) * x[i];
            }
            y[j] += s;
            assert g < ng;
        }
    }

    private static FloatVector f(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    /**
     * 4-bit codes, broadcast groups: two rows at a time share the activation loads; per row two
     * partial accumulators (fields alternate) keep two fma chains in flight per row, four in all.
     */
    private static void matvec4(UniformQuantized w, Plan plan, float[] xp, float[] xsum, float[] y) {
        int dOut = w.dOut(), ng = w.nGroups(), blocks = plan.blocks, bpg = plan.blocksPerGroup;
        MemorySegment seg = w.qweight().segment();
        MemorySegment ss = w.scales().segment();
        boolean f16 = w.scales().dtype() == DType.F16;
        long rb = w.rowBytes();
        final int p = 8 * L;
        final long bb = 4L * L;
        FloatVector zero = FloatVector.zero(FS);
        for (int j = 0; j < dOut; j += 2) {
            int j1 = Math.min(j + 1, dOut - 1);
            long r0 = j * rb, r1 = j1 * rb;
            FloatVector t0 = zero, t1 = zero;
            float zt0 = 0, zt1 = 0;
            int t = 0;
            for (int g = 0; g < ng && t < blocks; g++) {
                int tEnd = Math.min(blocks, t + bpg);
                FloatVector a0 = zero, a1 = zero, b0 = zero, b1 = zero;
                for (; t < tEnd; t++) {
                    long bo = t * bb;
                    IntVector w0 = IntVector.fromMemorySegment(IS, seg, r0 + bo, LE);
                    IntVector w1 = IntVector.fromMemorySegment(IS, seg, r1 + bo, LE);
                    int xo = t * p;
                    FloatVector xv = FloatVector.fromArray(FS, xp, xo);
                    a0 = f(w0.and(0xF)).fma(xv, a0);
                    b0 = f(w1.and(0xF)).fma(xv, b0);
                    xv = FloatVector.fromArray(FS, xp, xo + L);
                    a1 = f(w0.and(0xF0)).fma(xv, a1);
                    b1 = f(w1.and(0xF0)).fma(xv, b1);
                    xv = FloatVector.fromArray(FS, xp, xo + 2 * L);
                    a0 = f(w0.and(0xF00)).fma(xv, a0);
                    b0 = f(w1.and(0xF00)).fma(xv, b0);
                    xv = FloatVector.fromArray(FS, xp, xo + 3 * L);
                    a1 = f(w0.and(0xF000)).fma(xv, a1);
                    b1 = f(w1.and(0xF000)).fma(xv, b1);
                    xv = FloatVector.fromArray(FS, xp, xo + 4 * L);
                    a0 = f(w0.and(0xF0000)).fma(xv, a0);
                    b0 = f(w1.and(0xF0000)).fma(xv, b0);
                    xv = FloatVector.fromArray(FS, xp, xo + 5 * L);
                    a1 = f(w0.and(0xF00000)).fma(xv, a1);
                    b1 = f(w1.and(0xF00000)).fma(xv, b1);
                    xv = FloatVector.fromArray(FS, xp, xo + 6 * L);
                    a0 = f(w0.and(0xF000000)).fma(xv, a0);
                    b0 = f(w1.and(0xF000000)).fma(xv, b0);
                    xv = FloatVector.fromArray(FS, xp, xo + 7 * L);
                    a1 = f(w0.lanewise(VectorOperators.LSHR, 28)).fma(xv, a1);
                    b1 = f(w1.lanewise(VectorOperators.LSHR, 28)).fma(xv, b1);
                }
                float s0 = scaleAt(ss, f16, w.scales(), (long) j * ng + g);
                float s1 = scaleAt(ss, f16, w.scales(), (long) j1 * ng + g);
                t0 = a0.add(a1).fma(FloatVector.broadcast(FS, s0), t0);
                t1 = b0.add(b1).fma(FloatVector.broadcast(FS, s1), t1);
                zt0 += s0 * w.zero(j, g) * xsum[g];
                zt1 += s1 * w.zero(j1, g) * xsum[g];
            }
            y[j] = t0.reduceLanes(VectorOperators.ADD) - zt0;
            y[j1] = t1.reduceLanes(VectorOperators.ADD) - zt1;
        }
    }

    /** Any code width, either group mode; one row at a time, fields alternate between two accumulators. */
    private static void matvecGeneric(UniformQuantized w, Plan plan, float[] xp, float[] xsum, float[] y) {
        int dOut = w.dOut(), ng = w.nGroups(), blocks = plan.blocks, bits = plan.bits, c = plan.c, p = plan.p;
        int gs = w.groupSize();
        MemorySegment seg = w.qweight().segment();
        MemorySegment ss = w.scales().segment();
        boolean f16 = w.scales().dtype() == DType.F16;
        long rb = w.rowBytes();
        long bb = PanamaFormatPacked.blockBytes(bits);
        FloatVector zero = FloatVector.zero(FS);
        float[] laneScale = plan.broadcast ? null : new float[blocks * L];
        for (int j = 0; j < dOut; j++) {
            long r0 = j * rb;
            FloatVector tot = zero;
            float zt = 0;
            if (plan.broadcast) {
                int t = 0;
                for (int g = 0; g < ng && t < blocks; g++) {
                    int tEnd = Math.min(blocks, t + plan.blocksPerGroup);
                    FloatVector a0 = zero, a1 = zero;
                    for (; t < tEnd; t++) {
                        IntVector wv = PanamaFormatPacked.load(seg, r0 + t * bb, bits);
                        int xo = t * p;
                        for (int k = 0; k < c; k += 2) {
                            a0 = PanamaFormatPacked.field(wv, k, bits, c).fma(FloatVector.fromArray(FS, xp, xo + k * L), a0);
                            a1 = PanamaFormatPacked.field(wv, k + 1, bits, c).fma(FloatVector.fromArray(FS, xp, xo + (k + 1) * L), a1);
                        }
                    }
                    float s = scaleAt(ss, f16, w.scales(), (long) j * ng + g);
                    tot = a0.add(a1).fma(FloatVector.broadcast(FS, s), tot);
                    zt += s * w.zero(j, g) * xsum[g];
                }
            } else {
                for (int g = 0; g < ng; g++) {
                    zt += scaleAt(ss, f16, w.scales(), (long) j * ng + g) * w.zero(j, g) * xsum[g];
                }
                for (int lane = 0; lane < blocks * L; lane++) {
                    laneScale[lane] = scaleAt(ss, f16, w.scales(), (long) j * ng + lane * c / gs);
                }
                for (int t = 0; t < blocks; t++) {
                    IntVector wv = PanamaFormatPacked.load(seg, r0 + t * bb, bits);
                    int xo = t * p;
                    FloatVector a0 = zero, a1 = zero;
                    for (int k = 0; k < c; k += 2) {
                        a0 = PanamaFormatPacked.field(wv, k, bits, c).fma(FloatVector.fromArray(FS, xp, xo + k * L), a0);
                        a1 = PanamaFormatPacked.field(wv, k + 1, bits, c).fma(FloatVector.fromArray(FS, xp, xo + (k + 1) * L), a1);
                    }
                    tot = a0.add(a1).fma(FloatVector.fromArray(FS, laneScale, t * L), tot);
                }
            }
            y[j] = tot.reduceLanes(VectorOperators.ADD) - zt;
        }
    }

    /**
     * Y = X·Ŵᵀ: each pair of rows of Ŵ is widened once (vector decode, in the permuted order) and
     * multiplied with every row of X (permuted the same way), so decoding costs 1/m of the work.
     */
    static void matmul(UniformQuantized w, Plan plan, float[] x, int m, float[] y) {
        int n = w.dIn(), dOut = w.dOut();
        float[] xq = new float[Math.multiplyExact(m, n)];
        for (int r = 0; r < m; r++) {
            PanamaFormatPacked.permute(x, r * n, n, plan.blocks, plan.bits, false, xq, r * n);
        }
        float[] rows = new float[2 * n];
        float[] natural = plan.broadcast ? null : new float[n];
        for (int j = 0; j < dOut; j += 2) {
            int nr = Math.min(2, dOut - j);
            for (int q = 0; q < nr; q++) {
                if (plan.broadcast) {
                    decodeRow(w, plan, j + q, rows, q * n);
                } else {
                    w.dequantizeRow(j + q, natural, 0);
                    PanamaFormatPacked.permute(natural, 0, n, plan.blocks, plan.bits, false, rows, q * n);
                }
            }
            PanamaFormatDots.rowsTimesX(rows, nr, xq, m, n, y, dOut, j);
        }
    }

    /** Row j of Ŵ in the permuted order (tail unpermuted): value = field·(s·2^(−b·k)) − s·z, one fma per field. */
    private static void decodeRow(UniformQuantized w, Plan plan, int j, float[] dst, int off) {
        int ng = w.nGroups(), bits = plan.bits, c = plan.c, p = plan.p, blocks = plan.blocks, n = w.dIn();
        MemorySegment seg = w.qweight().segment();
        MemorySegment ss = w.scales().segment();
        boolean f16 = w.scales().dtype() == DType.F16;
        long r0 = j * w.rowBytes();
        long bb = PanamaFormatPacked.blockBytes(bits);
        int t = 0;
        for (int g = 0; g < ng && t < blocks; g++) {
            int tEnd = Math.min(blocks, t + plan.blocksPerGroup);
            float s = scaleAt(ss, f16, w.scales(), (long) j * ng + g);
            FloatVector negSz = FloatVector.broadcast(FS, -s * w.zero(j, g));
            for (; t < tEnd; t++) {
                IntVector wv = PanamaFormatPacked.load(seg, r0 + t * bb, bits);
                int o = off + t * p;
                for (int k = 0; k < c; k++) {
                    float sk = s * PanamaFormatPacked.fieldScale(k, bits, c);
                    PanamaFormatPacked.field(wv, k, bits, c).fma(FloatVector.broadcast(FS, sk), negSz).intoArray(dst, o + k * L);
                }
            }
        }
        for (int i = blocks * p; i < n; i++) {
            int g = i / w.groupSize();
            dst[off + i] = w.scale(j, g) * (BitPacking.get(seg, r0, i, bits) - w.zero(j, g));
        }
    }
}
