// Just enough CUDA C for g++ to compile shrink4j_kernels.cu for the CPU (the test stand-in driver).
// Each CUDA thread of a block is a ucontext fiber on one OS thread; __syncthreads() switches back
// to the scheduler, which resumes every fiber of the block in turn, so a barrier means what it
// means on a GPU. __shared__ becomes a function-local static: one copy, shared by the fibers of the
// block that is running (blocks run one after another).
#pragma once
#include <cstring>

#define SHRINK4J_EMULATION 1
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

struct s4j_dim3 {
    unsigned int x, y, z;
};
extern s4j_dim3 threadIdx, blockIdx, blockDim, gridDim;
void __syncthreads();
