// kernels/forward.inl — the pipeline over one world: fwd_position, fwd_velocity, forward, step.
//
// THE CONSTRAINT PLUG. Contacts, joint limits, frictionloss and the Newton solver come from a
// type `ConstraintPipeline` with three static SP_HD member templates
//     template <class Real, class Team>
//     static void position(const ModelView<Real>&, const DataView<Real>&, int w, Team&);  // collision + make_constraint
//     static void velocity(...);  // constraint-space velocity and reference acceleration (efc_vel, efc_aref)
//     static void solve(...);     // qacc and qfrc_constraint from qacc_smooth (the Newton solver)
// and `static constexpr bool kSimulatesConstraints`. When kernels/constraint_pipeline.h exists,
// it defines ConstraintPipeline and is used; until then SmoothOnly is: no constraint rows,
// qacc = qacc_smooth (what MuJoCo does when nefc = 0), and the backends refuse models whose
// ModelView::needs_constraints() is true.
#pragma once

#include <cmath>

#include "kernels/actuation.inl"
#include "kernels/inertia.inl"
#include "kernels/integrate.inl"
#include "kernels/kinematics.inl"
#include "kernels/velocity.inl"

namespace stampede::kern {

// the pipeline without constraints
struct SmoothOnly {
  static constexpr bool kSimulatesConstraints = false;

  template <class Real, class Team>
  SP_HD static void position(const ModelView<Real>&, const DataView<Real>& d, int w, Team& team) {
    team.single([&] {
      d.ncon.at(w)[0] = 0;
      d.nefc.at(w)[0] = d.ne.at(w)[0] = d.nf.at(w)[0] = d.nl.at(w)[0] = 0;
    });
  }
  template <class Real, class Team>
  SP_HD static void velocity(const ModelView<Real>&, const DataView<Real>&, int, Team&) {}
  template <class Real, class Team>
  SP_STAGE static void solve(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
    const Real* qacc_smooth = d.qacc_smooth.at(w);
    Real* qacc = d.qacc.at(w);
    Real* qfrc_constraint = d.qfrc_constraint.at(w);
    team.for_lanes(m.nv, [&](int i) {
      qacc[i] = qacc_smooth[i];
      qfrc_constraint[i] = 0;
    });
  }
};

}  // namespace stampede::kern

#if __has_include("kernels/constraint_pipeline.h")
#include "kernels/constraint_pipeline.h"
#else
namespace stampede::kern {
using ConstraintPipeline = SmoothOnly;
}  // namespace stampede::kern
#endif

namespace stampede::kern {

// the constraint stages as separate (non-inlined on the device) functions: the collision and
// solver code is compiled once per precision instead of inside every pipeline kernel
template <class Constraints, class Real, class Team>
SP_STAGE void constraint_position(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  Constraints::position(m, d, w, team);
}
template <class Constraints, class Real, class Team>
SP_STAGE void constraint_velocity(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  Constraints::velocity(m, d, w, team);
}
template <class Constraints, class Real, class Team>
SP_STAGE void constraint_solve(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  Constraints::solve(m, d, w, team);
}

// position-dependent stages (mj_fwdPosition); kinematics_done: the frames are those of qpos
// already (kinematics_current), as MuJoCo's batch continues a step whose stages it computed
template <class Real, class Team, class Constraints = ConstraintPipeline>
SP_HD void fwd_position(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team,
                        bool kinematics_done = false) {
  if (!kinematics_done) kinematics(m, d, w, team);
  com_pos(m, d, w, team);
  crb(m, d, w, team);
  factor_m(m, d, w, team);
  constraint_position<Constraints>(m, d, w, team);
}

// velocity-dependent stages (mj_fwdVelocity)
template <class Real, class Team, class Constraints = ConstraintPipeline>
SP_HD void fwd_velocity(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  com_vel(m, d, w, team);
  passive(m, d, w, team);
  rne(m, d, w, team);
  constraint_velocity<Constraints>(m, d, w, team);
}

// mj_forward
template <class Real, class Team, class Constraints = ConstraintPipeline>
SP_HD void forward(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team,
                   bool kinematics_done = false) {
  fwd_position<Real, Team, Constraints>(m, d, w, team, kinematics_done);
  fwd_velocity<Real, Team, Constraints>(m, d, w, team);
  actuation(m, d, w, team);
  fwd_acceleration(m, d, w, team);
  constraint_solve<Constraints>(m, d, w, team);
}

// 1 when any of x[0..n) is NaN/Inf or larger than MuJoCo's mjMAXVAL (1e10)
template <class Real, class Team>
SP_HD SP_INLINE bool any_bad(const Real* x, int n, Team& team) {
  Real bad = team.template reduce_sum<Real>(n, [&](int i) {
    return (std::isfinite(x[i]) && std::fabs(x[i]) <= Real(1e10)) ? Real(0) : Real(1);
  });
  return bad > 0;
}

// back to qpos0, zero velocity, inputs and time (mj_resetData for the state we keep)
template <class Real, class Team>
SP_HD void reset_world(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  team.for_lanes(m.nq, [&](int i) { d.qpos.at(w)[i] = m.qpos0[i]; });
  team.for_lanes(m.nv, [&](int i) {
    d.qvel.at(w)[i] = 0;
    d.qacc_warmstart.at(w)[i] = 0;
    d.qfrc_applied.at(w)[i] = 0;
  });
  team.for_lanes(m.nu, [&](int i) { d.ctrl.at(w)[i] = 0; });
  team.for_lanes(6 * m.nbody, [&](int i) { d.xfrc_applied.at(w)[i] = 0; });
  team.single([&] { d.time.at(w)[0] = 0; });
}

// mj_step with the Euler integrator; a world whose state or qacc goes bad is reset and flagged.
// The frames left by the previous step (step_world) are reused when qpos is unchanged.
template <class Real, class Team, class Constraints = ConstraintPipeline>
SP_HD void step(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  if (any_bad(d.qpos.at(w), m.nq, team) || any_bad(d.qvel.at(w), m.nv, team)) {
    team.single([&] { d.warning_flags.at(w)[0] |= kWarnBadQacc; });
    reset_world(m, d, w, team);
  }
  bool kinematics_done = kinematics_current(m, d, w, team);
  // forward; on a bad qacc reset the world and run it once more (one call site: smaller code)
  for (int attempt = 0; attempt < 2; ++attempt) {
    forward<Real, Team, Constraints>(m, d, w, team, attempt == 0 && kinematics_done);
    if (attempt == 1 || !any_bad(d.qacc.at(w), m.nv, team)) break;
    team.single([&] { d.warning_flags.at(w)[0] |= kWarnBadQacc; });
    reset_world(m, d, w, team);
  }
  euler(m, d, w, team);
}

}  // namespace stampede::kern
