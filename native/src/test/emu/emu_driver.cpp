// The CPU stand-in for libcuda.so.1: exports the driver entry points dev.shrink4j.cuda.CudaDriver
// binds (same names, same signatures, CUresult codes), runs the kernels of shrink4j_kernels.cu
// compiled by g++ with cuda_emu.h, and reports one device, or SHRINK4J_EMU_DEVICES (1..8) identical
// ones (to test device selection). Selected with -Dshrink4j.cuda.driver=/path/to/libshrink4j-cudaemu.so.
// Device memory is host memory, shared by the devices; streams are synchronous. Not a performance model.
// SHRINK4J_EMU_TRACE=FILE appends every kernel launched to FILE, one line each, "name cuda:N" with N
// the device whose context is current (so a test can see which work reached which "device").
#include "cuda_emu.h"
#include "shrink4j_kernels.cu"

#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>
#include <csetjmp>
#include <ucontext.h>

s4j_dim3 threadIdx, blockIdx, blockDim, gridDim;

namespace {

enum {
    OK = 0, INVALID_VALUE = 1, OUT_OF_MEMORY = 2, NOT_INITIALIZED = 3, INVALID_DEVICE = 101,
    INVALID_IMAGE = 200, INVALID_CONTEXT = 201, INVALID_HANDLE = 400, NOT_FOUND = 500,
    LAUNCH_OUT_OF_RESOURCES = 701, HOST_MEMORY_ALREADY_REGISTERED = 712, HOST_MEMORY_NOT_REGISTERED = 713
};

struct ErrorName { int code; const char* name; const char* text; };
const ErrorName ERRORS[] = {
    {OK, "CUDA_SUCCESS", "no error"},
    {INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {HOST_MEMORY_ALREADY_REGISTERED, "CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED", "part or all of the requested memory range is already mapped"},
    {HOST_MEMORY_NOT_REGISTERED, "CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED", "pointer does not correspond to a registered memory region"},
};

std::mutex lock;          // one launch or copy at a time: the fibers and dims are process-wide
bool initialized = false;
const int MAX_DEVICES = 8;
int contextTokens[MAX_DEVICES];  // device d's primary context is &contextTokens[d]
int currentContext = -1;         // the device whose context is current, -1 for none
int deviceCount = 1;
std::set<uintptr_t> allocations;
std::set<uintptr_t> registered;
const uint64_t DEVICE_MEMORY = 1ull << 30;

// ---------------------------------------------------------------- fibers

const size_t STACK = 64 * 1024;
// A fiber starts once through makecontext/swapcontext and from then on switches with
// _setjmp/_longjmp, which (unlike swapcontext) make no signal-mask system call: the emulation spends
// its time in the kernels, not in the kernel. (Built with -U_FORTIFY_SOURCE: the checked longjmp
// refuses jumps between stacks.)
ucontext_t scheduler;
jmp_buf schedulerJump;
jmp_buf fiberJumps[1024];  // a block has at most 1024 threads (checked at launch)
std::vector<char> started;
std::vector<ucontext_t> fibers;
std::vector<char*> stacks;
std::vector<int> state;  // 0 runnable, 1 at a barrier, 2 finished
int current = 0;
void (*blockBody)(void**) = nullptr;
void** blockParams = nullptr;

void fiberMain(int t) {
    blockBody(blockParams);
    state[t] = 2;
    _longjmp(schedulerJump, 1);
}

bool runBlock(int threads) {
    if ((int) stacks.size() < threads) {
        fibers.resize(threads);
        while ((int) stacks.size() < threads) stacks.push_back((char*) malloc(STACK));
    }
    state.assign(threads, 0);
    started.assign(threads, 0);
    for (int t = 0; t < threads; t++) {
        getcontext(&fibers[t]);
        fibers[t].uc_stack.ss_sp = stacks[t];
        fibers[t].uc_stack.ss_size = STACK;
        fibers[t].uc_link = nullptr;
        makecontext(&fibers[t], (void (*)()) fiberMain, 1, t);
    }
    for (;;) {
        int finished = 0, waiting = 0;
        for (int t = 0; t < threads; t++) {
            if (state[t] == 2) continue;
            state[t] = 0;
            current = t;
            threadIdx.x = t % blockDim.x;
            threadIdx.y = (t / blockDim.x) % blockDim.y;
            threadIdx.z = t / (blockDim.x * blockDim.y);
            if (_setjmp(schedulerJump) == 0) {
                if (!started[t]) {
                    started[t] = 1;
                    swapcontext(&scheduler, &fibers[t]);
                } else {
                    _longjmp(fiberJumps[t], 1);
                }
            }
        }
        for (int t = 0; t < threads; t++) {
            if (state[t] == 2) finished++;
            else waiting++;
        }
        if (waiting == 0) return true;
        if (finished != 0) return false;  // some threads left while others wait at a barrier
    }
}

// ---------------------------------------------------------------- kernel table

template <typename... A, size_t... I>
void invoke(void (*k)(A...), void** p, std::index_sequence<I...>) {
    k(*static_cast<std::remove_reference_t<A>*>(p[I])...);
}

template <typename... A>
void invoke(void (*k)(A...), void** p) {
    invoke(k, p, std::index_sequence_for<A...>{});
}

struct Kernel { const char* name; void (*run)(void**); };
#define S4J_KERNEL(fn) Kernel{#fn, [](void** p) { invoke(fn, p); }}
const Kernel KERNELS[] = {
    S4J_KERNEL(s4j_gemm_f32),
    S4J_KERNEL(s4j_gemm_bf16),
    S4J_KERNEL(s4j_gemm_f16),
    S4J_KERNEL(s4j_syrk_upper),
    S4J_KERNEL(s4j_uniform_matvec),
    S4J_KERNEL(s4j_uniform_matmul),
    S4J_KERNEL(s4j_lut_matvec),
    S4J_KERNEL(s4j_lut_matmul),
    S4J_KERNEL(s4j_nm_matvec),
    S4J_KERNEL(s4j_nm_matmul),
    S4J_KERNEL(s4j_csr_matmul_add),
};

struct Module { std::set<std::string> entries; };

int requireContext() {
    if (!initialized) return NOT_INITIALIZED;
    if (currentContext < 0) return INVALID_CONTEXT;
    return OK;
}

}  // namespace

extern "C" {

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;

CUresult cuInit(unsigned int flags) {
    if (flags != 0) return INVALID_VALUE;
    const char* n = getenv("SHRINK4J_EMU_DEVICES");
    deviceCount = n ? atoi(n) : 1;
    if (deviceCount < 1 || deviceCount > MAX_DEVICES) deviceCount = 1;
    initialized = true;
    return OK;
}

CUresult cuDriverGetVersion(int* v) {
    if (!v) return INVALID_VALUE;
    *v = 13000;
    return OK;
}

CUresult cuDeviceGetCount(int* n) {
    if (!initialized) return NOT_INITIALIZED;
    *n = deviceCount;
    return OK;
}

CUresult cuDeviceGet(CUdevice* d, int ordinal) {
    if (!initialized) return NOT_INITIALIZED;
    if (ordinal < 0 || ordinal >= deviceCount) return INVALID_DEVICE;
    *d = ordinal;
    return OK;
}

static bool validDevice(CUdevice d) { return d >= 0 && d < deviceCount; }

CUresult cuDeviceGetName(char* name, int len, CUdevice d) {
    if (!validDevice(d)) return INVALID_DEVICE;
    snprintf(name, len, "%s", "shrink4j CUDA emulation (CPU stand-in)");
    return OK;
}

CUresult cuDeviceGetAttribute(int* v, int attribute, CUdevice d) {
    if (!validDevice(d)) return INVALID_DEVICE;
    switch (attribute) {
        case 75: *v = 9; return OK;    // COMPUTE_CAPABILITY_MAJOR
        case 76: *v = 0; return OK;    // COMPUTE_CAPABILITY_MINOR
        case 16: *v = 1; return OK;    // MULTIPROCESSOR_COUNT
        case 13: *v = 1000; return OK; // CLOCK_RATE (kHz)
        case 36: *v = 1000; return OK; // MEMORY_CLOCK_RATE (kHz)
        case 37: *v = 64; return OK;   // GLOBAL_MEMORY_BUS_WIDTH (bits)
        default: return INVALID_VALUE;
    }
}

CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice d) {
    if (!validDevice(d)) return INVALID_DEVICE;
    *bytes = DEVICE_MEMORY;
    return OK;
}

CUresult cuDevicePrimaryCtxRetain(void** ctx, CUdevice d) {
    if (!initialized) return NOT_INITIALIZED;
    if (!validDevice(d)) return INVALID_DEVICE;
    *ctx = &contextTokens[d];
    return OK;
}

CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
    return validDevice(d) ? OK : INVALID_DEVICE;
}

CUresult cuCtxSetCurrent(void* ctx) {
    if (!initialized) return NOT_INITIALIZED;
    int* c = (int*) ctx;
    if (c != nullptr && (c < contextTokens || c >= contextTokens + deviceCount)) return INVALID_CONTEXT;
    currentContext = c ? (int) (c - contextTokens) : -1;
    return OK;
}

CUresult cuCtxSynchronize() { return requireContext(); }

// Accepts a NUL-terminated PTX text and remembers its `.entry` names: a kernel the PTX lacks is
// not found here either, so the committed PTX and the Java lookups are checked against each other.
CUresult cuModuleLoadData(void** module, const void* image) {
    if (int r = requireContext()) return r;
    const char* text = (const char*) image;
    if (!text || !strstr(text, ".version") || !strstr(text, ".target")) return INVALID_IMAGE;
    Module* m = new Module();
    for (const char* p = strstr(text, ".entry "); p; p = strstr(p + 1, ".entry ")) {
        const char* s = p + 7;
        const char* e = s;
        while (*e && *e != '(' && *e != ' ' && *e != '\n') e++;
        m->entries.insert(std::string(s, e));
    }
    *module = m;
    return OK;
}

CUresult cuModuleUnload(void* module) {
    delete (Module*) module;
    return OK;
}

CUresult cuModuleGetFunction(void** f, void* module, const char* name) {
    if (int r = requireContext()) return r;
    Module* m = (Module*) module;
    if (!m) return INVALID_HANDLE;
    if (!m->entries.count(name)) return NOT_FOUND;
    for (const Kernel& k : KERNELS) {
        if (strcmp(k.name, name) == 0) {
            *f = (void*) &k;
            return OK;
        }
    }
    return NOT_FOUND;
}

CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) {
    if (int r = requireContext()) return r;
    if (bytes == 0) return INVALID_VALUE;
    void* mem = malloc(bytes);
    if (!mem) return OUT_OF_MEMORY;
    std::lock_guard<std::mutex> g(lock);
    allocations.insert((uintptr_t) mem);
    *p = (CUdeviceptr) (uintptr_t) mem;
    return OK;
}

CUresult cuMemFree_v2(CUdeviceptr p) {
    if (int r = requireContext()) return r;
    std::lock_guard<std::mutex> g(lock);
    if (!allocations.erase((uintptr_t) p)) return INVALID_VALUE;
    free((void*) (uintptr_t) p);
    return OK;
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t bytes) {
    if (int r = requireContext()) return r;
    memcpy((void*) (uintptr_t) dst, src, bytes);
    return OK;
}

CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t bytes) {
    if (int r = requireContext()) return r;
    memcpy(dst, (const void*) (uintptr_t) src, bytes);
    return OK;
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, void*) {
    return cuMemcpyHtoD_v2(dst, src, bytes);
}

CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, void*) {
    return cuMemcpyDtoH_v2(dst, src, bytes);
}

CUresult cuMemHostRegister_v2(void* p, size_t bytes, unsigned int) {
    if (int r = requireContext()) return r;
    if (!p || bytes == 0) return INVALID_VALUE;
    std::lock_guard<std::mutex> g(lock);
    if (!registered.insert((uintptr_t) p).second) return HOST_MEMORY_ALREADY_REGISTERED;
    return OK;
}

CUresult cuMemHostUnregister(void* p) {
    if (int r = requireContext()) return r;
    std::lock_guard<std::mutex> g(lock);
    return registered.erase((uintptr_t) p) ? OK : HOST_MEMORY_NOT_REGISTERED;
}

CUresult cuStreamCreate(void** stream, unsigned int) {
    if (int r = requireContext()) return r;
    *stream = new int(0);
    return OK;
}

CUresult cuStreamDestroy_v2(void* stream) {
    delete (int*) stream;
    return OK;
}

CUresult cuStreamSynchronize(void*) { return requireContext(); }

CUresult cuLaunchKernel(void* f, unsigned int gx, unsigned int gy, unsigned int gz,
                        unsigned int bx, unsigned int by, unsigned int bz,
                        unsigned int sharedBytes, void* stream, void** params, void** extra) {
    if (int r = requireContext()) return r;
    if (!f || !params || extra) return INVALID_VALUE;
    if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0) return INVALID_VALUE;
    if ((unsigned long long) bx * by * bz > 1024 || gy > 65535 || gz > 65535) return INVALID_VALUE;
    (void) sharedBytes;
    (void) stream;
    std::lock_guard<std::mutex> g(lock);
    const Kernel* k = (const Kernel*) f;
    gridDim = {gx, gy, gz};
    blockDim = {bx, by, bz};
    blockBody = k->run;
    blockParams = params;
    if (const char* trace = getenv("SHRINK4J_EMU_TRACE")) {
        static FILE* traceFile = fopen(trace, "a");
        if (traceFile) {
            fprintf(traceFile, "%s cuda:%d\n", k->name, currentContext);
            fflush(traceFile);
        }
    }
    for (unsigned int z = 0; z < gz; z++) {
        for (unsigned int y = 0; y < gy; y++) {
            for (unsigned int x = 0; x < gx; x++) {
                blockIdx = {x, y, z};
                if (!runBlock((int) (bx * by * bz))) return LAUNCH_OUT_OF_RESOURCES;
            }
        }
    }
    return OK;
}

CUresult cuGetErrorName(CUresult e, const char** s) {
    for (const ErrorName& n : ERRORS) {
        if (n.code == e) {
            *s = n.name;
            return OK;
        }
    }
    *s = nullptr;
    return INVALID_VALUE;
}

CUresult cuGetErrorString(CUresult e, const char** s) {
    for (const ErrorName& n : ERRORS) {
        if (n.code == e) {
            *s = n.text;
            return OK;
        }
    }
    *s = nullptr;
    return INVALID_VALUE;
}

}  // extern "C"

void __syncthreads() {
    state[current] = 1;
    if (_setjmp(fiberJumps[current]) == 0) _longjmp(schedulerJump, 1);
}
