// kernels/simd_avx512.h — small helpers of the host-only AVX-512 float paths (SP_HOST_AVX512,
// kernels/config.h): a dof vector of up to sim::kMaskDofs floats lives in two 16-lane registers,
// and sets of dofs are 32-bit masks (Model dof_ancmask, dof_descmask).
#pragma once

#include <cstdint>

#include "kernels/config.h"

namespace stampede::kern {

#if SP_HOST_AVX512
namespace avx512 {

SP_INLINE __mmask16 lo16(uint32_t mask) { return static_cast<__mmask16>(mask & 0xFFFFu); }
SP_INLINE __mmask16 hi16(uint32_t mask) { return static_cast<__mmask16>(mask >> 16); }
SP_INLINE uint32_t first_n(int n) { return n >= 32 ? 0xFFFFFFFFu : (1u << n) - 1u; }
SP_INLINE __m512i iota16() { return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }

// x[k], broadcast, from the register pair (lo, hi) (the zero-masked form: g++ 12 warns that
// the plain one's undefined pass-through may be used uninitialized)
SP_INLINE __m512 lane(__m512 lo, __m512 hi, int k) {
  return k < 16 ? _mm512_maskz_permutexvar_ps(0xFFFF, _mm512_set1_epi32(k), lo)
                : _mm512_maskz_permutexvar_ps(0xFFFF, _mm512_set1_epi32(k - 16), hi);
}

// the sum of the 16 lanes (_mm512_reduce_add_ps trips g++ 12's uninitialized warning)
SP_INLINE float hsum(__m512 v) {
  __m256 a = _mm256_add_ps(_mm512_maskz_extractf32x8_ps(0xFF, v, 0), _mm512_maskz_extractf32x8_ps(0xFF, v, 1));
  __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  b = _mm_add_ps(b, _mm_movehl_ps(b, b));
  b = _mm_add_ss(b, _mm_movehdup_ps(b));
  return _mm_cvtss_f32(b);
}

// the first n (<= 16) of an array of int pairs (a0, b0, a1, b1, ...) split into lanes: a, b
SP_INLINE void load_pairs16(const int* pairs, int n, __m512i* a, __m512i* b) {
  const uint32_t words = first_n(2 * n);
  __m512i lo = _mm512_maskz_loadu_epi32(lo16(words), pairs);
  __m512i hi = _mm512_maskz_loadu_epi32(hi16(words), pairs + 16);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  *a = _mm512_permutex2var_epi32(lo, even, hi);
  *b = _mm512_permutex2var_epi32(lo, _mm512_add_epi32(even, _mm512_set1_epi32(1)), hi);
}

}  // namespace avx512
#endif

}  // namespace stampede::kern
