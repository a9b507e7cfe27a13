// kernels/config.h — compile-time switches shared by every kernel body (CPU and CUDA).
#pragma once

#if defined(__CUDACC__)
#define SP_HD __host__ __device__
#define SP_DEVICE __device__
#define SP_INLINE __forceinline__
#define SP_RESTRICT __restrict__
#else
#define SP_HD
#define SP_DEVICE
#define SP_INLINE inline __attribute__((always_inline))
#define SP_RESTRICT __restrict__
#endif

// a pipeline stage: compiled once per precision on the device and called, not inlined, from
// the stage and pipeline kernels (keeps kernels small and ptxas fast); inlinable on the CPU
#if defined(__CUDACC__)
#define SP_STAGE __host__ __device__ __noinline__
#else
#define SP_STAGE
#endif

#if defined(__CUDA_ARCH__)
#define SP_ON_DEVICE 1
#else
#define SP_ON_DEVICE 0
#endif

// AVX-512 paths of some float kernels on the host (built with -march=native on such a CPU);
// CUDA and other CPUs take the portable loops, which stay the reference
#if defined(__AVX512F__) && !defined(__CUDA_ARCH__)
#include <immintrin.h>
#define SP_HOST_AVX512 1
#else
#define SP_HOST_AVX512 0
#endif

namespace stampede::kern {

// bits of Data::warning_flags (per world). Kernels never throw: they set these and the host
// turns them into counters (Backend::warnings) or errors.
enum WarningBit : int {
  kWarnContactOverflow = 1 << 0,     // more contacts than contact_capacity were found
  kWarnConstraintOverflow = 1 << 1,  // more constraint rows than efc_capacity were needed
  kWarnBadQacc = 1 << 2,             // qacc (or the state) became NaN/Inf or exploded
  kWarnBadCtrl = 1 << 3,             // ctrl had NaN/Inf: zeroed for this step (MuJoCo does too)
  kWarnSolverNotConverged = 1 << 4,  // the constraint solver hit its iteration limit
};

// one world's warning flags folded into its counters and cleared: counters[0] contact overflows,
// [1] constraint overflows, [2] NaN resets (sim::WorldWarnings's order). The CPU backend runs it
// per world on the host, the device-resident CUDA backend in a kernel
SP_HD inline void fold_warning_flags(int& flags, int* counters) {
  if (!flags) return;
  if (flags & kWarnContactOverflow) counters[0] += 1;
  if (flags & kWarnConstraintOverflow) counters[1] += 1;
  if (flags & kWarnBadQacc) counters[2] += 1;
  flags = 0;
}

}  // namespace stampede::kern
