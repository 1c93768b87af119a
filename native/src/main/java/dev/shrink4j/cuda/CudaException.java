package dev.shrink4j.cuda;

/** A CUDA driver call returned an error: the message names the call and the driver's error name. */
public final class CudaException extends RuntimeException {
    private final String call;
    private final int code;
    private final String errorName;

    CudaException(String call, int code, String errorName, String errorText) {
        super(call + " failed: " + errorName + (errorText == null ? "" : " (" + errorText + ")"));
        this.call = call;
        this.code = code;
        this.errorName = errorName;
    }

    /** The driver entry point, e.g. {@code cuMemAlloc_v2}. */
    public String call() {
        return call;
    }

    /** The CUresult code. */
    public int code() {
        return code;
    }

    /** The driver's name for the code, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String errorName() {
        return errorName;
    }
}
