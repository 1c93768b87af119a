package dev.shrink4j.tensors.linalg.internal;

/**
 * The register-blocked inner kernel of {@link Dgemm}: one {@code mr() × nr()} tile of C from packed
 * panels. The driver handles packing, cache blocking and ragged edges; a kernel only sees full tiles.
 * Implementations: {@link ScalarGemmKernel} (the reference) and
 * {@code dev.shrink4j.tensors.kernels.panama.PanamaLinalgGemmKernel} (Vector API), chosen by {@link Dgemm}.
 */
public interface GemmMicroKernel {
    /** Rows of the C tile (the packed A sliver holds {@code mr} values per k step). */
    int mr();

    /** Columns of the C tile (the packed B sliver holds {@code nr} values per k step). */
    int nr();

    /**
     * C[0:mr, 0:nr] += Σ_p ap[p·mr + r] · bp[p·nr + c].
     *
     * @param kc  depth of the packed panels
     * @param ap  packed A sliver, (kc, mr) row-major from {@code apOff}
     * @param bp  packed B sliver, (kc, nr) row-major from {@code bpOff}
     * @param c   output, row-major with leading dimension {@code ldc} from {@code cOff}; modified
     */
    void kernel(int kc, double[] ap, int apOff, double[] bp, int bpOff, double[] c, int cOff, int ldc);

    /** A short name for logs and benchmark labels. */
    String name();
}
