"""What every NumPy peer of bench/run shares: thread pinning before NumPy loads, and the timing loop.

Usage, before `import numpy`:  import peerlib; peerlib.pin_threads(T)
then, once the operation is built:  peerlib.print_samples(op, reps, warmup)
"""
import os
import time


def pin_threads(threads):
    """Fixes the BLAS thread count (must run before NumPy loads OpenBLAS) and lets OpenBLAS run as
    it detects the machine: OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE overrides are dropped for this process."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    os.environ.pop("OPENBLAS_CORETYPE", None)
    os.environ.pop("OPENBLAS_L2_SIZE", None)


def limit_loaded(threads):
    """Also limits pools already loaded, when threadpoolctl is installed."""
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(threads)
    except ImportError:
        pass


def print_samples(op, reps, warmup):
    """Runs `op` `warmup` times untimed, then prints one line "sample SECONDS" per timed repetition."""
    for _ in range(warmup):
        op()
    for _ in range(reps):
        t = time.perf_counter()
        op()
        print(f"sample {time.perf_counter() - t:.9f}", flush=True)
