package dev.shrink4j.cuda;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds CUDA once per JVM. Absence is normal: {@link #probe()} answers {@link Absent} with one line
 * saying why (no library, no device, a driver too old for the PTX), and callers use the CPU kernels.
 *
 * <p>The driver is {@code libcuda.so.1}; {@code -Dshrink4j.cuda.driver=PATH} names another library
 * exporting the same entry points (the tests' CPU stand-in).
 */
public final class Cuda {
    /** System property naming the driver library. */
    public static final String DRIVER_PROPERTY = "shrink4j.cuda.driver";
    public static final String DEFAULT_DRIVER = "libcuda.so.1";

    private Cuda() {}

    /** What a probe found. */
    public sealed interface Probe permits Found, Absent {}

    /** A driver with at least one device, and the library it came from. */
    public record Found(String library, int driverVersion, List<DeviceInfo> devices) implements Probe {
        /** "13.0" for 13000. */
        public String driverVersionText() {
            return driverVersion / 1000 + "." + driverVersion % 1000 / 10;
        }
    }

    /** No usable CUDA, and why (one line). */
    public record Absent(String reason) implements Probe {}

    private static final class Holder {
        static final Probe PROBE = probe(System.getProperty(DRIVER_PROPERTY, DEFAULT_DRIVER));
    }

    /** Opened devices by ordinal: a CudaDevice, or the one-line reason it cannot be used. */
    private static final Map<Integer, Object> DEVICES = new HashMap<>();

    /** The probe of the configured driver, done once. */
    public static Probe probe() {
        return Holder.PROBE;
    }

    /** The configured driver's device 0; see {@link #device(int)}. */
    public static CudaDevice device() {
        return device(0);
    }

    /**
     * The configured driver's device {@code ordinal}, opened once per JVM (context, module, stream); a
     * failed open is remembered too, so every caller gets the same reason.
     *
     * @throws CudaUnavailableException with the reason when there is no such usable device, e.g.
     *     {@code cuda:2: no such device (the driver sees 1: cuda:0)}
     */
    public static CudaDevice device(int ordinal) {
        Object d;
        synchronized (DEVICES) {
            d = DEVICES.computeIfAbsent(ordinal, Cuda::open);
        }
        if (d instanceof CudaDevice dev) return dev;
        throw new CudaUnavailableException((String) d);
    }

    private static Object open(int ordinal) {
        if (probe() instanceof Absent a) return a.reason();
        int n = ((Found) probe()).devices().size();
        if (ordinal < 0 || ordinal >= n) {
            return "device " + ordinal + " does not exist (the driver sees " + n + ": "
                    + (n == 1 ? "cuda:0" : "cuda:0 to cuda:" + (n - 1)) + ")";
        }
        try {
            return CudaDevice.open(System.getProperty(DRIVER_PROPERTY, DEFAULT_DRIVER), ordinal);
        } catch (CudaUnavailableException e) {
            return e.getMessage();
        }
    }

    /** Probes {@code library}: loads it, initialises the driver and lists the devices. Never throws. */
    public static Probe probe(String library) {
        CudaDriver d;
        try {
            d = CudaDriver.open(library);
        } catch (CudaUnavailableException e) {
            return new Absent(e.getMessage());
        }
        try {
            d.call("cuInit", 0);
            int version = d.intOut("cuDriverGetVersion");
            int n = d.intOut("cuDeviceGetCount");
            if (n == 0) return new Absent(library + ": the driver sees no CUDA device");
            List<DeviceInfo> devices = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                devices.add(info(d, d.intOut("cuDeviceGet", i)));
            }
            return new Found(library, version, List.copyOf(devices));
        } catch (CudaException e) {
            // e.g. cuInit → CUDA_ERROR_NO_DEVICE, CUDA_ERROR_STUB_LIBRARY, CUDA_ERROR_INSUFFICIENT_DRIVER
            return new Absent(library + ": " + e.getMessage());
        }
    }

    static DeviceInfo info(CudaDriver d, int device) {
        return new DeviceInfo(device, d.deviceName(device),
                d.intOut("cuDeviceGetAttribute", CudaDriver.ATTR_COMPUTE_CAPABILITY_MAJOR, device),
                d.intOut("cuDeviceGetAttribute", CudaDriver.ATTR_COMPUTE_CAPABILITY_MINOR, device),
                d.longOut("cuDeviceTotalMem_v2", device),
                d.intOut("cuDeviceGetAttribute", CudaDriver.ATTR_MULTIPROCESSOR_COUNT, device),
                d.intOut("cuDeviceGetAttribute", CudaDriver.ATTR_CLOCK_RATE, device),
                d.intOut("cuDeviceGetAttribute", CudaDriver.ATTR_MEMORY_CLOCK_RATE, device),
                d.intOut("cuDeviceGetAttribute", CudaDriver.ATTR_GLOBAL_MEMORY_BUS_WIDTH, device));
    }
}
