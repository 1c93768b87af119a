#!/usr/bin/env python3
"""NumPy/OpenBLAS peer for the kernel rows of bench/run.

Usage: blas.py CASE --threads T --reps R
Cases: sgemm-N (C = A·Bᵀ, float32, N³), sgemv-N (y = W·x, float32), sum-MIB (sum of a float32 buffer).
Prints one line per timed repetition: "sample SECONDS". The thread count must be fixed before NumPy
loads OpenBLAS, so it is set in the environment first (threadpoolctl is used too when installed).
"""
import argparse
import sys

p = argparse.ArgumentParser()
p.add_argument("case")
p.add_argument("--threads", type=int, default=1)
p.add_argument("--reps", type=int, default=5)
p.add_argument("--warmup", type=int, default=2)
args = p.parse_args()

import peerlib  # noqa: E402  (beside this script)

peerlib.pin_threads(args.threads)

import numpy as np  # noqa: E402

peerlib.limit_loaded(args.threads)

kind, size = args.case.rsplit("-", 1)
n = int(size)
rng = np.random.default_rng(1)

if kind == "sgemm":
    a = rng.random((n, n), dtype=np.float32) - 0.5
    b = rng.random((n, n), dtype=np.float32) - 0.5
    c = np.empty((n, n), dtype=np.float32)
    op = lambda: np.matmul(a, b.T, out=c)
elif kind == "sgemv":
    w = rng.random((n, n), dtype=np.float32) - 0.5
    x = rng.random(n, dtype=np.float32) - 0.5
    y = np.empty(n, dtype=np.float32)
    op = lambda: np.matmul(w, x, out=y)
elif kind == "sum":
    buf = rng.random(n << 18, dtype=np.float32)
    op = lambda: buf.sum()
else:
    sys.exit(f"blas.py: unknown case '{args.case}' (expected sgemm-N, sgemv-N or sum-MIB)")

peerlib.print_samples(op, args.reps, args.warmup)
