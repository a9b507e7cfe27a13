// kernels/inertia.inl — position stage, part 2: composite rigid-body inertia and the mass
// matrix (mj_crb), its tree-sparse L'DL factorization (mj_factorM) and solves (mj_solveM).
//
// Storage: qM and qLD are dense nv x nv row-major per world, but only (dof, ancestor dof)
// pairs and the diagonal are ever written or read: the sparsity of a kinematic tree (MuJoCo's
// "legacy" qM pattern). Entries off that pattern stay zero from the arena's construction.
// Scratch factors (Euler's qH, the Newton Hessian) use the compact tree storage below.
// A dense Cholesky (factor_dense / solve_dense) is kept for the speed comparison in
// benchmarks/bench_smooth.cpp and for tests; the pipeline uses the tree-sparse factor.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kernels/simd_avx512.h"
#include "kernels/spatial.h"
#include "kernels/views.h"

namespace stampede::kern {

#if SP_HOST_AVX512
// Triangular solves with the factor's L (unit lower, tree pattern) for nv <= sim::kMaskDofs,
// float: x is held in two 16-lane registers. The first pass (x -= L' x, leaves first)
// subtracts each dense row L(k, :) times the broadcast x[k]; the second (x -= L x, root first)
// subtracts each dense column L(:, i) times x[i], the column gathered from the factor's
// storage. Every value takes the same updates as in the scalar loops; the second pass sums
// them column by column instead of row by row (rounding differs,
// tests/kernels/test_solver_fast.cpp compares). Lanes come from the dof_ancmask /
// dof_descmask bitmasks. About 2.5x faster than the scalar loops on H1 (nv 25): they were
// bound by dependent index loads and short, data-dependent loops.
namespace avx512 {

// the second pass and the store: x = L^-1 (D^-1 x); L(j, i) is l[base_j + col_offset(i)],
// base_j per lane j in (base_lo, base_hi)
template <class ColOffset>
SP_INLINE void solve_columns(float* x, __m512 xl, __m512 xh, const float* l, __m512i base_lo, __m512i base_hi,
                             ColOffset col_offset, const float* diaginv, const ModelView<float>& m) {
  const uint32_t all = first_n(m.nv);
  xl = _mm512_mul_ps(xl, _mm512_maskz_loadu_ps(lo16(all), diaginv));
  xh = _mm512_mul_ps(xh, _mm512_maskz_loadu_ps(hi16(all), diaginv + 16));
  for (int i = 0; i < m.nv; ++i) {
    uint32_t desc = static_cast<uint32_t>(m.dof_descmask[i]);
    if (!desc) continue;
    __m512 xi = lane(xl, xh, i);
    __m512i off = _mm512_set1_epi32(col_offset(i));
    if (lo16(desc)) {
      __m512 col = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lo16(desc), _mm512_add_epi32(base_lo, off), l, 4);
      xl = _mm512_fnmadd_ps(col, xi, xl);
    }
    if (hi16(desc)) {
      __m512 col = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), hi16(desc), _mm512_add_epi32(base_hi, off), l, 4);
      xh = _mm512_fnmadd_ps(col, xi, xh);
    }
  }
  _mm512_mask_storeu_ps(x, lo16(all), xl);
  _mm512_mask_storeu_ps(x + 16, hi16(all), xh);
}

// solve_ldl_compact: row k's values sit at dof_treeadr[k] + (ancestor's own ancestor count)
inline void solve_ldl_compact(float* x, const float* c, const float* diaginv, const ModelView<float>& m) {
  const int nv = m.nv;
  const uint32_t all = first_n(nv);
  __m512 xl = _mm512_maskz_loadu_ps(lo16(all), x);
  __m512 xh = _mm512_maskz_loadu_ps(hi16(all), x + 16);
  // lane j of a dense row takes value number dof_ancnum[j] of the compact row
  const __m512i pos_lo = _mm512_maskz_loadu_epi32(lo16(all), m.dof_ancnum);
  const __m512i pos_hi = _mm512_maskz_loadu_epi32(hi16(all), m.dof_ancnum + 16);
  for (int k = nv - 1; k >= 0; --k) {
    uint32_t anc = static_cast<uint32_t>(m.dof_ancmask[k]);
    if (!anc) continue;
    int n = m.dof_ancnum[k];
    const float* rk = c + m.dof_treeadr[k];
    __m512 r0 = _mm512_maskz_loadu_ps(lo16(first_n(n)), rk);
    __m512 r1 = n > 16 ? _mm512_maskz_loadu_ps(hi16(first_n(n)), rk + 16) : _mm512_setzero_ps();
    __m512 xk = lane(xl, xh, k);
    xl = _mm512_fnmadd_ps(_mm512_maskz_permutex2var_ps(lo16(anc), r0, pos_lo, r1), xk, xl);
    if (hi16(anc)) xh = _mm512_fnmadd_ps(_mm512_maskz_permutex2var_ps(hi16(anc), r0, pos_hi, r1), xk, xh);
  }
  // L(j, i) at dof_treeadr[j] + dof_ancnum[i]
  const __m512i base_lo = _mm512_maskz_loadu_epi32(lo16(all), m.dof_treeadr);
  const __m512i base_hi = _mm512_maskz_loadu_epi32(hi16(all), m.dof_treeadr + 16);
  solve_columns(x, xl, xh, c, base_lo, base_hi, [&](int i) { return m.dof_ancnum[i]; }, diaginv, m);
}

// factor_ldl_fast on dense row-major storage: each ancestor row's update is one masked
// multiply-add over the lanes of its ancestors and itself (the scalar loop's operations on
// each value, in the same order)
inline void factor_ldl_dense(float* mat, float* diaginv, const ModelView<float>& m) {
  const int nv = m.nv;
  for (int k = nv - 1; k >= 0; --k) {
    float* rowk = mat + k * nv;
    float invD = 1.0f / rowk[k];
    diaginv[k] = invD;
    uint32_t anc = static_cast<uint32_t>(m.dof_ancmask[k]);
    if (!anc) continue;
    __m512 kl = _mm512_maskz_loadu_ps(lo16(anc), rowk);
    __m512 kh = _mm512_maskz_loadu_ps(hi16(anc), rowk + 16);
    for (uint32_t rest = anc; rest;) {
      int i = 31 - __builtin_clz(rest);  // nearest ancestor first
      rest &= ~(1u << i);
      float* rowi = mat + i * nv;
      __m512 s = _mm512_set1_ps(-rowk[i] * invD);
      uint32_t lanes = static_cast<uint32_t>(m.dof_ancmask[i]) | (1u << i);
      _mm512_mask_storeu_ps(rowi, lo16(lanes), _mm512_fmadd_ps(s, kl, _mm512_maskz_loadu_ps(lo16(lanes), rowi)));
      if (hi16(lanes)) {
        _mm512_mask_storeu_ps(rowi + 16, hi16(lanes),
                              _mm512_fmadd_ps(s, kh, _mm512_maskz_loadu_ps(hi16(lanes), rowi + 16)));
      }
    }
    __m512 inv = _mm512_set1_ps(invD);
    _mm512_mask_storeu_ps(rowk, lo16(anc), _mm512_mul_ps(kl, inv));
    if (hi16(anc)) _mm512_mask_storeu_ps(rowk + 16, hi16(anc), _mm512_mul_ps(kh, inv));
  }
}

// solve_ldl_fast: dense row-major nv x nv storage, L(k, j) at k * nv + j
inline void solve_ldl_dense(float* x, const float* ld, const float* diaginv, const ModelView<float>& m) {
  const int nv = m.nv;
  const uint32_t all = first_n(nv);
  __m512 xl = _mm512_maskz_loadu_ps(lo16(all), x);
  __m512 xh = _mm512_maskz_loadu_ps(hi16(all), x + 16);
  for (int k = nv - 1; k >= 0; --k) {
    uint32_t anc = static_cast<uint32_t>(m.dof_ancmask[k]);
    if (!anc) continue;
    const float* rk = ld + k * nv;
    __m512 xk = lane(xl, xh, k);
    xl = _mm512_fnmadd_ps(_mm512_maskz_loadu_ps(lo16(anc), rk), xk, xl);
    if (hi16(anc)) xh = _mm512_fnmadd_ps(_mm512_maskz_loadu_ps(hi16(anc), rk + 16), xk, xh);
  }
  // L(j, i) at j * nv + i
  const __m512i stride = _mm512_set1_epi32(nv);
  const __m512i base_lo = _mm512_mullo_epi32(iota16(), stride);
  const __m512i base_hi = _mm512_mullo_epi32(_mm512_add_epi32(iota16(), _mm512_set1_epi32(16)), stride);
  solve_columns(x, xl, xh, ld, base_lo, base_hi, [](int i) { return i; }, diaginv, m);
}

// res = M v, M symmetric with the tree pattern in dense row-major storage (qM: lower
// triangle): row i's lanes are its ancestors; res takes M(i, :) v[i] as a column and the row's
// dot product with v at lane i
inline void mul_tree_dense(float* res, const float* qM, const float* v, const ModelView<float>& m) {
  const int nv = m.nv;
  const uint32_t all = first_n(nv);
  const __m512 vl = _mm512_maskz_loadu_ps(lo16(all), v);
  const __m512 vh = _mm512_maskz_loadu_ps(hi16(all), v + 16);
  __m512 cl = _mm512_setzero_ps(), ch = _mm512_setzero_ps();  // sum of columns
  __m512 dl = _mm512_setzero_ps(), dh = _mm512_setzero_ps();  // row dot products, diagonal
  for (int i = 0; i < nv; ++i) {
    const float* row = qM + i * nv;
    uint32_t anc = static_cast<uint32_t>(m.dof_ancmask[i]);
    __m512 rl = _mm512_maskz_loadu_ps(lo16(anc), row);
    __m512 rh = _mm512_maskz_loadu_ps(hi16(anc), row + 16);
    __m512 vi = lane(vl, vh, i);
    cl = _mm512_fmadd_ps(rl, vi, cl);
    ch = _mm512_fmadd_ps(rh, vi, ch);
    float s = hsum(_mm512_fmadd_ps(rh, vh, _mm512_mul_ps(rl, vl))) + row[i] * v[i];
    if (i < 16) {
      dl = _mm512_mask_mov_ps(dl, static_cast<__mmask16>(1u << i), _mm512_set1_ps(s));
    } else {
      dh = _mm512_mask_mov_ps(dh, static_cast<__mmask16>(1u << (i - 16)), _mm512_set1_ps(s));
    }
  }
  _mm512_mask_storeu_ps(res, lo16(all), _mm512_add_ps(cl, dl));
  _mm512_mask_storeu_ps(res + 16, hi16(all), _mm512_add_ps(ch, dh));
}

// the nonzero columns of a dense row of J (nv <= sim::kMaskDofs) as a bitmask
inline uint32_t nonzero_mask(const float* row, int nv) {
  const uint32_t all = first_n(nv);
  __mmask16 lo = _mm512_mask_cmp_ps_mask(lo16(all), _mm512_maskz_loadu_ps(lo16(all), row), _mm512_setzero_ps(), _CMP_NEQ_UQ);
  __mmask16 hi = _mm512_mask_cmp_ps_mask(hi16(all), _mm512_maskz_loadu_ps(hi16(all), row + 16), _mm512_setzero_ps(), _CMP_NEQ_UQ);
  return static_cast<uint32_t>(lo) | (static_cast<uint32_t>(hi) << 16);
}

// the set bits of mask as increasing indices; returns their count
inline int mask_indices(int* out, uint32_t mask) {
  int nlo = __builtin_popcount(mask & 0xFFFFu);
  _mm512_mask_compressstoreu_epi32(out, lo16(mask), iota16());
  _mm512_mask_compressstoreu_epi32(out + nlo, hi16(mask), _mm512_add_epi32(iota16(), _mm512_set1_epi32(16)));
  return __builtin_popcount(mask);
}

}  // namespace avx512
#endif

// rows of compact tree matrices are padded to multiples of this many values (see below)
constexpr int kTreePad = 8;
SP_HD SP_INLINE int tree_padded(int n) { return (n + kTreePad - 1) / kTreePad * kTreePad; }

// mj_crb: crb = subtree sums of cinert, then M(i, j) = cdof_j . (crb_body(i) cdof_i) on ancestors
template <class Real, class Team>
SP_STAGE void crb(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  Real* crb = d.crb.at(w);
  const Real* cinert = d.cinert.at(w);
  const Real* cdof = d.cdof.at(w);
  Real* qM = d.qM.at(w);
  const int nv = m.nv;

  team.for_lanes(10 * m.nbody, [&](int k) { crb[k] = cinert[k]; });
  accumulate_subtree(m, crb, 10, true, team);

  team.for_lanes(nv, [&](int i) {
    Real buf[6];
    inert_mul(buf, crb + 10 * m.dof_bodyid[i], cdof + 6 * i);
    qM[i * nv + i] = m.dof_armature[i] + dot6(cdof + 6 * i, buf);
    for (int j = m.dof_parentid[i]; j >= 0; j = m.dof_parentid[j]) qM[i * nv + j] = dot6(cdof + 6 * j, buf);
  });
}

// tree-sparse L'DL in place (mj_factorI): on return L (unit, below the diagonal, ancestor pairs)
// and D (diagonal) share mat; diaginv = 1 / D
template <class Real>
SP_HD void factor_ldl(Real* mat, Real* diaginv, const int* dof_parentid, int nv) {
  for (int k = nv - 1; k >= 0; --k) {
    Real* rowk = mat + k * nv;
    Real invD = Real(1) / rowk[k];
    diaginv[k] = invD;
    // update the rows of k's ancestors: L(i, 0..i) -= L(k, i) / D(k) * L(k, 0..i)
    for (int i = dof_parentid[k]; i >= 0; i = dof_parentid[i]) {
      Real* rowi = mat + i * nv;
      Real s = -rowk[i] * invD;
      rowi[i] += s * rowk[i];
      for (int j = dof_parentid[i]; j >= 0; j = dof_parentid[j]) rowi[j] += s * rowk[j];
    }
    for (int i = dof_parentid[k]; i >= 0; i = dof_parentid[i]) rowk[i] *= invD;
  }
}

// x = (L'DL)^-1 x with a factor from factor_ldl (mj_solveLD)
template <class Real>
SP_HD void solve_ldl(Real* x, const Real* ld, const Real* diaginv, const int* dof_parentid, int nv) {
  for (int k = nv - 1; k >= 0; --k) {
    Real xk = x[k];
    if (xk == Real(0)) continue;
    const Real* rowk = ld + k * nv;
    for (int i = dof_parentid[k]; i >= 0; i = dof_parentid[i]) x[i] -= rowk[i] * xk;
  }
  for (int k = 0; k < nv; ++k) x[k] *= diaginv[k];
  for (int k = 0; k < nv; ++k) {
    const Real* rowk = ld + k * nv;
    Real s = 0;
    for (int i = dof_parentid[k]; i >= 0; i = dof_parentid[i]) s += rowk[i] * x[i];
    x[k] -= s;
  }
}

// factor_ldl with the model's ancestor lists (dof_ancestor) in place of walks up dof_parentid:
// every entry sees the same operations in the same order (equal up to the compiler's choice of
// fused multiply-adds), but the inner loops are independent gathers instead of chains of
// dependent loads (the pipeline's path; tests/kernels/test_solver_fast.cpp compares them)
template <class Real>
SP_HD void factor_ldl_fast(Real* mat, Real* diaginv, const ModelView<Real>& m) {
  const int nv = m.nv;
#if SP_HOST_AVX512
  if constexpr (std::is_same_v<Real, float>) {
    if (nv <= sim::kMaskDofs) return avx512::factor_ldl_dense(mat, diaginv, m);
  }
#endif
  for (int k = nv - 1; k >= 0; --k) {
    Real* rowk = mat + k * nv;
    Real invD = Real(1) / rowk[k];
    diaginv[k] = invD;
    const int* anc = m.dof_ancestor + m.dof_ancadr[k];
    int n = m.dof_ancnum[k];
    // ancestor i = anc[a] has the ancestors anc[0..a)
    for (int a = n - 1; a >= 0; --a) {
      int i = anc[a];
      Real* rowi = mat + i * nv;
      Real s = -rowk[i] * invD;
      rowi[i] += s * rowk[i];
      for (int b = a - 1; b >= 0; --b) rowi[anc[b]] += s * rowk[anc[b]];
    }
    for (int a = 0; a < n; ++a) rowk[anc[a]] *= invD;
  }
}

// solve_ldl with the ancestor lists, the same operations in the same order (sums run nearest
// ancestor first)
template <class Real>
SP_HD void solve_ldl_fast(Real* x, const Real* ld, const Real* diaginv, const ModelView<Real>& m) {
  const int nv = m.nv;
#if SP_HOST_AVX512
  if constexpr (std::is_same_v<Real, float>) {
    if (nv <= sim::kMaskDofs) return avx512::solve_ldl_dense(x, ld, diaginv, m);
  }
#endif
  for (int k = nv - 1; k >= 0; --k) {
    Real xk = x[k];
    if (xk == Real(0)) continue;
    const Real* rowk = ld + k * nv;
    const int* anc = m.dof_ancestor + m.dof_ancadr[k];
    for (int a = m.dof_ancnum[k] - 1; a >= 0; --a) x[anc[a]] -= rowk[anc[a]] * xk;
  }
  for (int k = 0; k < nv; ++k) x[k] *= diaginv[k];
  for (int k = 0; k < nv; ++k) {
    const Real* rowk = ld + k * nv;
    const int* anc = m.dof_ancestor + m.dof_ancadr[k];
    Real s = 0;
    for (int a = m.dof_ancnum[k] - 1; a >= 0; --a) s += rowk[anc[a]] * x[anc[a]];
    x[k] -= s;
  }
}

// ---------------------------------------------------------------------------------------------
// compact tree matrices (the CPU speed path's storage for factors that are scratch: the Newton
// Hessian, Euler's M + h diag(damping)). A symmetric nv x nv matrix with the tree pattern is
// stored by rows: the entry (i, j), j the b-th ancestor of i counted from the root
// (dof_ancestor[dof_ancadr[i] + b]), at [dof_treeadr[i] + b], each row padded with zeros to a
// multiple of kTreePad values; the diagonal at [tree_offdiag_size + i]. The ancestors of i are
// the first dof_ancnum[i] ancestors of each of its descendants, so the factor's row updates are
// contiguous axpys, done in whole padded blocks (one 8-wide instruction each, no loop tail).
// Capacity: at most nv * (nv + kTreePad) values.

// values before the diagonal in a compact tree matrix
template <class Real>
SP_HD SP_INLINE int tree_offdiag_size(const ModelView<Real>& m) {
  return m.nv ? m.dof_treeadr[m.nv - 1] + tree_padded(m.dof_ancnum[m.nv - 1]) : 0;
}

// y[0..n) += s * x[0..n), rounded up to whole blocks of kTreePad (the tail lands in the
// row's padding); fixed-width blocks so that the compiler emits full-width vector operations:
// a row updated here is read again by the next dofs' updates right away, and masked or partial
// stores would not forward to those loads (AVX-512 masked axpys were 25% slower than scalar)
template <class Real>
SP_HD SP_INLINE void axpy_padded(Real* SP_RESTRICT y, Real s, const Real* SP_RESTRICT x, int n) {
  for (int b = 0; b < n; b += kTreePad) {
    for (int j = 0; j < kTreePad; ++j) y[b + j] += s * x[b + j];
  }
}

// L'DL of a compact tree matrix in place (factor_ldl's operations, compact storage):
// on return the off-diagonal values are L, the diagonal D; diaginv = 1 / D
template <class Real>
SP_HD void factor_ldl_compact(Real* c, Real* diaginv, const ModelView<Real>& m) {
  const int nv = m.nv;
  Real* D = c + tree_offdiag_size(m);
  for (int k = nv - 1; k >= 0; --k) {
    Real invD = Real(1) / D[k];
    diaginv[k] = invD;
    Real* rk = c + m.dof_treeadr[k];
    const int* anc = m.dof_ancestor + m.dof_ancadr[k];
    int n = m.dof_ancnum[k];
    // ancestor i = anc[a] has the ancestors anc[0..a): its row is rk's first a values' columns
    for (int a = n - 1; a >= 0; --a) {
      int i = anc[a];
      Real s = -rk[a] * invD;
      D[i] += s * rk[a];
      axpy_padded(c + m.dof_treeadr[i], s, rk, a);
    }
    for (int a = 0; a < n; ++a) rk[a] *= invD;
  }
}

// rank-one change of a factor from factor_ldl_compact: L'DL + alpha x x' (alpha < 0: a
// downdate). x is nonzero only on kmax and its ancestor dofs (one chain, as a constraint row on
// the tree path is); it is used as scratch and left zero there. The elimination runs from the
// leaves (k = nv-1 down), so the chain is walked from kmax to the root; at each dof the
// pivot takes alpha x_k^2, the row's off-diagonal values take the remainder of x (the classic
// method C1 of Gill, Golub, Murray and Saunders, in this orientation). Returns false when a
// pivot is no longer positive (or not finite): the caller refactors from scratch.
template <class Real>
SP_HD bool update_ldl_compact(Real* c, Real* diaginv, const ModelView<Real>& m, Real* x, Real alpha, int kmax) {
  Real* D = c + tree_offdiag_size(m);
  bool ok = true;
  for (int k = kmax; k >= 0; k = m.dof_parentid[k]) {
    Real p = x[k];
    x[k] = 0;
    if (p == Real(0)) continue;
    Real dk = D[k];
    Real dnew = dk + alpha * p * p;
    if (!(dnew > Real(0)) || !std::isfinite(dnew)) ok = false;  // keep walking: x ends zero
    Real beta = alpha * p / dnew;
    alpha = alpha * dk / dnew;
    D[k] = dnew;
    diaginv[k] = Real(1) / dnew;
    Real* rk = c + m.dof_treeadr[k];
    const int* anc = m.dof_ancestor + m.dof_ancadr[k];
    for (int a = 0; a < m.dof_ancnum[k]; ++a) {
      int i = anc[a];
      x[i] -= p * rk[a];
      rk[a] += beta * x[i];
    }
  }
  return ok;
}

// x = (L'DL)^-1 x with a factor from factor_ldl_compact
template <class Real>
SP_HD void solve_ldl_compact(Real* x, const Real* c, const Real* diaginv, const ModelView<Real>& m) {
  const int nv = m.nv;
#if SP_HOST_AVX512
  if constexpr (std::is_same_v<Real, float>) {
    if (nv <= sim::kMaskDofs) return avx512::solve_ldl_compact(x, c, diaginv, m);
  }
#endif
  for (int k = nv - 1; k >= 0; --k) {
    Real xk = x[k];  // no test for zero: a mispredicted branch costs more than the short loop
    const Real* rk = c + m.dof_treeadr[k];
    const int* anc = m.dof_ancestor + m.dof_ancadr[k];
    for (int a = m.dof_ancnum[k] - 1; a >= 0; --a) x[anc[a]] -= rk[a] * xk;
  }
  for (int k = 0; k < nv; ++k) x[k] *= diaginv[k];
  for (int k = 0; k < nv; ++k) {
    const Real* rk = c + m.dof_treeadr[k];
    const int* anc = m.dof_ancestor + m.dof_ancadr[k];
    Real s = 0;
    for (int a = m.dof_ancnum[k] - 1; a >= 0; --a) s += rk[a] * x[anc[a]];
    x[k] -= s;
  }
}

// compact tree matrix from a dense one with the tree pattern (qM); the diagonal plus diag_add
// (nullable) times diag_scale
template <class Real>
SP_HD void tree_compact(Real* c, const Real* dense, const ModelView<Real>& m, const Real* diag_add = nullptr,
                        Real diag_scale = Real(0)) {
  const int nv = m.nv;
  Real* D = c + tree_offdiag_size(m);
#if SP_HOST_AVX512
  if constexpr (std::is_same_v<Real, float>) {
    if (nv <= sim::kMaskDofs) {
      // a row's ancestors in increasing order are its compact values: compress the dense row
      using namespace avx512;
      for (int i = 0; i < nv; ++i) {
        const float* row = dense + i * nv;
        float* ci = c + m.dof_treeadr[i];
        uint32_t anc = static_cast<uint32_t>(m.dof_ancmask[i]);
        int n = m.dof_ancnum[i], nlo = __builtin_popcount(anc & 0xFFFFu);
        uint32_t padded = first_n(tree_padded(n));
        _mm512_mask_storeu_ps(ci, lo16(padded), _mm512_setzero_ps());
        if (hi16(padded)) _mm512_mask_storeu_ps(ci + 16, hi16(padded), _mm512_setzero_ps());
        __m512 lo = _mm512_maskz_compress_ps(lo16(anc), _mm512_maskz_loadu_ps(lo16(anc), row));
        _mm512_mask_storeu_ps(ci, lo16(first_n(nlo)), lo);
        if (hi16(anc)) {
          __m512 hi = _mm512_maskz_compress_ps(hi16(anc), _mm512_maskz_loadu_ps(hi16(anc), row + 16));
          _mm512_mask_storeu_ps(ci + nlo, lo16(first_n(n - nlo)), hi);
        }
        D[i] = diag_add ? row[i] + diag_scale * diag_add[i] : row[i];
      }
      return;
    }
  }
#endif
  for (int i = 0; i < nv; ++i) {
    const Real* row = dense + i * nv;
    Real* ci = c + m.dof_treeadr[i];
    const int* anc = m.dof_ancestor + m.dof_ancadr[i];
    int n = m.dof_ancnum[i];
    for (int a = 0; a < n; ++a) ci[a] = row[anc[a]];
    for (int a = n; a < tree_padded(n); ++a) ci[a] = 0;
    D[i] = diag_add ? row[i] + diag_scale * diag_add[i] : row[i];
  }
}

// mj_factorM: qLD = factor(qM)
template <class Real, class Team>
SP_STAGE void factor_m(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  const int nv = m.nv;
  const Real* qM = d.qM.at(w);
  Real* qLD = d.qLD.at(w);
#if SP_HOST_AVX512
  if constexpr (std::is_same_v<Real, float>) {
    if (nv <= sim::kMaskDofs) {
      team.single([&] {
        // each row's ancestor lanes and its diagonal, in place of the walks up dof_parentid
        for (int i = 0; i < nv; ++i) {
          uint32_t lanes = static_cast<uint32_t>(m.dof_ancmask[i]) | (1u << i);
          const float* src = qM + i * nv;
          float* dst = qLD + i * nv;
          _mm512_mask_storeu_ps(dst, avx512::lo16(lanes), _mm512_maskz_loadu_ps(avx512::lo16(lanes), src));
          if (avx512::hi16(lanes)) {
            _mm512_mask_storeu_ps(dst + 16, avx512::hi16(lanes), _mm512_maskz_loadu_ps(avx512::hi16(lanes), src + 16));
          }
        }
        factor_ldl_fast(qLD, d.qLDiagInv.at(w), m);
      });
      return;
    }
  }
#endif
  team.for_lanes(nv, [&](int i) {
    qLD[i * nv + i] = qM[i * nv + i];
    for (int j = m.dof_parentid[i]; j >= 0; j = m.dof_parentid[j]) qLD[i * nv + j] = qM[i * nv + j];
  });
  team.single([&] { factor_ldl_fast(qLD, d.qLDiagInv.at(w), m); });
}

// dense Cholesky of a symmetric matrix whose lower triangle is in `a` (row-major n x n):
// l (lower triangle) with a = l l'. Returns false when a is not positive definite.
template <class Real>
SP_HD bool factor_dense(Real* l, const Real* a, int n) {
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j <= i; ++j) {
      Real s = a[i * n + j];
      for (int k = 0; k < j; ++k) s -= l[i * n + k] * l[j * n + k];
      if (i == j) {
        if (!(s > Real(0))) return false;
        l[i * n + i] = std::sqrt(s);
      } else {
        l[i * n + j] = s / l[j * n + j];
      }
    }
  }
  return true;
}

// x = (l l')^-1 x
template <class Real>
SP_HD void solve_dense(Real* x, const Real* l, int n) {
  for (int i = 0; i < n; ++i) {
    Real s = x[i];
    for (int k = 0; k < i; ++k) s -= l[i * n + k] * x[k];
    x[i] = s / l[i * n + i];
  }
  for (int i = n - 1; i >= 0; --i) {
    Real s = x[i];
    for (int k = i + 1; k < n; ++k) s -= l[k * n + i] * x[k];
    x[i] = s / l[i * n + i];
  }
}

// a symmetric matrix with the tree pattern (lower triangle on ancestor pairs) made dense-full
template <class Real>
SP_HD void expand_tree_matrix(Real* full, const Real* tree, const int* dof_parentid, int nv) {
  for (int k = 0; k < nv * nv; ++k) full[k] = 0;
  for (int i = 0; i < nv; ++i) {
    full[i * nv + i] = tree[i * nv + i];
    for (int j = dof_parentid[i]; j >= 0; j = dof_parentid[j]) {
      full[i * nv + j] = tree[i * nv + j];
      full[j * nv + i] = tree[i * nv + j];
    }
  }
}

}  // namespace stampede::kern
