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
import jdk.incubator.vector.FloatVector;
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
 * for unsigned 4-bit codes, 2·128·127 = 32512 for 8-bit codes centred by −128 — then widened to two
 * float vectors and accumulated with one fma each against the blocks' combined scales
 * c_b = s[j, g(b)]·d_b spread over the lanes by a constant shuffle. Zero points come out as one
 * scalar per row, Σ_b c_b·(z − centre)·Σ_{i∈b} a_i, from the block code sums.
 *
 * <p>Per 128 4-bit codes on 512-bit vectors this is 7 field ops, 4 multiplies, 3 adds, 2 widenings,
 * 2 fmas and a scale load + 2 shuffles, against 8 × (mask, convert, fma) in the F32-activation
 * kernel: the measured difference is in {@code docs/kernels.md} ("Int8 activations").
 */
final class PanamaInt8Uniform {
    private PanamaInt8Uniform() {}

    static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, FS.vectorShape());
    /** Short lanes per vector. */
    static final int SL = SS.length();
    /** Float lanes per vector (SL / 2). */
    static final int FL = FS.length();

    /** Whether this kernel handles {@code w} (else the scalar spec): 8-bit needs whole blocks of 16 short lanes. */
    static boolean supports(UniformQuantized w) {
        return ActivationPrecision.int8Supported(w) && (w.bits() == 4 ? SL >= 8 : SL >= 16) && FL * 2 == SL;
    }

    /** Block of float lane i in part p of a superblock's products, for {@code lanesPerBlock} short lanes per block. */
    private static VectorShuffle<Float> spread(int part, int lanesPerBlock) {
        int[] idx = new int[FL];
        for (int i = 0; i < FL; i++) idx[i] = (part * FL + i) / lanesPerBlock;
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
        if (w.bits() == 4) {
            rows4(w, x, y);
        } else {
            rows8(w, x, y);
        }
    }

    private static void readScales(UniformQuantized w, int j, float[] srow) {
        Tensor sc = w.scales();
        int ng = w.nGroups();
        if (sc.dtype() == DType.F16) {
            MemorySegment ss = sc.segment();
            long base = (long) j * ng;
            for (int g = 0; g < ng; g++) srow[g] = Float.float16ToFloat(ss.getAtIndex(Tensor.I16, base + g));
        } else {
            w.readScales(j, srow);
        }
    }

    /**
     * Row r's combined block scales c_b = s_g(b)·d_b into c[0..nb) and the zero-point term over the
     * first {@code vecBlocks} blocks: Σ_b c_b·(z_g(b) − centre)·Σ_{i∈b} a_i.
     */
    private static float combine(UniformQuantized w, Int8Activations x, int r, float[] srow, int[] zrow, float[] c, int vecBlocks, int centre) {
        int nb = x.blocksPerRow(), gs = w.groupSize(), ng = w.nGroups();
        float[] d = x.scales();
        int[] sums = x.sums();
        int bpg = ng == 1 ? nb : gs / Int8Activations.BLOCK; // whole blocks per group (no division per block)
        int o = r * nb;
        float zt = 0;
        for (int g = 0, b = 0; b < nb; g++) {
            float sg = srow[g];
            int zg = zrow[g] - centre;
            for (int e = Math.min(nb, b + bpg); b < e; b++) {
                float cb = sg * d[o + b];
                c[b] = cb;
                if (b < vecBlocks) zt += cb * zg * sums[o + b];
            }
        }
        return zt;
    }

    /** Σ over the codes after the vector part (whole blocks from {@code from}), scalar. */
    private static float tail(UniformQuantized w, Int8Activations x, int r, int j, int from, float[] c, int[] zrow) {
        int n = w.dIn(), gs = w.groupSize(), ng = w.nGroups();
        MemorySegment seg = w.qweight().segment();
        long r0 = j * w.rowBytes();
        byte[] q = x.q();
        float s = 0;
        for (int b0 = from; b0 < n; b0 += Int8Activations.BLOCK) {
            int b = b0 / Int8Activations.BLOCK;
            int z = zrow[ng == 1 ? 0 : b0 / gs];
            int dot = 0;
            for (int i = b0, e = Math.min(n, b0 + Int8Activations.BLOCK); i < e; i++) {
                dot += (BitPacking.get(seg, r0, i, w.bits()) - z) * q[r * n + i];
            }
            s += c[b] * dot;
        }
        return s;
    }

    private static ShortVector av(short[] a, int off) {
        return ShortVector.fromArray(SS, a, off);
    }

    static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());

    private static FloatVector part(ShortVector p, int part) {
        return (FloatVector) p.convertShape(VectorOperators.S2I, IS, part).convert(VectorOperators.I2F, 0);
    }

    /** 4-bit codes: 4 fields per short lane, 8 lanes per block, SL/8 blocks per superblock. */
    private static void rows4(UniformQuantized w, Int8Activations x, float[] y) {
        int n = w.dIn(), dOut = w.dOut(), m = x.rows(), ng = w.nGroups(), nb = x.blocksPerRow();
        int per = 4 * SL, supers = n / per, bps = per / Int8Activations.BLOCK;
        short[][] a = new short[m][];
        for (int r = 0; r < m; r++) a[r] = permute(x, r, supers, 4);
        VectorShuffle<Float> sh0 = spread(0, 8), sh1 = spread(1, 8);
        MemorySegment seg = w.qweight().segment();
        long rb = w.rowBytes(), bb = 2L * SL;
        float[] srow = new float[ng];
        int[] zrow = new int[ng];
        float[] c = new float[nb + FL]; // padded: the last superblock's scale load reads FL floats
        FloatVector zero = FloatVector.zero(FS);
        for (int j = 0; j < dOut; j++) {
            readScales(w, j, srow);
            w.readZeros(j, zrow);
            long r0 = j * rb;
            for (int r = 0; r < m; r++) {
                float zt = combine(w, x, r, srow, zrow, c, supers * bps, 0);
                short[] ar = a[r];
                FloatVector tot = zero;
                for (int t = 0; t < supers; t++) {
                    ShortVector s = ShortVector.fromMemorySegment(SS, seg, r0 + t * bb, LE);
                    int o = t * per;
                    ShortVector p = s.and((short) 0xF).mul(av(ar, o));
                    p = p.add(s.lanewise(VectorOperators.LSHR, 4).and((short) 0xF).mul(av(ar, o + SL)));
                    p = p.add(s.lanewise(VectorOperators.LSHR, 8).and((short) 0xF).mul(av(ar, o + 2 * SL)));
                    p = p.add(s.lanewise(VectorOperators.LSHR, 12).mul(av(ar, o + 3 * SL)));
                    FloatVector cv = FloatVector.fromArray(FS, c, t * bps);
                    tot = part(p, 0).fma(cv.rearrange(sh0), tot);
                    tot = part(p, 1).fma(cv.rearrange(sh1), tot);
                }
                float t = supers * per < n ? tail(w, x, r, j, supers * per, c, zrow) : 0f;
                y[r * dOut + j] = Lanes.sum(tot) - zt + t;
            }
        }
    }

    /** 8-bit codes: 2 fields per short lane (centred by −128: xor 0x80 then sign-extend), 16 lanes per block. */
    private static void rows8(UniformQuantized w, Int8Activations x, float[] y) {
        int n = w.dIn(), dOut = w.dOut(), m = x.rows(), ng = w.nGroups(), nb = x.blocksPerRow();
        int per = 2 * SL, supers = n / per, bps = per / Int8Activations.BLOCK;
        short[][] a = new short[m][];
        for (int r = 0; r < m; r++) a[r] = permute(x, r, supers, 2);
        VectorShuffle<Float> sh0 = spread(0, 16), sh1 = spread(1, 16);
        MemorySegment seg = w.qweight().segment();
        long rb = w.rowBytes(), bb = 2L * SL;
        float[] srow = new float[ng];
        int[] zrow = new int[ng];
        float[] c = new float[nb + FL];
        FloatVector zero = FloatVector.zero(FS);
        for (int j = 0; j < dOut; j++) {
            readScales(w, j, srow);
            w.readZeros(j, zrow);
            long r0 = j * rb;
            for (int r = 0; r < m; r++) {
                float zt = combine(w, x, r, srow, zrow, c, supers * bps, 128);
                short[] ar = a[r];
                FloatVector tot = zero;
                for (int t = 0; t < supers; t++) {
                    ShortVector s = ShortVector.fromMemorySegment(SS, seg, r0 + t * bb, LE).lanewise(VectorOperators.XOR, (short) 0x8080);
                    int o = t * per;
                    ShortVector lo = s.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
                    ShortVector hi = s.lanewise(VectorOperators.ASHR, 8);
                    ShortVector p = lo.mul(av(ar, o)).add(hi.mul(av(ar, o + SL)));
                    FloatVector cv = FloatVector.fromArray(FS, c, t * bps);
                    tot = part(p, 0).fma(cv.rearrange(sh0), tot);
                    tot = part(p, 1).fma(cv.rearrange(sh1), tot);
                }
                float t = supers * per < n ? tail(w, x, r, j, supers * per, c, zrow) : 0f;
                y[r * dOut + j] = Lanes.sum(tot) - zt + t;
            }
        }
    }
}
