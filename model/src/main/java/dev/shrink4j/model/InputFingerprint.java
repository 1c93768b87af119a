package dev.shrink4j.model;

import dev.shrink4j.tensors.ShrinkException;
import dev.shrink4j.tensors.io.Checkpoint;
import dev.shrink4j.tensors.io.FileChecksums;
import dev.shrink4j.tensors.io.SafetensorsFile;
import dev.shrink4j.tensors.io.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What a resumed run must find unchanged in its input checkpoint (docs/reliability.md "Resume"): SHA-256
 * of every file's name and size with the safetensors headers and the side files (config, tokenizer)
 * whole ({@code files}), of the tensors outside the decoder blocks (embeddings, final norm, LM head:
 * {@code rest}), and one per decoder block over its tensors' names, types, shapes and a 64-bit
 * checksum of their bytes ({@code blocks}). One sequential read of the input (TinyLlama-1.1B: 2.2 GB).
 *
 * <p>The tensor bytes are checksummed with CRC32C and CRC32 (64 bits together), not SHA-256: both are
 * JIT intrinsics that run at several GB/s, where SHA-256 was 27 % of a
 * data-free 4-bit run of a 1.1B F32 checkpoint (AMD EPYC). The fingerprint guards against an input
 * that changed by accident between a kill and the rerun, not against a forger (who could change the
 * output as well); two CRCs miss a random change with probability about 2^−64.
 */
record InputFingerprint(String files, String rest, List<String> blocks) {
    private static final Pattern BLOCK = Pattern.compile("model\\.layers\\.(\\d+)\\..*");

    static InputFingerprint of(Path in) {
        MessageDigest files = sha256();
        List<Path> all;
        try (Stream<Path> s = Files.isDirectory(in) ? Files.list(in) : Stream.of(in)) {
            all = s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new ShrinkException(in + ": cannot list (" + e.getMessage() + ")", e);
        }
        for (Path f : all) {
            try {
                files.update((f.getFileName() + "\0" + Files.size(f) + "\0").getBytes(StandardCharsets.UTF_8));
                if (f.getFileName().toString().endsWith(".safetensors")) header(f, files);
                else whole(f, files);
            } catch (IOException e) {
                throw new ShrinkException(f + ": cannot read (" + e.getMessage() + ")", e);
            }
        }
        if (!Files.isDirectory(in)) return new InputFingerprint(hex(files), "", List.of());
        MessageDigest rest = sha256();
        TreeMap<Integer, MessageDigest> blocks = new TreeMap<>();
        ByteBuffer buf = ByteBuffer.allocateDirect(8 << 20); // one read buffer for every tensor
        try (Arena arena = Arena.ofConfined()) {
            Checkpoint ck = Checkpoint.open(in, arena); // headers only: the tensor bytes are read, not mapped
            for (SafetensorsFile shard : ck.shards()) {
                long dataStart = Files.size(shard.path()) - shard.dataBytes(); // 8 + header length
                try (FileChannel ch = FileChannel.open(shard.path())) {
                    for (String name : shard.names()) {
                        Matcher m = BLOCK.matcher(name);
                        MessageDigest md = m.matches() ? blocks.computeIfAbsent(Integer.parseInt(m.group(1)), b -> sha256()) : rest;
                        TensorInfo t = shard.info(name);
                        md.update((name + "\0" + t.dtype() + "\0" + t.shape() + "\0").getBytes(StandardCharsets.UTF_8));
                        update(md, ch, dataStart + t.begin(), t.byteSize(), buf);
                    }
                }
            }
        } catch (IOException e) {
            throw new ShrinkException(in + ": cannot read (" + e.getMessage() + ")", e);
        }
        List<String> perBlock = new ArrayList<>();
        int layers = blocks.isEmpty() ? 0 : blocks.lastKey() + 1;
        for (int b = 0; b < layers; b++) perBlock.add(blocks.containsKey(b) ? hex(blocks.get(b)) : "");
        return new InputFingerprint(hex(files), hex(rest), perBlock);
    }

    /** Hash of the calibration tokens, in order, each sequence closed by −1. */
    static String tokens(int[][] sequences) {
        MessageDigest md = sha256();
        ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (int[] seq : sequences) {
            for (int t : seq) {
                if (!b.hasRemaining()) flush(md, b);
                b.putInt(t);
            }
            if (!b.hasRemaining()) flush(md, b);
            b.putInt(-1);
        }
        flush(md, b);
        return hex(md);
    }

    /** The first of files, rest and blocks that differs from {@code before}, in words, or null. */
    String differenceFrom(InputFingerprint before) {
        if (!files.equals(before.files)) return "IN's files changed since the interrupted run (names, sizes, safetensors headers, config or tokenizer)";
        if (!rest.equals(before.rest)) return "IN's embeddings, final norm or LM head changed since the interrupted run";
        for (int b = 0; b < Math.min(blocks.size(), before.blocks.size()); b++) {
            if (!blocks.get(b).equals(before.blocks.get(b))) return "block " + b + "'s tensors in IN changed since the interrupted run";
        }
        if (blocks.size() != before.blocks.size()) return "IN has " + blocks.size() + " blocks, the interrupted run's had " + before.blocks.size();
        return null;
    }

    private static void flush(MessageDigest md, ByteBuffer b) {
        md.update(b.array(), 0, b.position());
        b.clear();
    }

    /** The 8-byte length and the JSON header of a safetensors file. */
    private static void header(Path f, MessageDigest md) throws IOException {
        try (FileChannel ch = FileChannel.open(f)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (len.hasRemaining() && ch.read(len) >= 0) { }
            len.flip();
            md.update(len.duplicate());
            if (len.remaining() < 8) return;
            long n = len.getLong();
            // the reader refuses such files; here only what is there is hashed
            ByteBuffer h = ByteBuffer.allocate((int) Math.max(0, Math.min(n, Math.min(ch.size() - 8, 100L << 20))));
            while (h.hasRemaining() && ch.read(h) >= 0) { }
            h.flip();
            md.update(h);
        }
    }

    private static void whole(Path f, MessageDigest md) throws IOException {
        try (InputStream s = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = s.read(buf)) > 0; ) md.update(buf, 0, n);
        }
    }

    /** Adds the CRC32C and CRC32 of {@code len} file bytes from {@code pos} (read into {@code buf}, {@link FileChecksums}). */
    private static void update(MessageDigest md, FileChannel ch, long pos, long len, ByteBuffer buf) throws IOException {
        java.util.zip.CRC32C c = new java.util.zip.CRC32C();
        java.util.zip.CRC32 d = new java.util.zip.CRC32();
        FileChecksums.update(ch, pos, len, buf, c, d);
        md.update(ByteBuffer.allocate(16).putLong(c.getValue()).putLong(d.getValue()).flip());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String hex(MessageDigest md) {
        return HexFormat.of().formatHex(md.digest());
    }
}
