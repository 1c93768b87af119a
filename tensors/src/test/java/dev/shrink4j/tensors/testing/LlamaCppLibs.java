package dev.shrink4j.tensors.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.zip.GZIPInputStream;

/**
 * llama.cpp's prebuilt CPU libraries for the test oracle, fetched from the npm registry package
 * {@code @node-llama-cpp/linux-x64@3.22.1} (MIT; llama.cpp release v0.5.0 in that package's
 * numbering) into {@code ~/.cache/shrink4j/llama.cpp/3.22.1/} once, checked against the registry's
 * published sha512, never committed. A test calling {@link #dir()} is skipped, with the reason,
 * when the platform is not linux-x64 or the download is impossible.
 */
public final class LlamaCppLibs {
    public static final String VERSION = "3.22.1";
    static final String URL = "https://registry.npmjs.org/@node-llama-cpp/linux-x64/-/linux-x64-" + VERSION + ".tgz";
    /** {@code dist.integrity} of the package as the registry publishes it. */
    static final String SHA512 = "5uCCDNqWCNfaAm8aR/Uzxbo4HBpKgNF91kCHPepKhgMgV2OAmatoefbOlMihsqCiH2Od35E/eUHQCFbfRBJuOg==";
    static final String PREFIX = "package/bins/linux-x64/";
    public static final String LIBLLAMA = "libllama.v0.5.0.so";
    public static final String LIBGGML = "libggml.v0.5.0.so";

    private static Path cached;

    private LlamaCppLibs() {}

    /** The folder holding libllama and the ggml CPU backends; skips the caller when unavailable. */
    public static synchronized Path dir() {
        if (cached != null) return cached;
        String os = System.getProperty("os.name", "").toLowerCase();
        String arch = System.getProperty("os.arch", "");
        assumeTrue(os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64")),
                "skipped: llama.cpp oracle libraries are fetched for linux-x64 only (this is " + os + "/" + arch + ")");
        String override = System.getenv("SHRINK4J_LLAMA_CPP_LIBS");
        Path dir = override != null ? Path.of(override)
                : Path.of(System.getProperty("user.home"), ".cache", "shrink4j", "llama.cpp", VERSION);
        if (!Files.isRegularFile(dir.resolve(LIBLLAMA))) {
            try {
                download(dir);
            } catch (IOException | InterruptedException | RuntimeException e) {
                assumeTrue(false, "skipped: cannot fetch llama.cpp from the npm registry (" + URL + "): " + e);
            }
        }
        cached = dir;
        return dir;
    }

    private static void download(Path dir) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).connectTimeout(Duration.ofSeconds(20)).build();
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(URL)).timeout(Duration.ofMinutes(3)).build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) throw new IOException("HTTP " + r.statusCode());
        byte[] tgz = r.body();
        String sha;
        try {
            sha = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-512").digest(tgz));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IOException(e);
        }
        if (!sha.equals(SHA512)) throw new IOException("sha512 mismatch: got " + sha);
        Path tmp = Files.createDirectories(dir.getParent()).resolve(dir.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        Files.createDirectories(tmp);
        try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(tgz))) {
            untar(in, tmp);
        }
        if (!Files.isRegularFile(tmp.resolve(LIBLLAMA))) throw new IOException("the package has no " + PREFIX + LIBLLAMA);
        try {
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            if (!Files.isRegularFile(dir.resolve(LIBLLAMA))) throw e; // else another JVM won the race
        }
    }

    /** Extracts the regular files under {@link #PREFIX} of a ustar stream (npm tarballs) into {@code out}. */
    static void untar(InputStream in, Path out) throws IOException {
        byte[] header = new byte[512];
        while (in.readNBytes(header, 0, 512) == 512) {
            if (header[0] == 0) break;
            String name = field(header, 0, 100);
            String prefix = field(header, 345, 155);
            if (!prefix.isEmpty()) name = prefix + "/" + name;
            long size = Long.parseLong(field(header, 124, 12).trim().isEmpty() ? "0" : field(header, 124, 12).trim(), 8);
            char type = (char) header[156];
            byte[] body = in.readNBytes((int) size);
            in.skipNBytes((512 - size % 512) % 512);
            if ((type == '0' || type == 0) && name.startsWith(PREFIX) && !name.substring(PREFIX.length()).contains("/")) {
                Files.write(out.resolve(name.substring(PREFIX.length())), body);
            }
        }
    }

    private static String field(byte[] h, int off, int len) {
        int end = off;
        while (end < off + len && h[end] != 0) end++;
        return new String(h, off, end - off, java.nio.charset.StandardCharsets.US_ASCII);
    }

}
