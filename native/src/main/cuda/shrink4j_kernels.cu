// shrink4j CUDA kernels: the GPU side of dev.shrink4j.cuda.CudaKernels / CudaFormatKernels.
//
// One source, two compilers: nvcc builds it to PTX (native/build-ptx, committed under
// src/main/resources/dev/shrink4j/cuda/), and g++ builds it with src/test/emu/cuda_emu.h into the
// CPU stand-in driver the tests load through the same FFM bindings. So the kernels use only what the
// emulation provides: threadIdx/blockIdx/blockDim/gridDim, __shared__ arrays, __syncthreads(), and no
// warp intrinsics, tensor cores or CUDA headers.
//
// Matrices are row-major F32 unless a kernel says otherwise; every operand is addressed by strides
// so one GEMM body serves A·Bᵀ, A·B and Aᵀ·B (and SYRK as Xᵀ·X on the upper triangle).

#define S4J_EXTERN extern "C"

// GEMM blocking: a block of 16 × 16 threads computes a 64 × 64 tile of C, each thread a 4 × 4
// register tile (rows ty + 16·r, columns tx + 16·c, so a warp's shared-memory reads of B hit 32
// consecutive banks), over 16-deep slices of the sum held in shared memory.
#define S4J_BM 64
#define S4J_BN 64
#define S4J_BK 16
#define S4J_THREADS_1D 16
#define S4J_TM (S4J_BM / S4J_THREADS_1D)
#define S4J_TN (S4J_BN / S4J_THREADS_1D)

enum S4jWeight { S4J_W_F32 = 0, S4J_W_BF16 = 1, S4J_W_F16 = 2 };

__device__ __forceinline__ float s4j_bits_to_float(unsigned int u) {
#ifdef SHRINK4J_EMULATION
    float f;
    memcpy(&f, &u, 4);
    return f;
#else
    return __uint_as_float(u);
#endif
}

// IEEE binary16 → binary32, exact (subnormals, infinities and NaN payloads included), as Floats.f16ToF32.
__device__ __forceinline__ float s4j_f16_to_f32(unsigned short h) {
    unsigned int sign = (unsigned int) (h & 0x8000u) << 16;
    unsigned int exp = (h >> 10) & 0x1fu;
    unsigned int man = h & 0x3ffu;
    if (exp == 0x1fu) {
        return s4j_bits_to_float(sign | 0x7f800000u | (man << 13));
    }
    if (exp == 0) {
        // subnormal (or zero): man · 2^-24, exact in binary32
        float v = (float) man * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    return s4j_bits_to_float(sign | ((exp + 112u) << 23) | (man << 13));
}

template <int W>
__device__ __forceinline__ float s4j_weight(const void* b, long long idx) {
    if (W == S4J_W_F32) return ((const float*) b)[idx];
    if (W == S4J_W_BF16) return s4j_bits_to_float((unsigned int) ((const unsigned short*) b)[idx] << 16);
    return s4j_f16_to_f32(((const unsigned short*) b)[idx]);
}

// C(i, j) (+)= Σ_p A(i, p)·B(p, j) with A(i, p) = a[i·sai + p·sap], B(p, j) = b[p·sbp + j·sbj],
// C(i, j) = c[i·ldc + j]. With rowWeights, A(i, p) is scaled by rowWeights[p] (GuidedQuant's H̄ₖ);
// with upper, only tiles and entries with j ≥ i are computed (SYRK). Block (16, 16), grid
// (ceil(n / 64), ceil(m / 64)). Each output is one sequential sum over p, in order.
template <int W>
__device__ void s4j_gemm_body(int m, int n, int k,
                              const float* a, long long sai, long long sap,
                              const void* b, long long sbp, long long sbj,
                              const float* rowWeights, int upper,
                              float* c, long long ldc, int accumulate) {
    __shared__ float as[S4J_BK][S4J_BM + 4];  // as[p][i]: the A slice, transposed
    __shared__ float bs[S4J_BK][S4J_BN + 4];  // bs[p][j]
    if (upper && blockIdx.x < blockIdx.y) return;  // square tiles: the whole tile is below the diagonal
    int tx = threadIdx.x, ty = threadIdx.y;
    int tid = ty * S4J_THREADS_1D + tx;
    int nthreads = S4J_THREADS_1D * S4J_THREADS_1D;
    int row0 = blockIdx.y * S4J_BM, col0 = blockIdx.x * S4J_BN;
    float acc[S4J_TM][S4J_TN];
    for (int r = 0; r < S4J_TM; r++)
        for (int q = 0; q < S4J_TN; q++) acc[r][q] = 0.0f;
    for (int p0 = 0; p0 < k; p0 += S4J_BK) {
        // Loads: consecutive threads take consecutive addresses along whichever index has stride 1.
        for (int e = tid; e < S4J_BM * S4J_BK; e += nthreads) {
            int i, p;
            if (sap == 1) { i = e / S4J_BK; p = e % S4J_BK; } else { i = e % S4J_BM; p = e / S4J_BM; }
            int gi = row0 + i, gp = p0 + p;
            float v = 0.0f;
            if (gi < m && gp < k) {
                v = a[(long long) gi * sai + (long long) gp * sap];
                if (rowWeights) v *= rowWeights[gp];
            }
            as[p][i] = v;
        }
        for (int e = tid; e < S4J_BN * S4J_BK; e += nthreads) {
            int j, p;
            if (sbj == 1) { j = e % S4J_BN; p = e / S4J_BN; } else { j = e / S4J_BK; p = e % S4J_BK; }
            int gj = col0 + j, gp = p0 + p;
            bs[p][j] = (gj < n && gp < k) ? s4j_weight<W>(b, (long long) gp * sbp + (long long) gj * sbj) : 0.0f;
        }
        __syncthreads();
        for (int p = 0; p < S4J_BK; p++) {
            float av[S4J_TM], bv[S4J_TN];
            for (int r = 0; r < S4J_TM; r++) av[r] = as[p][ty + S4J_THREADS_1D * r];
            for (int q = 0; q < S4J_TN; q++) bv[q] = bs[p][tx + S4J_THREADS_1D * q];
            for (int r = 0; r < S4J_TM; r++)
                for (int q = 0; q < S4J_TN; q++) acc[r][q] += av[r] * bv[q];
        }
        __syncthreads();
    }
    for (int r = 0; r < S4J_TM; r++) {
        int row = row0 + ty + S4J_THREADS_1D * r;
        for (int q = 0; q < S4J_TN; q++) {
            int col = col0 + tx + S4J_THREADS_1D * q;
            if (row < m && col < n && (!upper || col >= row)) {
                long long o = (long long) row * ldc + col;
                c[o] = accumulate ? c[o] + acc[r][q] : acc[r][q];
            }
        }
    }
}

S4J_EXTERN __global__ void s4j_gemm_f32(int m, int n, int k, const float* a, long long sai, long long sap,
                                        const float* b, long long sbp, long long sbj,
                                        float* c, long long ldc, int accumulate) {
    s4j_gemm_body<S4J_W_F32>(m, n, k, a, sai, sap, b, sbp, sbj, 0, 0, c, ldc, accumulate);
}

S4J_EXTERN __global__ void s4j_gemm_bf16(int m, int n, int k, const float* a, long long sai, long long sap,
                                         const unsigned short* b, long long sbp, long long sbj,
                                         float* c, long long ldc, int accumulate) {
    s4j_gemm_body<S4J_W_BF16>(m, n, k, a, sai, sap, b, sbp, sbj, 0, 0, c, ldc, accumulate);
}

S4J_EXTERN __global__ void s4j_gemm_f16(int m, int n, int k, const float* a, long long sai, long long sap,
                                        const unsigned short* b, long long sbp, long long sbj,
                                        float* c, long long ldc, int accumulate) {
    s4j_gemm_body<S4J_W_F16>(m, n, k, a, sai, sap, b, sbp, sbj, 0, 0, c, ldc, accumulate);
}

// H += Σ_t s_t·x_t·x_tᵀ on the upper triangle (j ≥ i): Xᵀ·X with X (rows, d), leading dimension ldx;
// rowWeights (rows) or null. H (d, d), leading dimension ldh.
S4J_EXTERN __global__ void s4j_syrk_upper(int rows, int d, const float* x, long long ldx,
                                          const float* rowWeights, float* h, long long ldh) {
    s4j_gemm_body<S4J_W_F32>(d, d, rows, x, 1, ldx, x, ldx, 1, rowWeights, 1, h, ldh, 1);
}

// Code i of a row of b-bit codes packed little-endian (docs/formats.md): bits [i·b, (i+1)·b) of the
// row's bit stream; a 3-bit code may straddle two bytes.
__device__ __forceinline__ int s4j_code(const unsigned char* row, int i, int bits) {
    long long bit = (long long) i * bits;
    long long byte = bit >> 3;
    int shift = (int) (bit & 7);
    int word = row[byte];
    if (shift + bits > 8) word |= (int) row[byte + 1] << 8;
    return (word >> shift) & ((1 << bits) - 1);
}

// Sums the block's per-thread partial results into partial[0] (blockDim.x a power of two ≤ 256).
__device__ __forceinline__ float s4j_block_sum(float* partial, float v) {
    int t = threadIdx.x;
    partial[t] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (t < s) partial[t] += partial[t + s];
        __syncthreads();
    }
    return partial[0];
}

// y = Ŵ·x for uniform group quantization with static groups: ŵ[j, i] = s[j, g]·(q[j, i] − z[j, g]),
// g = i / groupSize. q: codes of `bits` bits packed little-endian per row (rowBytes per row);
// scales F32 (dOut, nGroups); zeros one byte per group (dOut, nGroups), or null for symmetric
// (z = 2^(bits−1)). One block per row (grid.x = dOut), blockDim.x threads, a power of two ≤ 256.
S4J_EXTERN __global__ void s4j_uniform_matvec(int dOut, int dIn, int bits, int groupSize, int nGroups,
                                              const unsigned char* q, long long rowBytes,
                                              const float* scales, const unsigned char* zeros,
                                              const float* x, float* y) {
    __shared__ float partial[256];
    int j = blockIdx.x;
    int t = threadIdx.x, nt = blockDim.x;
    const unsigned char* qr = q + (long long) j * rowBytes;
    const float* sr = scales + (long long) j * nGroups;
    int symZero = 1 << (bits - 1);
    float acc = 0.0f;
    if (j < dOut) {
        for (int i = t; i < dIn; i += nt) {
            int g = i / groupSize;
            int z = zeros ? (int) zeros[(long long) j * nGroups + g] : symZero;
            acc += sr[g] * (float) (s4j_code(qr, i, bits) - z) * x[i];
        }
    }
    float sum = s4j_block_sum(partial, acc);
    if (t == 0 && j < dOut) y[j] = sum;
}

// y = Ŵ·x for codebook (LUT) quantization: ŵ[j, i] = lut[j, g, q[j, i]], g = i / groupSize. Codes
// packed as for the uniform format; lut F32 (dOut, nGroups, 2^bits). One block per row, as above.
S4J_EXTERN __global__ void s4j_lut_matvec(int dOut, int dIn, int bits, int groupSize, int nGroups,
                                          const unsigned char* q, long long rowBytes,
                                          const float* lut, const float* x, float* y) {
    __shared__ float partial[256];
    int j = blockIdx.x;
    int t = threadIdx.x, nt = blockDim.x;
    const unsigned char* qr = q + (long long) j * rowBytes;
    const float* lr = lut + (long long) j * nGroups * (1 << bits);
    float acc = 0.0f;
    if (j < dOut) {
        for (int i = t; i < dIn; i += nt) {
            acc += lr[(i / groupSize) * (1 << bits) + s4j_code(qr, i, bits)] * x[i];
        }
    }
    float sum = s4j_block_sum(partial, acc);
    if (t == 0 && j < dOut) y[j] = sum;
}

// y = Ŵ·x for N:M semi-structured sparsity: row j keeps k = dIn·N/M values (F32, (dOut, k)); kept
// value t sits in run t / N at the position given by its ib-bit index (packed like the codes above),
// i.e. column (t / N)·M + index. One block per row, as above.
S4J_EXTERN __global__ void s4j_nm_matvec(int dOut, int k, int n, int m, int ib,
                                         const float* values, const unsigned char* indices, long long indexRowBytes,
                                         const float* x, float* y) {
    __shared__ float partial[256];
    int j = blockIdx.x;
    int t0 = threadIdx.x, nt = blockDim.x;
    const float* vr = values + (long long) j * k;
    const unsigned char* ir = indices + (long long) j * indexRowBytes;
    float acc = 0.0f;
    if (j < dOut) {
        for (int t = t0; t < k; t += nt) {
            acc += vr[t] * x[(t / n) * m + s4j_code(ir, t, ib)];
        }
    }
    float sum = s4j_block_sum(partial, acc);
    if (t0 == 0 && j < dOut) y[j] = sum;
}
