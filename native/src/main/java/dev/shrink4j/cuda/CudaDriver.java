package dev.shrink4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.HashMap;
import java.util.Map;

/**
 * FFM downcalls into the CUDA driver API ({@code libcuda.so.1}, or the stand-in named by
 * {@code -Dshrink4j.cuda.driver}). Only the entry points shrink4j uses, with the {@code _v2} symbols
 * where the driver has them. Every call's CUresult is checked: a failure is one {@link CudaException}
 * naming the call and the driver's error name.
 *
 * <p>Handles (contexts, modules, functions, streams) are {@link MemorySegment} addresses; device
 * pointers are {@code long}s. Not thread-safe by itself; {@link CudaDevice} serialises its use.
 */
final class CudaDriver {
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout.OfInt UINT = ValueLayout.JAVA_INT;
    private static final java.lang.foreign.AddressLayout PTR = ValueLayout.ADDRESS;

    /** The signatures, declared as data: name → (argument layouts); every one returns CUresult (int). */
    private static final Map<String, MemoryLayout[]> SIGNATURES = new java.util.LinkedHashMap<>();

    static {
        sig("cuInit", UINT);
        sig("cuDriverGetVersion", PTR);
        sig("cuDeviceGetCount", PTR);
        sig("cuDeviceGet", PTR, INT);
        sig("cuDeviceGetName", PTR, INT, INT);
        sig("cuDeviceGetAttribute", PTR, INT, INT);
        sig("cuDeviceTotalMem_v2", PTR, INT);
        sig("cuDevicePrimaryCtxRetain", PTR, INT);
        sig("cuDevicePrimaryCtxRelease_v2", INT);
        sig("cuCtxSetCurrent", PTR);
        sig("cuCtxSynchronize");
        sig("cuModuleLoadData", PTR, PTR);
        sig("cuModuleUnload", PTR);
        sig("cuModuleGetFunction", PTR, PTR, PTR);
        sig("cuMemAlloc_v2", PTR, LONG);
        sig("cuMemFree_v2", LONG);
        sig("cuMemcpyHtoD_v2", LONG, PTR, LONG);
        sig("cuMemcpyDtoH_v2", PTR, LONG, LONG);
        sig("cuMemcpyHtoDAsync_v2", LONG, PTR, LONG, PTR);
        sig("cuMemcpyDtoHAsync_v2", PTR, LONG, LONG, PTR);
        sig("cuMemHostRegister_v2", PTR, LONG, UINT);
        sig("cuMemHostUnregister", PTR);
        sig("cuStreamCreate", PTR, UINT);
        sig("cuStreamDestroy_v2", PTR);
        sig("cuStreamSynchronize", PTR);
        sig("cuLaunchKernel", PTR, UINT, UINT, UINT, UINT, UINT, UINT, UINT, PTR, PTR, PTR);
        sig("cuGetErrorName", INT, PTR);
        sig("cuGetErrorString", INT, PTR);
    }

    private static void sig(String name, MemoryLayout... args) {
        SIGNATURES.put(name, args);
    }

    // CUdevice_attribute values (cuda.h)
    static final int ATTR_CLOCK_RATE = 13;
    static final int ATTR_MULTIPROCESSOR_COUNT = 16;
    static final int ATTR_MEMORY_CLOCK_RATE = 36;
    static final int ATTR_GLOBAL_MEMORY_BUS_WIDTH = 37;
    static final int ATTR_COMPUTE_CAPABILITY_MAJOR = 75;
    static final int ATTR_COMPUTE_CAPABILITY_MINOR = 76;

    /** cuMemHostRegister flag: none needed, the copies only want the pages pinned. */
    static final int HOST_REGISTER_DEFAULT = 0;

    private final String library;
    private final Map<String, MethodHandle> handles = new HashMap<>();

    private CudaDriver(String library, Map<String, MethodHandle> handles) {
        this.library = library;
        this.handles.putAll(handles);
    }

    /**
     * Binds every entry point of {@code library} (a name for the dynamic loader or a path).
     *
     * @throws CudaUnavailableException when the library or one of its symbols is missing
     */
    static CudaDriver open(String library) {
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(library, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new CudaUnavailableException(library + " not found (no NVIDIA driver installed)");
        }
        Linker linker = Linker.nativeLinker();
        Map<String, MethodHandle> hs = new HashMap<>();
        for (var e : SIGNATURES.entrySet()) {
            MemorySegment symbol = lookup.find(e.getKey()).orElseThrow(() ->
                    new CudaUnavailableException(library + " has no " + e.getKey() + " (driver too old)"));
            hs.put(e.getKey(), linker.downcallHandle(symbol, FunctionDescriptor.of(INT, e.getValue())));
        }
        return new CudaDriver(library, hs);
    }

    String library() {
        return library;
    }

    /** Calls {@code name} and returns its CUresult unchecked (for probing). */
    int raw(String name, Object... args) {
        MethodHandle h = handles.get(name);
        try {
            return (int) h.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(name, t);
        }
    }

    /** Calls {@code name}; throws {@link CudaException} unless it returns CUDA_SUCCESS. */
    void call(String name, Object... args) {
        int r = raw(name, args);
        if (r != 0) {
            throw new CudaException(name, r, errorName(r), errorString(r));
        }
    }

    /** The driver's name for a CUresult, e.g. CUDA_ERROR_INVALID_VALUE (or "CUresult N" when unknown). */
    String errorName(int code) {
        return describe("cuGetErrorName", code, "CUresult " + code);
    }

    String errorString(int code) {
        return describe("cuGetErrorString", code, null);
    }

    private String describe(String call, int code, String fallback) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(PTR);
            if (raw(call, code, out) != 0) return fallback;
            MemorySegment s = out.get(PTR, 0);
            return s.equals(MemorySegment.NULL) ? fallback : s.reinterpret(4096).getString(0);
        }
    }

    // ---------------------------------------------------------------- typed helpers

    int intOut(String name, Object... argsAfterOut) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(INT);
            call(name, prepend(out, argsAfterOut));
            return out.get(INT, 0);
        }
    }

    long longOut(String name, Object... argsAfterOut) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(LONG);
            call(name, prepend(out, argsAfterOut));
            return out.get(LONG, 0);
        }
    }

    MemorySegment pointerOut(String name, Object... argsAfterOut) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(PTR);
            call(name, prepend(out, argsAfterOut));
            return out.get(PTR, 0);
        }
    }

    String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            call("cuDeviceGetName", buf, 256, device);
            return buf.getString(0);
        }
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }
}
