package dev.shrink4j.cuda;

/** CUDA cannot be used on this machine; the message says why in one line (no library, no device, old driver). */
public final class CudaUnavailableException extends RuntimeException {
    public CudaUnavailableException(String reason) {
        super(reason);
    }
}
