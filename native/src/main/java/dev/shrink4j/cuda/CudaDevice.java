package dev.shrink4j.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;

/**
 * One opened device: its primary context (made current on whichever thread calls), the kernels'
 * module loaded from the committed PTX for its compute capability, one stream, grow-only device
 * scratch buffers and a page-locked ({@code cuMemHostRegister}) staging segment, so copies of heap
 * arrays go heap → staging → device by DMA. Calls are serialised on this object.
 */
public final class CudaDevice implements AutoCloseable {
    /** The kernels the PTX must define (dev/shrink4j/cuda/shrink4j_kernels.sm_XX.ptx). */
    static final String[] KERNELS = {"s4j_gemm_f32", "s4j_gemm_bf16", "s4j_gemm_f16", "s4j_syrk_upper",
        "s4j_uniform_matvec", "s4j_uniform_matmul", "s4j_lut_matvec", "s4j_lut_matmul", "s4j_nm_matvec", "s4j_nm_matmul",
        "s4j_csr_matmul_add"};
    private static final int CUDA_ERROR_INVALID_PTX = 218;
    private static final int CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222;
    private static final int CUDA_ERROR_NO_BINARY_FOR_GPU = 209;

    private final CudaDriver driver;
    private final DeviceInfo info;
    private final int driverVersion;
    private final String ptxTarget;
    private final MemorySegment context;
    private final MemorySegment module;
    private final MemorySegment stream;
    private final Map<String, MemorySegment> functions = new HashMap<>();
    private final long[] scratch = new long[6];       // device pointers, by slot
    private final long[] scratchBytes = new long[6];
    /** Device copies of read-only host memory (mapped weights), least recently used first. */
    private final java.util.LinkedHashMap<ResidentKey, Resident> resident = new java.util.LinkedHashMap<>(16, 0.75f, true);
    private long residentBytes;
    private Arena stagingArena;
    private MemorySegment staging = MemorySegment.NULL;  // page-locked host memory
    private boolean closed;

    private CudaDevice(CudaDriver driver, DeviceInfo info, int driverVersion, String ptxTarget,
                       MemorySegment context, MemorySegment module, MemorySegment stream) {
        this.driver = driver;
        this.info = info;
        this.driverVersion = driverVersion;
        this.ptxTarget = ptxTarget;
        this.context = context;
        this.module = module;
        this.stream = stream;
    }

    /**
     * Opens device {@code ordinal} of {@code library}.
     *
     * @throws CudaUnavailableException with one line saying why it cannot be used
     */
    public static CudaDevice open(String library, int ordinal) {
        CudaDriver d = CudaDriver.open(library);
        try {
            d.call("cuInit", 0);
            int version = d.intOut("cuDriverGetVersion");
            int dev = d.intOut("cuDeviceGet", ordinal);
            DeviceInfo info = Cuda.info(d, dev);
            String target = ptxTarget(info);
            MemorySegment ctx = d.pointerOut("cuDevicePrimaryCtxRetain", dev);
            d.call("cuCtxSetCurrent", ctx);
            MemorySegment module;
            String text = ptx(target);
            String isa = ptxIsaFor(version);
            try {
                module = loadModule(d, text);
            } catch (CudaException e) {
                CudaException failure = e;
                module = null;
                if (e.code() == CUDA_ERROR_UNSUPPORTED_PTX_VERSION && isa != null) {
                    // The kernels use nothing newer than an older PTX ISA: declare the one this driver reads.
                    try {
                        module = loadModule(d, withIsa(text, isa));
                    } catch (CudaException again) {
                        failure = again;
                    }
                }
                if (module == null) {
                    d.call("cuDevicePrimaryCtxRelease_v2", dev);
                    if (failure.code() == CUDA_ERROR_UNSUPPORTED_PTX_VERSION || failure.code() == CUDA_ERROR_INVALID_PTX
                            || failure.code() == CUDA_ERROR_NO_BINARY_FOR_GPU) {
                        throw new CudaUnavailableException("driver " + version / 1000 + "." + version % 1000 / 10
                                + " cannot load shrink4j's " + target + " PTX (built by CUDA 13" + (isa == null ? "" : ", also tried as PTX ISA " + isa)
                                + "; update the NVIDIA driver): " + failure.getMessage());
                    }
                    throw failure;
                }
            }
            MemorySegment stream = d.pointerOut("cuStreamCreate", 0);
            CudaDevice device = new CudaDevice(d, info, version, target, ctx, module, stream);
            for (String k : KERNELS) {
                try (Arena a = Arena.ofConfined()) {
                    device.functions.put(k, d.pointerOut("cuModuleGetFunction", module, a.allocateFrom(k)));
                }
            }
            return device;
        } catch (CudaException e) {
            throw new CudaUnavailableException(library + ": " + e.getMessage());
        }
    }

    private static MemorySegment loadModule(CudaDriver d, String ptx) {
        try (Arena a = Arena.ofConfined()) {
            return d.pointerOut("cuModuleLoadData", a.allocateFrom(ptx));
        }
    }

    /**
     * The newest PTX ISA a driver of this version reads, when older than the ISA CUDA 13 writes (9.0);
     * null for 13.0 and later. From NVIDIA's PTX ISA release history: CUDA 11.x reads 7.x, 12.0–12.4 read
     * 8.0–8.4, 12.5 and 12.6 read 8.5, 12.8 reads 8.7, 12.9 reads 8.8.
     */
    static String ptxIsaFor(int driverVersion) {
        int major = driverVersion / 1000, minor = driverVersion % 1000 / 10;
        if (major >= 13) return null;
        if (major == 12) {
            if (minor >= 9) return "8.8";
            if (minor >= 8) return "8.7";
            if (minor >= 5) return "8.5";
            return "8." + minor;
        }
        if (major == 11) return "7." + Math.min(minor, 8);
        return "6.0";
    }

    /** {@code ptx} declaring PTX ISA {@code isa} instead of the version nvcc wrote. */
    static String withIsa(String ptx, String isa) {
        return ptx.replaceFirst("(?m)^\\.version \\d+\\.\\d+$", ".version " + isa);
    }

    /** sm_90 PTX for compute capability 9.0 and later, sm_80 for 8.x; older devices are refused. */
    static String ptxTarget(DeviceInfo info) {
        if (info.ccMajor() >= 9) return "sm_90";
        if (info.ccMajor() == 8) return "sm_80";
        throw new CudaUnavailableException(info.name() + " has compute capability " + info.ccMajor() + "." + info.ccMinor()
                + "; shrink4j's kernels need 8.0 or later");
    }

    /** The committed PTX text for {@code target} (sm_80 or sm_90). */
    static String ptx(String target) {
        String name = "shrink4j_kernels." + target + ".ptx";
        try (InputStream in = CudaDevice.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("resource dev/shrink4j/cuda/" + name + " missing from the jar");
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + name, e);
        }
    }

    public DeviceInfo info() {
        return info;
    }

    public int driverVersion() {
        return driverVersion;
    }

    /** "sm_80" or "sm_90": the PTX loaded. */
    public String ptxTarget() {
        return ptxTarget;
    }

    public String library() {
        return driver.library();
    }

    CudaDriver driver() {
        return driver;
    }

    // ---------------------------------------------------------------- used with the monitor held

    /** Makes the context current on the calling thread (cheap; threads come and go). */
    void enter() {
        if (closed) throw new IllegalStateException("CUDA device closed");
        driver.call("cuCtxSetCurrent", context);
    }

    /** Device scratch buffer {@code slot} (0..5) of at least {@code bytes}, grown when needed; contents undefined. */
    long scratch(int slot, long bytes) {
        if (scratchBytes[slot] < bytes) {
            if (scratch[slot] != 0) driver.call("cuMemFree_v2", scratch[slot]);
            scratch[slot] = 0;
            scratchBytes[slot] = 0;
            long size = Math.max(bytes, 1L << 20);
            scratch[slot] = driver.longOut("cuMemAlloc_v2", size);
            scratchBytes[slot] = size;
        }
        return scratch[slot];
    }

    private record ResidentKey(long address, long bytes, String form) {}

    private record Resident(MemorySegment host, long ptr, long bytes) {}

    /**
     * A device copy of {@code host} in the given {@code form} ("raw" = its bytes; anything else: what
     * {@code fill} writes into a {@code bytes}-long segment). Read-only host memory (a mapped
     * checkpoint's weights) is uploaded once and stays resident while its mapping lives, least recently
     * used first out beyond a quarter of the device's memory; writable memory may change between calls,
     * so it is uploaded into scratch {@code slot} every time.
     */
    long resident(MemorySegment host, String form, long bytes, int slot, java.util.function.Consumer<MemorySegment> fill) {
        boolean keep = host.isReadOnly();
        ResidentKey key = new ResidentKey(host.address(), bytes, form);
        if (keep) {
            Resident r = resident.get(key);
            if (r != null && r.host().scope().isAlive() && r.host().byteSize() == host.byteSize()) return r.ptr();
            if (r != null) evict(key);
        }
        long ptr;
        if (keep) {
            long budget = info.totalMemory() / 4;
            var it = resident.entrySet().iterator();
            while (residentBytes + bytes > budget && it.hasNext()) {
                var e = it.next();
                driver.call("cuMemFree_v2", e.getValue().ptr());
                residentBytes -= e.getValue().bytes();
                it.remove();
            }
            ptr = driver.longOut("cuMemAlloc_v2", bytes);
        } else {
            ptr = scratch(slot, bytes);
        }
        if (fill == null) {
            driver.call("cuMemcpyHtoD_v2", ptr, host, bytes);
        } else {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment tmp = a.allocate(bytes, 64);
                fill.accept(tmp);
                driver.call("cuMemcpyHtoD_v2", ptr, tmp, bytes);
            }
        }
        if (keep) {
            resident.put(key, new Resident(host, ptr, bytes));
            residentBytes += bytes;
        }
        return ptr;
    }

    private void evict(ResidentKey key) {
        Resident r = resident.remove(key);
        driver.call("cuMemFree_v2", r.ptr());
        residentBytes -= r.bytes();
    }

    /** Bytes of host memory kept resident on the device. */
    synchronized long residentBytes() {
        return residentBytes;
    }

    /** The page-locked staging segment, at least {@code bytes} long; contents undefined. */
    MemorySegment staging(long bytes) {
        if (staging.byteSize() < bytes) {
            releaseStaging();
            long size = Math.max(Long.highestOneBit(Math.max(bytes, 1L << 20) - 1) << 1, 1L << 20);
            stagingArena = Arena.ofShared();
            staging = stagingArena.allocate(size, 4096);
            driver.call("cuMemHostRegister_v2", staging, size, CudaDriver.HOST_REGISTER_DEFAULT);
        }
        return staging;
    }

    private void releaseStaging() {
        if (stagingArena != null) {
            driver.call("cuMemHostUnregister", staging);
            stagingArena.close();
            stagingArena = null;
            staging = MemorySegment.NULL;
        }
    }

    /** Queues a copy of {@code bytes} from staging offset {@code off} (page-locked) to {@code dst}. */
    void uploadStaged(long off, long dst, long bytes) {
        if (bytes > 0) driver.call("cuMemcpyHtoDAsync_v2", dst, staging.asSlice(off, bytes), bytes, stream);
    }

    /** Queues a copy from the device into staging offset {@code off}. */
    void downloadStaged(long src, long off, long bytes) {
        if (bytes > 0) driver.call("cuMemcpyDtoHAsync_v2", staging.asSlice(off, bytes), src, bytes, stream);
    }

    /** Copies any host segment (e.g. a mapped weight) to the device, synchronously. */
    void upload(MemorySegment src, long dst) {
        driver.call("cuMemcpyHtoD_v2", dst, src, src.byteSize());
    }

    /** Waits for everything queued on the stream. */
    void sync() {
        driver.call("cuStreamSynchronize", stream);
    }

    /**
     * Queues kernel {@code name} on the stream with a (gx, gy) grid of (bx, by) blocks. Arguments are
     * Integer (int), Long (long long or a device pointer) or MemorySegment.NULL (a null pointer).
     */
    void launch(String name, int gx, int gy, int bx, int by, Object... args) {
        MemorySegment f = functions.get(name);
        if (f == null) throw new IllegalArgumentException("no kernel " + name);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment params = a.allocate(ValueLayout.ADDRESS, args.length);
            for (int i = 0; i < args.length; i++) {
                MemorySegment slot = switch (args[i]) {
                    case Integer v -> a.allocateFrom(ValueLayout.JAVA_INT, v);
                    case Long v -> a.allocateFrom(ValueLayout.JAVA_LONG, v);
                    case MemorySegment s when s.equals(MemorySegment.NULL) -> a.allocateFrom(ValueLayout.JAVA_LONG, 0L);
                    default -> throw new IllegalArgumentException("kernel argument " + i + ": " + args[i]);
                };
                params.setAtIndex(ValueLayout.ADDRESS, i, slot);
            }
            driver.call("cuLaunchKernel", f, gx, gy, 1, bx, by, 1, 0, stream, params, MemorySegment.NULL);
        }
    }

    @Override public synchronized void close() {
        if (closed) return;
        enter();
        for (int i = 0; i < scratch.length; i++) {
            if (scratch[i] != 0) driver.call("cuMemFree_v2", scratch[i]);
            scratch[i] = 0;
            scratchBytes[i] = 0;
        }
        releaseStaging();
        for (Resident r : resident.values()) driver.call("cuMemFree_v2", r.ptr());
        resident.clear();
        residentBytes = 0;
        driver.call("cuStreamDestroy_v2", stream);
        driver.call("cuModuleUnload", module);
        driver.call("cuDevicePrimaryCtxRelease_v2", info.ordinal());
        closed = true;
    }
}
