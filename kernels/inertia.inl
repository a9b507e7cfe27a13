// kernels/inertia.inl — position stage, part 2: composite rigid-body inertia and the mass
// matrix (mj_crb), its tree-sparse L'DL factorization (mj_factorM) and solves (mj_solveM).
//
// Storage: qM, qLD and qH are dense nv x nv row-major per world, but only (dof, ancestor dof)
// pairs and the diagonal are ever written or read: the sparsity of a kinematic tree (MuJoCo's
// "legacy" qM pattern). Entries off that pattern stay zero from the arena's construction.
// A dense Cholesky (factor_dense / solve_dense) is kept for the speed comparison in
// benchmarks/bench_smooth.cpp and for tests; the pipeline uses the tree-sparse factor.
#pragma once

#include "kernels/spatial.h"
#include "kernels/views.h"

namespace stampede::kern {

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
// every entry sees the same operations in the same order, so the factor is bit-identical, but
// the inner loops are independent gathers instead of chains of dependent loads (pipeline path)
template <class Real>
SP_HD void factor_ldl_fast(Real* mat, Real* diaginv, const ModelView<Real>& m) {
  const int nv = m.nv;
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

// solve_ldl with the ancestor lists, bit-identical to it (sums run nearest ancestor first)
template <class Real>
SP_HD void solve_ldl_fast(Real* x, const Real* ld, const Real* diaginv, const ModelView<Real>& m) {
  const int nv = m.nv;
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

// mj_factorM: qLD = factor(qM)
template <class Real, class Team>
SP_STAGE void factor_m(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  const int nv = m.nv;
  const Real* qM = d.qM.at(w);
  Real* qLD = d.qLD.at(w);
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
