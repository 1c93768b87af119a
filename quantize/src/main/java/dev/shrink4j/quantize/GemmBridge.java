package dev.shrink4j.quantize;

/**
 * The GEMMs of GPTQ's and LNQ's lazy updates, in one place so they move to the Kernels SPI
 * ({@code dev.shrink4j.tensors.kernels}) when it lands on main.
 */
final class GemmBridge {
    private GemmBridge() {}

    /**
     * C −= Aᵀ·B.
     *
     * @param a (k, m) at aOff, leading dimension lda
     * @param b (k, n) at bOff, leading dimension ldb
     * @param c (m, n) at cOff, leading dimension ldc; modified
     */
    static void subAtB(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                       float[] c, int cOff, int ldc) {
        java.util.stream.IntStream.range(0, m).parallel().forEach(r -> {
            int cr = cOff + r * ldc;
            for (int l = 0; l < k; l++) {
                float alpha = a[aOff + l * lda + r];
                if (alpha == 0f) continue;
                int br = bOff + l * ldb;
                for (int x = 0; x < n; x++) {
                    c[cr + x] -= alpha * b[br + x];
                }
            }
        });
    }

    /** C += Aᵀ·B, same shapes as {@link #subAtB}. */
    static void addAtB(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                       float[] c, int cOff, int ldc) {
        java.util.stream.IntStream.range(0, m).parallel().forEach(r -> {
            int cr = cOff + r * ldc;
            for (int l = 0; l < k; l++) {
                float alpha = a[aOff + l * lda + r];
                if (alpha == 0f) continue;
                int br = bOff + l * ldb;
                for (int x = 0; x < n; x++) {
                    c[cr + x] += alpha * b[br + x];
                }
            }
        });
    }
}
