// tests/rl/test_gemm.cpp — the CPU learner's float products (rl/gemm.h): OpenBLAS's sgemm against
// Eigen's product on every transpose, strides, beta (0 ignores NaN in C), k = 0, and the same
// products called from several threads at once (Debian's serial OpenBLAS changed results there;
// rl/gemm.cpp refuses such a build).
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "rl/gemm.h"

using stampede::rl::gemm;
using stampede::rl::gemm_eigen;
using stampede::rl::gemm_uses_openblas;

namespace {

std::vector<float> random_vector(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

struct Case {
  bool ta, tb;
  int m, n, k, pad;  // pad: extra columns in every stored row (strided operands)
  float alpha, beta;
};

// C from gemm and from gemm_eigen on the same operands; returns the largest relative difference
double compare(const Case& c, unsigned seed) {
  const int a_rows = c.ta ? c.k : c.m, a_cols = (c.ta ? c.m : c.k) + c.pad;
  const int b_rows = c.tb ? c.n : c.k, b_cols = (c.tb ? c.k : c.n) + c.pad;
  const int ldc = c.n + c.pad;
  auto A = random_vector(static_cast<std::size_t>(a_rows) * a_cols, seed);
  auto B = random_vector(static_cast<std::size_t>(b_rows) * b_cols, seed + 1);
  auto C0 = random_vector(static_cast<std::size_t>(c.m) * ldc, seed + 2);
  if (c.beta == 0.f) C0.assign(C0.size(), std::nanf(""));  // beta 0: C's old values are ignored
  auto C1 = C0, C2 = C0;
  gemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha, A.data(), a_cols, B.data(), b_cols, c.beta, C1.data(), ldc);
  gemm_eigen(c.ta, c.tb, c.m, c.n, c.k, c.alpha, A.data(), a_cols, B.data(), b_cols, c.beta, C2.data(), ldc);
  double worst = 0;
  for (int i = 0; i < c.m; ++i) {
    for (int j = 0; j < c.n; ++j) {
      const double x = C1[i * ldc + j], y = C2[i * ldc + j];
      REQUIRE(std::isfinite(x));
      worst = std::max(worst, std::abs(x - y) / (1.0 + std::abs(y)));
    }
    for (int j = c.n; j < ldc; ++j) {  // the padding of C is not written
      const float before = C0[i * ldc + j], after = C1[i * ldc + j];
      REQUIRE((after == before || (std::isnan(after) && std::isnan(before))));
    }
  }
  return worst;
}

}  // namespace

TEST_CASE("the learner's products agree with Eigen's", "[rl][gemm]") {
  WARN("float products on " << (gemm_uses_openblas() ? "OpenBLAS" : "Eigen (no threaded OpenBLAS in this build)"));
  unsigned seed = 1;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      // the learner's shapes (chunk rows x layer widths), odd sizes, strided rows
      for (const Case& base : {Case{ta, tb, 1536, 128, 69, 0, 1.f, 0.f}, Case{ta, tb, 128, 69, 1536, 0, 1.f, 1.f},
                               Case{ta, tb, 37, 19, 128, 3, 0.5f, 0.25f}, Case{ta, tb, 5, 1, 7, 2, -1.f, 1.f}}) {
        INFO("trans_a " << ta << " trans_b " << tb << " m " << base.m << " n " << base.n << " k " << base.k);
        // float sums of k products in another order: rounding grows like sqrt(k)
        REQUIRE(compare(base, seed++) < 2e-6 * std::sqrt(static_cast<double>(base.k) + 1.0));
      }
    }
  }
}

TEST_CASE("a product over k = 0 is beta C", "[rl][gemm]") {
  std::vector<float> C = {1.f, 2.f, 3.f, 4.f}, D = C;
  float dummy = 0.f;
  gemm(false, false, 2, 2, 0, 1.f, &dummy, 1, &dummy, 2, 0.5f, C.data(), 2);
  REQUIRE(C == std::vector<float>{0.5f, 1.f, 1.5f, 2.f});
  D.assign(4, std::nanf(""));
  gemm(false, false, 2, 2, 0, 1.f, &dummy, 1, &dummy, 2, 0.f, D.data(), 2);
  REQUIRE(D == std::vector<float>{0.f, 0.f, 0.f, 0.f});
}

TEST_CASE("products called from several threads at once are the same as one at a time", "[rl][gemm]") {
  // each thread its own operands and its own product, repeated: every result equals the one
  // computed alone (a library with unlocked shared buffers mixes them up)
  const int threads = 4, m = 768, n = 128, k = 128, reps = 30;
  std::vector<std::vector<float>> A, B, alone;
  for (int t = 0; t < threads; ++t) {
    A.push_back(random_vector(static_cast<std::size_t>(m) * k, 100 + t));
    B.push_back(random_vector(static_cast<std::size_t>(k) * n, 200 + t));
    alone.emplace_back(static_cast<std::size_t>(m) * n);
    gemm(false, true, m, n, k, 1.f, A[t].data(), k, B[t].data(), k, 0.f, alone[t].data(), n);
  }
  std::vector<int> mismatches(threads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::vector<float> C(static_cast<std::size_t>(m) * n);
      for (int r = 0; r < reps; ++r) {
        gemm(false, true, m, n, k, 1.f, A[t].data(), k, B[t].data(), k, 0.f, C.data(), n);
        if (C != alone[t]) mismatches[t]++;
      }
    });
  }
  for (auto& th : pool) th.join();
  for (int t = 0; t < threads; ++t) {
    INFO("thread " << t);
    REQUIRE(mismatches[t] == 0);
  }
}
