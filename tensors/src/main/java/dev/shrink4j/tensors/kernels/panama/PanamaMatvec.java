package dev.shrink4j.tensors.kernels.panama;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Floats;
import dev.shrink4j.tensors.Parallel;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Memory-bound kernels: dot, matvec and sum stream their operand once, straight from the (mapped)
 * segment, BF16 widened in registers. Matvec reads short rows one at a time (one sequential stream per
 * thread, x stays in L1) and wide rows four at a time (each x vector loaded serves four rows; four FMA
 * chains hide the FMA latency); see {@link #xStaysInL1}.
 */
final class PanamaMatvec {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /**
     * Streaming reads load one byte this far ahead of each stream (Java has no prefetch instruction): it
     * starts the cache-line miss early and lifts the read rate of DRAM-bound matvecs and sums by 15–30 %
     * here (matvec 16384² F32 18.4 → 24.8 GB/s, sum 22.3 → 28.9 GB/s in one process; 512 B beat 256 B–4 KiB).
     */
    static final long AHEAD = 512;
    /**
     * Where the touched bytes would go. Every thread storing here once per row would bounce one cache
     * line between all cores; {@link #keep} stores only when the sum equals {@link #NEVER}, which the
     * JIT cannot rule out (so the loads stay) but a byte sum never reaches in practice.
     */
    static int touched;
    /** Needs over 12 million 127-valued bytes in one row's sum: not reached. */
    private static final int NEVER = 0x5eedf00d;

    /** Consumes the sum of the touched bytes so the loads are not eliminated, without a shared store. */
    private static void keep(int t) {
        if (t == NEVER) touched = t;
    }

    /** The byte {@link #AHEAD} bytes past {@code at}, clamped to the last byte of the segment. */
    private static int ahead(MemorySegment seg, long at, long last) {
        return seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, Math.min(at + AHEAD, last));
    }

    private PanamaMatvec() {}

    static float dot(int n, float[] x, int xOff, float[] y, int yOff) {
        int i = 0;
        float s = 0f;
        if (n >= 4 * L) {
            // Four accumulators: FMA latency 4 cycles at one 512-bit FMA per cycle.
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            int bound = n - n % (4 * L);
            for (; i < bound; i += 4 * L) {
                a0 = FloatVector.fromArray(F, x, xOff + i).fma(FloatVector.fromArray(F, y, yOff + i), a0);
                a1 = FloatVector.fromArray(F, x, xOff + i + L).fma(FloatVector.fromArray(F, y, yOff + i + L), a1);
                a2 = FloatVector.fromArray(F, x, xOff + i + 2 * L).fma(FloatVector.fromArray(F, y, yOff + i + 2 * L), a2);
                a3 = FloatVector.fromArray(F, x, xOff + i + 3 * L).fma(FloatVector.fromArray(F, y, yOff + i + 3 * L), a3);
            }
            s = Lanes.sum(a0.add(a1).add(a2.add(a3)));
        }
        for (; i < n; i++) s += x[xOff + i] * y[yOff + i];
        return s;
    }

    /** y[r] = (y[r] +) W[r, :]·x for rows [r0, r1) of a stored (dOut, dIn) weight. */
    static void rows(Tensor w, int r0, int r1, int dIn, float[] x, int xOff, float[] y, int yOff, boolean acc) {
        MemorySegment seg = w.segment();
        switch (w.dtype()) {
            case F32 -> f32Rows(seg, r0, r1, dIn, x, xOff, y, yOff, acc);
            case BF16 -> bf16Rows(seg, r0, r1, dIn, x, xOff, y, yOff, acc);
            default -> {
                float[] row = PanamaKernels.scratchRow(dIn);
                for (int r = r0; r < r1; r++) {
                    Convert.toF32(w.dtype(), seg, (long) r * dIn * 2, row, 0, dIn);
                    float s = dot(dIn, row, 0, x, xOff);
                    y[yOff + r] = acc ? y[yOff + r] + s : s;
                }
            }
        }
    }

    private static void f32Rows(MemorySegment seg, int r0, int r1, int dIn, float[] x, int xOff, float[] y, int yOff, boolean acc) {
        long rowBytes = 4L * dIn;
        int r = r0;
        if (!xStaysInL1(dIn, rowBytes)) {
            // One call per four rows, not one loop over the whole range: a long-running loop in a method
            // invoked a few times per matvec only gets on-stack-replacement code, measured ~15 % slower.
            for (; r + 4 <= r1; r += 4) f32Block4(seg, r * rowBytes, rowBytes, dIn, x, xOff, y, yOff + r, acc);
        }
        long last = seg.byteSize() - 1;
        for (; r < r1; r++) {
            float t = f32Row(seg, r * rowBytes, dIn, x, xOff, last);
            y[yOff + r] = acc ? y[yOff + r] + t : t;
        }
    }

    /**
     * Short rows are read one at a time: the weights then stream through memory in address order, one
     * sequential stream per thread like a plain sum (which the hardware prefetchers follow best), and x
     * is not reloaded from L2 for every row as long as x and one row fit in half the 32 KiB L1 together
     * (F32 rows up to 2048, BF16 up to 2730 wide). Wider rows go four at a time so each x load serves
     * four rows (one row at a time at 4096 wide: 0.65 of the sum's rate against 0.87 for four rows).
     */
    static boolean xStaysInL1(int dIn, long rowBytes) {
        return 4L * dIn + rowBytes <= 16 << 10;
    }

    /** W[row]·x for one F32 row at byte {@code o}: four accumulators, four cache lines touched ahead per step. */
    private static float f32Row(MemorySegment seg, long o, int dIn, float[] x, int xOff, long last) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int t = 0;
        int j = 0;
        for (; j + 4 * L <= dIn; j += 4 * L) {
            long b = o + 4L * j;
            // Past the row's end the touches land on the next row: this thread's stream goes on there.
            t += ahead(seg, b, last) + ahead(seg, b + 64, last) + ahead(seg, b + 128, last) + ahead(seg, b + 192, last);
            a0 = FloatVector.fromMemorySegment(F, seg, b, LE).fma(FloatVector.fromArray(F, x, xOff + j), a0);
            a1 = FloatVector.fromMemorySegment(F, seg, b + 4L * L, LE).fma(FloatVector.fromArray(F, x, xOff + j + L), a1);
            a2 = FloatVector.fromMemorySegment(F, seg, b + 8L * L, LE).fma(FloatVector.fromArray(F, x, xOff + j + 2 * L), a2);
            a3 = FloatVector.fromMemorySegment(F, seg, b + 12L * L, LE).fma(FloatVector.fromArray(F, x, xOff + j + 3 * L), a3);
        }
        for (; j + L <= dIn; j += L) a0 = FloatVector.fromMemorySegment(F, seg, o + 4L * j, LE).fma(FloatVector.fromArray(F, x, xOff + j), a0);
        keep(t);
        float s = Lanes.sum(a0.add(a1).add(a2.add(a3)));
        for (; j < dIn; j++) s += seg.get(Tensor.F32, o + 4L * j) * x[xOff + j];
        return s;
    }

    /** As {@link #f32Row} for a BF16 row, widened in registers (two cache lines per step). */
    private static float bf16Row(MemorySegment seg, long o, int dIn, float[] x, int xOff, long last) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int t = 0;
        int j = 0;
        for (; j + 4 * L <= dIn; j += 4 * L) {
            long b = o + 2L * j;
            t += ahead(seg, b, last) + ahead(seg, b + 64, last);
            a0 = Convert.bf16(seg, b).fma(FloatVector.fromArray(F, x, xOff + j), a0);
            a1 = Convert.bf16(seg, b + 2L * L).fma(FloatVector.fromArray(F, x, xOff + j + L), a1);
            a2 = Convert.bf16(seg, b + 4L * L).fma(FloatVector.fromArray(F, x, xOff + j + 2 * L), a2);
            a3 = Convert.bf16(seg, b + 6L * L).fma(FloatVector.fromArray(F, x, xOff + j + 3 * L), a3);
        }
        for (; j + L <= dIn; j += L) a0 = Convert.bf16(seg, o + 2L * j).fma(FloatVector.fromArray(F, x, xOff + j), a0);
        keep(t);
        float s = Lanes.sum(a0.add(a1).add(a2.add(a3)));
        for (; j < dIn; j++) s += Floats.bf16ToF32(seg.get(Tensor.I16, o + 2L * j)) * x[xOff + j];
        return s;
    }

    /** y[yAt .. yAt+4) = (y +) the four F32 rows starting at byte {@code o0}, each {@code rowBytes} apart, times x. */
    private static void f32Block4(MemorySegment seg, long o0, long rowBytes, int dIn, float[] x, int xOff, float[] y, int yAt, boolean acc) {
        int bound = F.loopBound(dIn);
        long o1 = o0 + rowBytes, o2 = o1 + rowBytes, o3 = o2 + rowBytes;
        long last = seg.byteSize() - 1;
        int t = 0;
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
        int j = 0;
        long nextBlock = 3 * rowBytes; // where each row's stream goes on: the same row of the next block
        for (; j < bound; j += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + j);
            long b = 4L * j;
            long a = b + AHEAD < rowBytes ? b : b + nextBlock;
            t += ahead(seg, o0 + a, last) + ahead(seg, o1 + a, last) + ahead(seg, o2 + a, last) + ahead(seg, o3 + a, last);
            s0 = FloatVector.fromMemorySegment(F, seg, o0 + b, LE).fma(xv, s0);
            s1 = FloatVector.fromMemorySegment(F, seg, o1 + b, LE).fma(xv, s1);
            s2 = FloatVector.fromMemorySegment(F, seg, o2 + b, LE).fma(xv, s2);
            s3 = FloatVector.fromMemorySegment(F, seg, o3 + b, LE).fma(xv, s3);
        }
        float t0 = Lanes.sum(s0), t1 = Lanes.sum(s1);
        float t2 = Lanes.sum(s2), t3 = Lanes.sum(s3);
        for (; j < dIn; j++) {
            float xj = x[xOff + j];
            long b = 4L * j;
            t0 += seg.get(Tensor.F32, o0 + b) * xj;
            t1 += seg.get(Tensor.F32, o1 + b) * xj;
            t2 += seg.get(Tensor.F32, o2 + b) * xj;
            t3 += seg.get(Tensor.F32, o3 + b) * xj;
        }
        keep(t);
        put(y, yAt, t0, t1, t2, t3, acc);
    }

    private static void bf16Rows(MemorySegment seg, int r0, int r1, int dIn, float[] x, int xOff, float[] y, int yOff, boolean acc) {
        long rowBytes = 2L * dIn;
        int r = r0;
        if (!xStaysInL1(dIn, rowBytes)) {
            for (; r + 4 <= r1; r += 4) bf16Block4(seg, r * rowBytes, rowBytes, dIn, x, xOff, y, yOff + r, acc); // see f32Rows
        }
        long last = seg.byteSize() - 1;
        for (; r < r1; r++) {
            float t = bf16Row(seg, r * rowBytes, dIn, x, xOff, last);
            y[yOff + r] = acc ? y[yOff + r] + t : t;
        }
    }

    /** As {@link #f32Block4} for BF16 rows, widened in registers. */
    private static void bf16Block4(MemorySegment seg, long o0, long rowBytes, int dIn, float[] x, int xOff, float[] y, int yAt, boolean acc) {
        int bound = F.loopBound(dIn);
        long o1 = o0 + rowBytes, o2 = o1 + rowBytes, o3 = o2 + rowBytes;
        long last = seg.byteSize() - 1;
        int t = 0;
        FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
        int j = 0;
        long nextBlock = 3 * rowBytes; // see f32Block4
        for (; j < bound; j += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + j);
            long b = 2L * j;
            if ((j & L) == 0) { // one touch per cache line (32 B per row per step)
                long a = b + AHEAD < rowBytes ? b : b + nextBlock;
                t += ahead(seg, o0 + a, last) + ahead(seg, o1 + a, last) + ahead(seg, o2 + a, last) + ahead(seg, o3 + a, last);
            }
            s0 = Convert.bf16(seg, o0 + b).fma(xv, s0);
            s1 = Convert.bf16(seg, o1 + b).fma(xv, s1);
            s2 = Convert.bf16(seg, o2 + b).fma(xv, s2);
            s3 = Convert.bf16(seg, o3 + b).fma(xv, s3);
        }
        float t0 = Lanes.sum(s0), t1 = Lanes.sum(s1);
        float t2 = Lanes.sum(s2), t3 = Lanes.sum(s3);
        for (; j < dIn; j++) {
            float xj = x[xOff + j];
            long b = 2L * j;
            t0 += Floats.bf16ToF32(seg.get(Tensor.I16, o0 + b)) * xj;
            t1 += Floats.bf16ToF32(seg.get(Tensor.I16, o1 + b)) * xj;
            t2 += Floats.bf16ToF32(seg.get(Tensor.I16, o2 + b)) * xj;
            t3 += Floats.bf16ToF32(seg.get(Tensor.I16, o3 + b)) * xj;
        }
        keep(t);
        put(y, yAt, t0, t1, t2, t3, acc);
    }

    /** y = (y +) W·x for rows [r0, r1) of a heap (dOut, dIn) matrix with leading dimension ldw. */
    static void rows(float[] w, int wOff, int ldw, int r0, int r1, int dIn, float[] x, int xOff, float[] y, int yOff, boolean acc) {
        int bound = F.loopBound(dIn);
        int r = r0;
        for (; r + 4 <= r1; r += 4) {
            int o0 = wOff + r * ldw, o1 = o0 + ldw, o2 = o1 + ldw, o3 = o2 + ldw;
            FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F), s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xOff + j);
                s0 = FloatVector.fromArray(F, w, o0 + j).fma(xv, s0);
                s1 = FloatVector.fromArray(F, w, o1 + j).fma(xv, s1);
                s2 = FloatVector.fromArray(F, w, o2 + j).fma(xv, s2);
                s3 = FloatVector.fromArray(F, w, o3 + j).fma(xv, s3);
            }
            float t0 = Lanes.sum(s0), t1 = Lanes.sum(s1);
            float t2 = Lanes.sum(s2), t3 = Lanes.sum(s3);
            for (; j < dIn; j++) {
                float xj = x[xOff + j];
                t0 += w[o0 + j] * xj;
                t1 += w[o1 + j] * xj;
                t2 += w[o2 + j] * xj;
                t3 += w[o3 + j] * xj;
            }
            put(y, yOff + r, t0, t1, t2, t3, acc);
        }
        for (; r < r1; r++) {
            float t = dot(dIn, w, wOff + r * ldw, x, xOff);
            y[yOff + r] = acc ? y[yOff + r] + t : t;
        }
    }

    private static void put(float[] y, int o, float t0, float t1, float t2, float t3, boolean acc) {
        if (acc) {
            y[o] += t0;
            y[o + 1] += t1;
            y[o + 2] += t2;
            y[o + 3] += t3;
        } else {
            y[o] = t0;
            y[o + 1] = t1;
            y[o + 2] = t2;
            y[o + 3] = t3;
        }
    }

    /** Elements per block: summed in float vectors, blocks combined in double. */
    static final int SUM_BLOCK = 1 << 14;

    static double sum(Tensor t, int threads) {
        long n = t.numel();
        long blocks = (n + SUM_BLOCK - 1) / SUM_BLOCK;
        int parts = (int) Math.max(1, Math.min(threads, blocks));
        double[] partial = new double[parts];
        Parallel.forEach(parts, c -> {
            long b0 = blocks * c / parts;
            long b1 = blocks * (c + 1) / parts;
            double s = 0;
            for (long b = b0; b < b1; b++) {
                long from = b * SUM_BLOCK;
                s += blockSum(t, from, (int) Math.min(SUM_BLOCK, n - from));
            }
            partial[c] = s;
        });
        double s = 0;
        for (double p : partial) s += p;
        return s;
    }

    private static float blockSum(Tensor tensor, long from, int n) {
        MemorySegment seg = tensor.segment();
        DType dt = tensor.dtype();
        if (dt == DType.F16) {
            float[] row = PanamaKernels.scratchRow(n);
            Convert.toF32(dt, seg, from * 2, row, 0, n);
            float s = 0f;
            for (int i = 0; i < n; i++) s += row[i];
            return s;
        }
        boolean bf16 = dt == DType.BF16;
        int es = dt.byteSize();
        long base = from * es;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        int i = 0;
        int bound = n - n % (4 * L);
        long last = seg.byteSize() - 1;
        int t = 0;
        for (; i < bound; i += 4 * L) {
            long o = base + (long) i * es;
            long step = (long) L * es;
            // 4·L elements = 2 (BF16) or 4 (F32) cache lines per iteration: touch each once, ahead.
            t += ahead(seg, o, last) + ahead(seg, o + 2 * step, last);
            if (!bf16) t += ahead(seg, o + step, last) + ahead(seg, o + 3 * step, last);
            if (bf16) {
                a0 = a0.add(Convert.bf16(seg, o));
                a1 = a1.add(Convert.bf16(seg, o + step));
                a2 = a2.add(Convert.bf16(seg, o + 2 * step));
                a3 = a3.add(Convert.bf16(seg, o + 3 * step));
            } else {
                a0 = a0.add(FloatVector.fromMemorySegment(F, seg, o, LE));
                a1 = a1.add(FloatVector.fromMemorySegment(F, seg, o + step, LE));
                a2 = a2.add(FloatVector.fromMemorySegment(F, seg, o + 2 * step, LE));
                a3 = a3.add(FloatVector.fromMemorySegment(F, seg, o + 3 * step, LE));
            }
        }
        keep(t);
        float s = Lanes.sum(a0.add(a1).add(a2.add(a3)));
        for (; i < n; i++) s += tensor.getFloat(from + i);
        return s;
    }
}
