// tests/kernels/test_solver_fast.cpp — the CPU speed paths against the generic ones they replace:
// - factor_ldl_fast / solve_ldl_fast (ancestor lists) and factor_ldl_compact /
//   solve_ldl_compact (compact rows) vs factor_ldl / solve_ldl (parent walks): the same
//   operations in the same order (equal up to fused multiply-adds), except the float solves'
//   AVX-512 path (nv <= 32), which sums the second pass by columns: a few ulps apart; and
//   the Newton solver's M v on the tree pattern vs the full matrix's product;
// - rank-one updates and downdates of the compact tree factor (update_ldl_compact) and of the
//   dense Cholesky (solver_chol_update), the Newton solver's incremental paths, vs refactoring
//   the changed matrix;
// - the Newton solver's tree-sparse Hessian factor vs its dense Cholesky (solve_newton_world
//   with allow_tree = false): the same converged qacc;
// - a step that reuses the frames of the previous step (kinematics_current) vs one that
//   recomputes them: bit-identical trajectories.
#include <catch2/catch.hpp>
#include <mujoco/mujoco.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "kernels/constraint_pipeline.h"
#include "kernels/forward.inl"
#include "kernels/smooth_stages.inl"
#include "kernels/team.h"
#include "sim/compile.h"
#include "sim/data.h"
#include "sim/model.h"
#include "smooth_fixture.h"

namespace {

using stampede::kern::CpuTeam;
using stampede::sim::compile_model;
using stampede::sim::Data;
using stampede::sim::DataSizes;
using stampede::sim::Model;
using stampede::test::load_file;
using stampede::test::MjDataPtr;
using stampede::test::MjModelPtr;

// one robot per world (what training steps); the Newton test adds 22 humanoids in one world
const char* const kRobots[] = {MUJOCO_SAMPLES_DIR "/humanoid/humanoid.xml", STAMPEDE_ASSETS_DIR "/h1/h1.xml"};
const char* const kModels[] = {MUJOCO_SAMPLES_DIR "/humanoid/humanoid.xml",
                               MUJOCO_SAMPLES_DIR "/humanoid/22_humanoids.xml",
                               STAMPEDE_ASSETS_DIR "/h1/h1.xml"};

// one model as MuJoCo and as ours in double or float, with one world of data
template <class Real>
struct Robot {
  MjModelPtr mm;
  MjDataPtr md;
  Model<Real> model;
  Data<Real> data;
  explicit Robot(const char* path)
      : mm(load_file(path)), md(mj_makeData(mm.get())), model(compile_model<Real>(mm.get())),
        data(DataSizes::of(model.view(), 1, 1000, 4000)) {}
};

// the largest |ref[i] - got[i]| and the largest |ref[i]| over the indices `at`
struct Diff {
  double err = 0, scale = 0;
};
template <class Real>
Diff max_diff(const Real* ref, const Real* got, const std::vector<int>& at) {
  Diff d;
  for (int i : at) {
    d.scale = std::max(d.scale, std::abs(double(ref[i])));
    d.err = std::max(d.err, std::abs(double(ref[i]) - double(got[i])));
  }
  return d;
}
std::vector<int> first(int n) {
  std::vector<int> at(n);
  for (int i = 0; i < n; i++) at[i] = i;
  return at;
}

// a random state near the floor (contacts likely), as MuJoCo state; then copied into world 0
template <class Real>
void random_state(const mjModel* m, mjData* md, const stampede::sim::DataView<Real>& v, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> n(0.0, 1.0);
  mj_resetData(m, md);
  for (int j = 0; j < m->njnt; j++) {
    double* q = md->qpos + m->jnt_qposadr[j];
    if (m->jnt_type[j] == mjJNT_FREE) {
      q[2] = 0.2 + 1.1 * u(rng);
      for (int i = 3; i < 7; i++) q[i] = (i == 3 ? 3.0 : 0.0) + n(rng);
      mju_normalize4(q + 3);
    } else if (m->jnt_type[j] == mjJNT_BALL) {
      for (int i = 0; i < 4; i++) q[i] = (i == 0 ? 2.0 : 0.0) + n(rng);
      mju_normalize4(q);
    } else {
      double lo = m->jnt_limited[j] ? m->jnt_range[2 * j] : -0.5;
      double hi = m->jnt_limited[j] ? m->jnt_range[2 * j + 1] : 0.5;
      q[0] = lo + (hi - lo) * u(rng);
    }
  }
  for (int i = 0; i < m->nv; i++) md->qvel[i] = 0.3 * n(rng);
  for (int i = 0; i < m->nu; i++) md->ctrl[i] = 2 * u(rng) - 1;
  for (int i = 0; i < m->nq; i++) v.qpos.at(0)[i] = Real(md->qpos[i]);
  for (int i = 0; i < m->nv; i++) v.qvel.at(0)[i] = Real(md->qvel[i]);
  for (int i = 0; i < m->nv; i++) v.qacc_warmstart.at(0)[i] = 0;
  for (int i = 0; i < m->nu; i++) v.ctrl.at(0)[i] = Real(md->ctrl[i]);
}

template <class Real>
void check_ldl_fast() {
  for (const char* path : kRobots) {
    Robot<Real> robot(path);
    auto& [mm, md, model, data] = robot;
    const auto& v = data.view();
    const int nv = model.nv;
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(-1, 1);
    CpuTeam team;
    for (int s = 0; s < 10; s++) {
      random_state(mm.get(), md.get(), v, rng);
      stampede::kern::forward(model.view(), v, 0, team);
      std::vector<Real> a(v.qM.at(0), v.qM.at(0) + nv * nv), b = a, da(nv), db(nv), xa(nv), xb(nv);
      stampede::kern::factor_ldl(a.data(), da.data(), model.dof_parentid, nv);
      stampede::kern::factor_ldl_fast(b.data(), db.data(), model.view());
      INFO(path << ", state " << s);
      REQUIRE(std::memcmp(a.data(), b.data(), sizeof(Real) * a.size()) == 0);
      REQUIRE(std::memcmp(da.data(), db.data(), sizeof(Real) * nv) == 0);
      for (int i = 0; i < nv; i++) xa[i] = xb[i] = Real(u(rng)) * (i % 3 == 0 ? Real(0) : Real(1));
      stampede::kern::solve_ldl(xa.data(), a.data(), da.data(), model.dof_parentid, nv);
      stampede::kern::solve_ldl_fast(xb.data(), b.data(), db.data(), model.view());
      // the same operations in the same order; the compiler may fuse a multiply-add in one
      // loop and not in the other (vectorized gathers), so a few ulps apart
      Diff diff = max_diff(xa.data(), xb.data(), first(nv));
      CHECK(diff.err <= 64 * std::numeric_limits<Real>::epsilon() * (1 + diff.scale));
      // the compact storage's factor and solve (the Newton Hessian's): the same values
      std::vector<Real> c(stampede::kern::tree_offdiag_size(model.view()) + nv), dc(nv), xc(nv);
      stampede::kern::tree_compact(c.data(), v.qM.at(0), model.view());
      stampede::kern::factor_ldl_compact(c.data(), dc.data(), model.view());
      for (int i = 0; i < nv; i++) xc[i] = xb[i] = Real(u(rng)) * (i % 4 == 1 ? Real(0) : Real(1));
      xa = xb;
      stampede::kern::solve_ldl(xa.data(), a.data(), da.data(), model.dof_parentid, nv);
      stampede::kern::solve_ldl_compact(xc.data(), c.data(), dc.data(), model.view());
      diff = max_diff(xa.data(), xc.data(), first(nv));
      CHECK(diff.err <= 64 * std::numeric_limits<Real>::epsilon() * (1 + diff.scale));
      // M v on the tree pattern (the solver's, AVX-512 for float) vs the full matrix's product
      std::vector<Real> full(nv * nv), mv_tree(nv), mv_full(nv, Real(0));
      stampede::kern::expand_tree_matrix(full.data(), v.qM.at(0), model.dof_parentid, nv);
      stampede::kern::constraint::solver_mul_m(mv_tree.data(), v.qM.at(0), xb.data(), model.view());
      for (int i = 0; i < nv; i++)
        for (int j = 0; j < nv; j++) mv_full[i] += full[i * nv + j] * xb[j];
      diff = max_diff(mv_full.data(), mv_tree.data(), first(nv));
      CHECK(diff.err <= 64 * std::numeric_limits<Real>::epsilon() * (1 + diff.scale));
    }
  }
}

// rank-one updates and downdates of a compact tree factor (the Newton solver's incremental
// path) vs factoring the changed matrix from scratch
template <class Real>
void check_ldl_update(double tol) {
  for (const char* path : kRobots) {
    Robot<Real> robot(path);
    auto& [mm, md, model, data] = robot;
    const auto& v = data.view();
    const auto& mv = model.view();
    const int nv = model.nv;
    const int size = stampede::kern::tree_offdiag_size(mv) + nv;
    std::mt19937 rng(5);
    std::uniform_real_distribution<double> u(-1, 1);
    CpuTeam team;
    for (int s = 0; s < 10; s++) {
      random_state(mm.get(), md.get(), v, rng);
      stampede::kern::forward(mv, v, 0, team);
      std::vector<Real> dense(v.qM.at(0), v.qM.at(0) + nv * nv);  // tree pattern, lower triangle
      std::vector<Real> inc(size), incinv(nv), ref(size), refinv(nv), x(nv, Real(0));
      stampede::kern::tree_compact(inc.data(), dense.data(), mv);
      stampede::kern::factor_ldl_compact(inc.data(), incinv.data(), mv);
      // a few rows on chains: a random dof and some of its ancestors, weight like a contact's D
      struct Row { int kmax; std::vector<Real> x; Real alpha; };
      std::vector<Row> rows;
      for (int r = 0; r < 4; r++) {
        Row row{static_cast<int>(rng() % nv), std::vector<Real>(nv, Real(0)), Real(10 + 1000 * (u(rng) + 1))};
        for (int k = row.kmax; k >= 0; k = model.dof_parentid[k])
          if (k == row.kmax || rng() % 3) row.x[k] = Real(u(rng));
        rows.push_back(row);
      }
      auto add = [&](const Row& row, Real sign) {
        for (int i = 0; i < nv; i++)
          for (int j = 0; j <= i; j++) dense[i * nv + j] += sign * row.alpha * row.x[i] * row.x[j];
      };
      auto compare = [&](const char* what) {
        stampede::kern::tree_compact(ref.data(), dense.data(), mv);
        stampede::kern::factor_ldl_compact(ref.data(), refinv.data(), mv);
        // the values of L and D (the rows' padding holds the factor's scratch)
        std::vector<int> at;
        for (int i = 0; i < nv; i++) {
          for (int a = 0; a < model.dof_ancnum[i]; a++) at.push_back(model.dof_treeadr[i] + a);
          at.push_back(stampede::kern::tree_offdiag_size(mv) + i);
        }
        Diff diff = max_diff(ref.data(), inc.data(), at);
        INFO(path << ", state " << s << ", " << what);
        CHECK(diff.err / diff.scale < tol);
      };
      for (const Row& row : rows) {
        add(row, Real(1));
        x = row.x;
        REQUIRE(stampede::kern::update_ldl_compact(inc.data(), incinv.data(), mv, x.data(), row.alpha, row.kmax));
        for (Real xi : x) REQUIRE(xi == Real(0));  // the scratch is left zero
        compare("after an update");
      }
      for (int r = 0; r < 3; r++) {  // downdates: rows leave again (the last one stays)
        add(rows[r], Real(-1));
        x = rows[r].x;
        REQUIRE(stampede::kern::update_ldl_compact(inc.data(), incinv.data(), mv, x.data(), -rows[r].alpha, rows[r].kmax));
        compare("after a downdate");
      }
      for (int i = 0; i < nv; i++) CHECK(incinv[i] == Real(1) / inc[stampede::kern::tree_offdiag_size(mv) + i]);
    }
  }
  // a downdate that would make the matrix indefinite is refused
  MjModelPtr mm(load_file(kRobots[1]));
  Model<Real> model = compile_model<Real>(mm.get());
  const auto& mv = model.view();
  const int nv = model.nv;
  std::vector<Real> dense(nv * nv, Real(0)), c(stampede::kern::tree_offdiag_size(mv) + nv), cinv(nv), x(nv, Real(0));
  for (int i = 0; i < nv; i++) dense[i * nv + i] = 1;
  stampede::kern::tree_compact(c.data(), dense.data(), mv);
  stampede::kern::factor_ldl_compact(c.data(), cinv.data(), mv);
  x[nv - 1] = 2;
  CHECK_FALSE(stampede::kern::update_ldl_compact(c.data(), cinv.data(), mv, x.data(), Real(-1), nv - 1));
  for (Real xi : x) CHECK(xi == Real(0));
}

// a random n x n symmetric positive definite matrix: 2n outer products of uniform vectors plus
// the identity
template <class Real>
std::vector<Real> random_spd(int n, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<Real> a(n * n, Real(0));
  for (int k = 0; k < 2 * n; k++) {
    std::vector<double> v(n);
    for (double& e : v) e = u(rng);
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) a[i * n + j] += Real(v[i] * v[j]);
  }
  for (int i = 0; i < n; i++) a[i * n + i] += 1;
  return a;
}

// the dense path's rank-one updates (solver_chol_update) vs refactoring
template <class Real>
void check_chol_update(double tol) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int n : {1, 5, 27, 60}) {
    std::vector<Real> a = random_spd<Real>(n, rng), l, ref, x(n);
    l = a;
    stampede::kern::constraint::solver_chol_factor(l.data(), n, Real(1e-15));
    std::vector<std::vector<Real>> rows;
    for (int r = 0; r < 3; r++) {
      std::vector<Real> v(n, Real(0));
      for (int i = 0; i < n; i++) v[i] = (rng() % 3) ? Real(30 * u(rng)) : Real(0);
      rows.push_back(v);
    }
    auto change = [&](const std::vector<Real>& v, bool down) {
      for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) a[i * n + j] += (down ? -1 : 1) * v[i] * v[j];
      x = v;
      REQUIRE(stampede::kern::constraint::solver_chol_update(l.data(), x.data(), n, down));
      ref = a;
      stampede::kern::constraint::solver_chol_factor(ref.data(), n, Real(1e-15));
      std::vector<int> lower;  // the factor is the lower triangle
      for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) lower.push_back(i * n + j);
      Diff diff = max_diff(ref.data(), l.data(), lower);
      INFO("n " << n << (down ? ", downdate" : ", update"));
      CHECK(diff.err / diff.scale < tol);
    };
    for (const auto& v : rows) change(v, false);
    for (int r = 0; r < 2; r++) change(rows[r], true);
  }
  // a downdate past positive definiteness is refused
  std::vector<Real> l = {Real(1)}, x = {Real(2)};
  CHECK_FALSE(stampede::kern::constraint::solver_chol_update(l.data(), x.data(), 1, true));
}

// tree-sparse vs dense Hessian factor at random states; returns {tree solves, dense solves}
template <class Real>
void check_newton_tree(double tol) {
  int tree = 0, dense = 0;
  for (const char* path : kModels) {
    Robot<Real> robot(path);
    auto& [mm, md, model, data] = robot;
    const auto& v = data.view();
    const int nv = model.nv;
    std::mt19937 rng(11);
    CpuTeam team;
    int nstate = model.nv > 100 ? 3 : 40;
    for (int s = 0; s < nstate; s++) {
      random_state(mm.get(), md.get(), v, rng);
      // a few steps: warm starts and contacts of a moving robot
      for (int k = 0; k < s % 4; k++) stampede::kern::step(model.view(), v, 0, team);
      stampede::kern::forward(model.view(), v, 0, team);
      if (v.nefc.at(0)[0] == 0) continue;
      std::vector<Real> fast(v.qacc.at(0), v.qacc.at(0) + nv);
      bool used_tree = v.solver_tree.at(0)[0] != 0;
      stampede::kern::constraint::solve_newton_world(model.view(), v, 0, /*allow_tree=*/false);
      REQUIRE(v.solver_tree.at(0)[0] == 0);
      (used_tree ? tree : dense)++;
      Diff diff = max_diff(v.qacc.at(0), fast.data(), first(nv));
      INFO(path << ", state " << s << ", nefc " << v.nefc.at(0)[0] << ", tree " << used_tree);
      CHECK(diff.err / (1 + diff.scale) < tol);
    }
  }
  WARN("Newton: " << tree << " solves on the tree-sparse factor, " << dense << " on the dense one");
  CHECK(tree > 20);
}

// steps that reuse the previous step's frames vs steps that recompute them
template <class Real>
void check_continuation() {
  for (const char* path : kRobots) {
    MjModelPtr mm(load_file(path));
    MjDataPtr md(mj_makeData(mm.get()));
    Model<Real> model = compile_model<Real>(mm.get());
    Data<Real> reuse(DataSizes::of(model.view(), 1, 1000, 4000)), fresh(DataSizes::of(model.view(), 1, 1000, 4000));
    std::mt19937 rng(3);
    random_state(mm.get(), md.get(), reuse.view(), rng);
    std::memcpy(fresh.arena(), reuse.arena(), reuse.bytes());
    CpuTeam team;
    for (int s = 0; s < 60; s++) {
      stampede::kern::step_world(model.view(), reuse.view(), 0, 1, team);
      fresh.view().kinematics_valid.at(0)[0] = 0;
      stampede::kern::step_world(model.view(), fresh.view(), 0, 1, team);
    }
    INFO(path);
    CHECK(std::memcmp(fresh.arena(), reuse.arena(), reuse.bytes()) == 0);
    // a changed qpos is seen: the frames follow it
    reuse.view().qpos.at(0)[2] += Real(0.01);
    fresh.view().qpos.at(0)[2] += Real(0.01);
    fresh.view().kinematics_valid.at(0)[0] = 0;
    stampede::kern::step_world(model.view(), reuse.view(), 0, 1, team);
    stampede::kern::step_world(model.view(), fresh.view(), 0, 1, team);
    CHECK(std::memcmp(fresh.arena(), reuse.arena(), reuse.bytes()) == 0);
  }
}

}  // namespace

TEST_CASE("tree-sparse L'DL with ancestor lists equals the parent walk", "[solver_fast]") {
  check_ldl_fast<double>();
  check_ldl_fast<float>();
}

TEST_CASE("rank-one updates of the compact tree factor equal refactoring", "[solver_fast]") {
  check_ldl_update<double>(1e-10);
  check_ldl_update<float>(1e-3);
}

TEST_CASE("rank-one updates of the dense Cholesky factor equal refactoring", "[solver_fast]") {
  check_chol_update<double>(1e-10);
  check_chol_update<float>(1e-3);
}

TEST_CASE("the dense Cholesky solve in float agrees with the double one on the same factor", "[solver_fast]") {
  // the float solve (AVX-512 for n <= 32 where built: column gathers forward, rows backward,
  // multiplications by 1 / L(k, k)) against the scalar loops in double on the same float factor
  std::mt19937 rng(17);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int n : {1, 2, 5, 15, 16, 17, 27, 31, 32, 33, 40}) {
    std::vector<float> a = random_spd<float>(n, rng), l, res(n), vec(n);
    l = a;
    stampede::kern::constraint::solver_chol_factor(l.data(), n, 1e-15f);
    std::vector<double> ld(l.begin(), l.end()), resd(n), vecd(n);
    for (int trial = 0; trial < 5; trial++) {
      for (int i = 0; i < n; i++) vecd[i] = vec[i] = float(10 * u(rng));
      stampede::kern::constraint::solver_chol_solve(res.data(), l.data(), vec.data(), n);
      stampede::kern::constraint::solver_chol_solve(resd.data(), ld.data(), vecd.data(), n);
      std::vector<double> got(res.begin(), res.end());
      Diff diff = max_diff(resd.data(), got.data(), first(n));
      INFO("n " << n << ", trial " << trial);
      CHECK(diff.err / diff.scale < 1e-4);
    }
  }
}

TEST_CASE("Newton on the tree-sparse Hessian matches the dense Cholesky path (double)", "[solver_fast]") {
  // two factorizations of the same Hessian: rounding differences, then the same convergence test
  check_newton_tree<double>(1e-9);
}

TEST_CASE("Newton on the tree-sparse Hessian matches the dense Cholesky path (float)", "[solver_fast]") {
  // float: contact-stiff rows (D ~ 1e5) amplify rounding as in test_constraint_pipeline's float
  // test, whose bound against MuJoCo is 1e-3
  check_newton_tree<float>(1e-3);
}

TEST_CASE("steps reusing the previous step's frames equal steps recomputing them", "[solver_fast]") {
  check_continuation<double>();
  check_continuation<float>();
}
