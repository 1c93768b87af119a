#!/usr/bin/env python3
"""NumPy peer for the quantize rows of bench/run: GPTQ (docs/methods/rtn-gptq.md §2) and LNQ (docs/methods/guidedquant-lnq.md §5) of one layer
from a given H, the same data and math as bench/src/main/java/dev/shrink4j/bench/quantize/.

Usage: quantize.py CASE --threads T --reps R [--check]
Cases: gptq-N (4-bit asymmetric, group 128, act-order + static groups, bs 128, damping 0.01),
       lnq-N[-T-K] (SqueezeLLM init with equal weights, then T iterations of K CD sweeps + C-step; 1-1 default).
Prints one line per timed repetition: "sample SECONDS"; --check prints the layer error instead.
A straightforward NumPy implementation (the GPTQ reference's structure), float32 sweeps, float64
factorizations; the LNQ C-step by BLAS (a GEMM per code with the 0/1 mask of that code, then bincount).
"""
import argparse
import sys

p = argparse.ArgumentParser()
p.add_argument("case")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--reps", type=int, default=3)
p.add_argument("--warmup", type=int, default=1)
p.add_argument("--check", action="store_true")
args = p.parse_args()
import peerlib  # noqa: E402  (beside this script)

peerlib.pin_threads(args.threads)
import numpy as np  # noqa: E402

parts = args.case.split("-")
kind, n = parts[0], int(parts[1])
T = int(parts[2]) if len(parts) > 2 else 1
K = int(parts[3]) if len(parts) > 3 else 1


def weights(n):
    j = np.arange(n, dtype=np.int64)[:, None]
    i = np.arange(n, dtype=np.int64)[None, :]
    v = (j * 7919 + i * 104729 + (i * j) % 7) % 1000
    return ((v / 1000.0 - 0.5) * 0.04).astype(np.float32)


def hessian(n):
    s = np.where(np.arange(n) % 97 == 0, 10.0, 1.0)
    idx = np.arange(n)
    k = 0.9 ** np.abs(idx[:, None] - idx[None, :])
    return s[:, None] * k * s[None, :]


def f16(x):
    return np.maximum(x.astype(np.float16).astype(np.float32), np.float32(2.0 ** -24))


def grid(lo, hi, bits):
    lo = np.minimum(lo, 0)
    hi = np.maximum(hi, 0)
    both = (lo == 0) & (hi == 0)
    lo = np.where(both, -1, lo)
    hi = np.where(both, 1, hi)
    maxq = 2 ** bits - 1
    scale = f16((hi - lo) / maxq)
    zero = np.clip(np.rint(-lo / scale), 0, maxq)
    return scale, zero


def cholesky_inverse(L):
    """H^-1 from H's lower Cholesky factor: LAPACK potri when SciPy is there (as torch.cholesky_inverse
    in the GPTQ reference), else the inverse of L by NumPy."""
    try:
        from scipy.linalg import lapack
    except ImportError:
        Li = np.linalg.inv(L)
        return Li.T @ Li
    Hinv, info = lapack.dpotri(L, lower=1)
    assert info == 0, info
    return np.tril(Hinv) + np.tril(Hinv, -1).T


def gptq(W, H, bits=4, gs=128, bs=128, damp=0.01):
    W = W.copy()
    d_out, d_in = W.shape
    H = H.copy()
    dead = np.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    perm = np.argsort(-np.diag(H), kind="stable")
    ng = (d_in + gs - 1) // gs
    scales = np.empty((d_out, ng), np.float32)
    zeros = np.empty((d_out, ng), np.float32)
    for g in range(ng):
        blk = W[:, g * gs:(g + 1) * gs]
        scales[:, g], zeros[:, g] = grid(blk.min(1), blk.max(1), bits)
    W = W[:, perm]
    H = H[perm][:, perm]
    H = H + damp * np.mean(np.diag(H)) * np.eye(d_in)
    Hinv = cholesky_inverse(np.linalg.cholesky(H))
    U = np.linalg.cholesky(Hinv).T.astype(np.float32)
    Q = np.zeros_like(W)
    maxq = 2 ** bits - 1
    for i1 in range(0, d_in, bs):
        i2 = min(i1 + bs, d_in)
        W1 = W[:, i1:i2].copy()
        E1 = np.zeros_like(W1)
        for c in range(i2 - i1):
            g = perm[i1 + c] // gs
            s, z = scales[:, g], zeros[:, g]
            w = W1[:, c]
            q = s * (np.clip(np.rint(w / s) + z, 0, maxq) - z)
            Q[:, i1 + c] = q
            e = (w - q) / U[i1 + c, i1 + c]
            E1[:, c] = e
            W1[:, c + 1:] -= np.outer(e, U[i1 + c, i1 + c + 1:i2])
        W[:, i2:] -= E1 @ U[i1:i2, i2:]
    inv = np.argsort(perm)
    return Q[:, inv]


def squeeze_init(W, bits):
    """SqueezeLLM with equal weights (SqueezeLlm.quantize with fisher = null): per row, 1-D Lloyd on the
    sorted values with fp64 prefix sums, started at the (k + 1/2)/m quantiles, until no assignment
    changes or 50 steps; codebook rounded to fp16 and sorted, codes = nearest entry (lower on a tie)."""
    m = 2 ** bits
    d_out, d_in = W.shape
    v = np.sort(W, 1).astype(np.float64)
    s1 = np.zeros((d_out, d_in + 1))
    np.cumsum(v, 1, out=s1[:, 1:])
    rows = np.arange(d_out)[:, None]
    idx = np.clip(np.ceil((np.arange(m) + 0.5) / m * d_in).astype(int) - 1, 0, d_in - 1)
    C = v[:, idx]
    for j in np.nonzero((np.diff(C, axis=1) <= 0).any(1))[0]:  # twins: next distinct value up
        r = 0
        for k in range(1, m):
            if C[j, k] > C[j, k - 1]:
                continue
            while r < d_in and v[j, r] <= C[j, k - 1]:
                r += 1
            if r < d_in:
                C[j, k] = v[j, r]
    prev = None
    for _ in range(50):
        C.sort(1)
        mid = 0.5 * (C[:, :-1] + C[:, 1:])
        hi = np.empty((d_out, m), np.int64)
        hi[:, -1] = d_in
        for j in range(d_out):
            hi[j, :-1] = np.searchsorted(v[j], mid[j], "right")
        if prev is not None and np.array_equal(hi, prev):
            break
        lo = np.concatenate([np.zeros((d_out, 1), np.int64), hi[:, :-1]], 1)
        mass = hi - lo
        C = np.where(mass > 0, (s1[rows, hi] - s1[rows, lo]) / np.maximum(mass, 1), C)
        prev = hi
    C.sort(1)
    cb = np.sort(np.clip(C.astype(np.float32), -65504, 65504).astype(np.float16).astype(np.float32), 1)
    codes = np.zeros(W.shape, np.int64)
    for k in range(m - 1):
        codes += (W - cb[:, k:k + 1]) > (cb[:, k + 1:k + 2] - W)
    return codes, cb.astype(np.float64)


def lnq(W, H, bits=4, T=1, K=1, bs=128, ridge=1e-7):
    """LNQ (docs/methods/guidedquant-lnq.md §5) on a positive definite H (no damping needed): C-step, then T times (K sweeps, C-step),
    keeping the best (codes, codebooks) by f."""
    d_out, d_in = W.shape
    m = 2 ** bits
    codes, C = squeeze_init(W, bits)
    lam = ridge * np.mean(np.diag(H))
    Hf = H.astype(np.float32)
    Ht = (H / np.diag(H)[None, :]).astype(np.float32)  # Ht[l, i] = H_li / H_ii
    rows = np.arange(d_out)
    HW = W @ Hf  # rows (H w_j)^T
    whw = np.einsum("ji,ji->j", W.astype(np.float64), HW.astype(np.float64))

    def cstep(codes, C):
        """Exact codebook c = (P^T H P + lam I)^-1 P^T H w per row, by BLAS: for each code k, the rows'
        sums of H's rows over their columns with code k (one GEMM with the 0/1 mask), then summed by
        the code of each column (bincount). Returns the new codebooks and f per row before / after."""
        flat = (codes + (rows * m)[:, None]).ravel()
        PHw = np.bincount(flat, HW.ravel(), d_out * m).reshape(d_out, m)
        PHP = np.empty((d_out, m, m))
        for k in range(m):
            A = (codes == k).astype(np.float32) @ Hf
            PHP[:, k, :] = np.bincount(flat, A.ravel(), d_out * m).reshape(d_out, m)

        def f(c):
            return whw - 2 * np.einsum("jk,jk->j", c, PHw) + np.einsum("jk,jkl,jl->j", c, PHP, c)

        Cn = np.linalg.solve(PHP + lam * np.eye(m), PHw[:, :, None])[:, :, 0]
        return Cn, f(C), f(Cn)

    def sweep(codes, C):
        """One cyclic CD sweep over the columns with lazy blocks of bs, all rows at once (float32)."""
        Cf = C.astype(np.float32)
        E = Cf[rows[:, None], codes] - W
        R = np.zeros_like(E)  # R[:, i] = sum_{l > i} E[:, l] Ht[l, i], block-wise
        for i1 in range(0, d_in, bs):
            i2 = min(i1 + bs, d_in)
            R[:, i1:i2] = E[:, i1:i2] @ np.tril(Ht[i1:i2, i1:i2], -1) + E[:, i2:] @ Ht[i2:, i1:i2]
        for i1 in range(0, d_in, bs):
            i2 = min(i1 + bs, d_in)
            for i in range(i1, i2):
                d = np.abs((W[:, i] - R[:, i])[:, None] - Cf)
                k = d.argmin(1)
                cur = codes[:, i]
                codes[:, i] = np.where(d[rows, cur] == d[rows, k], cur, k)  # keep unless strictly nearer
                E[:, i] = Cf[rows, codes[:, i]] - W[:, i]
                R[:, i + 1:i2] += np.outer(E[:, i], Ht[i, i + 1:i2])
            R[:, i2:] += E[:, i1:i2] @ Ht[i1:i2, i2:]

    C, _, f = cstep(codes, C)
    best = (f.sum(), codes.copy(), C)
    for _ in range(T):
        for _ in range(K):
            sweep(codes, C)
        C, _, f = cstep(codes, C)
        if not f.sum() < best[0]:
            break
        best = (f.sum(), codes.copy(), C)
    _, codes, C = best
    return C[rows[:, None], codes]

W = weights(n)
H = hessian(n)
op = (lambda: gptq(W, H)) if kind == "gptq" else (lambda: lnq(W, H, 4, T, K))
if args.check:
    Q = op()
    E = (Q - W).astype(np.float64)
    print(f"{args.case}: layer error {np.sum((E @ H) * E):.6g}")
    sys.exit(0)
peerlib.print_samples(op, args.reps, args.warmup)
