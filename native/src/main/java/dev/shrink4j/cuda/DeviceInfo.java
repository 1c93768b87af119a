package dev.shrink4j.cuda;

/**
 * What the driver reports about one device.
 *
 * @param totalMemory    bytes of device memory
 * @param clockKhz       SM clock (kHz), for the FP32 peak in the device check
 * @param memoryClockKhz memory clock (kHz)
 * @param busWidthBits   memory bus width (bits)
 */
public record DeviceInfo(int ordinal, String name, int ccMajor, int ccMinor, long totalMemory,
                         int multiprocessors, int clockKhz, int memoryClockKhz, int busWidthBits) {

    /** "NVIDIA H200, compute capability 9.0, 139.8 GiB, 132 SMs". */
    public String describe() {
        return String.format(java.util.Locale.ROOT, "%s, compute capability %d.%d, %.1f GiB, %d SMs",
                name, ccMajor, ccMinor, totalMemory / (double) (1L << 30), multiprocessors);
    }
}
