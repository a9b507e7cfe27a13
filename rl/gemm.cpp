// rl/gemm.cpp — see rl/gemm.h.
#include "rl/gemm.h"

#include <Eigen/Core>

#if STAMPEDE_HAVE_OPENBLAS
#include <cblas.h>
// every OpenBLAS build exports these (netlib's cblas.h does not declare them)
extern "C" void openblas_set_num_threads(int num_threads);
extern "C" int openblas_get_parallel();
#endif

namespace stampede::rl {

// OpenBLAS when the build has it and the library the loader found is a threaded build (pthreads
// 1, OpenMP 2), set to run each call on its caller's thread: the learner calls it from several
// threads at once, and a serial build (0) has no locks around its buffers (Debian's gave different
// results run to run)
bool gemm_uses_openblas() {
#if STAMPEDE_HAVE_OPENBLAS
  static const bool usable = [] {
    if (openblas_get_parallel() == 0) return false;
    openblas_set_num_threads(1);
    return true;
  }();
  return usable;
#else
  return false;
#endif
}

void gemm_eigen(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A, int lda,
                const float* B, int ldb, float beta, float* C, int ldc) {
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Stride = Eigen::OuterStride<>;
  Eigen::Map<const Mat, 0, Stride> a(A, trans_a ? k : m, trans_a ? m : k, Stride(lda));
  Eigen::Map<const Mat, 0, Stride> b(B, trans_b ? n : k, trans_b ? k : n, Stride(ldb));
  Eigen::Map<Mat, 0, Stride> c(C, m, n, Stride(ldc));
  auto assign = [&](const auto& op_a, const auto& op_b) {
    if (beta == 0.f) {
      c.noalias() = alpha * (op_a * op_b);
    } else {
      if (beta != 1.f) c *= beta;
      c.noalias() += alpha * (op_a * op_b);
    }
  };
  if (!trans_a && !trans_b) assign(a, b);
  else if (!trans_a && trans_b) assign(a, b.transpose());
  else if (trans_a && !trans_b) assign(a.transpose(), b);
  else assign(a.transpose(), b.transpose());
}

void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A, int lda, const float* B,
          int ldb, float beta, float* C, int ldc) {
  if (!gemm_uses_openblas()) return gemm_eigen(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
#if STAMPEDE_HAVE_OPENBLAS
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {  // sgemm leaves C alone when k is 0; C = beta C is what the product means
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) C[i * ldc + j] = beta == 0.f ? 0.f : beta * C[i * ldc + j];
    return;
  }
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha,
              A, lda, B, ldb, beta, C, ldc);
#endif
}

}  // namespace stampede::rl
