#!/usr/bin/env python3
"""NumPy peer for the quantize rows of bench/run: GPTQ (METHODS §2.2) and LNQ (§3.5) of one layer
from a given H, the same data and math as bench/src/main/java/dev/shrink4j/bench/quantize/.

Usage: quantize.py CASE --threads T --reps R [--check]
Cases: gptq-N (4-bit asymmetric, group 128, act-order + static groups, bs 128, damping 0.01),
       lnq-N[-T-K] (SqueezeLLM init with equal weights, then T iterations of K CD sweeps + C-step; 1-1 default).
Prints one line per timed repetition: "sample SECONDS"; --check prints the layer error instead.
A straightforward NumPy implementation (the GPTQ reference's structure), float32 sweeps, float64 factorizations.
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
    L = np.linalg.cholesky(H)
    Hinv = np.linalg.inv(L).T @ np.linalg.inv(L)
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
    # equal weights: k-means from quantiles, per row (as SqueezeLlm.quantize with fisher = null, one start)
    m = 2 ** bits
    d_out, d_in = W.shape
    srt = np.sort(W, 1).astype(np.float64)
    idx = np.clip(((np.arange(m) + 0.5) / m * d_in).astype(int), 0, d_in - 1)
    C = srt[:, idx]
    for _ in range(50):
        b = (C[:, :-1] + C[:, 1:]) / 2
        codes = (W[:, :, None] > b[:, None, :]).sum(2)
        onehot = codes[:, :, None] == np.arange(m)
        cnt = onehot.sum(1)
        sm = (onehot * W[:, :, None]).sum(1)
        newC = np.where(cnt > 0, sm / np.maximum(cnt, 1), C)
        newC.sort(1)
        if np.allclose(newC, C):
            break
        C = newC
    b = (C[:, :-1] + C[:, 1:]) / 2
    return (W[:, :, None] > b[:, None, :]).sum(2), C


def lnq(W, H, bits=4, T=1, K=1, bs=128, ridge=1e-7):
    d_out, d_in = W.shape
    m = 2 ** bits
    codes, C = squeeze_init(W, bits)
    lam = ridge * np.mean(np.diag(H))
    Hf = H.astype(np.float32)
    Ht = (H / np.diag(H)[None, :]).astype(np.float32)
    rows = np.arange(d_out)

    def cstep(codes):
        onehot = (codes[:, :, None] == np.arange(m)).astype(np.float32)  # (d_out, d_in, m)
        HP = np.einsum("ij,rjk->rik", Hf, onehot)  # (d_out, d_in, m)
        PHP = np.einsum("rik,ril->rkl", onehot, HP).astype(np.float64) + lam * np.eye(m)
        PHw = np.einsum("rik,ri->rk", HP, W).astype(np.float64)
        return np.linalg.solve(PHP, PHw[:, :, None])[:, :, 0]

    C = cstep(codes)
    for _ in range(T):
        for _ in range(K):
            Wq = C[rows[:, None], codes].astype(np.float32)
            E = Wq - W
            R = E @ np.tril(Ht, -1)
            for i1 in range(0, d_in, bs):
                i2 = min(i1 + bs, d_in)
                for i in range(i1, i2):
                    t = W[:, i] - R[:, i]
                    codes[:, i] = np.argmin(np.abs(t[:, None] - C), 1)
                    E[:, i] = C[rows, codes[:, i]] - W[:, i]
                    R[:, i + 1:i2] += np.outer(E[:, i], Ht[i, i + 1:i2])
                R[:, i2:] += E[:, i1:i2] @ Ht[i1:i2, i2:]
        C = cstep(codes)
    return C[rows[:, None], codes]


W = weights(n)
H = hessian(n)
op = (lambda: gptq(W, H)) if kind == "gptq" else (lambda: lnq(W, H, 4, T, K))
if args.check:
    Q = op()
    E = (Q - W).astype(np.float64)
    print(f"{args.case}: layer error {np.einsum('ji,ik,jk->', E, H, E):.6g}")
    sys.exit(0)
peerlib.print_samples(op, args.reps, args.warmup)
