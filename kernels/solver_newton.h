// kernels/solver_newton.h — MuJoCo's primal Newton solver (mj_solNewton, dense) for one world:
// minimize the Gauss cost 0.5 (qacc - qacc_smooth)' M (qacc - qacc_smooth) plus the soft
// constraint costs s(J qacc - aref), with
// - warm start: the better of qacc_warmstart and qacc_smooth by total cost; dofs of trees with
//   no constraint rows take qacc_smooth (MuJoCo's islands);
// - Hessian H = M + J' D J over rows in the quadratic state, plus the cone Hessians of elliptic
//   contacts in the cone state, refactored when a row's state changed (MuJoCo updates its
//   factor incrementally: the same matrix up to rounding). Two factorizations:
//   - tree-sparse L'DL (the fast path): when every row's nonzero columns lie on one chain of
//     ancestor dofs (contacts with the world or another tree, limits, frictionloss) and cones
//     are pyramidal, J' D J adds only (dof, ancestor dof) entries, so H has the sparsity of M
//     and the tree-sparse L'DL applies (factor_ldl_compact: tens of multiply-adds per dof
//     instead of nv^2 / 6);
//   - dense Cholesky (the reference path): any other row pattern, elliptic cones, or on request
//     (tests compare the two);
// - M v, J v and J' f walk only the tree pattern of M and the nonzeros of each row of J;
// - MuJoCo's exact line search (Newton steps on the 1-D cost, bracketing, 3-point candidates);
// - termination on the scaled improvement, gradient or Newton decrement, the scale being
//   1 / trace(M) (MuJoCo 4: the trace of the current inertia, model or island).
// Outputs: qacc, qfrc_constraint, efc_force, efc_state, contact_force, solver_niter,
// solver_cost. Scratch: efc_Jaref, efc_jv, efc_quad, solver_*.
#pragma once

#include "kernels/constraint_impedance.h"
#include "kernels/inertia.inl"

namespace stampede::kern::constraint {

// res = M v, M symmetric with qM's lower triangle on (dof, ancestor dof) pairs (mj_mulM), the
// ancestors from the model's lists (dof_ancestor)
template <class Real>
SP_HD inline void solver_mul_m(Real* res, const Real* qM, const Real* v, const sim::ModelView<Real>& m) {
  const int nv = m.nv;
#if SP_HOST_AVX512
  if constexpr (std::is_same_v<Real, float>) {
    if (nv <= sim::kMaskDofs) return avx512::mul_tree_dense(res, qM, v, m);
  }
#endif
  for (int i = 0; i < nv; i++) res[i] = qM[static_cast<long>(i) * (nv + 1)] * v[i];
  for (int i = 0; i < nv; i++) {
    const Real* row = qM + static_cast<long>(i) * nv;
    const int* anc = m.dof_ancestor + m.dof_ancadr[i];
    Real vi = v[i], s = 0;
    for (int a = m.dof_ancnum[i] - 1; a >= 0; a--) {
      int j = anc[a];
      s += row[j] * v[j];
      res[j] += row[j] * vi;
    }
    res[i] += s;
  }
}

// the nonzero columns of every row of efc_J (efc_Jnnz, efc_Jind); returns true when each row's
// columns lie on one chain of ancestor dofs: J' D J then has the tree pattern of M
template <class Real>
SP_HD inline bool solver_sparsity(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                  int w) {
  int nv = m.nv, nefc = d.nefc.at(w)[0];
  const Real* J = d.efc_J.at(w);
  int* nnz = d.efc_Jnnz.at(w);
  int* ind = d.efc_Jind.at(w);
  bool tree = true;
#if SP_HOST_AVX512
  if constexpr (std::is_same_v<Real, float>) {
    if (nv <= sim::kMaskDofs) {
      // a chain: every column is the deepest one or one of its ancestors
      for (int i = 0; i < nefc; i++) {
        uint32_t cols = avx512::nonzero_mask(J + static_cast<long>(i) * nv, nv);
        nnz[i] = avx512::mask_indices(ind + static_cast<long>(i) * nv, cols);
        if (cols) {
          int deepest = 31 - __builtin_clz(cols);
          uint32_t chain = static_cast<uint32_t>(m.dof_ancmask[deepest]) | (1u << deepest);
          if (cols & ~chain) tree = false;
        }
      }
      return tree;
    }
  }
#endif
  for (int i = 0; i < nefc; i++) {
    const Real* row = J + static_cast<long>(i) * nv;
    int* cols = ind + static_cast<long>(i) * nv;
    int n = 0;
    for (int j = 0; j < nv; j++) {
      cols[n] = j;  // branch-free: kept when nonzero (row capacity is nv)
      n += row[j] != 0 ? 1 : 0;
    }
    nnz[i] = n;
    // walk up from the deepest column (parents have smaller ids): every column must be met
    int k = n - 1;
    for (int j = n > 0 ? cols[n - 1] : -1; j >= 0 && k >= 0; j = m.dof_parentid[j]) {
      if (j == cols[k]) k--;
    }
    if (k >= 0) tree = false;
  }
  return tree;
}

// in-place dense Cholesky (MuJoCo's mju_cholFactor): lower triangle of mat becomes L; the
// upper triangle is scratch
// (right-looking: after column j is final, its outer product leaves the trailing rows at once,
// contiguous multiply-adds that vectorize; every entry still receives the same products in the
// same order as the dot products of the left-looking form, so the factor is the same)
template <class Real>
SP_HD inline void solver_chol_factor(Real* mat, int n, Real mindiag) {
  for (int j = 0; j < n; j++) {
    Real tmp = mat[j * (n + 1)];
    bool deficient = tmp < mindiag;
    if (deficient) tmp = mindiag;
    mat[j * (n + 1)] = col_sqrt(tmp);
    if (deficient) {
      for (int i = j + 1; i < n; i++) mat[i * n + j] = 0;
      continue;
    }
    Real inv = 1 / mat[j * (n + 1)];
    // column j of L, also copied right of the diagonal of row j (the unused upper triangle)
    Real* col = mat + j * n;
    for (int i = j + 1; i < n; i++) {
      Real l = mat[i * n + j] * inv;
      mat[i * n + j] = l;
      col[i] = l;
    }
    for (int i = j + 1; i < n; i++) {
      Real lij = col[i];
      Real* SP_RESTRICT row = mat + i * n;
      for (int k = j + 1; k <= i; k++) row[k] -= lij * col[k];
    }
  }
}

// rank-one change of a factor from solver_chol_factor (lower triangle): L L' + x x' (down:
// L L' - x x'); x is scratch. False when a diagonal would no longer be positive: the caller
// refactors. (The classic update by plane rotations, column by column; MuJoCo's
// mju_cholUpdate for its dense Newton path.)
template <class Real>
SP_HD inline bool solver_chol_update(Real* L, Real* x, int n, bool down) {
  for (int k = 0; k < n; k++) {
    Real xk = x[k];
    if (xk == Real(0)) continue;
    Real lkk = L[k * (n + 1)];
    Real r2 = down ? lkk * lkk - xk * xk : lkk * lkk + xk * xk;
    if (!(r2 > Real(0)) || !(lkk > Real(0))) return false;
    Real r = col_sqrt(r2);
    Real c = r / lkk, s = xk / lkk, cinv = 1 / c;
    L[k * (n + 1)] = r;
    for (int i = k + 1; i < n; i++) {
      Real lik = (down ? L[i * n + k] - s * x[i] : L[i * n + k] + s * x[i]) * cinv;
      L[i * n + k] = lik;
      x[i] = c * x[i] - s * lik;
    }
  }
  return true;
}

#if SP_HOST_AVX512
namespace avx512 {
using namespace stampede::kern::avx512;
// solver_chol_solve for n <= sim::kMaskDofs, float, x in two registers. Forward (L y = b):
// column by column, y[k] fixed, then column k of L (gathered) times y[k] leaves the rows below;
// backward (L' x = y): row by row from the last, x[k] fixed, then row k of L (contiguous) times
// x[k] leaves the rows above. The scalar loops were dot products: chains of dependent
// multiply-adds (backward: strided). Divisions are multiplications by 1 / L(k, k) (rounding
// differs, tests/kernels/test_solver_fast.cpp compares).
inline void chol_solve(float* res, const float* L, const float* vec, int n) {
  const uint32_t all = first_n(n);
  __m512 xl = _mm512_maskz_loadu_ps(lo16(all), vec), xh = _mm512_maskz_loadu_ps(hi16(all), vec + 16);
  const __m512i rows_lo = _mm512_mullo_epi32(iota16(), _mm512_set1_epi32(n));
  const __m512i rows_hi = _mm512_mullo_epi32(_mm512_add_epi32(iota16(), _mm512_set1_epi32(16)), _mm512_set1_epi32(n));
  const __m512i diag = _mm512_set1_epi32(n + 1);
  const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
  const __m512 il = _mm512_maskz_div_ps(lo16(all), one,
                                        _mm512_mask_i32gather_ps(one, lo16(all), _mm512_mullo_epi32(iota16(), diag), L, 4));
  const __m512 ih = _mm512_maskz_div_ps(
      hi16(all), one,
      _mm512_mask_i32gather_ps(one, hi16(all), _mm512_mullo_epi32(_mm512_add_epi32(iota16(), _mm512_set1_epi32(16)), diag), L, 4));
  for (int k = 0; k < n; ++k) {
    __m512 yk = _mm512_mul_ps(lane(xl, xh, k), lane(il, ih, k));
    uint32_t below = all & ~first_n(k + 1);
    const __m512i col = _mm512_set1_epi32(k);
    if (k < 16) {
      xl = _mm512_mask_mov_ps(xl, static_cast<__mmask16>(1u << k), yk);
      if (lo16(below)) {
        __m512 c = _mm512_mask_i32gather_ps(zero, lo16(below), _mm512_add_epi32(rows_lo, col), L, 4);
        xl = _mm512_fnmadd_ps(c, yk, xl);
      }
    } else {
      xh = _mm512_mask_mov_ps(xh, static_cast<__mmask16>(1u << (k - 16)), yk);
    }
    if (hi16(below)) {
      __m512 c = _mm512_mask_i32gather_ps(zero, hi16(below), _mm512_add_epi32(rows_hi, col), L, 4);
      xh = _mm512_fnmadd_ps(c, yk, xh);
    }
  }
  for (int k = n - 1; k >= 0; --k) {
    __m512 xk = _mm512_mul_ps(lane(xl, xh, k), lane(il, ih, k));
    uint32_t above = first_n(k);
    const float* row = L + k * n;
    if (k < 16) {
      xl = _mm512_mask_mov_ps(xl, static_cast<__mmask16>(1u << k), xk);
    } else {
      xh = _mm512_mask_mov_ps(xh, static_cast<__mmask16>(1u << (k - 16)), xk);
      if (hi16(above)) xh = _mm512_fnmadd_ps(_mm512_maskz_loadu_ps(hi16(above), row + 16), xk, xh);
    }
    if (lo16(above)) xl = _mm512_fnmadd_ps(_mm512_maskz_loadu_ps(lo16(above), row), xk, xl);
  }
  _mm512_mask_storeu_ps(res, lo16(all), xl);
  _mm512_mask_storeu_ps(res + 16, hi16(all), xh);
}
}  // namespace avx512
#endif

// res = (L L')^-1 vec
template <class Real>
SP_HD inline void solver_chol_solve(Real* res, const Real* L, const Real* vec, int n) {
#if SP_HOST_AVX512
  if constexpr (std::is_same_v<Real, float>) {
    if (n <= sim::kMaskDofs) return avx512::chol_solve(res, L, vec, n);
  }
#endif
  for (int i = 0; i < n; i++) res[i] = vec[i];
  for (int i = 0; i < n; i++) {
    Real s = res[i];
    for (int k = 0; k < i; k++) s -= L[i * n + k] * res[k];
    res[i] = s / L[i * (n + 1)];
  }
  for (int i = n - 1; i >= 0; i--) {
    Real s = res[i];
    for (int k = i + 1; k < n; k++) s -= L[k * n + i] * res[k];
    res[i] = s / L[i * (n + 1)];
  }
}

// the scaled-cone quantities of the elliptic contact whose first row is i
template <class Real>
struct EllipticCone {
  Real mu;           // friction of the regularized cone
  const Real* fric;  // contact friction (5)
  int dim;
};

template <class Real>
SP_HD inline EllipticCone<Real> elliptic_cone(const sim::DataView<Real>& d, int w, int i) {
  int c = d.efc_id.at(w)[i];
  EllipticCone<Real> e;
  e.mu = contact_mu(d, w, i);
  e.fric = d.contact_friction.at(w) + 5 * c;
  e.dim = d.contact_dim.at(w)[c];
  return e;
}

// efc_state and efc_force at jar = J qacc - aref; returns the constraint cost
// (mj_constraintUpdate_impl); hcone: add cone Hessians of elliptic contacts to H (nv x nv)
template <class Real>
SP_HD SP_NOINLINE Real solver_update_constraint(const sim::ModelView<Real>& m,
                                           const sim::DataView<Real>& d, int w, const Real* jar,
                                           Real* hcone) {
  int nefc = d.nefc.at(w)[0], ne = d.ne.at(w)[0], nf = d.nf.at(w)[0];
  const Real* D = d.efc_D.at(w);
  const Real* R = d.efc_R.at(w);
  const Real* floss = d.efc_frictionloss.at(w);
  const int* type = d.efc_type.at(w);
  int* state = d.efc_state.at(w);
  Real* force = d.efc_force.at(w);
  Real s = 0;
  for (int i = 0; i < nefc; i++) force[i] = -D[i] * jar[i];

  for (int i = 0; i < nefc; i++) {
    if (i < ne) {
      s += Real(0.5) * D[i] * jar[i] * jar[i];
      state[i] = kStateQuadratic;
      continue;
    }
    if (i < ne + nf) {
      // Huber friction loss
      if (jar[i] <= -R[i] * floss[i]) {
        s += Real(-0.5) * R[i] * floss[i] * floss[i] - floss[i] * jar[i];
        force[i] = floss[i];
        state[i] = kStateLinearNeg;
      } else if (jar[i] >= R[i] * floss[i]) {
        s += Real(-0.5) * R[i] * floss[i] * floss[i] + floss[i] * jar[i];
        force[i] = -floss[i];
        state[i] = kStateLinearPos;
      } else {
        s += Real(0.5) * D[i] * jar[i] * jar[i];
        state[i] = kStateQuadratic;
      }
      continue;
    }
    if (type[i] != sim::kCnstrContactElliptic) {
      // one-sided
      if (jar[i] >= 0) {
        force[i] = 0;
        state[i] = kStateSatisfied;
      } else {
        s += Real(0.5) * D[i] * jar[i] * jar[i];
        state[i] = kStateQuadratic;
      }
      continue;
    }

    // elliptic cone: top (satisfied), bottom (quadratic), middle (cone) zones
    EllipticCone<Real> e = elliptic_cone(d, w, i);
    int dim = e.dim;
    Real mu = e.mu;
    Real U[6];
    U[0] = jar[i] * mu;
    for (int j = 1; j < dim; j++) U[j] = jar[i + j] * e.fric[j - 1];
    Real N = U[0];
    Real T = 0;
    for (int j = 1; j < dim; j++) T += U[j] * U[j];
    T = col_sqrt(T);
    if (N >= mu * T || (T <= 0 && N >= 0)) {
      for (int j = 0; j < dim; j++) force[i + j] = 0;
      state[i] = kStateSatisfied;
    } else if (mu * N + T <= 0 || (T <= 0 && N < 0)) {
      for (int j = 0; j < dim; j++) s += Real(0.5) * D[i + j] * jar[i + j] * jar[i + j];
      state[i] = kStateQuadratic;
    } else {
      Real Dm = D[i] / (mu * mu * (1 + mu * mu));
      Real NmT = N - mu * T;
      s += Real(0.5) * Dm * NmT * NmT;
      force[i] = -Dm * NmT * mu;
      for (int j = 1; j < dim; j++) force[i + j] = -force[i] / T * U[j] * e.fric[j - 1];
      state[i] = kStateCone;
      if (hcone) {
        // cone Hessian (dim x dim), then H += J_c' Hc J_c
        Real H[36];
        Real scl = -mu / T;
        H[0] = 1;
        for (int j = 1; j < dim; j++) H[j] = scl * U[j];
        scl = mu * N / (T * T * T);
        for (int k = 1; k < dim; k++) {
          for (int j = k; j < dim; j++) H[k * dim + j] = scl * U[j] * U[k];
        }
        scl = mu * mu - mu * N / T;
        for (int j = 1; j < dim; j++) H[j * (dim + 1)] += scl;
        for (int k = 0; k < dim; k++) {
          Real sk = Dm * (k == 0 ? mu : e.fric[k - 1]);
          for (int j = k; j < dim; j++) H[k * dim + j] *= sk * (j == 0 ? mu : e.fric[j - 1]);
        }
        for (int k = 0; k < dim; k++) {
          for (int j = k + 1; j < dim; j++) H[j * dim + k] = H[k * dim + j];
        }
        int nv = m.nv;
        const Real* J = d.efc_J.at(w) + static_cast<long>(i) * nv;
        for (int a = 0; a < nv; a++) {
          for (int b = 0; b <= a; b++) {
            Real sum = 0;
            for (int k = 0; k < dim; k++) {
              Real jk = J[k * nv + a];
              if (jk == 0) continue;
              for (int l = 0; l < dim; l++) sum += jk * H[k * dim + l] * J[l * nv + b];
            }
            hcone[a * nv + b] += sum;
          }
        }
      }
    }
    for (int j = 1; j < dim; j++) state[i + j] = state[i];
    i += dim - 1;
  }
  return s;
}

// qfrc_constraint = J' efc_force
template <class Real>
SP_HD inline void solver_qfrc_constraint(const sim::ModelView<Real>& m,
                                         const sim::DataView<Real>& d, int w) {
  int nv = m.nv, nefc = d.nefc.at(w)[0];
  Real* qfrc = d.qfrc_constraint.at(w);
  const Real* force = d.efc_force.at(w);
  const Real* J = d.efc_J.at(w);
  const int* nnz = d.efc_Jnnz.at(w);
  const int* ind = d.efc_Jind.at(w);
#if SP_HOST_AVX512
  if constexpr (std::is_same_v<Real, float>) {
    if (nv <= sim::kMaskDofs) {
      // the same sums, column by column in row order, on each row's nonzero lanes
      const uint32_t all = avx512::first_n(nv);
      const __m512 zero = _mm512_setzero_ps();
      __m512 ql = zero, qh = zero;
      for (int i = 0; i < nefc; i++) {
        if (force[i] == 0) continue;
        const float* row = J + static_cast<long>(i) * nv;
        __m512 r0 = _mm512_maskz_loadu_ps(avx512::lo16(all), row);
        __m512 f = _mm512_set1_ps(force[i]);
        ql = _mm512_mask_mov_ps(ql, _mm512_cmp_ps_mask(r0, zero, _CMP_NEQ_UQ), _mm512_fmadd_ps(r0, f, ql));
        if (nv > 16) {
          __m512 r1 = _mm512_maskz_loadu_ps(avx512::hi16(all), row + 16);
          qh = _mm512_mask_mov_ps(qh, _mm512_cmp_ps_mask(r1, zero, _CMP_NEQ_UQ), _mm512_fmadd_ps(r1, f, qh));
        }
      }
      _mm512_mask_storeu_ps(qfrc, avx512::lo16(all), ql);
      _mm512_mask_storeu_ps(qfrc + 16, avx512::hi16(all), qh);
      return;
    }
  }
#endif
  for (int j = 0; j < nv; j++) qfrc[j] = 0;
  for (int i = 0; i < nefc; i++) {
    if (force[i] == 0) continue;
    const Real* row = J + static_cast<long>(i) * nv;
    const int* cols = ind + static_cast<long>(i) * nv;
    for (int k = 0; k < nnz[i]; k++) qfrc[cols[k]] += row[cols[k]] * force[i];
  }
}

// res = J v - sub (sub may be null)
template <class Real>
SP_HD inline void solver_mul_j(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                               int w, Real* res, const Real* v, const Real* sub) {
  int nv = m.nv, nefc = d.nefc.at(w)[0];
  const Real* J = d.efc_J.at(w);
  const int* nnz = d.efc_Jnnz.at(w);
  const int* ind = d.efc_Jind.at(w);
#if SP_HOST_AVX512
  if constexpr (std::is_same_v<Real, float>) {
    if (nv <= sim::kMaskDofs) {
      // each row's products on its nonzero lanes, summed as a tree (rounding differs)
      const uint32_t all = avx512::first_n(nv);
      const __m512 zero = _mm512_setzero_ps();
      const __m512 vl = _mm512_maskz_loadu_ps(avx512::lo16(all), v);
      const __m512 vh = _mm512_maskz_loadu_ps(avx512::hi16(all), v + 16);
      for (int i = 0; i < nefc; i++) {
        const float* row = J + static_cast<long>(i) * nv;
        __m512 r0 = _mm512_maskz_loadu_ps(avx512::lo16(all), row);
        __m512 r1 = _mm512_maskz_loadu_ps(avx512::hi16(all), row + 16);
        __m512 p = _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(r0, zero, _CMP_NEQ_UQ), r0, vl);
        p = _mm512_mask3_fmadd_ps(r1, vh, p, _mm512_cmp_ps_mask(r1, zero, _CMP_NEQ_UQ));
        float s = avx512::hsum(p);
        res[i] = sub ? s - sub[i] : s;
      }
      return;
    }
  }
#endif
  for (int i = 0; i < nefc; i++) {
    const Real* row = J + static_cast<long>(i) * nv;
    const int* cols = ind + static_cast<long>(i) * nv;
    Real s = 0;
    for (int k = 0; k < nnz[i]; k++) s += row[cols[k]] * v[cols[k]];
    res[i] = sub ? s - sub[i] : s;
  }
}

// Gauss cost 0.5 (Ma - qfrc_smooth)' (qacc - qacc_smooth)
template <class Real>
SP_HD inline Real solver_gauss(const Real* Ma, const Real* qfrc_smooth, const Real* qacc,
                               const Real* qacc_smooth, int nv) {
  Real g = 0;
  for (int i = 0; i < nv; i++) g += Real(0.5) * (Ma[i] - qfrc_smooth[i]) * (qacc[i] - qacc_smooth[i]);
  return g;
}

// warm start: qacc = the better of qacc_warmstart and qacc_smooth (mj_fwdConstraint's warmstart)
template <class Real>
SP_HD SP_NOINLINE void solver_warmstart(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                   int w) {
  int nv = m.nv;
  Real* qacc = d.qacc.at(w);
  const Real* qacc_smooth = d.qacc_smooth.at(w);
  const Real* qfrc_smooth = d.qfrc_smooth.at(w);
  if (m.opt.disableflags & sim::kDsblWarmstart) {
    for (int i = 0; i < nv; i++) qacc[i] = qacc_smooth[i];
    return;
  }
  const Real* qacc_ws = d.qacc_warmstart.at(w);
  Real* jar = d.efc_Jaref.at(w);
  Real* Ma = d.solver_Ma.at(w);
  const Real* aref = d.efc_aref.at(w);
  solver_mul_j(m, d, w, jar, qacc_ws, aref);
  Real cost_ws = solver_update_constraint(m, d, w, jar, static_cast<Real*>(nullptr));
  solver_mul_m(Ma, d.qM.at(w), qacc_ws, m);
  cost_ws += solver_gauss(Ma, qfrc_smooth, qacc_ws, qacc_smooth, nv);
  solver_mul_j(m, d, w, jar, qacc_smooth, aref);
  Real cost_smooth = solver_update_constraint(m, d, w, jar, static_cast<Real*>(nullptr));
  const Real* src = cost_ws > cost_smooth ? qacc_smooth : qacc_ws;
  for (int i = 0; i < nv; i++) qacc[i] = src[i];

  // islands: trees without constraint rows keep their unconstrained acceleration
  if (!(m.opt.disableflags & sim::kDsblIsland)) {
    // scratch: 1 for trees (ids < nv) that a row touches
    int nefc = d.nefc.at(w)[0];
    const int* nnz = d.efc_Jnnz.at(w);
    const int* ind = d.efc_Jind.at(w);
    Real* touched = d.solver_grad.at(w);
    for (int j = 0; j < nv; j++) touched[j] = 0;
    for (int i = 0; i < nefc; i++) {
      const int* cols = ind + static_cast<long>(i) * nv;
      for (int k = 0; k < nnz[i]; k++) touched[m.dof_treeid[cols[k]]] = 1;
    }
    for (int j = 0; j < nv; j++) {
      if (touched[m.dof_treeid[j]] == 0) qacc[j] = qacc_smooth[j];
    }
  }
}

// the terms of J' D J over the quadratic rows, each row over its nonzero columns (efc_Jind, in
// increasing order): off(a, c, v) for H[a][c] += v with c < a, diag(a, v) for H[a][a] += v
template <class Real, class Off, class Diag>
SP_HD inline void solver_jdj_terms(const sim::ModelView<Real>& m, const sim::DataView<Real>& d, int w,
                                   Off&& off, Diag&& diag) {
  const int nv = m.nv, nefc = d.nefc.at(w)[0];
  const Real* J = d.efc_J.at(w);
  const Real* D = d.efc_D.at(w);
  const int* state = d.efc_state.at(w);
  const int* nnz = d.efc_Jnnz.at(w);
  const int* ind = d.efc_Jind.at(w);
  for (int i = 0; i < nefc; i++) {
    if (state[i] != kStateQuadratic) continue;
    const Real* row = J + static_cast<long>(i) * nv;
    const int* cols = ind + static_cast<long>(i) * nv;
    for (int k = 0; k < nnz[i]; k++) {
      int a = cols[k];
      Real ja_d = row[a] * D[i];
      for (int l = 0; l < k; l++) off(a, cols[l], ja_d * row[cols[l]]);
      diag(a, ja_d * row[a]);
    }
  }
}

// H = M + J' D J over quadratic rows (+ cone Hessians), factor into solver_Hfactor
template <class Real>
SP_HD SP_NOINLINE void solver_hessian(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                 int w) {
  const int nv = m.nv;
  Real* H = d.solver_H.at(w);
  const Real* qM = d.qM.at(w);
  // J' D J (lower triangle), then + M
  for (int a = 0; a < nv; a++) {
    for (int b = 0; b <= a; b++) H[a * nv + b] = 0;
  }
  solver_jdj_terms(m, d, w, [&](int a, int c, Real v) { H[a * nv + c] += v; },
                   [&](int a, Real v) { H[a * nv + a] += v; });
  for (int a = 0; a < nv; a++) {
    for (int b = 0; b <= a; b++) H[a * nv + b] += qM[a * nv + b];
  }
  bool elliptic = m.opt.cone == sim::kConeElliptic;
  if (elliptic) {
    // recompute the cone Hessians into H (states are unchanged by this call)
    solver_update_constraint(m, d, w, d.efc_Jaref.at(w), H);
  }
  Real* L = d.solver_Hfactor.at(w);
  for (int a = 0; a < nv; a++) {
    for (int b = 0; b <= a; b++) L[a * nv + b] = H[a * nv + b];
  }
  solver_chol_factor(L, nv, ColConst<Real>::minval);
}

// H = M + J' D J over quadratic rows on the tree pattern of M, in compact tree storage
// (kernels/inertia.inl), factored in place into solver_Hfactor by factor_ldl_compact (the fast
// path: rows on ancestor chains, pyramidal cones). In a chain, the b-th ancestor of a dof is the
// dof whose own ancestor count is b, so column c of row a sits at dof_treeadr[a] + dof_ancnum[c].
template <class Real>
SP_HD SP_NOINLINE void solver_hessian_tree(const sim::ModelView<Real>& m,
                                           const sim::DataView<Real>& d, int w) {
  Real* L = d.solver_Hfactor.at(w);
  Real* diag = L + tree_offdiag_size(m);
  tree_compact(L, d.qM.at(w), m);
  solver_jdj_terms(m, d, w, [&](int a, int c, Real v) { L[m.dof_treeadr[a] + m.dof_ancnum[c]] += v; },
                   [&](int a, Real v) { diag[a] += v; });
  factor_ldl_compact(L, d.solver_HDiagInv.at(w), m);
}

// the factor in solver_Hfactor after row i entered (sign +1) or left (sign -1) the quadratic
// state: a rank-one change by D_i J_i J_i', in place of rebuilding and refactoring H (MuJoCo's
// incremental Newton update). On the tree path the row's columns lie on one chain and only
// that chain is touched; on the dense path the row is scaled by sqrt(D_i). False when a pivot
// went non-positive: the factor is then unusable and the caller refactors.
template <class Real>
SP_HD inline bool solver_hessian_update_row(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                            int w, int i, Real sign) {
  const int nv = m.nv;
  const int n = d.efc_Jnnz.at(w)[i];
  if (n == 0) return true;
  const Real* row = d.efc_J.at(w) + static_cast<long>(i) * nv;
  const int* cols = d.efc_Jind.at(w) + static_cast<long>(i) * nv;
  Real* x = d.solver_mv.at(w);  // scratch: M search is consumed once the step is taken
  if (!d.solver_tree.at(w)[0]) {
    Real scale = col_sqrt(d.efc_D.at(w)[i]);
    for (int k = 0; k < nv; k++) x[k] = 0;
    for (int k = 0; k < n; k++) x[cols[k]] = scale * row[cols[k]];
    return solver_chol_update(d.solver_Hfactor.at(w), x, nv, sign < 0);
  }
  int kmax = 0;
  for (int k = 0; k < n; k++) kmax = cols[k] > kmax ? cols[k] : kmax;
  for (int k = 0; k < nv; k++) x[k] = 0;  // (only the chain need be: a walk costs more)
  for (int k = 0; k < n; k++) x[cols[k]] = row[cols[k]];
  return update_ldl_compact(d.solver_Hfactor.at(w), d.solver_HDiagInv.at(w), m, x,
                            sign * d.efc_D.at(w)[i], kmax);
}

// res = H^-1 vec with the factor in solver_Hfactor (tree-sparse or dense)
template <class Real>
SP_HD inline void solver_solve_h(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                 int w, Real* res, const Real* vec) {
  int nv = m.nv;
  if (d.solver_tree.at(w)[0]) {
    for (int i = 0; i < nv; i++) res[i] = vec[i];
    solve_ldl_compact(res, d.solver_Hfactor.at(w), d.solver_HDiagInv.at(w), m);
  } else {
    solver_chol_solve(res, d.solver_Hfactor.at(w), vec, nv);
  }
}

// the Hessian and its factor, by the path solver_tree names
template <class Real>
SP_HD inline void solver_factor_h(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                  int w) {
  if (d.solver_tree.at(w)[0]) {
    solver_hessian_tree(m, d, w);
  } else {
    solver_hessian(m, d, w);
  }
}

// one point of the line search: cost(alpha) - cost(0) and its two derivatives
template <class Real>
struct LsPoint {
  Real alpha;
  Real cost;
  Real deriv[2];
};

// the line-search polynomials along search (PrimalPrepare)
template <class Real>
SP_HD inline void solver_ls_prepare(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                    int w, Real quad_gauss[3]) {
  int nv = m.nv, nefc = d.nefc.at(w)[0];
  const Real* v = d.solver_search.at(w);
  const Real* Ma = d.solver_Ma.at(w);
  const Real* Mv = d.solver_mv.at(w);
  const Real* qfrc_smooth = d.qfrc_smooth.at(w);
  Real g1 = 0, g2 = 0, g3 = 0;
  for (int i = 0; i < nv; i++) g1 += v[i] * Ma[i];
  for (int i = 0; i < nv; i++) g2 += qfrc_smooth[i] * v[i];
  for (int i = 0; i < nv; i++) g3 += v[i] * Mv[i];
  quad_gauss[1] = g1 - g2;
  quad_gauss[2] = Real(0.5) * g3;

  const Real* Jv = d.efc_jv.at(w);
  const Real* Jaref = d.efc_Jaref.at(w);
  const Real* D = d.efc_D.at(w);
  const int* type = d.efc_type.at(w);
  Real* quad = d.efc_quad.at(w);
  for (int i = 0; i < nefc; i++) {
    Real* q = quad + 3 * i;
    Real DJ0 = D[i] * Jaref[i];
    q[0] = Jaref[i] * DJ0;
    q[1] = Jv[i] * DJ0;
    q[2] = Jv[i] * D[i] * Jv[i];
    if (type[i] == sim::kCnstrContactElliptic) {
      EllipticCone<Real> e = elliptic_cone(d, w, i);
      int dim = e.dim;
      for (int j = 1; j < dim; j++) {
        Real DJj = D[i + j] * Jaref[i + j];
        q[0] += Jaref[i + j] * DJj;
        q[1] += Jv[i + j] * DJj;
        q[2] += Jv[i + j] * D[i + j] * Jv[i + j];
      }
      Real U[6], V[6], UU = 0, UV = 0, VV = 0;
      U[0] = Jaref[i] * e.mu;
      V[0] = Jv[i] * e.mu;
      for (int j = 1; j < dim; j++) {
        U[j] = Jaref[i + j] * e.fric[j - 1];
        V[j] = Jv[i + j] * e.fric[j - 1];
      }
      for (int j = 1; j < dim; j++) {
        UU += U[j] * U[j];
        UV += U[j] * V[j];
        VV += V[j] * V[j];
      }
      q[3] = U[0];
      q[4] = V[0];
      q[5] = UU;
      q[6] = UV;
      q[7] = VV;
      q[8] = D[i] / ((e.mu * e.mu) * (1 + (e.mu * e.mu)));
      q[0] *= Real(0.5);
      q[2] *= Real(0.5);
      i += dim - 1;
      continue;
    }
    q[0] *= Real(0.5);
    q[2] *= Real(0.5);
  }
}

// Huber cost of a friction row at x
template <class Real>
SP_HD inline Real friction_cost(Real x, Real f, Real Rf, Real D) {
  if (-Rf < x && x < Rf) return Real(0.5) * D * x * x;
  if (x <= -Rf) return f * (Real(-0.5) * Rf - x);
  return f * (Real(-0.5) * Rf + x);
}

template <class Real>
SP_HD inline Real friction_cost_dif(Real start, Real x, Real f, Real Rf, Real D) {
  int s0 = (-Rf < start && start < Rf) ? 0 : (start <= -Rf ? -1 : 1);
  int s1 = (-Rf < x && x < Rf) ? 0 : (x <= -Rf ? -1 : 1);
  if (s0 == 0 && s1 == 0) return Real(0.5) * D * (x - start) * (x + start);
  if (s0 == -1 && s1 == -1) return f * (start - x);
  if (s0 == 1 && s1 == 1) return f * (x - start);
  return friction_cost(x, f, Rf, D) - friction_cost(start, f, Rf, D);
}

// elliptic cone cost(alpha) - cost(0), by zones
template <class Real>
SP_HD inline Real elliptic_cost_dif(const Real* q, Real alpha, Real mu, Real Dm) {
  Real U0 = q[3], V0 = q[4], UU = q[5], UV = q[6], VV = q[7];
  int zone0;
  Real T0 = 0;
  if (UU <= 0) {
    zone0 = U0 < 0 ? 2 : 1;
  } else {
    T0 = col_sqrt(UU);
    zone0 = U0 >= mu * T0 ? 1 : (mu * U0 + T0 <= 0 ? 2 : 3);
  }
  Real N = U0 + alpha * V0;
  Real Tsqr = UU + alpha * (2 * UV + alpha * VV);
  int zone;
  Real T = 0;
  if (Tsqr <= 0) {
    zone = N < 0 ? 2 : 1;
  } else {
    T = col_sqrt(Tsqr);
    zone = N >= mu * T ? 1 : (mu * N + T <= 0 ? 2 : 3);
  }
  if (zone0 == 1 && zone == 1) return 0;
  if (zone0 == 2 && zone == 2) return alpha * alpha * q[2] + alpha * q[1];
  if (zone0 == 3 && zone == 3) {
    Real Tsqr_delta = alpha * (2 * UV + alpha * VV);
    Real T_delta = Tsqr_delta / (T + T0);
    Real r_delta = alpha * V0 - mu * T_delta;
    Real r0 = U0 - mu * T0;
    return Real(0.5) * Dm * r_delta * (2 * r0 + r_delta);
  }
  if (zone0 == 3 && zone == 2) {
    Real b0 = mu * U0 + T0;
    return alpha * (alpha * q[2] + q[1]) + Real(0.5) * Dm * b0 * b0;
  }
  if (zone0 == 2 && zone == 3) {
    Real b = mu * N + T;
    return alpha * (alpha * q[2] + q[1]) - Real(0.5) * Dm * b * b;
  }
  if (zone0 == 1 && zone == 2) return alpha * alpha * q[2] + alpha * q[1] + q[0];
  if (zone0 == 1 && zone == 3) {
    Real r = N - mu * T;
    return Real(0.5) * Dm * r * r;
  }
  if (zone0 == 3 && zone == 1) {
    Real r0 = U0 - mu * T0;
    return Real(-0.5) * Dm * r0 * r0;
  }
  if (zone0 == 2 && zone == 1) return -q[0];
  return 0;
}

// evaluate the line-search point p (PrimalEval)
template <class Real>
SP_HD inline void solver_ls_eval(const sim::ModelView<Real>& /*m*/, const sim::DataView<Real>& d,
                                 int w, const Real quad_gauss[3], LsPoint<Real>& p, int& lsiter) {
  int nefc = d.nefc.at(w)[0], ne = d.ne.at(w)[0], nf = d.nf.at(w)[0];
  const Real* quad = d.efc_quad.at(w);
  const Real* Jaref = d.efc_Jaref.at(w);
  const Real* Jv = d.efc_jv.at(w);
  const Real* D = d.efc_D.at(w);
  const Real* R = d.efc_R.at(w);
  const Real* floss = d.efc_frictionloss.at(w);
  const int* type = d.efc_type.at(w);
  Real alpha = p.alpha;
  Real cost = 0, deriv0 = 0, deriv1 = 0;
  Real total[3] = {0, quad_gauss[1], quad_gauss[2]};

  for (int i = 0; i < nefc; i++) {
    if (i < ne) {
      total[1] += quad[3 * i + 1];
      total[2] += quad[3 * i + 2];
      continue;
    }
    if (i < ne + nf) {
      Real start = Jaref[i], dir = Jv[i];
      Real x = start + alpha * dir;
      Real f = floss[i], Rf = R[i] * f;
      cost += friction_cost_dif(start, x, f, Rf, D[i]);
      if (-Rf < x && x < Rf) {
        deriv0 += D[i] * x * dir;
        deriv1 += D[i] * dir * dir;
      } else if (x <= -Rf) {
        deriv0 += -f * dir;
      } else {
        deriv0 += f * dir;
      }
      continue;
    }
    if (type[i] == sim::kCnstrContactElliptic) {
      EllipticCone<Real> e = elliptic_cone(d, w, i);
      const Real* q = quad + 3 * i;
      Real mu = e.mu;
      Real U0 = q[3], V0 = q[4], UU = q[5], UV = q[6], VV = q[7], Dm = q[8];
      cost += elliptic_cost_dif(q, alpha, mu, Dm);
      Real N = U0 + alpha * V0;
      Real Tsqr = UU + alpha * (2 * UV + alpha * VV);
      if (Tsqr <= 0) {
        if (N < 0) {
          deriv0 += 2 * alpha * q[2] + q[1];
          deriv1 += 2 * q[2];
        }
      } else {
        Real T = col_sqrt(Tsqr);
        if (N >= mu * T) {
        } else if (mu * N + T <= 0) {
          deriv0 += 2 * alpha * q[2] + q[1];
          deriv1 += 2 * q[2];
        } else {
          Real N1 = V0;
          Real T1 = (UV + alpha * VV) / T;
          Real T2 = VV / T - (UV + alpha * VV) * T1 / (T * T);
          deriv0 += Dm * (N - mu * T) * (N1 - mu * T1);
          deriv1 += Dm * ((N1 - mu * T1) * (N1 - mu * T1) + (N - mu * T) * (-mu * T2));
        }
      }
      i += e.dim - 1;
      continue;
    }
    // one-sided rows
    Real start = Jaref[i];
    Real x = start + alpha * Jv[i];
    Real cost0 = start < 0 ? quad[3 * i] : Real(0);
    if (x < 0) {
      total[0] += quad[3 * i] - cost0;
      total[1] += quad[3 * i + 1];
      total[2] += quad[3 * i + 2];
    } else {
      cost -= cost0;
    }
  }
  cost += alpha * alpha * total[2] + alpha * total[1] + total[0];
  deriv0 += 2 * alpha * total[2] + total[1];
  deriv1 += 2 * total[2];
  if (deriv1 <= 0) deriv1 = ColConst<Real>::minval;
  p.cost = cost;
  p.deriv[0] = deriv0;
  p.deriv[1] = deriv1;
  lsiter++;
}

// replace p by a better candidate on its side of the minimum; then its Newton point
template <class Real>
SP_HD inline bool solver_ls_bracket(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                    int w, const Real quad_gauss[3], LsPoint<Real>& p,
                                    const LsPoint<Real> cand[3], LsPoint<Real>& pnext,
                                    int& lsiter) {
  bool flag = false;
  for (int i = 0; i < 3; i++) {
    if (p.deriv[0] < 0 && cand[i].deriv[0] < 0 && p.deriv[0] < cand[i].deriv[0]) {
      p = cand[i];
      flag = true;
    } else if (p.deriv[0] > 0 && cand[i].deriv[0] > 0 && p.deriv[0] > cand[i].deriv[0]) {
      p = cand[i];
      flag = true;
    }
  }
  if (flag) {
    pnext.alpha = p.alpha - p.deriv[0] / p.deriv[1];
    solver_ls_eval(m, d, w, quad_gauss, pnext, lsiter);
  }
  return flag;
}

// exact line search along solver_search (PrimalSearch); returns alpha, sets improvement
template <class Real>
SP_HD SP_NOINLINE Real solver_line_search(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                     int w, Real scale, Real* improvement) {
  int nv = m.nv;
  Real tolerance = col_max(Real(m.opt.tolerance * m.opt.ls_tolerance), ColConst<Real>::ls_tolerance_min);
  int ls_iterations = m.opt.ls_iterations;
  *improvement = 0;
  const Real* search = d.solver_search.at(w);
  Real snorm = 0;
  for (int i = 0; i < nv; i++) snorm += search[i] * search[i];
  snorm = col_sqrt(snorm);
  if (snorm < ColConst<Real>::minval) return 0;
  Real gtol = tolerance * snorm / scale;

  solver_mul_m(d.solver_mv.at(w), d.qM.at(w), search, m);
  solver_mul_j(m, d, w, d.efc_jv.at(w), search, static_cast<const Real*>(nullptr));
  Real quad_gauss[3] = {0, 0, 0};
  solver_ls_prepare(m, d, w, quad_gauss);

  int lsiter = 0;
  LsPoint<Real> p0, p1, p2, pmid, p1next, p2next;
  p0.alpha = 0;
  solver_ls_eval(m, d, w, quad_gauss, p0, lsiter);
  p1.alpha = p0.alpha - p0.deriv[0] / p0.deriv[1];
  solver_ls_eval(m, d, w, quad_gauss, p1, lsiter);
  if (col_abs(p1.deriv[0]) < gtol && (p1.alpha == 0 || p1.cost < 0)) {
    *improvement = -p1.cost;
    return p1.alpha;
  }

  // one-sided search for a bracket
  int dir = p1.deriv[0] < 0 ? 1 : -1;
  p2 = p0;
  while (p1.deriv[0] * dir <= -gtol && lsiter < ls_iterations) {
    p2 = p1;
    p1.alpha -= p1.deriv[0] / p1.deriv[1];
    solver_ls_eval(m, d, w, quad_gauss, p1, lsiter);
    if (col_abs(p1.deriv[0]) < gtol && p1.cost < 0) {
      *improvement = -p1.cost;
      return p1.alpha;
    }
  }
  if (lsiter >= ls_iterations) {
    *improvement = -p1.cost;
    return p1.alpha;
  }

  // bracketed search
  p2next = p1;
  p1next.alpha = p1.alpha - p1.deriv[0] / p1.deriv[1];
  solver_ls_eval(m, d, w, quad_gauss, p1next, lsiter);
  while (lsiter < ls_iterations) {
    pmid.alpha = Real(0.5) * (p1.alpha + p2.alpha);
    solver_ls_eval(m, d, w, quad_gauss, pmid, lsiter);
    LsPoint<Real> cand[3] = {p1next, p2next, pmid};
    Real bestcost = 0;
    int best = -1;
    for (int i = 0; i < 3; i++) {
      if (col_abs(cand[i].deriv[0]) < gtol && (best == -1 || cand[i].cost < bestcost)) {
        bestcost = cand[i].cost;
        best = i;
      }
    }
    if (best >= 0) {
      *improvement = -cand[best].cost;
      return cand[best].alpha;
    }
    bool b1 = solver_ls_bracket(m, d, w, quad_gauss, p1, cand, p1next, lsiter);
    bool b2 = solver_ls_bracket(m, d, w, quad_gauss, p2, cand, p2next, lsiter);
    if (!b1 && !b2) {
      *improvement = -pmid.cost;
      return pmid.alpha;
    }
  }
  if (p1.cost <= p2.cost && p1.cost < 0) {
    *improvement = -p1.cost;
    return p1.alpha;
  }
  if (p2.cost <= p1.cost && p2.cost < 0) {
    *improvement = -p2.cost;
    return p2.alpha;
  }
  return 0;
}

// constraint update at the current qacc: state, force, cost, qfrc_constraint, gradient
template <class Real>
SP_HD inline Real solver_update(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                int w) {
  int nv = m.nv;
  Real cost = solver_update_constraint(m, d, w, d.efc_Jaref.at(w), static_cast<Real*>(nullptr));
  solver_qfrc_constraint(m, d, w);
  const Real* Ma = d.solver_Ma.at(w);
  const Real* qfrc_smooth = d.qfrc_smooth.at(w);
  const Real* qfrc_constraint = d.qfrc_constraint.at(w);
  Real* grad = d.solver_grad.at(w);
  for (int i = 0; i < nv; i++) grad[i] = Ma[i] - qfrc_smooth[i] - qfrc_constraint[i];
  return cost + solver_gauss(Ma, qfrc_smooth, d.qacc.at(w), d.qacc_smooth.at(w), nv);
}

// contact forces in the contact frame from efc_force (mj_contactForce)
template <class Real>
SP_HD inline void solver_contact_forces(const sim::ModelView<Real>& m,
                                        const sim::DataView<Real>& d, int w) {
  int ncon = d.ncon.at(w)[0];
  const Real* force = d.efc_force.at(w);
  for (int c = 0; c < ncon; c++) {
    Real* out = d.contact_force.at(w) + 3 * c;
    out[0] = out[1] = out[2] = 0;
    int adr = d.contact_efc_address.at(w)[c];
    if (adr < 0) continue;
    int dim = d.contact_dim.at(w)[c];
    if (dim == 1 || m.opt.cone == sim::kConeElliptic) {
      for (int k = 0; k < dim && k < 3; k++) out[k] = force[adr + k];
    } else {
      const Real* mu = d.contact_friction.at(w) + 5 * c;
      for (int k = 0; k < 2 * (dim - 1); k++) out[0] += force[adr + k];
      for (int k = 0; k < dim - 1 && k < 2; k++) {
        out[k + 1] = (force[adr + 2 * k] - force[adr + 2 * k + 1]) * mu[k];
      }
    }
  }
}

// the Newton solve of world w: qacc, qfrc_constraint, efc_force, efc_state. allow_tree: use
// the tree-sparse Hessian factor where the rows allow it (false: always dense, the reference)
template <class Real>
SP_HD SP_NOINLINE void solve_newton_world(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                     int w, bool allow_tree = true) {
  int nv = m.nv, nefc = d.nefc.at(w)[0];
  Real* qacc = d.qacc.at(w);
  d.solver_niter.at(w)[0] = 0;
  if (nefc == 0) {
    const Real* qacc_smooth = d.qacc_smooth.at(w);
    for (int i = 0; i < nv; i++) {
      qacc[i] = qacc_smooth[i];
      d.qfrc_constraint.at(w)[i] = 0;
    }
    d.solver_cost.at(w)[0] = d.solver_cost.at(w)[1] = 0;
    return;
  }
  bool tree = solver_sparsity(m, d, w) && allow_tree && m.opt.cone != sim::kConeElliptic;
  d.solver_tree.at(w)[0] = tree ? 1 : 0;
  solver_warmstart(m, d, w);

  Real* Ma = d.solver_Ma.at(w);
  Real* grad = d.solver_grad.at(w);
  Real* Mgrad = d.solver_Mgrad.at(w);
  Real* search = d.solver_search.at(w);
  const Real tol = col_max(Real(m.opt.tolerance), ColConst<Real>::tolerance_min);
  const Real gtol = col_max(Real(m.opt.tolerance), ColConst<Real>::gradient_tolerance_min);
  solver_mul_m(Ma, d.qM.at(w), qacc, m);
  solver_mul_j(m, d, w, d.efc_Jaref.at(w), qacc, d.efc_aref.at(w));
  Real cost = solver_update(m, d, w);

  // scale: 1 / trace(M)
  Real trace = 0;
  for (int i = 0; i < nv; i++) trace += d.qM.at(w)[i * (nv + 1)];
  Real scale = 1 / trace;

  auto grad_norm = [&]() {
    Real s = 0;
    for (int i = 0; i < nv; i++) s += grad[i] * grad[i];
    return col_sqrt(s);
  };
  auto decrement = [&]() {
    Real s = 0;
    for (int i = 0; i < nv; i++) s += grad[i] * Mgrad[i];
    return col_max(Real(0), Real(0.5) * scale * s);
  };

  // certificate at the warm start: M-norm gap and gradient both below tolerance. The M-norm
  // needs a solve with M; it is taken only when the gradient test passes (it seldom does: the
  // result is the same, one solve per step cheaper)
  bool flg_gradient = scale * grad_norm() < gtol;
  bool done = false;
  if (flg_gradient) {
    for (int i = 0; i < nv; i++) Mgrad[i] = grad[i];
    solve_ldl_fast(Mgrad, d.qLD.at(w), d.qLDiagInv.at(w), m);
    done = decrement() < tol;
  }
  if (!done) {
    solver_factor_h(m, d, w);
    solver_solve_h(m, d, w, Mgrad, grad);
    done = flg_gradient && decrement() < tol;
  }
  if (!done) {
    for (int i = 0; i < nv; i++) search[i] = -Mgrad[i];
  }

  int iter = 0;
  Real cost_prev = cost;
  while (!done && iter < m.opt.iterations) {
    Real ls_improvement;
    Real alpha = solver_line_search(m, d, w, scale, &ls_improvement);
    if (alpha == 0) break;

    const Real* Mv = d.solver_mv.at(w);
    const Real* Jv = d.efc_jv.at(w);
    Real* Jaref = d.efc_Jaref.at(w);
    for (int i = 0; i < nv; i++) qacc[i] += alpha * search[i];
    for (int i = 0; i < nv; i++) Ma[i] += alpha * Mv[i];
    for (int i = 0; i < nefc; i++) Jaref[i] += alpha * Jv[i];

    // the line search is done with efc_quad: it keeps the states before the update. H changes
    // only where a row entered or left the quadratic state (cones: always). A few such rows
    // are rank-one changes of the factor; more, or a downdate that loses positivity, and H is
    // rebuilt and refactored.
    Real* oldstate = d.efc_quad.at(w);
    const int* state = d.efc_state.at(w);
    for (int i = 0; i < nefc; i++) oldstate[i] = Real(state[i]);
    cost_prev = cost;
    cost = solver_update(m, d, w);
    auto was_quadratic = [&](int i) { return oldstate[i] == Real(kStateQuadratic); };
    int nchange = 0;
    for (int i = 0; i < nefc; i++) nchange += (state[i] == kStateQuadratic) != was_quadratic(i);
    if (m.opt.cone == sim::kConeElliptic) {
      solver_factor_h(m, d, w);
    } else if (nchange > 0) {
      bool ok = 4 * nchange <= nv;
      for (int i = 0; i < nefc && ok; i++) {
        bool now = state[i] == kStateQuadratic;
        if (now != was_quadratic(i)) ok = solver_hessian_update_row(m, d, w, i, now ? Real(1) : Real(-1));
      }
      if (!ok) solver_factor_h(m, d, w);
    }
    solver_solve_h(m, d, w, Mgrad, grad);

    Real improvement = scale * ls_improvement;
    Real gradient = scale * grad_norm();
    iter++;
    if ((improvement > 0 && improvement < tol) || gradient < gtol || decrement() < tol) break;
    for (int i = 0; i < nv; i++) search[i] = -Mgrad[i];
  }
  d.solver_niter.at(w)[0] = iter;
  d.solver_cost.at(w)[0] = cost;
  d.solver_cost.at(w)[1] = cost_prev;
  if (iter >= m.opt.iterations && m.opt.iterations > 0) {
    d.warning_flags.at(w)[0] |= kWarnSolverNotConverged;
  }
  solver_contact_forces(m, d, w);
}

}  // namespace stampede::kern::constraint
