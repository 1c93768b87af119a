package dev.shrink4j.model;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.Json;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * The vocabulary and merge table of a BPE {@code tokenizer.json}, and the merge loop shared by both
 * tokenizer families: repeatedly merge the adjacent pair of lowest merge rank (leftmost on ties), as
 * Hugging Face tokenizers does. A heap over candidate pairs keeps it O(n log n) on long inputs.
 */
final class BpeVocabulary {
    private final String[] pieces; // id → token string
    private final Map<String, Integer> ids;
    private final Map<Long, long[]> merges; // (left id, right id) → {rank, merged id}
    private final BitSet special;

    private BpeVocabulary(String[] pieces, Map<String, Integer> ids, Map<Long, long[]> merges, BitSet special) {
        this.pieces = pieces;
        this.ids = ids;
        this.merges = merges;
        this.special = special;
    }

    static BpeVocabulary parse(Map<String, Object> root, Path file) {
        Map<String, Object> model = JsonFields.object(root, "model");
        Map<String, Integer> ids = new HashMap<>();
        int max = -1;
        Map<String, Object> vocab = JsonFields.object(model, "vocab");
        for (Map.Entry<String, Object> e : (vocab == null ? Map.<String, Object>of() : vocab).entrySet()) {
            int id = tokenId(file, e.getKey(), e.getValue());
            ids.put(e.getKey(), id);
            max = Math.max(max, id);
        }
        BitSet special = new BitSet();
        for (Object a : JsonFields.list(root, "added_tokens")) {
            int id = tokenId(file, JsonFields.text(a, "content", ""), a instanceof Map<?, ?> m ? m.get("id") : null);
            ids.putIfAbsent(JsonFields.text(a, "content", ""), id);
            max = Math.max(max, id);
            if (JsonFields.bool(a, "special", false)) special.set(id);
        }
        if (max < 0) {
            throw new ShrinkException(file + ": empty vocabulary");
        }
        // Ids index an array of pieces: a few entries claiming id 10⁹ must not allocate gigabytes.
        if (max >= 4L * ids.size() + 4096) {
            throw new ShrinkException(file + ": token id " + max + " for a vocabulary of " + ids.size() + " entries (ids must be dense)");
        }
        String[] pieces = new String[max + 1];
        ids.forEach((k, v) -> pieces[v] = k);
        Map<Long, long[]> merges = new HashMap<>();
        int rank = 0;
        for (Object m : JsonFields.list(model, "merges")) {
            String a;
            String b;
            if (m instanceof List<?> pair) {
                a = JsonFields.text(pair.get(0), "");
                b = JsonFields.text(pair.get(1), "");
            } else {
                String s = JsonFields.text(m, "");
                int sp = s.indexOf(' ', 1);
                if (sp < 0) throw new ShrinkException(file + ": malformed merge \"" + s + "\"");
                a = s.substring(0, sp);
                b = s.substring(sp + 1);
            }
            Integer ia = ids.get(a);
            Integer ib = ids.get(b);
            Integer im = ids.get(a + b);
            if (ia != null && ib != null && im != null) {
                merges.putIfAbsent(key(ia, ib), new long[] {rank, im});
            }
            rank++;
        }
        return new BpeVocabulary(pieces, ids, merges, special);
    }

    /** Largest vocabulary accepted (2²⁴; real ones are at most a few hundred thousand). */
    static final int MAX_TOKENS = 1 << 24;

    private static int tokenId(Path file, String piece, Object value) {
        if (!(value instanceof Long n) || n < 0 || n >= MAX_TOKENS) {
            throw new ShrinkException(file + ": token " + Json.write(piece, 0) + " has id " + value + "; expected an integer in [0, " + MAX_TOKENS + ")");
        }
        return n.intValue();
    }

    private static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    int id(String piece) {
        Integer i = ids.get(piece);
        return i == null ? -1 : i;
    }

    String piece(int id) {
        return id >= 0 && id < pieces.length ? pieces[id] : null;
    }

    boolean isSpecial(int id) {
        return id >= 0 && special.get(id);
    }

    int size() {
        return pieces.length;
    }

    /** Applies the merges to the symbol ids {@code sym[0..n)}; returns the merged ids. */
    int[] merge(int[] sym, int n) {
        if (n < 2) {
            return Arrays.copyOf(sym, n);
        }
        int[] id = Arrays.copyOf(sym, n);
        int[] next = new int[n];
        int[] prev = new int[n];
        int[] version = new int[n];
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        // Candidates ordered by (rank, position); stale entries are detected by the version stamps.
        PriorityQueue<long[]> heap = new PriorityQueue<>((x, y) -> x[0] != y[0] ? Long.compare(x[0], y[0]) : Long.compare(x[1], y[1]));
        for (int i = 0; i + 1 < n; i++) push(heap, id, i, i + 1, version);
        while (!heap.isEmpty()) {
            long[] c = heap.poll();
            int left = (int) c[1];
            int right = (int) c[2];
            if (id[left] < 0 || next[left] != right || version[left] != (int) c[3] || version[right] != (int) c[4]) {
                continue;
            }
            id[left] = (int) c[5];
            version[left]++;
            id[right] = -1;
            int nn = next[right];
            next[left] = nn;
            if (nn >= 0) prev[nn] = left;
            if (prev[left] >= 0) push(heap, id, prev[left], left, version);
            if (nn >= 0) push(heap, id, left, nn, version);
        }
        int count = 0;
        for (int i = 0; i >= 0; i = next[i]) id[count++] = id[i];
        return Arrays.copyOf(id, count);
    }

    private void push(PriorityQueue<long[]> heap, int[] id, int left, int right, int[] version) {
        long[] m = merges.get(key(id[left], id[right]));
        if (m != null) {
            heap.add(new long[] {m[0], left, right, version[left], version[right], m[1]});
        }
    }
}
