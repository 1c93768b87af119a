#!/usr/bin/env python3
"""NumPy/LAPACK peer for the low-rank rows of bench/run (bench/rows/lowrank.tsv).

Usage: lowrank.py CASE --threads T --reps R
Cases (fp64, a (N, N) matrix of uniform values in [-0.5, 0.5)):
  rsvd-N-R   randomized rank-R SVD as shrink4j does it (docs/methods/lowrank-lost.md §1): Ω Gaussian (N, R+10),
             Q = qr(AΩ), 2 power iterations with re-orthonormalization, SVD of QᵀA, U = Q·Ũ
  lost-N-R   rsvd-N-R plus LOST's column selection (docs/methods/lowrank-lost.md §6): residual column norms
             ‖A_j‖² − Σ σ_i² V_ji², top c = N/20 columns, their residual values
  svd-N      exact thin SVD, numpy.linalg.svd (LAPACK gesdd)
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

peerlib.limit_loaded(args.threads)

parts = args.case.split("-")
kind, n = parts[0], int(parts[1])
r = int(parts[2]) if len(parts) > 2 else 0
rng = np.random.default_rng(1)
a = (rng.random((n, n)) - 0.5).astype(np.float32).astype(np.float64)


def rsvd(a, rank, oversampling=10, power=2):
    m, k = a.shape
    l = min(rank + oversampling, min(m, k))
    omega = np.random.default_rng(0).standard_normal((k, l))
    q, _ = np.linalg.qr(a @ omega)
    for _ in range(power):
        z, _ = np.linalg.qr(a.T @ q)
        q, _ = np.linalg.qr(a @ z)
    ub, s, vt = np.linalg.svd(q.T @ a, full_matrices=False)
    return (q @ ub)[:, :rank], s[:rank], vt[:rank]


def lost(a, rank):
    u, s, vt = rsvd(a, rank)
    c = max(1, a.shape[1] // 20)
    scores = np.einsum("ij,ij->j", a, a) - np.einsum("i,ij->j", s * s, vt * vt)
    keep = np.sort(np.argsort(-scores, kind="stable")[:c])
    values = a[:, keep] - (u * s) @ vt[:, keep]
    return u, s, vt, keep, values


if kind == "rsvd":
    op = lambda: rsvd(a, r)
elif kind == "lost":
    op = lambda: lost(a, r)
elif kind == "svd":
    op = lambda: np.linalg.svd(a, full_matrices=False)
else:
    sys.exit(f"lowrank.py: unknown case '{args.case}' (expected rsvd-N-R, lost-N-R or svd-N)")

peerlib.print_samples(op, args.reps, args.warmup)
