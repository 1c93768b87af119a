#!/usr/bin/env python3
"""NumPy peer for the pruning rows of bench/run: SparseGPT on one square float32 layer.

Usage: prune.py CASE --threads T --reps R
Cases: sparsegpt-N      the 50 % unstructured sweep (bs = 128) given the upper Cholesky factor of H⁻¹,
                        as the reference fasterprune loop does it (IST-DASLab/sparsegpt), in float32;
       inversefactor-N  damping + Cholesky + inverse + Cholesky of the inverse in float64 (NumPy/LAPACK).
Prints one line per timed repetition: "sample SECONDS".
"""
import argparse
import sys

p = argparse.ArgumentParser()
p.add_argument("case")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--reps", type=int, default=3)
p.add_argument("--warmup", type=int, default=1)
args = p.parse_args()

import peerlib  # noqa: E402  (beside this script)

peerlib.pin_threads(args.threads)

import numpy as np  # noqa: E402

kind, size = args.case.rsplit("-", 1)
d = int(size)
rng = np.random.default_rng(1)
w0 = rng.standard_normal((d, d), dtype=np.float32)
n = 1024  # as the Java side: rank-deficient for d > 1024, the 1 % damping makes it definite
x = rng.standard_normal((n, d), dtype=np.float32)
h = (x.T.astype(np.float64) @ x.astype(np.float64)) / n


def inverse_factor(h):
    hd = h + 0.01 * np.mean(np.diag(h)) * np.eye(d)
    l = np.linalg.cholesky(hd)
    hinv = np.linalg.inv(hd)  # the reference uses cholesky_inverse(L); LAPACK potri is not in NumPy
    return np.linalg.cholesky(hinv).T  # upper U with UᵀU = H⁻¹


u = inverse_factor(h).astype(np.float32)


def sweep():
    w = w0.copy()
    bs = 128
    for i1 in range(0, d, bs):
        i2 = min(i1 + bs, d)
        w1 = w[:, i1:i2].copy()
        e1 = np.zeros_like(w1)
        u1 = u[i1:i2, i1:i2]
        diag = np.diag(u1)
        tmp = w1 ** 2 / diag[None, :] ** 2
        k = int(tmp.size * 0.5)
        thresh = np.partition(tmp.ravel(), k)[k]
        mask = tmp < thresh
        for c in range(i2 - i1):
            wc = w1[:, c]
            q = np.where(mask[:, c], 0.0, wc).astype(np.float32)
            err = (wc - q) / diag[c]
            w1[:, c:] -= np.outer(err, u1[c, c:])
            w1[:, c] = q
            e1[:, c] = err
        w[:, i1:i2] = w1
        w[:, i2:] -= e1 @ u[i1:i2, i2:]
    return w


if kind == "sparsegpt":
    op = sweep
elif kind == "inversefactor":
    op = lambda: inverse_factor(h)
else:
    sys.exit(f"prune.py: unknown case '{args.case}' (expected sparsegpt-N or inversefactor-N)")

peerlib.print_samples(op, args.reps, args.warmup)
