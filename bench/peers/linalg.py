#!/usr/bin/env python3
"""SciPy/LAPACK peer for the linalg rows of bench/run (one thread).

Usage: linalg.py CASE --reps R [--warmup W]
Cases:
  cholesky-N       scipy.linalg.cholesky (dpotrf) of an SPD (N, N), copying the input like ours
  gptq-factor-N    upper Cholesky of H^-1 as GPTQ's reference does it: dpotrf -> dpotri -> dpotrf
  svd-N            scipy.linalg.svd(full_matrices=False) (gesdd) of a Gaussian (N, N)
  svd-MxN          the same for a Gaussian (M, N)
Prints one line per timed repetition: "sample SECONDS".
"""
import argparse
import sys

p = argparse.ArgumentParser()
p.add_argument("case")
p.add_argument("--reps", type=int, default=3)
p.add_argument("--warmup", type=int, default=None)
args = p.parse_args()

import peerlib  # noqa: E402  (beside this script)

peerlib.pin_threads(1)

import numpy as np  # noqa: E402
import scipy.linalg as sl  # noqa: E402
from scipy.linalg import lapack  # noqa: E402

peerlib.limit_loaded(1)

kind, size = args.case.rsplit("-", 1)
rng = np.random.default_rng(1)


def spd(n):
    r = rng.random((n, n)) - 0.5
    a = np.triu(r) + np.triu(r, 1).T
    a[np.diag_indices(n)] += n
    return a


if kind == "cholesky":
    n = int(size)
    h = spd(n)
    op = lambda: sl.cholesky(h, lower=False, check_finite=False)
    warm = 1
elif kind == "gptq-factor":
    n = int(size)
    h = spd(n)

    def op():
        c, info = lapack.dpotrf(h, lower=1)
        inv, info2 = lapack.dpotri(c, lower=1)
        inv = np.tril(inv) + np.tril(inv, -1).T
        u, info3 = lapack.dpotrf(inv, lower=0)
        if info or info2 or info3:
            sys.exit("gptq-factor: LAPACK failed")
        return u
    warm = 1
elif kind == "svd":
    m, n = (int(x) for x in size.split("x")) if "x" in size else (int(size), int(size))
    a = rng.standard_normal((m, n))
    op = lambda: sl.svd(a, full_matrices=False, check_finite=False)
    warm = 0
else:
    sys.exit(f"linalg.py: unknown case '{args.case}'")

peerlib.print_samples(op, args.reps, warm if args.warmup is None else args.warmup)
