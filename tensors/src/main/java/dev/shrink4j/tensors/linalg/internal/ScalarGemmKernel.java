package dev.shrink4j.tensors.linalg.internal;

/** The plain-Java reference micro-kernel: a 4 × 8 tile whose inner loop the JIT may vectorize. */
public final class ScalarGemmKernel implements GemmMicroKernel {
    static final int MR = 4;
    static final int NR = 8;

    @Override
    public int mr() {
        return MR;
    }

    @Override
    public int nr() {
        return NR;
    }

    @Override
    public void kernel(int kc, double[] ap, int apOff, double[] bp, int bpOff, double[] c, int cOff, int ldc) {
        double[] acc = new double[MR * NR]; // scalar-replaced by escape analysis in the hot path
        for (int p = 0; p < kc; p++) {
            int ao = apOff + p * MR;
            int bo = bpOff + p * NR;
            for (int r = 0; r < MR; r++) {
                double a = ap[ao + r];
                for (int j = 0; j < NR; j++) {
                    acc[r * NR + j] += a * bp[bo + j];
                }
            }
        }
        for (int r = 0; r < MR; r++) {
            int co = cOff + r * ldc;
            for (int j = 0; j < NR; j++) {
                c[co + j] += acc[r * NR + j];
            }
        }
    }

    @Override
    public String name() {
        return "scalar";
    }
}
