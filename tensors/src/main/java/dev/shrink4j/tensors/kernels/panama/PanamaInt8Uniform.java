package dev.shrink4j.tensors.kernels.panama;

import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.FS;
import static dev.shrink4j.tensors.kernels.panama.PanamaFormatKernels.LE;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.ActivationPrecision;
import dev.shrink4j.tensors.formats.BitPacking;
import dev.shrink4j.tensors.formats.Int8Activations;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Uniform 4- and 8-bit weights times int8 activations ({@link Int8Activations}) with integer
 * arithmetic in 16-bit lanes; the spec is {@code ScalarInt8Uniform}.
 *
 * <p>The Vector API has no u8×s8 or s16 pair multiply-add (pmaddubsw / pmaddwd / VNNI), so the
 * products are 16-bit: one load of 2·SL packed bytes (SL short lanes; a "superblock") gives, per
 * lane, 4 codes (4-bit) or 2 (8-bit) as fields; each field times the int8 activations widened to
 * shorts and permuted into field order, summed over the fields in shorts — exact: 4·15·127 = 7620
 * for unsigned 4-bit codes, 2·128·127 = 32512 for 8-bit codes centred by −128. Adjacent short lanes
 * (same block) are then summed into one int lane by reinterpreting the vector as ints — pmaddwd's
 * add half, written as shifts: (v + (v &lt;&lt; 16)) &gt;&gt; 16 for 4-bit, whose pair sums stay within
 * a short, (v &lt;&lt; 16 &gt;&gt; 16) + (v &gt;&gt; 16) for 8-bit, whose do not — converted once
 * to float and accumulated with one fma against the blocks' combined scales c_b = s[j, g(b)]·d_b
 * spread over the lanes by a constant shuffle. Zero points come out as one scalar per row,
 * Σ_b c_b·(z − centre)·Σ_{i∈b} a_i, from the block code sums.
 *
 * <p>Per 128 4-bit codes on 512-bit vectors: 6 field ops, 4 multiplies, 3 adds, 3 for the pair sum,
 * one convert, one shuffle and one fma (19), against 29 in the F32-activation kernel
 * ({@code PanamaFormatUniform.lanes4}: 8 × mask, convert, fma, then the scale). Widening the shorts
 * with {@code convertShape(S2I, …, part)} instead, as this kernel first did, ran 3–14× slower than the
 * pair sum on JDK 25: docs/kernels.md ("Int8 activations").
 */
final class PanamaInt8Uniform {
    private PanamaInt8Uniform() {}

    static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, FS.vectorShape());
    static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
    /** Short lanes per vector. */
    static final int SL = SS.length();
    /** Float (and int) lanes per vector (SL / 2). */
    static final int FL = FS.length();

    /** Whether this kernel handles {@code w} (else the scalar spec): 8-bit needs whole blocks of 16 short lanes. */
    static boolean supports(UniformQuantized w) {
        return ActivationPrecision.int8Supported(w) && (w.bits() == 4 ? SL >= 8 : SL >= 16) && FL * 2 == SL;
    }

    /** Float lane i reads element i / {@code lanesPerBlock}: a block's one value spread over its lanes. */
    private static VectorShuffle<Float> spread(int lanesPerBlock) {
        int[] idx = new int[FL];
        for (int i = 0; i < FL; i++) idx[i] = i / lanesPerBlock;
        return VectorShuffle.fromArray(FS, idx, 0);
    }

    /**
     * Row r of x̂ widened to shorts in field order: superblock t, field k, lane l holds activation
     * t·F·SL + F·l + k (F fields per lane).
     */
    private static short[] permute(Int8Activations x, int r, int supers, int fields) {
        int n = x.cols(), per = fields * SL;
        short[] a = new short[supers * per];
        byte[] q = x.q();
        for (int t = 0; t < supers; t++) {
            int base = r * n + t * per;
            for (int l = 0; l < SL; l++) {
                for (int k = 0; k < fields; k++) a[t * per + k * SL + l] = q[base + fields * l + k];
            }
        }
        return a;
    }

    /** Y (m, d_out) = X̂ (m, d_in) · Ŵᵀ; m = 1 is the matvec. */
    static void matmul(UniformQuantized w, Int8Activations x, float[] y) {
        new Rows(w, x).run(y);
    }

    /** One call's state: the permuted activations, per-row block sums, and per-row scratch for scales. */
    private static final class Rows {
        final UniformQuantized w;
        final Int8Activations x;
        final int bits, n, m, nb, ng, per, supers, bps, vecBlocks, bpg, centre;
        final short[][] a;       // (m, supers·per) permuted activations
        final float[][] sums;    // (m, nb + FL) block code sums of the vector part, 0 after it
        final float[] srow;      // (ng + FL) row j's scales
        final int[] zrow;        // (ng) row j's zero points
        final float[] c;         // (nb + FL) combined scales c_b; padded: the last superblock's load reads FL floats
        final float[][] groupDots; // (m, ng) D_g = Σ_{b∈g} d_b·Σ_{i∈b} a_i over the vector part (asymmetric weights)
        final VectorShuffle<Float> sumSpread, groupSpread;

        Rows(UniformQuantized w, Int8Activations x) {
            this.w = w;
            this.x = x;
            bits = w.bits();
            n = w.dIn();
            m = x.rows();
            nb = x.blocksPerRow();
            ng = w.nGroups();
            int fields = bits == 4 ? 4 : 2;
            per = fields * SL;
            supers = n / per;
            bps = per / Int8Activations.BLOCK;
            vecBlocks = supers * bps;
            bpg = ng == 1 ? nb : w.groupSize() / Int8Activations.BLOCK; // whole blocks per group
            centre = bits == 4 ? 0 : 128;
            a = new short[m][];
            sums = new float[m][nb + FL];
            for (int r = 0; r < m; r++) {
                a[r] = permute(x, r, supers, fields);
                for (int b = 0; b < vecBlocks; b++) sums[r][b] = x.sums()[r * nb + b];
            }
            srow = new float[ng + FL];
            zrow = new int[ng];
            c = new float[nb + FL];
            groupDots = new float[m][ng];
            if (!w.symmetric()) {
                for (int r = 0; r < m; r++) {
                    for (int b = 0; b < vecBlocks; b++) groupDots[r][b / bpg] += x.scales()[r * nb + b] * sums[r][b];
                }
            }
            // int lanes per block after the pair sum: 32 codes / (2 short lanes · fields codes)
            sumSpread = spread(Int8Activations.BLOCK / (2 * fields));
            groupSpread = FL % bpg == 0 ? spread(bpg) : null;
        }

        void run(float[] y) {
            int dOut = w.dOut();
            boolean needZeros = vecBlocks * Int8Activations.BLOCK < n; // the scalar tail's
            MemorySegment seg = w.qweight().segment();
            long rb = w.rowBytes();
            for (int j = 0; j < dOut; j++) {
                readScales(j);
                if (needZeros) w.readZeros(j, zrow);
                long r0 = j * rb;
                for (int r = 0; r < m; r++) {
                    combine(r);
                    float zt = zeroTerm(r, j);
                    float dot = bits == 4 ? dot4(seg, r0, a[r], c, supers, sumSpread) : dot8(seg, r0, a[r], c, supers, sumSpread);
                    float t = vecBlocks * Int8Activations.BLOCK < n ? tail(r, j) : 0f;
                    y[r * dOut + j] = dot - zt + t;
                }
            }
        }

        /** Row j's scales into srow, F16 widened in bulk (vcvtph2ps; one float16ToFloat per group cost 15 % of a decode step). */
        private void readScales(int j) {
            Tensor sc = w.scales();
            if (sc.dtype() == DType.F16) {
                Convert.toF32(DType.F16, sc.segment(), 2L * j * ng, srow, 0, ng);
            } else {
                w.readScales(j, srow);
            }
        }

        /** c_b = s_g(b)·d_b for row r of x̂, in vectors where the groups allow. */
        private void combine(int r) {
            float[] d = x.scales();
            int o = r * nb, b = 0, bound = FS.loopBound(nb);
            if (bpg == 1) {
                for (; b < bound; b += FL) FloatVector.fromArray(FS, srow, b).mul(FloatVector.fromArray(FS, d, o + b)).intoArray(c, b);
            } else if (groupSpread != null) {
                for (; b < bound; b += FL) {
                    FloatVector.fromArray(FS, srow, b / bpg).rearrange(groupSpread).mul(FloatVector.fromArray(FS, d, o + b)).intoArray(c, b);
                }
            } else if (bpg % FL == 0) {
                for (; b < bound; b += FL) FloatVector.broadcast(FS, srow[b / bpg]).mul(FloatVector.fromArray(FS, d, o + b)).intoArray(c, b);
            }
            for (; b < nb; b++) c[b] = srow[b / bpg] * d[o + b];
        }

        /**
         * Σ_b c_b·(z_g(b) − centre)·Σ_{i∈b} a_i over the vector part's blocks. Asymmetric: as
         * Σ_g (z_g − centre)·s_g·D_g with the row-independent D_g = Σ_{b∈g} d_b·Σ_{i∈b} a_i, the zero
         * points read straight from their packed bytes, four independent sums (unpacking the zeros
         * per row, an integer division per block, or one serial float sum cost as much as the int4 dots).
         */
        private float zeroTerm(int r, int j) {
            if (w.symmetric()) {
                int z = (1 << (bits - 1)) - centre;
                if (z == 0) return 0f;
                float[] s = sums[r];
                FloatVector acc = FloatVector.zero(FS);
                for (int b = 0; b < vecBlocks; b += FL) acc = FloatVector.fromArray(FS, c, b).fma(FloatVector.fromArray(FS, s, b), acc);
                return z * Lanes.sum(acc);
            }
            float[] dg = groupDots[r];
            MemorySegment zs = w.zeros().segment();
            long zb = j * w.width().rowBytes(ng);
            float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            int g = 0;
            if (bits == 4) {
                for (; g + 3 < ng; g += 4) {
                    int v = zs.get(ValueLayout.JAVA_SHORT_UNALIGNED, zb + (g >>> 1)); // groups g..g+3, little-endian nibbles
                    a0 += (v & 0xF) * srow[g] * dg[g];
                    a1 += ((v >>> 4) & 0xF) * srow[g + 1] * dg[g + 1];
                    a2 += ((v >>> 8) & 0xF) * srow[g + 2] * dg[g + 2];
                    a3 += ((v >>> 12) & 0xF) * srow[g + 3] * dg[g + 3];
                }
                for (; g < ng; g++) a0 += BitPacking.get(zs, zb, g, 4) * srow[g] * dg[g];
            } else {
                for (; g + 3 < ng; g += 4) {
                    int v = zs.get(ValueLayout.JAVA_INT_UNALIGNED, zb + g);
                    a0 += ((v & 0xFF) - centre) * srow[g] * dg[g];
                    a1 += (((v >>> 8) & 0xFF) - centre) * srow[g + 1] * dg[g + 1];
                    a2 += (((v >>> 16) & 0xFF) - centre) * srow[g + 2] * dg[g + 2];
                    a3 += ((v >>> 24) - centre) * srow[g + 3] * dg[g + 3];
                }
                for (; g < ng; g++) a0 += ((zs.get(ValueLayout.JAVA_BYTE, zb + g) & 0xFF) - centre) * srow[g] * dg[g];
            }
            return (a0 + a1) + (a2 + a3);
        }

        /** Σ over the codes after the vector part (whole blocks from vecBlocks), scalar. */
        private float tail(int r, int j) {
            MemorySegment seg = w.qweight().segment();
            long r0 = j * w.rowBytes();
            byte[] q = x.q();
            float s = 0;
            for (int b = vecBlocks; b < nb; b++) {
                int z = zrow[b / bpg], dot = 0;
                for (int i = b * Int8Activations.BLOCK, e = Math.min(n, i + Int8Activations.BLOCK); i < e; i++) {
                    dot += (BitPacking.get(seg, r0, i, bits) - z) * q[r * n + i];
                }
                s += c[b] * dot;
            }
            return s;
        }
    }

    /*
     * The vector loops, one small method each returning a float (a vector returned from a method C2
     * does not inline is boxed).
     */

    /** Σ_b c_b·Σ_{i∈b} q_i·a_i over the superblocks of one 4-bit row: 4 fields per short lane, 4 int lanes per block. */
    private static float dot4(MemorySegment seg, long r0, short[] a, float[] c, int supers, VectorShuffle<Float> sh) {
        int per = 4 * SL, bps = per / Int8Activations.BLOCK;
        long bb = 2L * SL;
        FloatVector tot = FloatVector.zero(FS);
        for (int t = 0; t < supers; t++) {
            ShortVector s = ShortVector.fromMemorySegment(SS, seg, r0 + t * bb, LE);
            int o = t * per;
            ShortVector p = s.and((short) 0xF).mul(ShortVector.fromArray(SS, a, o));
            p = p.add(s.lanewise(VectorOperators.LSHR, 4).and((short) 0xF).mul(ShortVector.fromArray(SS, a, o + SL)));
            p = p.add(s.lanewise(VectorOperators.LSHR, 8).and((short) 0xF).mul(ShortVector.fromArray(SS, a, o + 2 * SL)));
            p = p.add(s.lanewise(VectorOperators.LSHR, 12).mul(ShortVector.fromArray(SS, a, o + 3 * SL)));
            IntVector v = p.reinterpretAsInts(); // |pair sum| ≤ 2·7620: the high half of v + (v << 16) holds it exactly
            IntVector pair = v.add(v.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
            FloatVector cv = FloatVector.fromArray(FS, c, t * bps).rearrange(sh);
            tot = ((FloatVector) pair.convert(VectorOperators.I2F, 0)).fma(cv, tot);
        }
        return Lanes.sum(tot);
    }

    /** As {@link #dot4} for 8-bit codes centred by −128 (xor 0x80, then sign-extend): 2 fields per short lane, 8 int lanes per block. */
    private static float dot8(MemorySegment seg, long r0, short[] a, float[] c, int supers, VectorShuffle<Float> sh) {
        int per = 2 * SL, bps = per / Int8Activations.BLOCK;
        long bb = 2L * SL;
        FloatVector tot = FloatVector.zero(FS);
        for (int t = 0; t < supers; t++) {
            ShortVector s = ShortVector.fromMemorySegment(SS, seg, r0 + t * bb, LE).lanewise(VectorOperators.XOR, (short) 0x8080);
            int o = t * per;
            ShortVector lo = s.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
            ShortVector hi = s.lanewise(VectorOperators.ASHR, 8);
            ShortVector p = lo.mul(ShortVector.fromArray(SS, a, o)).add(hi.mul(ShortVector.fromArray(SS, a, o + SL)));
            IntVector v = p.reinterpretAsInts(); // pair sums reach 2·32512: widen both halves to ints first
            IntVector pair = v.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(v.lanewise(VectorOperators.ASHR, 16));
            FloatVector cv = FloatVector.fromArray(FS, c, t * bps).rearrange(sh);
            tot = ((FloatVector) pair.convert(VectorOperators.I2F, 0)).fma(cv, tot);
        }
        return Lanes.sum(tot);
    }
}
