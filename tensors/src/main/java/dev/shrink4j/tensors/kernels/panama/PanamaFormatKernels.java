package dev.shrink4j.tensors.kernels.panama;

import dev.shrink4j.tensors.formats.CsrSparse;
import dev.shrink4j.tensors.formats.DenseWeight;
import dev.shrink4j.tensors.formats.FormatKernels;
import dev.shrink4j.tensors.formats.Int8Activations;
import dev.shrink4j.tensors.formats.ScalarInt8Uniform;
import dev.shrink4j.tensors.formats.GgufBlockWeight;
import dev.shrink4j.tensors.formats.LutQuantized;
import dev.shrink4j.tensors.formats.NmQuantized;
import dev.shrink4j.tensors.formats.NmSparse;
import dev.shrink4j.tensors.formats.UniformQuantized;
import dev.shrink4j.tensors.kernels.Kernels;
import dev.shrink4j.tensors.kernels.KernelsProvider;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels for the compressed formats, loaded by name from {@link FormatKernels}; the
 * scalar reference ({@link FormatKernels#scalar()}) is the spec they are tested against.
 *
 * <p>Packed codes are read a whole int lane at a time: with L int lanes, one vector of packed
 * words covers a "block" of P = C·L codes where lane l holds codes l·C … l·C + C − 1 (C = 32/b, or
 * 8 for 3-bit codes, whose 24-bit lanes are spread out by {@link PanamaFormatPacked#load3}). Field
 * k of every lane is therefore code l·C + k: the activations are permuted once per call into that
 * order ({@link PanamaFormatPacked#permute}), so a block costs one load and, per field, a mask, an
 * int→float conversion and one fma. Fields are masked in place (q·2^(b·k)) and the permuted
 * activations pre-scaled by 2^(−b·k), which is exact, to save the shift; the top field is shifted.
 */
public final class PanamaFormatKernels implements FormatKernels {
    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
    static final int L = FS.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final FormatKernels SCALAR = FormatKernels.scalar();
    private static final Kernels DENSE = KernelsProvider.panama().withThreads(1);

    public PanamaFormatKernels() {
        if (FS.vectorBitSize() < 128 || IS.length() != L) {
            throw new UnsupportedOperationException("no usable SIMD: preferred vectors are " + FS.vectorBitSize() + " bits");
        }
    }

    @Override public String name() {
        return "panama";
    }

    // ---------------------------------------------------------------- dense

    /** Dense weights (and low-rank factors) go through the project's tuned F32 kernels, on the calling thread. */
    @Override public void denseMatvec(DenseWeight w, float[] x, float[] y) {
        DENSE.matvec(w.weight(), x, 0, y, 0, false);
    }

    @Override public void denseMatmul(DenseWeight w, float[] x, int m, float[] y) {
        DENSE.gemmABt(m, x, 0, w.dIn(), w.weight(), y, 0, w.dOut(), false);
    }

    // ---------------------------------------------------------------- uniform

    @Override public void uniformMatvec(UniformQuantized w, float[] x, float[] y) {
        PanamaFormatUniform.Plan plan = PanamaFormatUniform.plan(w);
        if (plan == null) {
            SCALAR.uniformMatvec(w, x, y);
            return;
        }
        PanamaFormatUniform.matvec(w, plan, x, y);
    }

    /** Many rows: Ŵ decoded into the GEMM's panels ({@link PanamaFormatGemm}); a few: the per-row kernels. */
    @Override public void uniformMatmul(UniformQuantized w, float[] x, int m, float[] y) {
        if (m >= PanamaFormatGemm.MIN_ROWS) {
            PanamaFormatGemm.uniform(w, x, m, y);
            return;
        }
        PanamaFormatUniform.Plan plan = PanamaFormatUniform.plan(w);
        if (plan == null) {
            PanamaFormatDots.rowsMatmul(w, x, m, y);
            return;
        }
        PanamaFormatUniform.matmul(w, plan, x, m, y);
    }

    /** Int8 activations: {@link PanamaInt8Uniform} where it applies, else the scalar spec. */
    @Override public void uniformMatvecInt8(UniformQuantized w, Int8Activations x, float[] y) {
        ScalarInt8Uniform.check(w, x);
        if (!PanamaInt8Uniform.supports(w) || x.rows() != 1) {
            FormatKernels.super.uniformMatvecInt8(w, x, y);
            return;
        }
        PanamaInt8Uniform.matmul(w, x, y);
    }

    @Override public void uniformMatmulInt8(UniformQuantized w, Int8Activations x, float[] y) {
        ScalarInt8Uniform.check(w, x);
        if (!PanamaInt8Uniform.supports(w)) {
            FormatKernels.super.uniformMatmulInt8(w, x, y);
            return;
        }
        PanamaInt8Uniform.matmul(w, x, y);
    }

    // ---------------------------------------------------------------- lut

    @Override public void lutMatvec(LutQuantized w, float[] x, float[] y) {
        if (!PanamaFormatLut.supports(w)) {
            SCALAR.lutMatvec(w, x, y);
            return;
        }
        PanamaFormatLut.matvec(w, x, y);
    }

    @Override public void lutMatmul(LutQuantized w, float[] x, int m, float[] y) {
        if (m >= PanamaFormatGemm.MIN_ROWS) {
            PanamaFormatGemm.lut(w, x, m, y);
            return;
        }
        PanamaFormatDots.rowsMatmul(w, x, m, y);
    }

    // ---------------------------------------------------------------- sparse

    /** CSR gathers scattered activations; the scalar loop is kept until a gather path measures faster. */
    @Override public void csrMatvecAdd(CsrSparse s, float[] x, float[] y) {
        SCALAR.csrMatvecAdd(s, x, y);
    }

    @Override public void nmMatvec(NmSparse w, float[] x, float[] y) {
        if (!PanamaFormatNm.supports(w)) {
            SCALAR.nmMatvec(w, x, y);
            return;
        }
        PanamaFormatNm.matvec(w, x, y);
    }

    /** Many rows: Ŵ widened into the GEMM's panels ({@link PanamaFormatNmGemm}); a few: one matvec per row. */
    @Override public void nmMatmul(NmSparse w, float[] x, int m, float[] y) {
        if (m >= PanamaFormatGemm.MIN_ROWS && PanamaFormatNmGemm.supports(w.n(), w.m(), 8)) {
            PanamaFormatNmGemm.matmul(w, x, m, y);
            return;
        }
        FormatKernels.super.nmMatmul(w, x, m, y);
    }

    @Override public void nmUniformMatvec(NmQuantized w, float[] x, float[] y) {
        if (!PanamaFormatNm.supports(w)) {
            SCALAR.nmUniformMatvec(w, x, y);
            return;
        }
        PanamaFormatNm.matvec(w, x, y);
    }

    /** As {@link #nmMatmul}: many rows decode the kept values into GEMM panels once per call. */
    @Override public void nmUniformMatmul(NmQuantized w, float[] x, int m, float[] y) {
        if (m >= PanamaFormatGemm.MIN_ROWS && PanamaFormatNmGemm.supports(w.n(), w.m(), w.values().bits())) {
            PanamaFormatNmGemm.matmul(w, x, m, y);
            return;
        }
        FormatKernels.super.nmUniformMatmul(w, x, m, y);
    }

    // ---------------------------------------------------------------- gguf blocks

    @Override public void ggufMatvec(GgufBlockWeight w, float[] x, float[] y) {
        if (PanamaFormatGgufK.supports(w)) {
            PanamaFormatGgufK.matvec(w, x, y);
            return;
        }
        if (!PanamaFormatGguf.supports(w)) {
            SCALAR.ggufMatvec(w, x, y);
            return;
        }
        PanamaFormatGguf.matvec(w, x, y);
    }

    /** Many rows: {@link PanamaFormatGemm}; a few: widen one row at a time and multiply it with every row of X. */
    @Override public void ggufMatmul(GgufBlockWeight w, float[] x, int m, float[] y) {
        if (m >= PanamaFormatGemm.MIN_ROWS && PanamaFormatGemm.supports(w)) {
            PanamaFormatGemm.gguf(w, x, m, y);
            return;
        }
        if (PanamaFormatGgufK.supports(w)) {
            long n = w.dIn();
            PanamaFormatDots.rowsMatmul(w.dIn(), w.dOut(), (j, p0, len, dst, off) -> PanamaFormatGgufK.decode(w, j * n, w.dIn(), dst, off), x, m, y);
            return;
        }
        PanamaFormatDots.rowsMatmul(w, x, m, y);
    }
}
