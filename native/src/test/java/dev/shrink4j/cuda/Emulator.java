package dev.shrink4j.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The CPU stand-in for libcuda.so.1 (src/test/emu + src/main/cuda/shrink4j_kernels.cu), built with
 * g++ into target/emu by the first test that needs it (again whenever a source is newer), and the
 * device opened on it through the real FFM bindings.
 */
final class Emulator {
    static final Path MODULE = Path.of(System.getProperty("basedir", "."));
    static final Path LIBRARY = MODULE.resolve("target/emu/libshrink4j-cudaemu.so");
    static final List<Path> SOURCES = List.of(
            MODULE.resolve("src/test/emu/emu_driver.cpp"),
            MODULE.resolve("src/test/emu/cuda_emu.h"),
            MODULE.resolve("src/main/cuda/shrink4j_kernels.cu"));

    private static CudaDevice device;

    private Emulator() {}

    /** The stand-in library's path, built if missing or stale. */
    static synchronized String library() {
        try {
            FileTime newest = FileTime.fromMillis(0);
            for (Path s : SOURCES) {
                FileTime t = Files.getLastModifiedTime(s);
                if (t.compareTo(newest) > 0) newest = t;
            }
            if (!Files.exists(LIBRARY) || Files.getLastModifiedTime(LIBRARY).compareTo(newest) < 0) {
                Files.createDirectories(LIBRARY.getParent());
                Path tmp = LIBRARY.resolveSibling("tmp-" + ProcessHandle.current().pid() + ".so");
                Path log = LIBRARY.resolveSibling("g++.log");
                Process p = new ProcessBuilder("g++", "-O2", "-U_FORTIFY_SOURCE", "-std=c++17", "-shared", "-fPIC",
                        "-I" + MODULE.resolve("src/main/cuda"), "-I" + MODULE.resolve("src/test/emu"),
                        SOURCES.get(0).toString(), "-o", tmp.toString())
                        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
                if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException("g++ failed to build the CUDA stand-in; see " + log);
                }
                Files.move(tmp, LIBRARY, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            return LIBRARY.toString();
        } catch (IOException e) {
            throw new IllegalStateException("cannot build the CUDA stand-in (is g++ installed?): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** System property: {@code driver} runs the differential tests on the real driver (native/device-check). */
    static final String TEST_DEVICE_PROPERTY = "shrink4j.cuda.test.device";

    /**
     * The device the kernel tests run on, opened once per test JVM: the stand-in, or with
     * {@code -Dshrink4j.cuda.test.device=driver} the configured driver's device 0 (libcuda.so.1).
     */
    static synchronized CudaDevice device() {
        if (device == null) {
            device = "driver".equals(System.getProperty(TEST_DEVICE_PROPERTY))
                    ? CudaDevice.open(System.getProperty(Cuda.DRIVER_PROPERTY, Cuda.DEFAULT_DRIVER), 0)
                    : CudaDevice.open(library(), 0);
        }
        return device;
    }
}
