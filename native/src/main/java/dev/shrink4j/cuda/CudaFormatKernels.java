package dev.shrink4j.cuda;

import dev.shrink4j.tensors.formats.CsrSparse;
import dev.shrink4j.tensors.formats.DenseWeight;
import dev.shrink4j.tensors.formats.FormatKernels;
import dev.shrink4j.tensors.formats.LutQuantized;
import dev.shrink4j.tensors.formats.NmSparse;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@link FormatKernels} on a CUDA device: the uniform group-quantized matvec (int2/3/4/8, symmetric
 * or with zero points, static groups, ragged last group) runs as {@code s4j_uniform_matvec} and the
 * codebook (LUT) matvec as {@code s4j_lut_matvec}, the N:M sparse matvec as {@code s4j_nm_matvec};
 * the other formats, act-order ({@code g_idx}) weights and matrices below {@code minWeights} codes run on
 * the CPU kernels it wraps. The packed codes go to the device as stored; scales are widened to F32
 * and zero points unpacked to one byte per group on the way (both (d_out, n_groups), small). Weights
 * in read-only (mapped) memory stay resident on the device across calls.
 */
public final class CudaFormatKernels implements FormatKernels {
    /** Threads per row block: a power of two (the kernel's tree reduction) ≤ 256 (its shared array). */
    static final int ROW_THREADS = 64;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final FormatKernels cpu;
    private final CudaDevice device;
    private final long minWeights;

    /** System property: the smallest matrix (weights) sent to the device; default 2^20. */
    public static final String MIN_WEIGHTS_PROPERTY = "shrink4j.cuda.minWeights";

    /** The configured device ({@link Cuda#device()}) over {@code cpu}; throws {@link CudaUnavailableException} without one. */
    public CudaFormatKernels(FormatKernels cpu) {
        this(cpu, Cuda.device(), Long.getLong(MIN_WEIGHTS_PROPERTY, 1L << 20));
    }

    public CudaFormatKernels(FormatKernels cpu, CudaDevice device, long minWeights) {
        this.cpu = cpu;
        this.device = device;
        this.minWeights = minWeights;
    }

    @Override public String name() {
        return "cuda";
    }

    @Override public void uniformMatvec(UniformQuantized w, float[] x, float[] y) {
        if (w.gIdx() != null || (long) w.dOut() * w.dIn() < minWeights) {
            cpu.uniformMatvec(w, x, y);
            return;
        }
        int dOut = w.dOut(), dIn = w.dIn(), ng = w.nGroups();
        long qBytes = w.qweight().byteSize();
        long sBytes = (long) dOut * ng * 4, zBytes = w.symmetric() ? 0 : (long) dOut * ng, xBytes = dIn * 4L, yBytes = dOut * 4L;
        synchronized (device) {
            device.enter();
            long xAt = 0, yAt = xBytes;
            MemorySegment st = device.staging(yAt + yBytes);
            long dQ = device.resident(w.qweight().segment(), "raw", qBytes, 0, null);
            // Scales widened to F32 and zero points one byte per group, prepared once per read-only weight.
            long dS = device.resident(w.scales().segment(), "f32-scales", sBytes, 1, seg -> {
                float[] s = new float[ng];
                for (int j = 0; j < dOut; j++) {
                    w.readScales(j, s);
                    MemorySegment.copy(s, 0, seg, F, (long) j * ng * 4, ng);
                }
            });
            Object dZ = MemorySegment.NULL;
            if (zBytes > 0) {
                dZ = device.resident(w.zeros().segment(), "u8-zeros", zBytes, 2, seg -> {
                    int[] z = new int[ng];
                    for (int j = 0; j < dOut; j++) {
                        w.readZeros(j, z);
                        for (int g = 0; g < ng; g++) seg.set(ValueLayout.JAVA_BYTE, (long) j * ng + g, (byte) z[g]);
                    }
                });
            }
            MemorySegment.copy(x, 0, st, F, xAt, dIn);
            long dX = device.scratch(3, xBytes), dY = device.scratch(4, yBytes);
            device.uploadStaged(xAt, dX, xBytes);
            device.launch("s4j_uniform_matvec", dOut, 1, ROW_THREADS, 1,
                    dOut, dIn, w.bits(), w.groupSize(), ng, dQ, w.rowBytes(), dS, dZ, dX, dY);
            device.downloadStaged(dY, yAt, yBytes);
            device.sync();
            MemorySegment.copy(st, F, yAt, y, 0, dOut);
        }
    }

    @Override public void denseMatvec(DenseWeight w, float[] x, float[] y) {
        cpu.denseMatvec(w, x, y);
    }

    @Override public void denseMatmul(DenseWeight w, float[] x, int m, float[] y) {
        cpu.denseMatmul(w, x, m, y);
    }

    @Override public void uniformMatmul(UniformQuantized w, float[] x, int m, float[] y) {
        cpu.uniformMatmul(w, x, m, y);
    }

    @Override public void lutMatvec(LutQuantized w, float[] x, float[] y) {
        if ((long) w.dOut() * w.dIn() < minWeights) {
            cpu.lutMatvec(w, x, y);
            return;
        }
        int dOut = w.dOut(), dIn = w.dIn(), ng = w.nGroups(), e = w.entries();
        long qBytes = w.qweight().byteSize(), lBytes = (long) dOut * ng * e * 4, xBytes = dIn * 4L, yBytes = dOut * 4L;
        synchronized (device) {
            device.enter();
            MemorySegment st = device.staging(xBytes + yBytes);
            long dQ = device.resident(w.qweight().segment(), "raw", qBytes, 0, null);
            // Codebooks widened to F32 (d_out, n_groups, 2^b), once per read-only weight.
            long dL = device.resident(w.lut().segment(), "f32-lut", lBytes, 1, seg -> {
                float[] c = new float[ng * e];
                for (int j = 0; j < dOut; j++) {
                    w.readLut(j, c);
                    MemorySegment.copy(c, 0, seg, F, (long) j * ng * e * 4, ng * e);
                }
            });
            MemorySegment.copy(x, 0, st, F, 0, dIn);
            long dX = device.scratch(3, xBytes), dY = device.scratch(4, yBytes);
            device.uploadStaged(0, dX, xBytes);
            device.launch("s4j_lut_matvec", dOut, 1, ROW_THREADS, 1, dOut, dIn, w.bits(), w.groupSize(), ng, dQ, w.rowBytes(), dL, dX, dY);
            device.downloadStaged(dY, xBytes, yBytes);
            device.sync();
            MemorySegment.copy(st, F, xBytes, y, 0, dOut);
        }
    }

    @Override public void lutMatmul(LutQuantized w, float[] x, int m, float[] y) {
        cpu.lutMatmul(w, x, m, y);
    }

    @Override public void csrMatvecAdd(CsrSparse s, float[] x, float[] y) {
        cpu.csrMatvecAdd(s, x, y);
    }

    @Override public void nmMatvec(NmSparse w, float[] x, float[] y) {
        if ((long) w.dOut() * w.dIn() < minWeights) {
            cpu.nmMatvec(w, x, y);
            return;
        }
        int dOut = w.dOut(), dIn = w.dIn(), k = w.keptPerRow();
        long vBytes = (long) dOut * k * 4, iBytes = w.indices().byteSize(), xBytes = dIn * 4L, yBytes = dOut * 4L;
        synchronized (device) {
            device.enter();
            MemorySegment st = device.staging(xBytes + yBytes);
            // Kept values widened to F32 (d_out, k), once per read-only weight; indices as stored.
            long dV = device.resident(w.values().segment(), "f32-values", vBytes, 1, seg -> {
                float[] v = new float[k];
                for (int j = 0; j < dOut; j++) {
                    w.values().readFloats((long) j * k, v, 0, k);
                    MemorySegment.copy(v, 0, seg, F, (long) j * k * 4, k);
                }
            });
            long dI = device.resident(w.indices().segment(), "raw", iBytes, 0, null);
            MemorySegment.copy(x, 0, st, F, 0, dIn);
            long dX = device.scratch(3, xBytes), dY = device.scratch(4, yBytes);
            device.uploadStaged(0, dX, xBytes);
            device.launch("s4j_nm_matvec", dOut, 1, ROW_THREADS, 1, dOut, k, w.n(), w.m(), NmSparse.indexWidth(w.m()).bits,
                    dV, dI, w.indexRowBytes(), dX, dY);
            device.downloadStaged(dY, xBytes, yBytes);
            device.sync();
            MemorySegment.copy(st, F, xBytes, y, 0, dOut);
        }
    }
}
