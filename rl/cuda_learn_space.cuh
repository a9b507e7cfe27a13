// rl/cuda_learn_space.cuh — CudaLearnSpace, the GPU twin of HostLearnSpace (rl/learn_space.h):
// device memory, a thread per index, cuBLAS for the GEMMs, everything on the default stream (the
// device env's kernels and the physics stream are ordered with it). nvcc only.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "kernels/launch.h"
#include "rl/learn_space.h"

namespace stampede::rl {

// fn is __grid_constant__: the stage reads its captured pointers without a local copy
template <class F>
__global__ void learn_index_kernel(long n, const __grid_constant__ F fn) {
  const long i = static_cast<long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) fn(i);
}

inline void cublas_check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuBLAS: ") + what + " failed (" + cublasGetStatusString(s) + ")");
}

class CudaLearnSpace {
 public:
  static constexpr const char* kName = "cuda";

  CudaLearnSpace() {
    cublasHandle_t h = nullptr;
    cublas_check(cublasCreate(&h), "cublasCreate");
    handle_ = std::shared_ptr<cublasContext>(h, [](cublasHandle_t p) { cublasDestroy(p); });
    // plain FP32: no TF32 tensor-op rounding, so the GPU agrees with the host instantiation
    cublas_check(cublasSetMathMode(h, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode");
  }

  static void* allocate(std::size_t bytes) { return kern::cuda_allocate_zeroed(bytes); }
  static void release(void* p) { cudaFree(p); }
  void to_space(void* dst, const void* host, std::size_t bytes) const {
    SP_CUDA_CHECK(cudaMemcpy(dst, host, bytes, cudaMemcpyHostToDevice));
  }
  void to_host(void* host, const void* src, std::size_t bytes) const {
    SP_CUDA_CHECK(cudaMemcpy(host, src, bytes, cudaMemcpyDeviceToHost));
  }
  void zero(void* dst, std::size_t bytes) const { SP_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, 0)); }

  template <class F>
  void launch(long n, F fn) const {
    if (n <= 0) return;
    constexpr int kThreads = 256;
    learn_index_kernel<<<static_cast<unsigned>((n + kThreads - 1) / kThreads), kThreads>>>(n, fn);
    SP_CUDA_CHECK(cudaGetLastError());
  }

  // row-major C = alpha op(A) op(B) + beta C as cuBLAS's column-major C^T = op(B)^T op(A)^T
  void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A, int lda,
            const float* B, int ldb, float beta, float* C, int ldc) const {
    if (m == 0 || n == 0) return;
    cublas_check(cublasSgemm(handle_.get(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                             n, m, k, &alpha, B, ldb, A, lda, &beta, C, ldc),
                 "cublasSgemm");
  }

  bool reverse_order = false;  // (HostLearnSpace's test option; threads have no order here)

 private:
  std::shared_ptr<cublasContext> handle_;
};

}  // namespace stampede::rl
