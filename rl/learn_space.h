// rl/learn_space.h — where the device-shaped PPO learner (rl/ppo_device.inl) keeps its arrays and
// runs its stages. A space has the same members on the host and on the GPU:
//   allocate/release/to_space/to_host/zero              memory
//   launch(n, fn)                                      fn(i) for i in [0, n): a loop here, a
//                                                      thread per index on the GPU
//   gemm(...)                                          row-major C = alpha op(A) op(B) + beta C:
//                                                      rl/gemm.h here, cuBLAS on the GPU
// HostLearnSpace runs the learner's code on the CPU, which is how the tests check the CUDA
// learner's code without a GPU (its launches can run in reverse order: a stage that depended on
// the order of its indices would race on the GPU). The GPU twin is rl/cuda_learn_space.cuh.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "kernels/config.h"
#include "kernels/space_buffer.h"
#include "rl/gemm.h"

namespace stampede::rl {

class HostLearnSpace {
 public:
  static constexpr const char* kName = "host";

  static void* allocate(std::size_t bytes) { return kern::host_allocate_zeroed(bytes, 64); }
  static void release(void* p) { std::free(p); }
  void to_space(void* dst, const void* host, std::size_t bytes) const { std::memcpy(dst, host, bytes); }
  void to_host(void* host, const void* src, std::size_t bytes) const { std::memcpy(host, src, bytes); }
  void zero(void* dst, std::size_t bytes) const { std::memset(dst, 0, bytes); }

  template <class F>
  void launch(long n, F fn) const {
    if (reverse_order) {
      for (long i = n - 1; i >= 0; --i) fn(i);
    } else {
      for (long i = 0; i < n; ++i) fn(i);
    }
  }

  // C (m, n) = alpha op(A) op(B) + beta C, row-major; op(A) is (m, k), op(B) (k, n); lda, ldb and
  // ldc are the row strides of A, B and C as stored. beta == 0 ignores C's old contents
  void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A, int lda,
            const float* B, int ldb, float beta, float* C, int ldc) const {
    rl::gemm(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  }

  bool reverse_order = false;  // tests: run launches backwards
};

// n elements of T in a space (RAII, zero-initialized)
template <class Space, class T>
class SpaceArray {
 public:
  SpaceArray() = default;
  explicit SpaceArray(std::size_t n) : buf_(n * sizeof(T)), n_(n) {}
  T* data() const { return buf_.template get<T>(); }
  std::size_t size() const { return n_; }

 private:
  kern::SpaceBuffer<Space> buf_;
  std::size_t n_ = 0;
};

}  // namespace stampede::rl
