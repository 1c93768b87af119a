package dev.shrink4j.tensors.testing;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Path;

/**
 * Hand-written FFM downcalls into llama.cpp's {@code libllama} (the dozen functions the oracle
 * needs), used by tests to check that real llama.cpp reads what shrink4j writes and vice versa.
 *
 * <p>Struct layouts are those of {@code include/llama.h} in the same package's source bundle
 * (sizes and offsets measured with the C compiler against that header): {@code llama_model_params}
 * 80 bytes, {@code llama_context_params} 160 (n_ctx @0, n_batch @4, n_ubatch @8, n_threads @28,
 * n_threads_batch @32), {@code llama_batch} 56, {@code llama_model_quantize_params} 64 (nthread @0,
 * ftype @4). All are larger than 16 bytes, so the SysV ABI passes and returns them in memory and
 * only their size matters to the linker. The defaults are sanity-checked after each call so a
 * different library version fails loudly instead of misreading memory.
 */
public final class LlamaCpp implements AutoCloseable {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemoryLayout MODEL_PARAMS = struct(80);
    private static final MemoryLayout CONTEXT_PARAMS = struct(160);
    private static final MemoryLayout BATCH = struct(56);
    private static final MemoryLayout QUANTIZE_PARAMS = struct(64);

    /** llama.cpp's {@code enum llama_ftype} values used by the tests. */
    public enum FileType {
        Q4_0(2), Q4_1(3), Q8_0(7), Q4_K_M(15), Q5_K_M(17), Q6_K(18);

        final int id;

        FileType(int id) {
            this.id = id;
        }
    }

    private static MemoryLayout struct(int bytes) {
        return MemoryLayout.structLayout(MemoryLayout.sequenceLayout(bytes / 8, ValueLayout.JAVA_LONG));
    }

    private static final class Api {
        final MethodHandle modelDefaultParams, contextDefaultParams, quantizeDefaultParams, modelLoad, modelFree, initFromModel, free,
                getMemory, memoryClear, batchInit, batchFree, decode, logitsIth, modelGetVocab, vocabNTokens, quantize, tokenize, typeTraits;

        Api(Path dir) {
            Arena global = Arena.global();
            SymbolLookup ggml = SymbolLookup.libraryLookup(dir.resolve(LlamaCppLibs.LIBGGML), global);
            SymbolLookup llama = SymbolLookup.libraryLookup(dir.resolve(LlamaCppLibs.LIBLLAMA), global);
            try {
                MethodHandle logSet = h(llama, "llama_log_set", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
                MethodHandle quiet = MethodHandles.lookup().findStatic(LlamaCpp.class, "quiet", MethodType.methodType(void.class, int.class, MemorySegment.class, MemorySegment.class));
                MemorySegment stub = LINKER.upcallStub(quiet, FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS, ADDRESS), global);
                logSet.invokeExact(stub, MemorySegment.NULL);
                h(llama, "llama_backend_init", FunctionDescriptor.ofVoid()).invokeExact();
                try (Arena a = Arena.ofConfined()) {
                    h(ggml, "ggml_backend_load_all_from_path", FunctionDescriptor.ofVoid(ADDRESS)).invokeExact(a.allocateFrom(dir.toString()));
                }
            } catch (Throwable t) {
                throw new IllegalStateException("cannot initialise llama.cpp from " + dir, t);
            }
            modelDefaultParams = h(llama, "llama_model_default_params", FunctionDescriptor.of(MODEL_PARAMS));
            contextDefaultParams = h(llama, "llama_context_default_params", FunctionDescriptor.of(CONTEXT_PARAMS));
            quantizeDefaultParams = h(llama, "llama_model_quantize_default_params", FunctionDescriptor.of(QUANTIZE_PARAMS));
            modelLoad = h(llama, "llama_model_load_from_file", FunctionDescriptor.of(ADDRESS, ADDRESS, MODEL_PARAMS));
            modelFree = h(llama, "llama_model_free", FunctionDescriptor.ofVoid(ADDRESS));
            initFromModel = h(llama, "llama_init_from_model", FunctionDescriptor.of(ADDRESS, ADDRESS, CONTEXT_PARAMS));
            free = h(llama, "llama_free", FunctionDescriptor.ofVoid(ADDRESS));
            getMemory = h(llama, "llama_get_memory", FunctionDescriptor.of(ADDRESS, ADDRESS));
            memoryClear = h(llama, "llama_memory_clear", FunctionDescriptor.ofVoid(ADDRESS, JAVA_BOOLEAN));
            batchInit = h(llama, "llama_batch_init", FunctionDescriptor.of(BATCH, JAVA_INT, JAVA_INT, JAVA_INT));
            batchFree = h(llama, "llama_batch_free", FunctionDescriptor.ofVoid(BATCH));
            decode = h(llama, "llama_decode", FunctionDescriptor.of(JAVA_INT, ADDRESS, BATCH));
            logitsIth = h(llama, "llama_get_logits_ith", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
            modelGetVocab = h(llama, "llama_model_get_vocab", FunctionDescriptor.of(ADDRESS, ADDRESS));
            vocabNTokens = h(llama, "llama_vocab_n_tokens", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            quantize = h(llama, "llama_model_quantize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
            SymbolLookup base = SymbolLookup.libraryLookup(dir.resolve("libggml-base.so"), global);
            typeTraits = h(base, "ggml_get_type_traits", FunctionDescriptor.of(ADDRESS, JAVA_INT));
            tokenize = h(llama, "llama_tokenize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_BOOLEAN, JAVA_BOOLEAN));
        }

        private static MethodHandle h(SymbolLookup lib, String name, FunctionDescriptor d) {
            return LINKER.downcallHandle(lib.find(name).orElseThrow(() -> new IllegalStateException("llama.cpp has no symbol " + name)), d);
        }
    }

    @SuppressWarnings("unused") // upcall target: llama.cpp's log lines are dropped so tests stay quiet
    private static void quiet(int level, MemorySegment text, MemorySegment user) {}

    private static Api api;

    private static synchronized Api api() {
        if (api == null) api = new Api(LlamaCppLibs.dir());
        return api;
    }

    private final Arena arena = Arena.ofShared();
    private final MemorySegment model;
    private final MemorySegment ctx;
    private final int nCtx;
    private final int nVocab;

    /** Loads {@code gguf} on the CPU with a context of {@code nCtx} tokens and one decode of up to {@code nCtx} tokens. */
    public LlamaCpp(Path gguf, int nCtx, int threads) {
        Api a = api();
        this.nCtx = nCtx;
        try {
            MemorySegment mp = (MemorySegment) a.modelDefaultParams.invokeExact((java.lang.foreign.SegmentAllocator) arena);
            model = (MemorySegment) a.modelLoad.invokeExact(arena.allocateFrom(gguf.toString()), mp);
            if (model.address() == 0) throw new IllegalStateException("llama.cpp could not load " + gguf);
            MemorySegment cp = (MemorySegment) a.contextDefaultParams.invokeExact((java.lang.foreign.SegmentAllocator) arena);
            if (cp.get(JAVA_INT, 0) != 4096 && cp.get(JAVA_INT, 0) != 512 || cp.get(JAVA_INT, 4) != 2048) {
                throw new IllegalStateException("llama_context_params layout differs from llama.h 3.22.1 (n_ctx " + cp.get(JAVA_INT, 0) + ", n_batch " + cp.get(JAVA_INT, 4) + ")");
            }
            cp.set(JAVA_INT, 0, nCtx);
            cp.set(JAVA_INT, 4, nCtx);
            cp.set(JAVA_INT, 8, nCtx);
            cp.set(JAVA_INT, 28, threads);
            cp.set(JAVA_INT, 32, threads);
            ctx = (MemorySegment) a.initFromModel.invokeExact(model, cp);
            if (ctx.address() == 0) throw new IllegalStateException("llama.cpp could not create a context for " + gguf);
            MemorySegment vocab = (MemorySegment) a.modelGetVocab.invokeExact(model);
            nVocab = (int) a.vocabNTokens.invokeExact(vocab);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public int vocabSize() {
        return nVocab;
    }

    /**
     * Clears the KV cache, decodes {@code tokens} at positions 0.. as one sequence and returns the
     * logits of every position, (tokens.length, vocab) row-major.
     */
    public float[] logitsAll(int[] tokens) {
        if (tokens.length > nCtx) throw new IllegalArgumentException(tokens.length + " tokens exceed the context of " + nCtx);
        Api a = api();
        try (Arena call = Arena.ofConfined()) {
            a.memoryClear.invokeExact((MemorySegment) a.getMemory.invokeExact(ctx), true);
            MemorySegment batch = (MemorySegment) a.batchInit.invokeExact((java.lang.foreign.SegmentAllocator) call, tokens.length, 0, 1);
            try {
                int n = tokens.length;
                MemorySegment tok = batch.get(ADDRESS, 8).reinterpret(4L * n);
                MemorySegment pos = batch.get(ADDRESS, 24).reinterpret(4L * n);
                MemorySegment nSeq = batch.get(ADDRESS, 32).reinterpret(4L * n);
                MemorySegment seqIds = batch.get(ADDRESS, 40).reinterpret(8L * n);
                MemorySegment logits = batch.get(ADDRESS, 48).reinterpret(n);
                for (int i = 0; i < n; i++) {
                    tok.setAtIndex(JAVA_INT, i, tokens[i]);
                    pos.setAtIndex(JAVA_INT, i, i);
                    nSeq.setAtIndex(JAVA_INT, i, 1);
                    seqIds.getAtIndex(ADDRESS, i).reinterpret(4).set(JAVA_INT, 0, 0);
                    logits.set(JAVA_BYTE, i, (byte) 1);
                }
                batch.set(JAVA_INT, 0, n);
                int rc = (int) a.decode.invokeExact(ctx, batch);
                if (rc != 0) throw new IllegalStateException("llama_decode returned " + rc);
                float[] out = new float[n * nVocab];
                for (int i = 0; i < n; i++) {
                    MemorySegment row = ((MemorySegment) a.logitsIth.invokeExact(ctx, i)).reinterpret(4L * nVocab);
                    MemorySegment.copy(row, JAVA_FLOAT, 0, out, i * nVocab, nVocab);
                }
                return out;
            } finally {
                a.batchFree.invokeExact(batch);
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Timed greedy generation, as a server runs it: clears the KV cache, decodes {@code prompt} as one
     * batch (logits of its last position only), then {@code generate} − 1 single-token decodes, each
     * feeding the argmax of the previous logits. The first new token comes from the prefill's
     * logits, as in shrink4j's {@code Generator}.
     */
    public Timed timedGreedy(int[] prompt, int generate) {
        if (prompt.length + generate > nCtx) throw new IllegalArgumentException(prompt.length + " + " + generate + " tokens exceed the context of " + nCtx);
        Api a = api();
        try (Arena call = Arena.ofConfined()) {
            a.memoryClear.invokeExact((MemorySegment) a.getMemory.invokeExact(ctx), true);
            MemorySegment batch = (MemorySegment) a.batchInit.invokeExact((java.lang.foreign.SegmentAllocator) call, Math.max(prompt.length, 1), 0, 1);
            try {
                int[] out = new int[generate];
                long t0 = System.nanoTime();
                out[0] = step(a, batch, prompt, 0);
                long t1 = System.nanoTime();
                for (int i = 1; i < generate; i++) out[i] = step(a, batch, new int[] {out[i - 1]}, prompt.length + i - 1);
                long t2 = System.nanoTime();
                return new Timed(out, t1 - t0, t2 - t1);
            } finally {
                a.batchFree.invokeExact(batch);
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** New tokens of {@link #timedGreedy}; the prompt's batch and the {@code tokens.length − 1} single-token decodes after it, timed. */
    public record Timed(int[] tokens, long prefillNanos, long decodeNanos) {}

    /** Decodes {@code tokens} at positions {@code pos0}.. (logits for the last only); returns its argmax. */
    private int step(Api a, MemorySegment batch, int[] tokens, int pos0) throws Throwable {
        int n = tokens.length;
        MemorySegment tok = batch.get(ADDRESS, 8).reinterpret(4L * n);
        MemorySegment pos = batch.get(ADDRESS, 24).reinterpret(4L * n);
        MemorySegment nSeq = batch.get(ADDRESS, 32).reinterpret(4L * n);
        MemorySegment seqIds = batch.get(ADDRESS, 40).reinterpret(8L * n);
        MemorySegment logits = batch.get(ADDRESS, 48).reinterpret(n);
        for (int i = 0; i < n; i++) {
            tok.setAtIndex(JAVA_INT, i, tokens[i]);
            pos.setAtIndex(JAVA_INT, i, pos0 + i);
            nSeq.setAtIndex(JAVA_INT, i, 1);
            seqIds.getAtIndex(ADDRESS, i).reinterpret(4).set(JAVA_INT, 0, 0);
            logits.set(JAVA_BYTE, i, (byte) (i == n - 1 ? 1 : 0));
        }
        batch.set(JAVA_INT, 0, n);
        int rc = (int) a.decode.invokeExact(ctx, batch);
        if (rc != 0) throw new IllegalStateException("llama_decode returned " + rc);
        MemorySegment row = ((MemorySegment) a.logitsIth.invokeExact(ctx, -1)).reinterpret(4L * nVocab);
        int best = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int k = 0; k < nVocab; k++) {
            float v = row.getAtIndex(JAVA_FLOAT, k);
            if (v > max) {
                max = v;
                best = k;
            }
        }
        return best;
    }

    /** llama.cpp's own tokenizer (no special-token parsing), BOS first when {@code addBos}. */
    public int[] tokenize(String text, boolean addBos) {
        Api a = api();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment vocab = (MemorySegment) a.modelGetVocab.invokeExact(model);
            MemorySegment utf8 = call.allocateFrom(text);
            int len = (int) (utf8.byteSize() - 1);
            MemorySegment out = call.allocate(JAVA_INT, len + 2);
            int n = (int) a.tokenize.invokeExact(vocab, utf8, len, out, len + 2, addBos, false);
            if (n < 0) throw new IllegalStateException("llama_tokenize needs " + -n + " tokens");
            return out.asSlice(0, 4L * n).toArray(JAVA_INT);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@code llama_model_quantize(in, out)} to {@code type} with llama.cpp's default choices per tensor. */
    public static void quantize(Path in, Path out, FileType type, int threads) {
        Api a = api();
        try (Arena call = Arena.ofConfined()) {
            MemorySegment p = (MemorySegment) a.quantizeDefaultParams.invokeExact((java.lang.foreign.SegmentAllocator) call);
            p.set(JAVA_INT, 0, threads);
            p.set(JAVA_INT, 4, type.id);
            int rc = (int) a.quantize.invokeExact(call.allocateFrom(in.toString()), call.allocateFrom(out.toString()), p);
            if (rc != 0) throw new IllegalStateException("llama_model_quantize " + in + " → " + type + " returned " + rc);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    // struct ggml_type_traits: to_float @40, from_float_ref @48 (ggml.h, measured with the C compiler).
    private static MemorySegment traitFn(int ggmlType, long offset) throws Throwable {
        MemorySegment traits = ((MemorySegment) api().typeTraits.invokeExact(ggmlType)).reinterpret(56);
        MemorySegment fn = traits.get(ADDRESS, offset);
        if (fn.address() == 0) throw new IllegalStateException("ggml type " + ggmlType + " has no function at +" + offset);
        return fn;
    }

    /** ggml's own {@code to_float} of {@code n} elements of type {@code ggmlType} held in {@code src}. */
    public static float[] ggmlDequantize(int ggmlType, byte[] src, int n) {
        try (Arena a = Arena.ofConfined()) {
            MethodHandle f = LINKER.downcallHandle(traitFn(ggmlType, 40), FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ValueLayout.JAVA_LONG));
            MemorySegment x = a.allocate(src.length + 64L);
            MemorySegment.copy(src, 0, x, JAVA_BYTE, 0, src.length);
            MemorySegment y = a.allocate(JAVA_FLOAT, n);
            f.invokeExact(x, y, (long) n);
            return y.toArray(JAVA_FLOAT);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** ggml's own reference quantization ({@code from_float_ref}) of {@code x} into {@code bytes} bytes. */
    public static byte[] ggmlQuantizeRef(int ggmlType, float[] x, long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MethodHandle f = LINKER.downcallHandle(traitFn(ggmlType, 48), FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ValueLayout.JAVA_LONG));
            MemorySegment in = a.allocateFrom(JAVA_FLOAT, x);
            MemorySegment out = a.allocate(bytes);
            f.invokeExact(in, out, (long) x.length);
            return out.toArray(JAVA_BYTE);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override public void close() {
        Api a = api();
        try {
            a.free.invokeExact(ctx);
            a.modelFree.invokeExact(model);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        arena.close();
    }
}
