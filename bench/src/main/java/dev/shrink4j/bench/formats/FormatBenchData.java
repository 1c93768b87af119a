package dev.shrink4j.bench.formats;

import dev.shrink4j.tensors.formats.CompressedWeight;
import dev.shrink4j.tensors.formats.CsrSparse;
import dev.shrink4j.tensors.formats.DenseAndSparse;
import dev.shrink4j.tensors.formats.DenseWeight;
import dev.shrink4j.tensors.formats.LutQuantized;
import dev.shrink4j.tensors.formats.NmSparse;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.Arena;
import java.util.SplittableRandom;

/** Deterministic weights in every benchmarked format, built from one Gaussian matrix (σ = 0.02, like an LLM linear). */
final class FormatBenchData {
    private FormatBenchData() {}

    static float[] gaussian(int n, long seed, double sigma) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            // Box–Muller; deterministic and fast enough for 16 M values
            double u = r.nextDouble(), w = r.nextDouble();
            v[i] = (float) (sigma * Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * w));
        }
        return v;
    }

    /**
     * A weight named like the rows: "f32", "int4-g128", "int4-g32", "int3-g128", "int2-g128",
     * "int8-g128", "int4-g128-sym", "lut4", "lut3", "lut2", "csr-1pct", "nm-2of4",
     * "nm-2of4-int4-g32" (2:4 with int4 kept values, groups of 32 kept values), "int3-g128+csr-0.5pct".
     */
    static CompressedWeight build(Arena arena, String format, int dOut, int dIn) {
        float[] w = gaussian(dOut * dIn, 42, 0.02);
        if (format.equals("f32")) {
            return DenseWeight.ofFloats(arena, dOut, dIn, w);
        }
        if (format.startsWith("int") && format.contains("+csr-")) {
            String[] parts = format.split("\\+csr-");
            double frac = Double.parseDouble(parts[1].replace("pct", "")) / 100;
            return new DenseAndSparse(build(arena, parts[0], dOut, dIn), CsrSparse.fromDense(arena, sparse(dOut * dIn, frac, 43), dOut, dIn));
        }
        if (format.startsWith("int")) {
            String[] p = format.split("-");
            int bits = Integer.parseInt(p[0].substring(3));
            int g = Integer.parseInt(p[1].substring(1));
            boolean sym = p.length > 2 && p[2].equals("sym");
            return UniformQuantized.rtn(arena, w, dOut, dIn, bits, g, sym);
        }
        if (format.startsWith("gguf-")) { // gguf-q4_0, gguf-q4_1, gguf-q8_0: ggml blocks from GgufBlocks.quantize
            dev.shrink4j.tensors.gguf.GgufType t = dev.shrink4j.tensors.gguf.GgufType.valueOf(format.substring(5).toUpperCase(java.util.Locale.ROOT));
            java.lang.foreign.MemorySegment blocks = arena.allocate(t.bytes((long) dOut * dIn));
            if (t.writable) dev.shrink4j.tensors.gguf.GgufBlocks.quantize(t, w, 0, w.length, blocks, 0);
            else kQuantBlocks(t, blocks); // gguf-q4_k, gguf-q5_k, gguf-q6_k
            return new dev.shrink4j.tensors.formats.GgufBlockWeight(t, dOut, dIn, blocks);
        }
        if (format.startsWith("lut")) {
            int bits = Integer.parseInt(format.substring(3));
            SplittableRandom r = new SplittableRandom(44);
            int[] codes = new int[dOut * dIn];
            for (int i = 0; i < codes.length; i++) codes[i] = r.nextInt(1 << bits);
            return LutQuantized.of(arena, dOut, dIn, bits, dIn, codes, gaussian(dOut << bits, 45, 0.02));
        }
        if (format.startsWith("csr-")) {
            double frac = Double.parseDouble(format.substring(4).replace("pct", "")) / 100;
            return CsrSparse.fromDense(arena, sparse(dOut * dIn, frac, 46), dOut, dIn);
        }
        if (format.startsWith("nm-")) {
            String[] nm = format.substring(3).split("-")[0].split("of");
            int n = Integer.parseInt(nm[0]), m = Integer.parseInt(nm[1]);
            for (int g = 0; g < w.length / m; g++) {
                // magnitude N:M: keep the n largest of each run of m
                for (int drop = 0; drop < m - n; drop++) {
                    int best = -1;
                    for (int i = 0; i < m; i++) {
                        float a = Math.abs(w[g * m + i]);
                        if (w[g * m + i] != 0 && (best < 0 || a < Math.abs(w[g * m + best]))) best = i;
                    }
                    w[g * m + best] = 0;
                }
            }
            NmSparse ns = NmSparse.fromDense(arena, w, dOut, dIn, n, m);
            if (!format.contains("-int")) return ns;
            // nm-2of4-int4-g32[-sym]: the kept values quantized by RTN in groups of kept values (nm_uniform)
            String[] q = format.substring(format.indexOf("-int") + 1).split("-");
            int kept = dIn / m * n;
            float[] vals = new float[dOut * kept];
            int[] idx = new int[dOut * kept];
            NmSparse.compact(w, dOut, dIn, n, m, vals, idx);
            return dev.shrink4j.tensors.formats.NmQuantized.rtn(arena, dOut, dIn, n, m, vals, idx, Integer.parseInt(q[0].substring(3)),
                    Integer.parseInt(q[1].substring(1)), q.length > 2 && q[2].equals("sym"));
        }
        throw new IllegalArgumentException("unknown benchmark format " + format);
    }

    private static float[] sparse(int n, double frac, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] s = new float[n];
        for (int i = 0; i < n; i++) if (r.nextDouble() < frac) s[i] = (float) (r.nextDouble() - 0.5);
        return s;
    }

    /**
     * K-quant super-blocks (shrink4j does not write them): seeded random codes and scales with d and dmin
     * fixed at small halves. The kernels' work does not depend on the values, only on the layout.
     */
    private static void kQuantBlocks(dev.shrink4j.tensors.gguf.GgufType t, java.lang.foreign.MemorySegment s) {
        SplittableRandom r = new SplittableRandom(44);
        for (long i = 0; i < s.byteSize(); i++) s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) r.nextInt(256));
        for (long b = 0; b < s.byteSize(); b += t.blockBytes) {
            if (t == dev.shrink4j.tensors.gguf.GgufType.Q6_K) s.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, b + 208, (short) 0x1000);
            else for (int k = 0; k < 4; k += 2) s.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, b + k, (short) 0x1000);
        }
    }
}
