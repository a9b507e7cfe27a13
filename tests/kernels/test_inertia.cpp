// tests/kernels/test_inertia.cpp — kernels/inertia.inl vs mj_crb (mj_fullM), mj_factorM and
// mj_solveM; the dense Cholesky alternative against the tree-sparse factor.
#include <catch2/catch.hpp>

#include "kernels/inertia.inl"
#include "smooth_fixture.h"

using namespace stampede;
using kern::Stage;

template <class Real>
void check_inertia() {
  const double tol = test::tolerance<Real>();
  test::for_each_model<Real>(3, 0, 21, [&](const std::string& label, test::Bench<Real>& b,
                                           const test::RandomState& st, mjData* md) {
    const mjModel* m = b.mj.get();
    const int nv = m->nv;
    test::run_stages(b, {Stage::kKinematics, Stage::kComPos, Stage::kCrb, Stage::kFactorM});
    std::vector<double> full(size_t(nv) * nv), x(nv), y(nv);
    std::vector<Real> ours_full(size_t(nv) * nv), xr(nv);
    std::mt19937 rng(5);
    std::uniform_real_distribution<double> u(-1, 1);
    for (int w = 0; w < b.nworld; ++w) {
      INFO(label << ", world " << w);
      test::set_mj_state(m, md, st, w);
      mj_kinematics(m, md);
      mj_comPos(m, md);
      mj_crb(m, md);
      mj_factorM(m, md);

      // mass matrix
      mj_fullM(m, md, full.data());
      kern::expand_tree_matrix(ours_full.data(), b.d().qM.at(w), b.model.dof_parentid, nv);
      CHECK(test::rel_error(ours_full.data(), full.data(), nv * nv) < tol);

      // factor: 1/D and solves
      CHECK(test::rel_error(b.d().qLDiagInv.at(w), md->qLDiagInv, nv) < tol);
      for (int i = 0; i < nv; ++i) y[i] = u(rng);
      mj_solveM(m, md, x.data(), y.data(), 1);
      for (int i = 0; i < nv; ++i) xr[i] = Real(y[i]);
      kern::solve_ldl(xr.data(), b.d().qLD.at(w), b.d().qLDiagInv.at(w), b.model.dof_parentid, nv);
      CHECK(test::rel_error(xr.data(), x.data(), nv) < tol * 10);  // solve: condition number of M (~10) on top

      // dense Cholesky on the same matrix gives the same solution
      std::vector<Real> l(size_t(nv) * nv, Real(0));
      REQUIRE(kern::factor_dense(l.data(), ours_full.data(), nv));
      for (int i = 0; i < nv; ++i) xr[i] = Real(y[i]);
      kern::solve_dense(xr.data(), l.data(), nv);
      CHECK(test::rel_error(xr.data(), x.data(), nv) < tol * 10);
    }
  });
}

TEST_CASE("mass matrix and its factor match MuJoCo (double)", "[inertia]") { check_inertia<double>(); }
TEST_CASE("mass matrix and its factor match MuJoCo (float)", "[inertia]") { check_inertia<float>(); }

TEST_CASE("dense Cholesky refuses a matrix that is not positive definite", "[inertia]") {
  double a[4] = {1, 0, 2, 1};  // lower triangle of [[1, 2], [2, 1]]
  double l[4] = {0, 0, 0, 0};
  CHECK_FALSE(kern::factor_dense(l, a, 2));
}
