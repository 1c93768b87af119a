package dev.shrink4j.tensors.formats;

import dev.shrink4j.tensors.DType;
import dev.shrink4j.tensors.Shape;
import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Export mapping to jlama's Q4 layout (jlama-core 0.8.4, {@code Q4ByteBufferTensor}): blocks of 32
 * consecutive elements along d_in, one F32 scale per block in {@code <name>.qb} (d_out, d_in/32),
 * value = (nibble − 8)·scale, and inside a block byte j (0 ≤ j < 16) holds element j in its low
 * nibble and element j + 16 in its high nibble. jlama reads the packed tensor from a safetensors
 * entry whose dtype is the non-standard {@code "Q4"} and whose shape is the logical (d_out, d_in);
 * the bytes are d_out·d_in/2. Symmetric int4 with group size 32 maps onto it exactly (z = 8, so a
 * code is the nibble).
 */
public final class JlamaQ4 {
    /** Elements per jlama Q4 block. */
    public static final int BLOCK = 32;
    /** Bytes of packed nibbles per block. */
    public static final int BLOCK_BYTES = BLOCK / 2;
    /** The dtype string jlama expects in the safetensors header for the packed tensor. */
    public static final String SAFETENSORS_DTYPE = "Q4";
    /** Suffix of the scale tensor, appended to the packed tensor's name. */
    public static final String SCALE_SUFFIX = ".qb";

    static {
        if (BLOCK_BYTES * 2 != BLOCK) throw new AssertionError("Q4 block must pack two nibbles per byte");
    }

    private JlamaQ4() {}

    /**
     * The packed tensor (U8 (d_out, d_in/2) here; write it with dtype {@link #SAFETENSORS_DTYPE} and
     * shape (d_out, d_in)) and its F32 scales (d_out, d_in/32), keyed {@code name} and
     * {@code name + ".qb"} ({@code name} is the HF weight name, e.g. {@code …q_proj.weight}).
     */
    public static Map<String, Tensor> export(Arena arena, String name, UniformQuantized w) {
        if (w.bits() != 4 || !w.symmetric() || w.groupSize() != BLOCK || w.gIdx() != null || w.dIn() % BLOCK != 0) {
            throw new ShrinkException("jlama-q4 export of '" + name + "' needs symmetric int4, group size 32, no act-order g_idx and d_in divisible by 32; got "
                    + w.bits() + "-bit " + (w.symmetric() ? "symmetric" : "asymmetric") + ", group " + w.groupSize()
                    + (w.gIdx() != null ? ", act-order" : "") + ", d_in " + w.dIn());
        }
        int dOut = w.dOut(), dIn = w.dIn(), blocks = dIn / BLOCK;
        Tensor packed = Tensor.allocate(arena, DType.U8, Shape.matrix(dOut, dIn / 2));
        Tensor qb = Tensor.allocate(arena, DType.F32, Shape.matrix(dOut, blocks));
        MemorySegment src = w.qweight().segment(), dst = packed.segment();
        int[] q = new int[dIn];
        float[] s = new float[blocks];
        for (int j = 0; j < dOut; j++) {
            BitPacking.unpackRow(src, j * w.rowBytes(), dIn, 4, q);
            w.readScales(j, s);
            long row = (long) j * (dIn / 2);
            for (int b = 0; b < blocks; b++) {
                for (int k = 0; k < BLOCK_BYTES; k++) {
                    int lo = q[b * BLOCK + k], hi = q[b * BLOCK + k + BLOCK_BYTES];
                    dst.set(ValueLayout.JAVA_BYTE, row + (long) b * BLOCK_BYTES + k, (byte) (lo | hi << 4));
                }
            }
            qb.writeFloats((long) j * blocks, s, 0, blocks);
        }
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put(name, packed);
        m.put(name + SCALE_SUFFIX, qb);
        return m;
    }

    /**
     * The inverse mapping: jlama Q4 bytes (d_out·d_in/2, any tensor shape) and F32 scales (d_out, d_in/32)
     * as symmetric int4, group 32 (scales rounded to F16, the format's scale type).
     */
    public static UniformQuantized fromJlama(Arena arena, int dOut, int dIn, Tensor packed, Tensor qb) {
        if (dIn % BLOCK != 0 || packed.byteSize() != (long) dOut * dIn / 2 || qb.numel() != (long) dOut * (dIn / BLOCK)) {
            throw new ShrinkException("jlama Q4 tensor does not match (" + dOut + ", " + dIn + "): " + packed.byteSize() + " bytes, " + qb.numel() + " scales");
        }
        int blocks = dIn / BLOCK;
        UniformQuantized.Builder b = UniformQuantized.builder(arena, dOut, dIn, 4, BLOCK, true);
        int[] q = new int[dIn];
        MemorySegment src = packed.segment();
        for (int j = 0; j < dOut; j++) {
            long row = (long) j * (dIn / 2);
            for (int blk = 0; blk < blocks; blk++) {
                for (int k = 0; k < BLOCK_BYTES; k++) {
                    int v = src.get(ValueLayout.JAVA_BYTE, row + (long) blk * BLOCK_BYTES + k) & 0xFF;
                    q[blk * BLOCK + k] = v & 0xF;
                    q[blk * BLOCK + k + BLOCK_BYTES] = v >>> 4;
                }
                b.setScale(j, blk, qb.getFloat((long) j * blocks + blk));
            }
            b.setCodes(j, q, 0);
        }
        return b.build();
    }
}
