// rl/gemm.h — the CPU learner's float matrix products: row-major C = alpha op(A) op(B) + beta C.
// With OpenBLAS (cmake/StampedeDeps.cmake) the product is its sgemm, one thread per call (the
// learner runs rows over its own threads); without it, or with a serial OpenBLAS, Eigen's. On the
// project's 2-core AVX2 machine OpenBLAS's sgemm is 1.2-1.5x Eigen 3.4's at the learner's shapes
// (a minibatch chunk of ~1,500 rows times 64-256 features), and the products are about 60% of an
// update (README, "Train"). The double products of the gradient checks stay on Eigen.
#pragma once

namespace stampede::rl {

// true when gemm() runs on OpenBLAS
bool gemm_uses_openblas();

// C (m, n) = alpha op(A) op(B) + beta C, row-major; op(A) is (m, k), op(B) (k, n); lda, ldb and
// ldc are the row strides of A, B and C as stored. beta == 0 ignores C's old contents (NaN too)
void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A, int lda, const float* B,
          int ldb, float beta, float* C, int ldc);

// Eigen's product, the reference of the tests and the path without OpenBLAS
void gemm_eigen(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A, int lda,
                const float* B, int ldb, float beta, float* C, int ldc);

}  // namespace stampede::rl
