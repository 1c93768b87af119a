package dev.shrink4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The bindings against the stand-in driver: probing, absence, error mapping, copies. */
class CudaDriverTest {

    @Test
    void probeOfTheStandInListsItsDevice() {
        Cuda.Probe p = Cuda.probe(Emulator.library());
        Cuda.Found f = assertInstanceOf(Cuda.Found.class, p);
        assertEquals(13000, f.driverVersion());
        assertEquals("13.0", f.driverVersionText());
        assertEquals(1, f.devices().size());
        DeviceInfo d = f.devices().getFirst();
        assertEquals(9, d.ccMajor());
        assertEquals(1L << 30, d.totalMemory());
        assertEquals("shrink4j CUDA emulation (CPU stand-in), compute capability 9.0, 1.0 GiB, 1 SMs", d.describe());
    }

    @Test
    void aMissingLibraryIsAbsenceWithOneLineOfReason() {
        Cuda.Absent a = assertInstanceOf(Cuda.Absent.class, Cuda.probe("/nonexistent/libcuda.so.1"));
        assertEquals("/nonexistent/libcuda.so.1 not found (no NVIDIA driver installed)", a.reason());
        assertThrows(CudaUnavailableException.class, () -> CudaDevice.open("/nonexistent/libcuda.so.1", 0));
    }

    @Test
    void aLibraryWithoutTheDriverSymbolsIsAbsence() {
        // libc loads but exports no cuInit: "driver too old" names the first missing symbol.
        Cuda.Absent a = assertInstanceOf(Cuda.Absent.class, Cuda.probe("libc.so.6"));
        assertEquals("libc.so.6 has no cuInit (driver too old)", a.reason());
    }

    @Test
    void aFailedCallNamesTheCallAndTheErrorName() {
        CudaDevice dev = Emulator.device();
        synchronized (dev) {
            dev.enter();
            CudaException e = assertThrows(CudaException.class, () -> dev.driver().call("cuMemFree_v2", 12345L));
            assertEquals("cuMemFree_v2", e.call());
            assertEquals("CUDA_ERROR_INVALID_VALUE", e.errorName());
            assertEquals("cuMemFree_v2 failed: CUDA_ERROR_INVALID_VALUE (invalid argument)", e.getMessage());
            CudaException g = assertThrows(CudaException.class, () -> dev.driver().intOut("cuDeviceGet", 7));
            assertEquals("cuDeviceGet failed: CUDA_ERROR_INVALID_DEVICE (invalid device ordinal)", g.getMessage());
        }
    }

    @Test
    void stagedCopiesRoundTripThroughDeviceMemory() {
        CudaDevice dev = Emulator.device();
        synchronized (dev) {
            dev.enter();
            MemorySegment st = dev.staging(4096);
            for (int i = 0; i < 1024; i++) st.setAtIndex(ValueLayout.JAVA_INT, i, i * 7 - 3);
            long p = dev.scratch(3, 4096);
            dev.uploadStaged(0, p, 4096);
            dev.sync();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment back = a.allocate(4096);
                dev.driver().call("cuMemcpyDtoH_v2", back, p, 4096L);
                for (int i = 0; i < 1024; i++) assertEquals(i * 7 - 3, back.getAtIndex(ValueLayout.JAVA_INT, i));
            }
        }
    }

    @Test
    void anOlderDriverIsOfferedThePtxIsaItReads() {
        assertEquals(null, CudaDevice.ptxIsaFor(13000));
        assertEquals(null, CudaDevice.ptxIsaFor(13010));
        assertEquals("8.8", CudaDevice.ptxIsaFor(12090));
        assertEquals("8.7", CudaDevice.ptxIsaFor(12080));
        assertEquals("8.5", CudaDevice.ptxIsaFor(12060));
        assertEquals("8.4", CudaDevice.ptxIsaFor(12040));
        assertEquals("8.0", CudaDevice.ptxIsaFor(12000));
        assertEquals("7.8", CudaDevice.ptxIsaFor(11080));
        String ptx = CudaDevice.ptx("sm_90");
        String older = CudaDevice.withIsa(ptx, "8.4");
        assertTrue(older.contains("\n.version 8.4\n"), "the .version line is rewritten");
        assertEquals(ptx.replace("\n.version 9.0\n", "\n.version 8.4\n"), older, "and nothing else");
    }

    @Test
    void thePtxIsChosenByComputeCapability() {
        assertEquals("sm_90", CudaDevice.ptxTarget(new DeviceInfo(0, "H200", 9, 0, 1, 1, 1, 1, 1)));
        assertEquals("sm_90", CudaDevice.ptxTarget(new DeviceInfo(0, "B200", 10, 0, 1, 1, 1, 1, 1)));
        assertEquals("sm_80", CudaDevice.ptxTarget(new DeviceInfo(0, "A100", 8, 0, 1, 1, 1, 1, 1)));
        assertEquals("sm_80", CudaDevice.ptxTarget(new DeviceInfo(0, "L4", 8, 9, 1, 1, 1, 1, 1)));
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> CudaDevice.ptxTarget(new DeviceInfo(0, "Tesla T4", 7, 5, 1, 1, 1, 1, 1)));
        assertEquals("Tesla T4 has compute capability 7.5; shrink4j's kernels need 8.0 or later", e.getMessage());
        assertEquals("sm_90", Emulator.device().ptxTarget());
        assertTrue(Emulator.device().library().endsWith("libshrink4j-cudaemu.so"));
    }
}
