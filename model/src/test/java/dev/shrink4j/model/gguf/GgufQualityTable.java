package dev.shrink4j.model.gguf;

import dev.shrink4j.model.LlamaModel;
import dev.shrink4j.model.Tokenizer;
import dev.shrink4j.tensors.gguf.GgufType;
import dev.shrink4j.tensors.testing.LlamaCpp;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Quality at equal size, same format, same engine (bench/gguf-quality-table.sh runs it): llama.cpp's
 * own Q4_0/Q4_1 ({@code llama_model_quantize} of our F32 export) against shrink4j checkpoints written
 * as Q4_0/Q4_1 with llama.cpp's choices for the rest (F16 for linears that do not map, Q8_0 embedding),
 * every file scored by llama.cpp itself: ΔNLL against the F32 file and KL(P_F32 ‖ P_file), by the
 * shrink4j eval protocol (BOS + T − 1 tokens per window, docs/methods/evaluation.md §1).
 *
 * <pre>
 * GgufQualityTable MODEL WORK SEQ_LEN WINDOWS TEXT[,TEXT…] LABEL=Q4_0|Q4_1=SHRINK4J_DIR…
 * </pre>
 */
public final class GgufQualityTable {
    private GgufQualityTable() {}

    private record Entry(String label, Path gguf) {}

    public static void main(String[] args) throws IOException {
        if (args.length < 5) {
            System.err.println("usage: GgufQualityTable MODEL WORK SEQ_LEN WINDOWS TEXT[,TEXT...] LABEL=Q4_0|Q4_1=SHRINK4J_DIR...");
            System.exit(2);
        }
        Path model = Path.of(args[0]), work = Path.of(args[1]);
        int seqLen = Integer.parseInt(args[2]), windows = Integer.parseInt(args[3]);
        String[] texts = args[4].split(",");
        Files.createDirectories(work);
        Path f32 = work.resolve("f32.gguf");
        LlamaGgufExport.write(model, f32, true, LlamaGgufExport::sameType);
        List<Entry> files = new ArrayList<>();
        Map<String, List<Entry>> byType = new LinkedHashMap<>();
        for (String t : new String[] {"Q4_0", "Q4_1"}) {
            Path q = work.resolve("llama.cpp-" + t + ".gguf");
            LlamaCpp.quantize(f32, q, LlamaCpp.FileType.valueOf(t), 1);
            byType.computeIfAbsent(t, k -> new ArrayList<>()).add(new Entry("llama.cpp " + t + " (`llama_model_quantize`)", q));
        }
        for (int i = 5; i < args.length; i++) {
            String[] p = args[i].split("=", 3);
            Path out = work.resolve(p[0].replace(' ', '-') + "-" + p[1] + ".gguf");
            // llama.cpp's choices for what is not our blocks: F16 for ragged linears, Q8_0 embedding.
            List<String> notes = LlamaGgufExport.writeQuantized(model, Path.of(p[2]), out, true, GgufType.F16, GgufType.Q8_0);
            for (String n : notes) System.err.println(p[0] + " " + p[1] + ": " + n);
            byType.computeIfAbsent(p[1], k -> new ArrayList<>()).add(new Entry("shrink4j " + p[0] + " → " + p[1], out));
        }
        byType.values().forEach(files::addAll);

        List<int[]> streams = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            LlamaModel m = LlamaModel.load(model, a);
            Tokenizer tok = Tokenizer.load(model, m.config());
            for (String t : texts) streams.add(tok.encode(Files.readString(Path.of(t)), false));
        }
        int bos = 1;
        double[][] nll = new double[files.size() + 1][texts.length];
        double[][] kl = new double[files.size()][texts.length];
        for (int ti = 0; ti < texts.length; ti++) {
            List<float[]> ref = new ArrayList<>();
            try (LlamaCpp llama = new LlamaCpp(f32, seqLen, 1)) {
                for (int w = 0; w < windows; w++) ref.add(llama.logitsAll(window(streams.get(ti), w, seqLen, bos)));
                nll[0][ti] = score(ref, null, streams.get(ti), seqLen, llama.vocabSize())[0];
            }
            for (int f = 0; f < files.size(); f++) {
                try (LlamaCpp llama = new LlamaCpp(files.get(f).gguf(), seqLen, 1)) {
                    List<float[]> q = new ArrayList<>();
                    for (int w = 0; w < windows; w++) q.add(llama.logitsAll(window(streams.get(ti), w, seqLen, bos)));
                    double[] s = score(q, ref, streams.get(ti), seqLen, llama.vocabSize());
                    nll[f + 1][ti] = s[0];
                    kl[f][ti] = s[1];
                }
            }
        }
        StringBuilder head = new StringBuilder("| file | bytes |");
        StringBuilder rule = new StringBuilder("|---|---|");
        for (String t : texts) {
            String n = Path.of(t).getFileName().toString();
            head.append(" ").append(n).append(" ΔNLL | ").append(n).append(" KL |");
            rule.append("---|---|");
        }
        StringBuilder f32Row = new StringBuilder("| F32 export (reference) | " + String.format(Locale.ROOT, "%,d", Files.size(f32)) + " |");
        for (int ti = 0; ti < texts.length; ti++) f32Row.append(String.format(Locale.ROOT, " NLL %.6f | 0 |", nll[0][ti]));
        System.out.println(head);
        System.out.println(rule);
        System.out.println(f32Row);
        for (int f = 0; f < files.size(); f++) {
            StringBuilder row = new StringBuilder("| " + files.get(f).label() + " | " + String.format(Locale.ROOT, "%,d", Files.size(files.get(f).gguf())) + " |");
            for (int ti = 0; ti < texts.length; ti++) row.append(String.format(Locale.ROOT, " %+.4f | %.4f |", nll[f + 1][ti] - nll[0][ti], kl[f][ti]));
            System.out.println(row);
        }
    }

    /** BOS + the w-th run of T − 1 tokens. */
    private static int[] window(int[] stream, int w, int seqLen, int bos) {
        if ((long) (w + 1) * (seqLen - 1) > stream.length) throw new IllegalArgumentException("text too short for window " + w);
        int[] in = new int[seqLen];
        in[0] = bos;
        System.arraycopy(stream, w * (seqLen - 1), in, 1, seqLen - 1);
        return in;
    }

    /** {mean NLL, mean KL(ref ‖ logits)} over every window's T − 1 predictions (KL 0 without ref). */
    private static double[] score(List<float[]> logits, List<float[]> ref, int[] stream, int seqLen, int v) {
        double nll = 0, kl = 0;
        long n = 0;
        double[] lp = new double[v], lr = new double[v];
        for (int w = 0; w < logits.size(); w++) {
            int[] in = window(stream, w, seqLen, 1);
            for (int i = 0; i < seqLen - 1; i++) {
                logSoftmax(logits.get(w), i * v, v, lp);
                nll -= lp[in[i + 1]];
                if (ref != null) {
                    logSoftmax(ref.get(w), i * v, v, lr);
                    for (int k = 0; k < v; k++) kl += Math.exp(lr[k]) * (lr[k] - lp[k]);
                }
                n++;
            }
        }
        return new double[] {nll / n, kl / n};
    }

    private static void logSoftmax(float[] z, int off, int v, double[] out) {
        double max = Double.NEGATIVE_INFINITY, s = 0;
        for (int k = 0; k < v; k++) max = Math.max(max, z[off + k]);
        for (int k = 0; k < v; k++) s += Math.exp(z[off + k] - max);
        double lse = max + Math.log(s);
        for (int k = 0; k < v; k++) out[k] = z[off + k] - lse;
    }
}
