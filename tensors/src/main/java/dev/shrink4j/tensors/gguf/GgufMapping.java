package dev.shrink4j.tensors.gguf;

import dev.shrink4j.tensors.formats.BitPacking;
import dev.shrink4j.tensors.formats.UniformQuantized;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * Where our uniform codes are ggml blocks already (docs/formats.md, "GGUF"): groups of 32 along a
 * row, no act-order, F16 scales, and
 * <ul>
 *   <li>symmetric int4: ŵ = s·(q − 8) is Q4_0's (q − 8)·d with d = s — exact;</li>
 *   <li>asymmetric int4: ŵ = s·(q − z) is Q4_1's q·d + m with d = s, m = −s·z, exact when s·z is an
 *       F16 value (otherwise m is the nearest F16, counted by {@link #write});</li>
 *   <li>symmetric int8: ŵ = s·(q − 128) is Q8_0's q8·d with q8 = q − 128, d = s — exact.</li>
 * </ul>
 */
public final class GgufMapping {
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private GgufMapping() {}

    /** The ggml type {@code w} maps to, or empty with nothing mapped (then the weight is written dequantized). */
    public static Optional<GgufType> typeOf(UniformQuantized w) {
        if (w.groupSize() != 32 || w.gIdx() != null || w.dIn() % 32 != 0) return Optional.empty();
        if (w.scales().dtype() != dev.shrink4j.tensors.DType.F16) return Optional.empty();
        if (w.bits() == 4) return Optional.of(w.symmetric() ? GgufType.Q4_0 : GgufType.Q4_1);
        if (w.bits() == 8 && w.symmetric()) return Optional.of(GgufType.Q8_0);
        return Optional.empty();
    }

    /** Why {@link #typeOf} is empty, for the user. */
    public static String whyNot(UniformQuantized w) {
        if (w.dIn() % 32 != 0) return "d_in " + w.dIn() + " is not a multiple of 32";
        if (w.groupSize() != 32) return "group size " + w.groupSize() + " (ggml blocks are 32)";
        if (w.gIdx() != null) return "act-order group index";
        if (w.scales().dtype() != dev.shrink4j.tensors.DType.F16) return "scales are " + w.scales().dtype() + ", ggml stores F16";
        return (w.symmetric() ? "symmetric " : "asymmetric ") + w.bits() + "-bit has no ggml block";
    }

    /**
     * Writes {@code w} as {@code type} blocks ({@code type.bytes(d_out·d_in)} bytes at {@code dst}).
     *
     * @return the number of Q4_1 blocks whose m = −s·z had to be rounded to F16 (0 for exact types)
     */
    public static long write(UniformQuantized w, GgufType type, MemorySegment dst) {
        int dIn = w.dIn(), ng = w.nGroups();
        int[] q = new int[dIn], z = new int[ng];
        float[] s = new float[ng];
        long o = 0, inexact = 0;
        for (int j = 0; j < w.dOut(); j++) {
            BitPacking.unpackRow(w.qweight().segment(), j * w.rowBytes(), dIn, w.bits(), q);
            w.readScales(j, s);
            w.readZeros(j, z);
            for (int g = 0; g < ng; g++, o += type.blockBytes) {
                dst.set(HALF, o, Float.floatToFloat16(s[g]));
                int b = g * 32;
                switch (type) {
                    case Q4_0 -> { for (int i = 0; i < 16; i++) dst.set(ValueLayout.JAVA_BYTE, o + 2 + i, (byte) (q[b + i] | q[b + i + 16] << 4)); }
                    case Q4_1 -> {
                        float m = -s[g] * z[g];
                        short mh = Float.floatToFloat16(m);
                        if (Float.float16ToFloat(mh) != m) inexact++;
                        dst.set(HALF, o + 2, mh);
                        for (int i = 0; i < 16; i++) dst.set(ValueLayout.JAVA_BYTE, o + 4 + i, (byte) (q[b + i] | q[b + i + 16] << 4));
                    }
                    case Q8_0 -> { for (int i = 0; i < 32; i++) dst.set(ValueLayout.JAVA_BYTE, o + 2 + i, (byte) (q[b + i] - 128)); }
                    default -> throw new IllegalArgumentException(type + " is not a mapping target");
                }
            }
        }
        return inexact;
    }
}
