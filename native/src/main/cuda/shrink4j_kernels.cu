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

// B(p, j) = b[p·sbp + j·sbj] for a stored F32/BF16/F16 matrix.
template <int W>
struct S4jStridedB {
    const void* b;
    long long sbp, sbj;
    __device__ __forceinline__ bool jContiguous() const { return sbj == 1; }
    __device__ __forceinline__ float at(int p, int j) const { return s4j_weight<W>(b, (long long) p * sbp + (long long) j * sbj); }
};

// C(i, j) (+)= Σ_p A(i, p)·B(p, j) with A(i, p) = a[i·sai + p·sap], B(p, j) from the loader (a strided
// matrix, or a compressed weight Ŵ(j, p) decoded as its slice is loaded into shared memory),
// C(i, j) = c[i·ldc + j]. With rowWeights, A(i, p) is scaled by rowWeights[p] (GuidedQuant's H̄ₖ);
// with upper, only tiles and entries with j ≥ i are computed (SYRK). Block (16, 16), grid
// (ceil(n / 64), ceil(m / 64)). Each output is one sequential sum over p, in order.
template <class B>
__device__ void s4j_gemm_body(int m, int n, int k,
                              const float* a, long long sai, long long sap,
                              const B& bl,
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
            if (bl.jContiguous()) { j = e % S4J_BN; p = e / S4J_BN; } else { j = e / S4J_BK; p = e % S4J_BK; }
            int gj = col0 + j, gp = p0 + p;
            bs[p][j] = (gj < n && gp < k) ? bl.at(gp, gj) : 0.0f;
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
    s4j_gemm_body(m, n, k, a, sai, sap, S4jStridedB<S4J_W_F32>{b, sbp, sbj}, 0, 0, c, ldc, accumulate);
}

S4J_EXTERN __global__ void s4j_gemm_bf16(int m, int n, int k, const float* a, long long sai, long long sap,
                                         const unsigned short* b, long long sbp, long long sbj,
                                         float* c, long long ldc, int accumulate) {
    s4j_gemm_body(m, n, k, a, sai, sap, S4jStridedB<S4J_W_BF16>{b, sbp, sbj}, 0, 0, c, ldc, accumulate);
}

S4J_EXTERN __global__ void s4j_gemm_f16(int m, int n, int k, const float* a, long long sai, long long sap,
                                        const unsigned short* b, long long sbp, long long sbj,
                                        float* c, long long ldc, int accumulate) {
    s4j_gemm_body(m, n, k, a, sai, sap, S4jStridedB<S4J_W_F16>{b, sbp, sbj}, 0, 0, c, ldc, accumulate);
}

// H += Σ_t s_t·x_t·x_tᵀ on the upper triangle (j ≥ i): Xᵀ·X with X (rows, d), leading dimension ldx;
// rowWeights (rows) or null. H (d, d), leading dimension ldh.
S4J_EXTERN __global__ void s4j_syrk_upper(int rows, int d, const float* x, long long ldx,
                                          const float* rowWeights, float* h, long long ldh) {
    s4j_gemm_body(d, d, rows, x, 1, ldx, S4jStridedB<S4J_W_F32>{x, ldx, 1}, rowWeights, 1, h, ldh, 1);
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

// ---------------------------------------------------------------- compressed weights Ŵ (d_out, d_in)
// Each format is one decoder, Ŵ(j, i) as F32, used two ways: by the matvec kernels (one block per
// row j, threads over i, a tree sum) and, as the loader B(p = i, j) of s4j_gemm_body, by the matmul
// kernels Y = X·Ŵᵀ (X (m, d_in), Y (m, d_out)), which decode each weight once per 64 rows of X.

// Uniform group quantization: Ŵ(j, i) = s[j, g]·(q[j, i] − z[j, g]) with g = gIdx[i] (GPTQ
// act-order) or i / groupSize (static groups, ragged last group). q: `bits`-bit codes packed per row
// (rowBytes per row); scales F32 (d_out, n_groups); zeros one byte per group (d_out, n_groups), or
// null for symmetric (z = 2^(bits−1)); gIdx I32 (d_in) or null.
struct S4jUniformW {
    const unsigned char* q;
    long long rowBytes;
    int bits, groupSize, nGroups;
    const float* scales;
    const unsigned char* zeros;
    const int* gIdx;
    __device__ __forceinline__ bool jContiguous() const { return false; }
    __device__ __forceinline__ float at(int i, int j) const {
        int g = gIdx ? gIdx[i] : i / groupSize;
        long long sg = (long long) j * nGroups + g;
        int z = zeros ? (int) zeros[sg] : 1 << (bits - 1);
        return scales[sg] * (float) (s4j_code(q + (long long) j * rowBytes, i, bits) - z);
    }
};

// Codebook (LUT) quantization: Ŵ(j, i) = lut[j, g, q[j, i]], g = i / groupSize; lut F32 (d_out, n_groups, 2^bits).
struct S4jLutW {
    const unsigned char* q;
    long long rowBytes;
    int bits, groupSize, nGroups;
    const float* lut;
    __device__ __forceinline__ bool jContiguous() const { return false; }
    __device__ __forceinline__ float at(int i, int j) const {
        long long e = 1LL << bits;
        return lut[((long long) j * nGroups + i / groupSize) * e + s4j_code(q + (long long) j * rowBytes, i, bits)];
    }
};

// N:M semi-structured sparsity: row j keeps kPerRow = d_in·N/M values (F32, (d_out, kPerRow)); kept
// value t sits in run t / N at column (t / N)·M + index(t), index ib bits packed like the codes.
// Ŵ(j, i) sums the kept values of i's run whose index is i mod M (a run that keeps fewer than N
// stores zeros, possibly at a repeated index).
struct S4jNmW {
    const float* values;
    const unsigned char* indices;
    long long indexRowBytes;
    int kPerRow, n, m, ib;
    __device__ __forceinline__ bool jContiguous() const { return false; }
    __device__ __forceinline__ float at(int i, int j) const {
        const float* vr = values + (long long) j * kPerRow;
        const unsigned char* ir = indices + (long long) j * indexRowBytes;
        int run = i / m, within = i - run * m;
        float v = 0.0f;
        for (int t = run * n; t < run * n + n; t++)
            if (s4j_code(ir, t, ib) == within) v += vr[t];
        return v;
    }
};

// Y = X·Ŵᵀ for any decoder above: grid (ceil(d_out / 64), ceil(m / 64)), block (16, 16).
template <class D>
__device__ __forceinline__ void s4j_format_matmul(int m, int dOut, int dIn, const D& w, const float* x, float* y) {
    s4j_gemm_body(m, dOut, dIn, x, dIn, 1, w, 0, 0, y, dOut, 0);
}

// y = Ŵ·x, uniform format (S4jUniformW). One block per row (grid.x = d_out), blockDim.x threads, a power of two ≤ 256.
S4J_EXTERN __global__ void s4j_uniform_matvec(int dOut, int dIn, int bits, int groupSize, int nGroups,
                                              const unsigned char* q, long long rowBytes,
                                              const float* scales, const unsigned char* zeros, const int* gIdx,
                                              const float* x, float* y) {
    __shared__ float partial[256];
    S4jUniformW w{q, rowBytes, bits, groupSize, nGroups, scales, zeros, gIdx};
    int j = blockIdx.x;
    float acc = 0.0f;
    if (j < dOut)
        for (int i = threadIdx.x; i < dIn; i += blockDim.x) acc += w.at(i, j) * x[i];
    float sum = s4j_block_sum(partial, acc);
    if (threadIdx.x == 0 && j < dOut) y[j] = sum;
}

// Y = X·Ŵᵀ, uniform format.
S4J_EXTERN __global__ void s4j_uniform_matmul(int m, int dOut, int dIn, int bits, int groupSize, int nGroups,
                                              const unsigned char* q, long long rowBytes,
                                              const float* scales, const unsigned char* zeros, const int* gIdx,
                                              const float* x, float* y) {
    s4j_format_matmul(m, dOut, dIn, S4jUniformW{q, rowBytes, bits, groupSize, nGroups, scales, zeros, gIdx}, x, y);
}

// y = Ŵ·x, LUT format. One block per row, as above.
S4J_EXTERN __global__ void s4j_lut_matvec(int dOut, int dIn, int bits, int groupSize, int nGroups,
                                          const unsigned char* q, long long rowBytes,
                                          const float* lut, const float* x, float* y) {
    __shared__ float partial[256];
    S4jLutW w{q, rowBytes, bits, groupSize, nGroups, lut};
    int j = blockIdx.x;
    float acc = 0.0f;
    if (j < dOut)
        for (int i = threadIdx.x; i < dIn; i += blockDim.x) acc += w.at(i, j) * x[i];
    float sum = s4j_block_sum(partial, acc);
    if (threadIdx.x == 0 && j < dOut) y[j] = sum;
}

// Y = X·Ŵᵀ, LUT format.
S4J_EXTERN __global__ void s4j_lut_matmul(int m, int dOut, int dIn, int bits, int groupSize, int nGroups,
                                          const unsigned char* q, long long rowBytes,
                                          const float* lut, const float* x, float* y) {
    s4j_format_matmul(m, dOut, dIn, S4jLutW{q, rowBytes, bits, groupSize, nGroups, lut}, x, y);
}

// y = Ŵ·x, N:M format: threads over the kept values only (k = d_in·N/M of them). One block per row.
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

// Y = X·Ŵᵀ, N:M format (rows: m of X; nmN:nmM the pattern).
S4J_EXTERN __global__ void s4j_nm_matmul(int rows, int dOut, int dIn, int k, int n, int m, int ib,
                                         const float* values, const unsigned char* indices, long long indexRowBytes,
                                         const float* x, float* y) {
    s4j_format_matmul(rows, dOut, dIn, S4jNmW{values, indices, indexRowBytes, k, n, m, ib}, x, y);
}

// Y(r, j) += Σ_p S(j, p)·X(r, p) for a CSR matrix S (d_out, d_in): rowptr I32 (d_out + 1), cols I32
// (nnz), values F32 (nnz). X (m, d_in), Y (m, d_out); m = 1 is the matvec. One block per row j of S
// (grid.x = d_out), threads over its non-zeros; grid.y blocks stride over the rows r of X.
S4J_EXTERN __global__ void s4j_csr_matmul_add(int m, int dOut, int dIn, const int* rowptr, const int* cols,
                                              const float* values, const float* x, float* y) {
    __shared__ float partial[256];
    int j = blockIdx.x;
    int p0 = j < dOut ? rowptr[j] : 0, p1 = j < dOut ? rowptr[j + 1] : 0;
    for (int r = blockIdx.y; r < m; r += gridDim.y) {
        const float* xr = x + (long long) r * dIn;
        float acc = 0.0f;
        for (int p = p0 + threadIdx.x; p < p1; p += blockDim.x) acc += values[p] * xr[cols[p]];
        float sum = s4j_block_sum(partial, acc);
        if (threadIdx.x == 0 && j < dOut) y[(long long) r * dOut + j] += sum;
        __syncthreads();  // partial[0] is read before the next row's sums overwrite it
    }
}
