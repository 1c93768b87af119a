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
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

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
        if (plan.broadcast) {
            switch (plan.bits) {
                case 4 -> rows4(w, plan, xp, xsum, y);
                case 2 -> rows2(w, plan, xp, xsum, y);
                case 8 -> rows8(w, plan, xp, xsum, y);
                default -> matvecGeneric(w, plan, xp, xsum, y); // 3-bit: the looped kernel measured 2× faster than an unrolled one
            }
        } else if (plan.bits == 4 && plan.p % w.groupSize() == 0) {
            lanes4(w, plan, xp, xsum, y);
        } else if (plan.bits == 2 && plan.p % w.groupSize() == 0) {
            lanes2(w, plan, xp, xsum, y);
        } else if (plan.bits == 8 && plan.p % w.groupSize() == 0) {
            lanes8(w, plan, xp, xsum, y);
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

    private static FloatVector xv(float[] xp, int off) {
        return FloatVector.fromArray(FS, xp, off);
    }

    /*
     * One method per code width with the fields written out (or looped over a constant count), so
     * masks and shifts are constants. Each method keeps few vector call sites: past C2's inlining
     * budget vector values get boxed and a loop runs ~5× slower, so no two-row variants. Four
     * accumulators: a block's fields form four fma chains, enough to cover the fma latency.
     */

    /**
     * Row j's scales widened into srow[0..n_groups) and the zero-point term Σ_g s_g·z_g·Σ_{i∈g} x_i,
     * computed before the vector loop so that loop does no scalar work but one load per group.
     */
    private static float rowScales(UniformQuantized w, int j, float[] xsum, float[] srow, int[] zrow) {
        int ng = w.nGroups();
        Tensor sc = w.scales();
        if (sc.dtype() == DType.F16) {
            MemorySegment ss = sc.segment();
            long base = (long) j * ng;
            // In bulk (C2 vectorises Convert's loop to vcvtph2ps): one float16ToFloat call per group read
            // through the segment was 15 % of an int4 g32 decode step (docs/kernels.md).
            Convert.toF32(DType.F16, ss, 2 * base, srow, 0, ng);
        } else {
            w.readScales(j, srow);
        }
        float zt = 0;
        if (w.symmetric()) {
            for (int g = 0; g < ng; g++) zt += srow[g] * xsum[g];
            return zt * (1 << (w.bits() - 1));
        }
        if (w.bits() == 4) {
            MemorySegment zs = w.zeros().segment();
            long zb = j * w.width().rowBytes(ng);
            int g = 0;
            for (; g + 1 < ng; g += 2) {
                int b = zs.get(ValueLayout.JAVA_BYTE, zb + (g >>> 1));
                zt += srow[g] * (b & 0xF) * xsum[g] + srow[g + 1] * ((b >>> 4) & 0xF) * xsum[g + 1];
            }
            if (g < ng) zt += srow[g] * (zs.get(ValueLayout.JAVA_BYTE, zb + (g >>> 1)) & 0xF) * xsum[g];
            return zt;
        }
        w.readZeros(j, zrow);
        for (int g = 0; g < ng; g++) zt += srow[g] * zrow[g] * xsum[g];
        return zt;
    }

    /**
     * 4-bit codes, broadcast groups. Per block of 8·L codes: one load, 8 × (mask, convert, fma), then
     * the block's two partial sums are scaled into the row total. Chains start with a multiply, not
     * an fma into a zero vector: measured 1.5× faster on JDK 25 / AVX-512, as was scaling every
     * block rather than accumulating a long group first (long accumulation loops ran up to 6× slower).
     */
    private static void rows4(UniformQuantized w, Plan plan, float[] xp, float[] xsum, float[] y) {
        int dOut = w.dOut(), ng = w.nGroups(), blocks = plan.blocks, bpg = plan.blocksPerGroup;
        MemorySegment seg = w.qweight().segment();
        long rb = w.rowBytes(), bb = 4L * L;
        float[] srow = new float[ng];
        int[] zrow = new int[ng];
        for (int j = 0; j < dOut; j++) {
            float zt = rowScales(w, j, xsum, srow, zrow);
            long r0 = j * rb;
            FloatVector tot = FloatVector.zero(FS);
            for (int t = 0, g = 0, inGroup = 0; t < blocks; t++) {
                IntVector q = IntVector.fromMemorySegment(IS, seg, r0 + t * bb, LE);
                int o = t * 8 * L;
                FloatVector a0 = f(q.and(0xF)).mul(xv(xp, o));
                FloatVector a1 = f(q.and(0xF0)).mul(xv(xp, o + L));
                a0 = f(q.and(0xF00)).fma(xv(xp, o + 2 * L), a0);
                a1 = f(q.and(0xF000)).fma(xv(xp, o + 3 * L), a1);
                a0 = f(q.and(0xF0000)).fma(xv(xp, o + 4 * L), a0);
                a1 = f(q.and(0xF00000)).fma(xv(xp, o + 5 * L), a1);
                a0 = f(q.and(0xF000000)).fma(xv(xp, o + 6 * L), a0);
                a1 = f(q.lanewise(VectorOperators.LSHR, 28)).fma(xv(xp, o + 7 * L), a1);
                tot = a0.add(a1).fma(FloatVector.broadcast(FS, srow[g]), tot);
                if (++inGroup == bpg) {
                    inGroup = 0;
                    g++;
                }
            }
            y[j] = Lanes.sum(tot) - zt;
        }
    }

    /**
     * 4-bit codes, groups smaller than a block (group_size divides 8·L, e.g. 32 or 64 with 512-bit
     * vectors): lane l of block t belongs to group (t·L + l)/(group_size/8), so a block's scales are
     * one load of the row's scales spread over the lanes by a constant-per-call permute.
     */
    private static void lanes4(UniformQuantized w, Plan plan, float[] xp, float[] xsum, float[] y) {
        int dOut = w.dOut(), ng = w.nGroups(), blocks = plan.blocks, lpg = w.groupSize() / 8, groupsPerBlock = L / lpg;
        MemorySegment seg = w.qweight().segment();
        long rb = w.rowBytes(), bb = 4L * L;
        int[] spread = new int[L];
        for (int l = 0; l < L; l++) spread[l] = l / lpg;
        VectorShuffle<Float> shuffle = VectorShuffle.fromArray(FS, spread, 0);
        float[] srow = new float[ng + L]; // padded so the last block's load stays in bounds
        int[] zrow = new int[ng];
        FloatVector zero = FloatVector.zero(FS);
        for (int j = 0; j < dOut; j++) {
            long r0 = j * rb;
            float zt = rowScales(w, j, xsum, srow, zrow);
            FloatVector tot = zero;
            for (int t = 0, so = 0; t < blocks; t++, so += groupsPerBlock) {
                IntVector q = IntVector.fromMemorySegment(IS, seg, r0 + t * bb, LE);
                int o = t * 8 * L;
                FloatVector a0 = f(q.and(0xF)).mul(xv(xp, o));
                FloatVector a1 = f(q.and(0xF0)).mul(xv(xp, o + L));
                FloatVector a2 = f(q.and(0xF00)).mul(xv(xp, o + 2 * L));
                FloatVector a3 = f(q.and(0xF000)).mul(xv(xp, o + 3 * L));
                a0 = f(q.and(0xF0000)).fma(xv(xp, o + 4 * L), a0);
                a1 = f(q.and(0xF00000)).fma(xv(xp, o + 5 * L), a1);
                a2 = f(q.and(0xF000000)).fma(xv(xp, o + 6 * L), a2);
                a3 = f(q.lanewise(VectorOperators.LSHR, 28)).fma(xv(xp, o + 7 * L), a3);
                FloatVector sv = FloatVector.fromArray(FS, srow, so).rearrange(shuffle);
                tot = a0.add(a1).add(a2.add(a3)).fma(sv, tot);
            }
            y[j] = Lanes.sum(tot) - zt;
        }
    }

    /** 2-bit codes, groups smaller than a block (group_size divides 16·L, e.g. 128 with 512-bit vectors): as {@link #lanes4}. */
    private static void lanes2(UniformQuantized w, Plan plan, float[] xp, float[] xsum, float[] y) {
        int dOut = w.dOut(), ng = w.nGroups(), blocks = plan.blocks, lpg = w.groupSize() / 16, groupsPerBlock = L / lpg;
        MemorySegment seg = w.qweight().segment();
        long rb = w.rowBytes(), bb = 4L * L;
        int[] spread = new int[L];
        for (int l = 0; l < L; l++) spread[l] = l / lpg;
        VectorShuffle<Float> shuffle = VectorShuffle.fromArray(FS, spread, 0);
        float[] srow = new float[ng + L]; // padded so the last block's load stays in bounds
        int[] zrow = new int[ng];
        for (int j = 0; j < dOut; j++) {
            long r0 = j * rb;
            float zt = rowScales(w, j, xsum, srow, zrow);
            FloatVector tot = FloatVector.zero(FS);
            for (int t = 0, so = 0; t < blocks; t++, so += groupsPerBlock) {
                IntVector q = IntVector.fromMemorySegment(IS, seg, r0 + t * bb, LE);
                int o = t * 16 * L;
                FloatVector a0 = f(q.and(3)).mul(xv(xp, o));
                FloatVector a1 = f(q.and(3 << 2)).mul(xv(xp, o + L));
                for (int k = 2; k < 14; k += 2) {
                    a0 = f(q.and(3 << 2 * k)).fma(xv(xp, o + k * L), a0);
                    a1 = f(q.and(3 << 2 * k + 2)).fma(xv(xp, o + (k + 1) * L), a1);
                }
                a0 = f(q.and(3 << 28)).fma(xv(xp, o + 14 * L), a0);
                a1 = f(q.lanewise(VectorOperators.LSHR, 30)).fma(xv(xp, o + 15 * L), a1);
                FloatVector sv = FloatVector.fromArray(FS, srow, so).rearrange(shuffle);
                tot = a0.add(a1).fma(sv, tot);
            }
            y[j] = Lanes.sum(tot) - zt;
        }
    }

    /** 2-bit codes, broadcast groups: 16 fields per lane, in the same per-block shape as {@link #rows4}. */
    private static void rows2(UniformQuantized w, Plan plan, float[] xp, float[] xsum, float[] y) {
        int dOut = w.dOut(), ng = w.nGroups(), blocks = plan.blocks, bpg = plan.blocksPerGroup;
        MemorySegment seg = w.qweight().segment();
        long rb = w.rowBytes(), bb = 4L * L;
        float[] srow = new float[ng];
        int[] zrow = new int[ng];
        for (int j = 0; j < dOut; j++) {
            float zt = rowScales(w, j, xsum, srow, zrow);
            long r0 = j * rb;
            FloatVector tot = FloatVector.zero(FS);
            for (int t = 0, g = 0, inGroup = 0; t < blocks; t++) {
                IntVector q = IntVector.fromMemorySegment(IS, seg, r0 + t * bb, LE);
                int o = t * 16 * L;
                FloatVector a0 = f(q.and(3)).mul(xv(xp, o));
                FloatVector a1 = f(q.and(3 << 2)).mul(xv(xp, o + L));
                for (int k = 2; k < 14; k += 2) {
                    a0 = f(q.and(3 << 2 * k)).fma(xv(xp, o + k * L), a0);
                    a1 = f(q.and(3 << 2 * k + 2)).fma(xv(xp, o + (k + 1) * L), a1);
                }
                a0 = f(q.and(3 << 28)).fma(xv(xp, o + 14 * L), a0);
                a1 = f(q.lanewise(VectorOperators.LSHR, 30)).fma(xv(xp, o + 15 * L), a1);
                tot = a0.add(a1).fma(FloatVector.broadcast(FS, srow[g]), tot);
                if (++inGroup == bpg) {
                    inGroup = 0;
                    g++;
                }
            }
            y[j] = Lanes.sum(tot) - zt;
        }
    }

    /** 8-bit codes, broadcast groups: 4 fields per lane. */
    private static void rows8(UniformQuantized w, Plan plan, float[] xp, float[] xsum, float[] y) {
        int dOut = w.dOut(), ng = w.nGroups(), blocks = plan.blocks, bpg = plan.blocksPerGroup;
        MemorySegment seg = w.qweight().segment();
        long rb = w.rowBytes(), bb = 4L * L;
        float[] srow = new float[ng];
        int[] zrow = new int[ng];
        for (int j = 0; j < dOut; j++) {
            float zt = rowScales(w, j, xsum, srow, zrow);
            long r0 = j * rb;
            FloatVector tot = FloatVector.zero(FS);
            for (int t = 0, g = 0, inGroup = 0; t < blocks; t++) {
                IntVector q = IntVector.fromMemorySegment(IS, seg, r0 + t * bb, LE);
                int o = t * 4 * L;
                FloatVector a0 = f(q.and(0xFF)).mul(xv(xp, o));
                FloatVector a1 = f(q.and(0xFF00)).mul(xv(xp, o + L));
                a0 = f(q.and(0xFF0000)).fma(xv(xp, o + 2 * L), a0);
                a1 = f(q.lanewise(VectorOperators.LSHR, 24)).fma(xv(xp, o + 3 * L), a1);
                tot = a0.add(a1).fma(FloatVector.broadcast(FS, srow[g]), tot);
                if (++inGroup == bpg) {
                    inGroup = 0;
                    g++;
                }
            }
            y[j] = Lanes.sum(tot) - zt;
        }
    }

    /**
     * 8-bit codes, groups smaller than a block (group_size divides 4·L, e.g. 32 with 512-bit vectors: an
     * int8 g32 output head): as {@link #lanes4} with four byte fields per lane. The looped generic kernel
     * ran this case at 1.29× the F32 matvec's time (TinyLlama head, 32000 × 2048).
     */
    private static void lanes8(UniformQuantized w, Plan plan, float[] xp, float[] xsum, float[] y) {
        int dOut = w.dOut(), ng = w.nGroups(), blocks = plan.blocks, lpg = w.groupSize() / 4, groupsPerBlock = L / lpg;
        MemorySegment seg = w.qweight().segment();
        long rb = w.rowBytes(), bb = 4L * L;
        int[] spread = new int[L];
        for (int l = 0; l < L; l++) spread[l] = l / lpg;
        VectorShuffle<Float> shuffle = VectorShuffle.fromArray(FS, spread, 0);
        float[] srow = new float[ng + L]; // padded so the last block's load stays in bounds
        int[] zrow = new int[ng];
        FloatVector zero = FloatVector.zero(FS);
        for (int j = 0; j < dOut; j++) {
            long r0 = j * rb;
            float zt = rowScales(w, j, xsum, srow, zrow);
            FloatVector tot = zero;
            for (int t = 0, so = 0; t < blocks; t++, so += groupsPerBlock) {
                IntVector q = IntVector.fromMemorySegment(IS, seg, r0 + t * bb, LE);
                int o = t * 4 * L;
                FloatVector a0 = f(q.and(0xFF)).mul(xv(xp, o));
                FloatVector a1 = f(q.and(0xFF00)).mul(xv(xp, o + L));
                a0 = f(q.and(0xFF0000)).fma(xv(xp, o + 2 * L), a0);
                a1 = f(q.lanewise(VectorOperators.LSHR, 24)).fma(xv(xp, o + 3 * L), a1);
                FloatVector sv = FloatVector.fromArray(FS, srow, so).rearrange(shuffle);
                tot = a0.add(a1).fma(sv, tot);
            }
            y[j] = Lanes.sum(tot) - zt;
        }
    }

    /** Any code width, either group mode, fields looped (used for lane-mode groups other than the 4-bit ones above). */
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
                int lanesPerGroup = gs / c; // whole lanes per group in this mode
                for (int g = 0, lane = 0; lane < blocks * L; g++) {
                    float s = scaleAt(ss, f16, w.scales(), (long) j * ng + g);
                    for (int e = Math.min(blocks * L, lane + lanesPerGroup); lane < e; lane++) laneScale[lane] = s;
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
            y[j] = Lanes.sum(tot) - zt;
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
        // groups smaller than a block: per-lane scales, KC-slice by slice (the scalar widening was ~10× slower at g32)
        Panel.RowSlices lanes = plan.broadcast ? null : PanamaFormatGemm.permutedSlices(w, plan);
        for (int j = 0; j < dOut; j += 2) {
            int nr = Math.min(2, dOut - j);
            for (int q = 0; q < nr; q++) {
                if (plan.broadcast) {
                    decodeRow(w, plan, j + q, rows, q * n);
                } else if (lanes != null) {
                    for (int p0 = 0; p0 < n; p0 += PanamaGemm.KC) lanes.decode(j + q, p0, Math.min(PanamaGemm.KC, n - p0), rows, q * n + p0);
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
