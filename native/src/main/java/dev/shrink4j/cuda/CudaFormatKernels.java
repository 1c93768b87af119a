package dev.shrink4j.cuda;

import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.CsrSparse;
import dev.shrink4j.tensors.formats.DenseWeight;
import dev.shrink4j.tensors.formats.FormatKernels;
import dev.shrink4j.tensors.formats.GgufBlockWeight;
import dev.shrink4j.tensors.formats.Int8Activations;
import dev.shrink4j.tensors.formats.LutQuantized;
import dev.shrink4j.tensors.formats.NmSparse;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@link FormatKernels} on a CUDA device. On the device: the uniform group-quantized matvec and matmul
 * (int2/3/4/8, symmetric or with zero points, static groups with a ragged last group or act-order
 * {@code g_idx}: {@code s4j_uniform_matvec}/{@code _matmul}), the codebook (LUT) matvec and matmul
 * ({@code s4j_lut_*}), the N:M sparse matvec and matmul ({@code s4j_nm_*}) and the CSR
 * {@code y += S·x} / {@code Y += X·Sᵀ} of DenseAndSparse's outliers ({@code s4j_csr_matmul_add}).
 * Dense weights, and matrices below {@code minWeights} weights (d_out·d_in), run on the CPU kernels it
 * wraps. A matmul of one row is the matvec.
 *
 * <p>The packed codes and indices go to the device as stored; scales, codebooks, kept N:M values and
 * CSR values are widened to F32, zero points unpacked to one byte per group (all small next to the
 * codes, or the values' own size). Weights in read-only (mapped) memory stay resident on the device
 * across calls ({@link CudaDevice#resident}); activations are copied per call through the page-locked
 * staging segment.
 */
public final class CudaFormatKernels implements FormatKernels {
    /** Threads per row block: a power of two (the kernel's tree reduction) ≤ 256 (its shared array). */
    static final int ROW_THREADS = 64;
    private static final int TILE = 64;      // S4J_BM = S4J_BN in the .cu: the output tile of a matmul block
    private static final int THREADS = 16;   // S4J_THREADS_1D: a matmul block is THREADS × THREADS threads
    private static final int MAX_GRID_Y = 65535;
    /** Blocks along the rows of X in the CSR kernel: d_out × 8 blocks fill a GPU for any real layer. */
    private static final int CSR_ROW_BLOCKS = 8;
    /** Threads per CSR row block: one warp, since an outlier row holds a few dozen non-zeros at most. */
    static final int CSR_THREADS = 32;
    // Device scratch slots (CudaDevice.scratch) for writable weights and the activations.
    private static final int SLOT_CODES = 0, SLOT_F32 = 1, SLOT_BYTES = 2, SLOT_X = 3, SLOT_Y = 4, SLOT_I32 = 5;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final FormatKernels cpu;
    private final CudaDevice device;
    private final long minWeights;

    /** System property: the smallest matrix (weights) sent to the device; default 2^20. */
    public static final String MIN_WEIGHTS_PROPERTY = "shrink4j.cuda.minWeights";

    /** The configured driver's device 0 over {@code cpu}; throws {@link CudaUnavailableException} without one. */
    public CudaFormatKernels(FormatKernels cpu) {
        this(cpu, 0);
    }

    /** The configured driver's device {@code ordinal} ({@link Cuda#device(int)}) over {@code cpu}. */
    public CudaFormatKernels(FormatKernels cpu, int ordinal) {
        this(cpu, Cuda.device(ordinal), Long.getLong(MIN_WEIGHTS_PROPERTY, 1L << 20));
    }

    public CudaFormatKernels(FormatKernels cpu, CudaDevice device, long minWeights) {
        if (cpu instanceof CudaFormatKernels) throw new IllegalArgumentException("the fallback must be a CPU implementation");
        this.cpu = cpu;
        this.device = device;
        this.minWeights = minWeights;
    }

    @Override public String name() {
        return "cuda";
    }

    public CudaDevice device() {
        return device;
    }

    private boolean small(CompressedWeight w) {
        return (long) w.dOut() * w.dIn() < minWeights;
    }

    /** Launches a kernel once the weights are on the device, given the device addresses of X and Y. */
    private interface Launch {
        void run(long dX, long dY);
    }

    /**
     * Y (m, d_out) = or += kernel(X (m, d_in)): with the device lock held and the context current, puts the
     * weight on the device ({@code weights}, which returns the launch), copies X (and Y when
     * accumulating) in through staging, launches, and copies Y back.
     */
    private void apply(int m, int dIn, int dOut, float[] x, float[] y, boolean accumulate, java.util.function.Supplier<Launch> weights) {
        long xBytes = (long) m * dIn * 4, yBytes = (long) m * dOut * 4;
        synchronized (device) {
            device.enter();
            Launch launch = weights.get();
            MemorySegment st = device.staging(xBytes + yBytes);
            MemorySegment.copy(x, 0, st, F, 0, m * dIn);
            if (accumulate) MemorySegment.copy(y, 0, st, F, xBytes, m * dOut);
            long dX = device.scratch(SLOT_X, xBytes), dY = device.scratch(SLOT_Y, yBytes);
            device.uploadStaged(0, dX, xBytes);
            if (accumulate) device.uploadStaged(xBytes, dY, yBytes);
            launch.run(dX, dY);
            device.downloadStaged(dY, xBytes, yBytes);
            device.sync();
            MemorySegment.copy(st, F, xBytes, y, 0, m * dOut);
        }
    }

    /** Grid of a matmul over the 64 × 64 output tiles; null when X has too many rows for one launch. */
    private static int[] tiles(int m, int dOut) {
        int gy = (m + TILE - 1) / TILE;
        return gy > MAX_GRID_Y ? null : new int[] {(dOut + TILE - 1) / TILE, gy};
    }

    // ---------------------------------------------------------------- uniform

    @Override public void uniformMatvec(UniformQuantized w, float[] x, float[] y) {
        if (small(w)) {
            cpu.uniformMatvec(w, x, y);
            return;
        }
        uniform(w, x, 1, y);
    }

    @Override public void uniformMatmul(UniformQuantized w, float[] x, int m, float[] y) {
        if (small(w) || m <= 0 || tiles(m, w.dOut()) == null) {
            cpu.uniformMatmul(w, x, m, y);
            return;
        }
        uniform(w, x, m, y);
    }

    private void uniform(UniformQuantized w, float[] x, int m, float[] y) {
        int dOut = w.dOut(), dIn = w.dIn(), ng = w.nGroups();
        apply(m, dIn, dOut, x, y, false, () -> {
            long dQ = device.resident(w.qweight().segment(), "raw", w.qweight().byteSize(), SLOT_CODES, null);
            // Scales widened to F32 and zero points one byte per group, prepared once per read-only weight.
            long dS = device.resident(w.scales().segment(), "f32-scales", (long) dOut * ng * 4, SLOT_F32, seg -> {
                float[] s = new float[ng];
                for (int j = 0; j < dOut; j++) {
                    w.readScales(j, s);
                    MemorySegment.copy(s, 0, seg, F, (long) j * ng * 4, ng);
                }
            });
            Object dZ = MemorySegment.NULL;
            if (!w.symmetric()) {
                dZ = device.resident(w.zeros().segment(), "u8-zeros", (long) dOut * ng, SLOT_BYTES, seg -> {
                    int[] z = new int[ng];
                    for (int j = 0; j < dOut; j++) {
                        w.readZeros(j, z);
                        for (int g = 0; g < ng; g++) seg.set(ValueLayout.JAVA_BYTE, (long) j * ng + g, (byte) z[g]);
                    }
                });
            }
            // Act-order: g_idx (d_in) I32 little-endian, as stored.
            Object dG = w.gIdx() == null ? MemorySegment.NULL
                    : (Object) device.resident(w.gIdx().segment(), "raw", w.gIdx().byteSize(), SLOT_I32, null);
            Object[] tail = {w.bits(), w.groupSize(), ng, dQ, w.rowBytes(), dS, dZ, dG};
            return (dX, dY) -> {
                if (m == 1) {
                    device.launch("s4j_uniform_matvec", dOut, 1, ROW_THREADS, 1, args(new Object[] {dOut, dIn}, tail, dX, dY));
                } else {
                    int[] g = tiles(m, dOut);
                    device.launch("s4j_uniform_matmul", g[0], g[1], THREADS, THREADS, args(new Object[] {m, dOut, dIn}, tail, dX, dY));
                }
            };
        });
    }

    private static Object[] args(Object[] head, Object[] tail, long dX, long dY) {
        Object[] a = new Object[head.length + tail.length + 2];
        System.arraycopy(head, 0, a, 0, head.length);
        System.arraycopy(tail, 0, a, head.length, tail.length);
        a[a.length - 2] = dX;
        a[a.length - 1] = dY;
        return a;
    }

    // ---------------------------------------------------------------- LUT

    @Override public void lutMatvec(LutQuantized w, float[] x, float[] y) {
        if (small(w)) {
            cpu.lutMatvec(w, x, y);
            return;
        }
        lut(w, x, 1, y);
    }

    @Override public void lutMatmul(LutQuantized w, float[] x, int m, float[] y) {
        if (small(w) || m <= 0 || tiles(m, w.dOut()) == null) {
            cpu.lutMatmul(w, x, m, y);
            return;
        }
        lut(w, x, m, y);
    }

    private void lut(LutQuantized w, float[] x, int m, float[] y) {
        int dOut = w.dOut(), dIn = w.dIn(), ng = w.nGroups(), e = w.entries();
        apply(m, dIn, dOut, x, y, false, () -> {
            long dQ = device.resident(w.qweight().segment(), "raw", w.qweight().byteSize(), SLOT_CODES, null);
            // Codebooks widened to F32 (d_out, n_groups, 2^b), once per read-only weight.
            long dL = device.resident(w.lut().segment(), "f32-lut", (long) dOut * ng * e * 4, SLOT_F32, seg -> {
                float[] c = new float[ng * e];
                for (int j = 0; j < dOut; j++) {
                    w.readLut(j, c);
                    MemorySegment.copy(c, 0, seg, F, (long) j * ng * e * 4, ng * e);
                }
            });
            Object[] tail = {w.bits(), w.groupSize(), ng, dQ, w.rowBytes(), dL};
            return (dX, dY) -> {
                if (m == 1) {
                    device.launch("s4j_lut_matvec", dOut, 1, ROW_THREADS, 1, args(new Object[] {dOut, dIn}, tail, dX, dY));
                } else {
                    int[] g = tiles(m, dOut);
                    device.launch("s4j_lut_matmul", g[0], g[1], THREADS, THREADS, args(new Object[] {m, dOut, dIn}, tail, dX, dY));
                }
            };
        });
    }

    // ---------------------------------------------------------------- N:M

    @Override public void nmMatvec(NmSparse w, float[] x, float[] y) {
        if (small(w)) {
            cpu.nmMatvec(w, x, y);
            return;
        }
        nm(w, x, 1, y);
    }

    @Override public void nmMatmul(NmSparse w, float[] x, int m, float[] y) {
        if (small(w) || m <= 0 || tiles(m, w.dOut()) == null) {
            cpu.nmMatmul(w, x, m, y);
            return;
        }
        nm(w, x, m, y);
    }

    private void nm(NmSparse w, float[] x, int rows, float[] y) {
        int dOut = w.dOut(), dIn = w.dIn(), k = w.keptPerRow(), ib = NmSparse.indexWidth(w.m()).bits;
        apply(rows, dIn, dOut, x, y, false, () -> {
            // Kept values widened to F32 (d_out, k), once per read-only weight; indices as stored.
            long dV = device.resident(w.values().segment(), "f32-values", (long) dOut * k * 4, SLOT_F32, seg -> {
                float[] v = new float[k];
                for (int j = 0; j < dOut; j++) {
                    w.values().readFloats((long) j * k, v, 0, k);
                    MemorySegment.copy(v, 0, seg, F, (long) j * k * 4, k);
                }
            });
            long dI = device.resident(w.indices().segment(), "raw", w.indices().byteSize(), SLOT_CODES, null);
            return (dX, dY) -> {
                if (rows == 1) {
                    device.launch("s4j_nm_matvec", dOut, 1, ROW_THREADS, 1, dOut, k, w.n(), w.m(), ib, dV, dI, w.indexRowBytes(), dX, dY);
                } else {
                    int[] g = tiles(rows, dOut);
                    device.launch("s4j_nm_matmul", g[0], g[1], THREADS, THREADS,
                            rows, dOut, dIn, k, w.n(), w.m(), ib, dV, dI, w.indexRowBytes(), dX, dY);
                }
            };
        });
    }

    // ---------------------------------------------------------------- CSR (DenseAndSparse's outliers)

    @Override public void csrMatvecAdd(CsrSparse s, float[] x, float[] y) {
        if (small(s) || s.nnz() == 0) {
            cpu.csrMatvecAdd(s, x, y);
            return;
        }
        csr(s, x, 1, y);
    }

    @Override public void csrMatmulAdd(CsrSparse s, float[] x, int m, float[] y) {
        if (small(s) || s.nnz() == 0 || m <= 0) {
            cpu.csrMatmulAdd(s, x, m, y);
            return;
        }
        csr(s, x, m, y);
    }

    private void csr(CsrSparse s, float[] x, int m, float[] y) {
        int dOut = s.dOut(), dIn = s.dIn(), nnz = s.nnz();
        apply(m, dIn, dOut, x, y, true, () -> {
            long dR = device.resident(s.rowptr().segment(), "raw", s.rowptr().byteSize(), SLOT_BYTES, null);
            long dC = device.resident(s.indices().segment(), "raw", s.indices().byteSize(), SLOT_CODES, null);
            // Values (F16, BF16 or F32 as stored) widened to F32, once per read-only weight.
            long dV = device.resident(s.values().segment(), "f32-values", (long) nnz * 4, SLOT_F32, seg -> {
                float[] v = new float[Math.min(nnz, 1 << 16)];
                for (int p = 0; p < nnz; p += v.length) {
                    int n = Math.min(v.length, nnz - p);
                    s.values().readFloats(p, v, 0, n);
                    MemorySegment.copy(v, 0, seg, F, (long) p * 4, n);
                }
            });
            // grid (d_out, ≤ CSR_ROW_BLOCKS): each block strides over the rows of X with its row of S.
            return (dX, dY) -> device.launch("s4j_csr_matmul_add", dOut, Math.min(m, CSR_ROW_BLOCKS), CSR_THREADS, 1,
                    m, dOut, dIn, dR, dC, dV, dX, dY);
        });
    }

    // ---------------------------------------------------------------- dense: the CPU's

    @Override public void denseMatvec(DenseWeight w, float[] x, float[] y) {
        cpu.denseMatvec(w, x, y);
    }

    @Override public void denseMatmul(DenseWeight w, float[] x, int m, float[] y) {
        cpu.denseMatmul(w, x, m, y);
    }

    // ------------------------------------- int8 activations and ggml block formats: the CPU's
    // No device kernels for these yet; delegating keeps the CPU's SIMD kernels instead of the
    // interface's scalar defaults.

    @Override public void uniformMatvecInt8(UniformQuantized w, Int8Activations x, float[] y) {
        cpu.uniformMatvecInt8(w, x, y);
    }

    @Override public void uniformMatmulInt8(UniformQuantized w, Int8Activations x, float[] y) {
        cpu.uniformMatmulInt8(w, x, y);
    }

    @Override public void ggufMatvec(GgufBlockWeight w, float[] x, float[] y) {
        cpu.ggufMatvec(w, x, y);
    }

    @Override public void ggufMatmul(GgufBlockWeight w, float[] x, int m, float[] y) {
        cpu.ggufMatmul(w, x, m, y);
    }
}
