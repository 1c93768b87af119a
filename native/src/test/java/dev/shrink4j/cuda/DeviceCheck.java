package dev.shrink4j.cuda;

import dev.shrink4j.tensors.Tensor;
import dev.shrink4j.tensors.formats.FormatKernels;
import dev.shrink4j.tensors.formats.UniformQuantized;
import dev.shrink4j.tensors.kernels.Kernels;
import dev.shrink4j.tensors.kernels.KernelsProvider;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * The kernel rows of native/device-check, in bench/run's format ({@code name ours peer unit speedup}):
 * run on a machine with a GPU through the real driver. Each figure is the median of a few timed calls
 * after one warm-up, and includes what a call of the SPI does: copying activations in and results out.
 * Peaks come from the driver's attributes (FP32: SMs × 128 lanes × 2 flops × SM clock; memory: memory
 * clock × 2 (double data rate) × bus width).
 */
public final class DeviceCheck {
    private DeviceCheck() {}

    public static void main(String[] args) {
        CudaDevice dev = Cuda.device();
        DeviceInfo info = dev.info();
        Kernels cpu = KernelsProvider.cpu();
        Kernels gpu = new CudaKernels(cpu, dev, 0);
        System.err.println("device: " + info.describe() + ", driver " + dev.driverVersion() + ", PTX " + dev.ptxTarget() + "; cpu kernels " + cpu.name() + " × " + cpu.threads());
        double fp32Peak = info.multiprocessors() * 128.0 * 2 * info.clockKhz() * 1e3 / 1e9;           // GF/s
        double memPeak = info.memoryClockKhz() * 1e3 * 2 * info.busWidthBits() / 8 / 1e9;              // GB/s
        Random rnd = new Random(7);

        int n = 4096;
        float[] a = randoms(rnd, n * n), b = randoms(rnd, n * n), c = new float[n * n];
        double flops = 2.0 * n * n * n;
        double gpuGemm = flops / median(3, () -> gpu.gemmABt(n, n, n, a, b, c)) / 1e9;
        double cpuGemm = flops / median(1, () -> cpu.gemmABt(n, n, n, a, b, c)) / 1e9;
        row("cuda-sgemm-4096-vs-cpu", gpuGemm, cpuGemm, "GF/s");
        row("cuda-sgemm-4096-vs-fp32-peak", gpuGemm, fp32Peak, "GF/s");

        float[] h = new float[n * n];
        double syrkFlops = 1.0 * n * n * n;   // n³: the upper triangle of an n × n Xᵀ·X over n rows, as docs/kernels.md counts it
        double gpuSyrk = syrkFlops / median(3, () -> gpu.syrkUpper(n, n, a, 0, n, null, 0, h, 0, n)) / 1e9;
        double cpuSyrk = syrkFlops / median(1, () -> cpu.syrkUpper(n, n, a, 0, n, null, 0, h, 0, n)) / 1e9;
        row("cuda-syrk-4096-vs-cpu", gpuSyrk, cpuSyrk, "GF/s");

        int d = 16384, gs = 128;
        try (Arena arena = Arena.ofShared()) {
            UniformQuantized w = readOnly(UniformQuantized.rtn(arena, randoms(rnd, d * d), d, d, 4, gs, true));
            FormatKernels fcpu = FormatKernels.panama().orElse(FormatKernels.scalar());
            FormatKernels fgpu = new CudaFormatKernels(fcpu, dev, 0);
            float[] x = randoms(rnd, d), yg = new float[d], yc = new float[d];
            double bytes = w.qweight().byteSize() + (double) d * w.nGroups() * 4;
            double gpuMv = bytes / median(5, () -> fgpu.uniformMatvec(w, x, yg)) / 1e9;
            double cpuMv = bytes / median(3, () -> fcpu.uniformMatvec(w, x, yc)) / 1e9;
            for (int i = 0; i < d; i++) {
                if (Math.abs(yg[i] - yc[i]) > 1e-3 * (1 + Math.abs(yc[i]))) throw new AssertionError("int4 matvec row " + i + ": " + yg[i] + " vs " + yc[i]);
            }
            row("cuda-matvec-int4-g128-16384-vs-memory-bandwidth", gpuMv, memPeak, "GB/s");
            row("cuda-matvec-int4-g128-16384-vs-cpu", gpuMv, cpuMv, "GB/s");
        }

        // Prefill: Y (512, 8192) = X (512, 8192)·Ŵᵀ, Ŵ int4 g128 with zero points, resident (read-only).
        int mm = 512, dm = 8192;
        try (Arena arena = Arena.ofShared()) {
            UniformQuantized w = readOnly(UniformQuantized.rtn(arena, randoms(rnd, dm * dm), dm, dm, 4, gs, false));
            FormatKernels fcpu = FormatKernels.panama().orElse(FormatKernels.scalar());
            FormatKernels fgpu = new CudaFormatKernels(fcpu, dev, 0);
            float[] x = randoms(rnd, mm * dm), yg = new float[mm * dm], yc = new float[mm * dm];
            double mmFlops = 2.0 * mm * dm * dm;
            double gpuMm = mmFlops / median(5, () -> fgpu.uniformMatmul(w, x, mm, yg)) / 1e9;
            double cpuMm = mmFlops / median(1, () -> fcpu.uniformMatmul(w, x, mm, yc)) / 1e9;
            for (int i = 0; i < yc.length; i++) {
                if (Math.abs(yg[i] - yc[i]) > 1e-3 * (1 + Math.abs(yc[i]))) throw new AssertionError("int4 matmul output " + i + ": " + yg[i] + " vs " + yc[i]);
            }
            row("cuda-matmul-int4-g128-512x8192-vs-cpu", gpuMm, cpuMm, "GF/s");
            row("cuda-matmul-int4-g128-512x8192-vs-fp32-peak", gpuMm, fp32Peak, "GF/s");
        }
    }

    /** The same weight over read-only views, as a mapped checkpoint gives it: it stays resident on the device. */
    static UniformQuantized readOnly(UniformQuantized w) {
        return new UniformQuantized(w.dOut(), w.dIn(), w.width(), w.groupSize(), w.symmetric(),
                ro(w.qweight()), ro(w.scales()), w.zeros() == null ? null : ro(w.zeros()), w.gIdx() == null ? null : ro(w.gIdx()));
    }

    static Tensor ro(Tensor t) {
        return Tensor.wrap(t.dtype(), t.shape(), t.segment().asReadOnly());
    }

    static void row(String name, double ours, double peer, String unit) {
        System.out.printf(Locale.ROOT, "%s %.4g %.4g %s %.3f%n", name, ours, peer, unit, ours / peer);
    }

    /** Median seconds of {@code reps} calls after one warm-up call. */
    static double median(int reps, Runnable r) {
        r.run();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long s = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - s) / 1e9;
        }
        Arrays.sort(t);
        return t[reps / 2];
    }

    static float[] randoms(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }
}
