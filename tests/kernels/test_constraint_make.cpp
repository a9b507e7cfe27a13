// tests/kernels/test_constraint_make.cpp — make_constraint_world and the reference acceleration
// against mj_makeConstraint / mj_referenceConstraint, row by row (type, id, J, pos, margin,
// frictionloss, diagA, R, D, KBIP, vel, aref), and the Newton solver's qacc, efc_force and
// efc_state against MuJoCo's converged solution. Inputs that other stages compute (geom poses,
// cdof, subtree_com, M, qacc_smooth) are copied from MuJoCo, so these stages are tested alone.
#include <catch2/catch.hpp>
#include <mujoco/mujoco.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/collision_driver.h"
#include "kernels/constraint_impedance.h"
#include "kernels/solver_newton.h"
#include "sim/compile.h"
#include "smooth_fixture.h"
#include "sim/data.h"
#include "sim/model.h"

namespace {

using stampede::test::load_file;
using stampede::test::MjDataPtr;
using stampede::test::MjModelPtr;

using stampede::sim::compile_model;
using stampede::sim::Data;
using stampede::sim::DataSizes;
using stampede::sim::DataView;
using stampede::sim::Model;




// random state: joints around (and past) their ranges, free bodies near the floor, velocities
void randomize(const mjModel* m, mjData* d, std::mt19937& rng, double zlo, double zhi) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> n(0.0, 1.0);
  mj_resetData(m, d);
  for (int j = 0; j < m->njnt; j++) {
    double* q = d->qpos + m->jnt_qposadr[j];
    switch (m->jnt_type[j]) {
      case mjJNT_FREE:
        q[0] += 0.3 * n(rng);
        q[1] += 0.3 * n(rng);
        q[2] = zlo + (zhi - zlo) * u(rng);
        for (int i = 3; i < 7; i++) q[i] = (i == 3 ? 3.0 : 0.0) + n(rng);
        mju_normalize4(q + 3);
        break;
      case mjJNT_BALL:
        for (int i = 0; i < 4; i++) q[i] = (i == 0 ? 1.0 : 0.0) + n(rng);
        mju_normalize4(q);
        break;
      default: {
        double lo = -1, hi = 1;
        if (m->jnt_limited[j]) {
          lo = m->jnt_range[2 * j];
          hi = m->jnt_range[2 * j + 1];
        }
        double span = hi - lo;
        q[0] = lo - 0.1 * span + 1.2 * span * u(rng);
      }
    }
  }
  for (int i = 0; i < m->nv; i++) d->qvel[i] = 0.5 * n(rng);
}

// dense M = L' D L (L unit lower triangular), MuJoCo's factorization, in the Data layout
void factor_ldl(const mjModel* m, const double* M, double* qLD, double* diaginv) {
  int nv = m->nv;
  std::vector<double> A(M, M + nv * nv);
  for (int i = 0; i < nv * nv; i++) qLD[i] = 0;
  for (int k = nv - 1; k >= 0; k--) {
    double dk = A[k * nv + k];
    qLD[k * nv + k] = dk;
    diaginv[k] = 1 / dk;
    for (int j = 0; j < k; j++) qLD[k * nv + j] = A[k * nv + j] / dk;
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) A[i * nv + j] -= qLD[k * nv + i] * dk * qLD[k * nv + j];
    }
  }
}

// copy MuJoCo's position/velocity/smooth results into world 0 of our data
void copy_inputs(const mjModel* mm, const mjData* md, const DataView<double>& v) {
  int nv = mm->nv;
  std::copy(md->qpos, md->qpos + mm->nq, v.qpos.at(0));
  std::copy(md->qvel, md->qvel + nv, v.qvel.at(0));
  std::copy(md->xpos, md->xpos + 3 * mm->nbody, v.xpos.at(0));
  std::copy(md->geom_xpos, md->geom_xpos + 3 * mm->ngeom, v.geom_xpos.at(0));
  std::copy(md->geom_xmat, md->geom_xmat + 9 * mm->ngeom, v.geom_xmat.at(0));
  std::copy(md->cdof, md->cdof + 6 * nv, v.cdof.at(0));
  std::copy(md->subtree_com, md->subtree_com + 3 * mm->nbody, v.subtree_com.at(0));
  std::copy(md->qacc_smooth, md->qacc_smooth + nv, v.qacc_smooth.at(0));
  std::copy(md->qfrc_smooth, md->qfrc_smooth + nv, v.qfrc_smooth.at(0));
  std::copy(md->qacc_warmstart, md->qacc_warmstart + nv, v.qacc_warmstart.at(0));
  std::vector<double> M(nv * nv);
  mj_fullM(mm, md, M.data());
  std::copy(M.begin(), M.end(), v.qM.at(0));
  factor_ldl(mm, M.data(), v.qLD.at(0), v.qLDiagInv.at(0));
}

struct Stats {
  int states = 0, rows = 0, contacts = 0;
  double max_row_err = 0;   // J, pos, margin, diagA, R, D, KBIP, vel, aref (relative)
  double max_qacc_err = 0;  // |qacc - qacc_mj|_inf / (1 + |qacc_mj|_inf)
  double max_force_err = 0; // |f - f_mj|_inf / (1 + |f_mj|_inf)
  int state_mismatch = 0;
};

double rel(double a, double b) { return std::abs(a - b) / (1 + std::abs(b)); }

// our rows and solution vs MuJoCo's at the state in md (mj_forward already called)
void compare(const mjModel* mm, const mjData* md, const Model<double>& model,
             const Data<double>& data, Stats& st) {
  const auto& v = data.view();
  const auto& mv = model.view();
  int nv = mm->nv;
  copy_inputs(mm, md, v);
  stampede::kern::constraint::collision_world(mv, v, 0);
  REQUIRE(v.ncon.at(0)[0] == md->ncon);
  stampede::kern::constraint::make_constraint_world(mv, v, 0);
  int nefc = v.nefc.at(0)[0];
  REQUIRE(v.efc_overflow.at(0)[0] == 0);
  REQUIRE(nefc == md->nefc);
  REQUIRE(v.ne.at(0)[0] == md->ne);
  REQUIRE(v.nf.at(0)[0] == md->nf);
  REQUIRE(v.nl.at(0)[0] == md->nl);
  for (int i = 0; i < nefc; i++) stampede::kern::constraint::constraint_reference_row(mv, v, 0, i);
  for (int c = 0; c < md->ncon; c++) {
    REQUIRE(v.contact_efc_address.at(0)[c] == md->contact[c].efc_address);
  }

  // MuJoCo's Jacobian, dense
  std::vector<double> J(std::max(1, nefc * nv));
  if (mj_isSparse(mm)) {
    mju_sparse2dense(J.data(), md->efc_J, nefc, nv, md->efc_J_rownnz, md->efc_J_rowadr,
                     md->efc_J_colind);
  } else {
    std::copy(md->efc_J, md->efc_J + nefc * nv, J.begin());
  }
  double err = 0;
  for (int i = 0; i < nefc; i++) {
    INFO("row " << i << " type " << md->efc_type[i] << " id " << md->efc_id[i]);
    REQUIRE(v.efc_type.at(0)[i] == md->efc_type[i]);
    REQUIRE(v.efc_id.at(0)[i] == md->efc_id[i]);
    double e = 0;
    for (int j = 0; j < nv; j++) e = std::max(e, rel(v.efc_J.at(0)[i * nv + j], J[i * nv + j]));
    e = std::max(e, rel(v.efc_pos.at(0)[i], md->efc_pos[i]));
    e = std::max(e, rel(v.efc_margin.at(0)[i], md->efc_margin[i]));
    e = std::max(e, rel(v.efc_frictionloss.at(0)[i], md->efc_frictionloss[i]));
    e = std::max(e, rel(v.efc_diagA.at(0)[i], md->efc_diagA[i]));
    e = std::max(e, std::abs(v.efc_R.at(0)[i] - md->efc_R[i]) / std::abs(md->efc_R[i]));
    e = std::max(e, std::abs(v.efc_D.at(0)[i] - md->efc_D[i]) / std::abs(md->efc_D[i]));
    for (int k = 0; k < 4; k++) e = std::max(e, rel(v.efc_KBIP.at(0)[4 * i + k], md->efc_KBIP[4 * i + k]));
    e = std::max(e, rel(v.efc_vel.at(0)[i], md->efc_vel[i]));
    e = std::max(e, rel(v.efc_aref.at(0)[i], md->efc_aref[i]));
    // the same formulas on the same inputs: rounding level (contact Jacobians accumulate
    // cross products over the dof chain, a few ulps of the largest term)
    REQUIRE(e < 1e-9);
    err = std::max(err, e);
  }

  // solver
  stampede::kern::constraint::solve_newton_world(mv, v, 0);
  double qmax = 0, qerr = 0;
  for (int j = 0; j < nv; j++) qmax = std::max(qmax, std::abs(md->qacc[j]));
  for (int j = 0; j < nv; j++) qerr = std::max(qerr, std::abs(v.qacc.at(0)[j] - md->qacc[j]));
  qerr /= 1 + qmax;
  double fmax = 0, ferr = 0;
  for (int i = 0; i < nefc; i++) fmax = std::max(fmax, std::abs(md->efc_force[i]));
  for (int i = 0; i < nefc; i++) ferr = std::max(ferr, std::abs(v.efc_force.at(0)[i] - md->efc_force[i]));
  ferr /= 1 + fmax;
  // MuJoCo's solver works on island copies and leaves efc_state at the warm-start evaluation,
  // so our states are checked for consistency with our forces instead
  for (int i = v.ne.at(0)[0] + v.nf.at(0)[0]; i < nefc; i++) {
    int s = v.efc_state.at(0)[i];
    bool zero = v.efc_force.at(0)[i] == 0;
    st.state_mismatch += (s == stampede::kern::constraint::kStateSatisfied) != zero;
  }
  INFO("solver iterations ours " << v.solver_niter.at(0)[0] << ", MuJoCo " << md->solver_niter[0]);
  // both solvers stop at tolerance 1e-8 on scaled cost improvement / gradient: the converged
  // accelerations agree to about sqrt(tolerance) relative, forces likewise
  CHECK(qerr < 1e-6);
  CHECK(ferr < 1e-6);
  st.max_qacc_err = std::max(st.max_qacc_err, qerr);
  st.max_force_err = std::max(st.max_force_err, ferr);
  st.states++;
  st.rows += nefc;
  st.contacts += md->ncon;
  st.max_row_err = std::max(st.max_row_err, err);
}

void check_model(mjModel* mm, int nstate, double zlo, double zhi, unsigned seed, int min_rows) {
  MjDataPtr md(mj_makeData(mm));
  Model<double> model = compile_model<double>(mm);
  Data<double> data(DataSizes::of(model.view(), 1, 2000, 6000));
  std::mt19937 rng(seed);
  Stats st;
  for (int s = 0; s < nstate; s++) {
    randomize(mm, md.get(), rng, zlo, zhi);
    // a few steps give a nonzero warm start and resting contacts
    int nstep = s % 3 == 0 ? 0 : 1 + s % 7;
    for (int k = 0; k < nstep; k++) mj_step(mm, md.get());
    mj_forward(mm, md.get());
    INFO("state " << s);
    compare(mm, md.get(), model, data, st);
  }
  WARN(st.states << " states, " << st.rows << " rows, " << st.contacts << " contacts; max row error "
                 << st.max_row_err << ", qacc error " << st.max_qacc_err << ", force error "
                 << st.max_force_err << ", states inconsistent with forces " << st.state_mismatch);
  CHECK(st.rows >= min_rows);
  CHECK(st.state_mismatch == 0);
}

}  // namespace

TEST_CASE("constraints and Newton match MuJoCo on humanoid.xml", "[constraint]") {
  MjModelPtr mm(load_file(MUJOCO_SAMPLES_DIR "/humanoid/humanoid.xml"));
  check_model(mm.get(), 200, 0.1, 1.3, 21, 2000);
}

TEST_CASE("constraints and Newton match MuJoCo on humanoid.xml, elliptic cones", "[constraint]") {
  MjModelPtr mm(load_file(MUJOCO_SAMPLES_DIR "/humanoid/humanoid.xml"));
  mm.get()->opt.cone = mjCONE_ELLIPTIC;
  mm.get()->opt.impratio = 3;
  check_model(mm.get(), 200, 0.1, 1.3, 22, 1000);
}

TEST_CASE("constraints and Newton match MuJoCo on 22_humanoids.xml", "[constraint]") {
  MjModelPtr mm(load_file(MUJOCO_SAMPLES_DIR "/humanoid/22_humanoids.xml"));
  check_model(mm.get(), 10, 0.1, 1.3, 23, 500);
}

TEST_CASE("constraints and Newton match MuJoCo on our robots", "[constraint]") {
  for (const char* path : {STAMPEDE_ASSETS_DIR "/humanoid/humanoid.xml", STAMPEDE_ASSETS_DIR "/h1/h1.xml"}) {
    INFO(path);
    MjModelPtr mm(load_file(path));
    if (!stampede::sim::unsupported_features(mm.get()).empty()) {
      WARN(path << " uses features we refuse; skipped");
      continue;
    }
    check_model(mm.get(), 100, 0.1, 1.2, 24, 200);
  }
}

TEST_CASE("limits, frictionloss, condim 1 and solref/solimp variants match MuJoCo", "[constraint]") {
  // hinge, slide and ball limits with margins, frictionloss, a direct (negative) solref, a
  // non-default solimp power and midpoint, condim 1 geoms, a contact pair with solreffriction
  const char* xml = R"(
<mujoco>
  <option timestep="0.005" impratio="2"/>
  <worldbody>
    <geom name="floor" type="plane" size="0 0 1" solref="-2000 -80"/>
    <body name="base" pos="0 0 0.6">
      <freejoint/>
      <geom type="box" size="0.15 0.1 0.05" condim="1"/>
      <body pos="0.2 0 0">
        <joint name="hinge" type="hinge" axis="0 1 0" range="-0.5 0.7" margin="0.05" frictionloss="0.3"
               solreflimit="0.03 0.7" solimplimit="0.8 0.95 0.02 0.3 3"/>
        <geom type="capsule" size="0.04 0.15" fromto="0 0 0 0.3 0 0" solimp="0.7 0.97 0.004 0.5 1"/>
        <body pos="0.3 0 0">
          <joint name="ball" type="ball" range="0 0.6" margin="0.02" frictionloss="0.1"/>
          <geom type="sphere" size="0.06" pos="0.08 0 0" condim="3" friction="1.2 0.01 0.001"/>
        </body>
      </body>
      <body pos="-0.2 0 0">
        <joint name="slide" type="slide" axis="0 0 1" range="-0.1 0.05" solreflimit="-5000 -100"/>
        <geom type="box" size="0.05 0.05 0.05" priority="2" solmix="3"/>
      </body>
    </body>
  </worldbody>
</mujoco>)";
  MjModelPtr mm(stampede::test::load_xml_string(xml));
  check_model(mm.get(), 300, 0.0, 0.6, 25, 1000);
  mm.get()->opt.cone = mjCONE_ELLIPTIC;
  check_model(mm.get(), 300, 0.0, 0.6, 26, 1000);
}

TEST_CASE("Newton iterates like MuJoCo's: 1, 2 and 3 iterations, cold and warm", "[solver]") {
  // with the iteration count capped the solution is not converged, so agreement to rounding
  // shows the same warm start, Hessian, line search and step, not just the same optimum
  MjModelPtr mm(load_file(MUJOCO_SAMPLES_DIR "/humanoid/humanoid.xml"));
  MjDataPtr md(mj_makeData(mm.get()));
  for (int warm = 0; warm < 2; warm++) {
    for (int iters : {1, 2, 3}) {
      mm.get()->opt.iterations = iters;
      mm.get()->opt.disableflags = warm ? 0 : mjDSBL_WARMSTART;
      Model<double> model = compile_model<double>(mm.get());
      Data<double> data(DataSizes::of(model.view(), 1, 500, 2000));
      const auto& v = data.view();
      std::mt19937 rng(100 + iters);
      double worst = 0, moved = 0;
      for (int s = 0; s < 50; s++) {
        randomize(mm.get(), md.get(), rng, 0.1, 1.0);
        for (int k = 0; k < s % 4; k++) mj_step(mm.get(), md.get());
        mj_forward(mm.get(), md.get());
        copy_inputs(mm.get(), md.get(), v);
        stampede::kern::constraint::collision_world(model.view(), v, 0);
        stampede::kern::constraint::make_constraint_world(model.view(), v, 0);
        REQUIRE(v.nefc.at(0)[0] == md.get()->nefc);
        for (int i = 0; i < md.get()->nefc; i++) {
          stampede::kern::constraint::constraint_reference_row(model.view(), v, 0, i);
        }
        stampede::kern::constraint::solve_newton_world(model.view(), v, 0);
        INFO("warm " << warm << ", iterations " << iters << ", state " << s);
        CHECK(v.solver_niter.at(0)[0] == md.get()->solver_niter[0]);
        double err = 0, scale = 0, dist = 0;
        for (int j = 0; j < mm.get()->nv; j++) {
          scale = std::max(scale, std::abs(md.get()->qacc[j]));
          err = std::max(err, std::abs(v.qacc.at(0)[j] - md.get()->qacc[j]));
          dist = std::max(dist, std::abs(md.get()->qacc[j] - md.get()->qacc_smooth[j]));
        }
        // rounding differences through at most 3 Newton steps (Hessian factor updated
        // incrementally by MuJoCo, recomputed by us)
        CHECK(err / (1 + scale) < 1e-9);
        worst = std::max(worst, err / (1 + scale));
        moved = std::max(moved, dist);
      }
      WARN("warm " << warm << ", " << iters << " iterations: max qacc error " << worst);
      CHECK(moved > 1);  // the constraints changed the acceleration
    }
  }
}
