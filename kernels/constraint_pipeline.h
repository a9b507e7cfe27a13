// kernels/constraint_pipeline.h — the constraint stages of the forward pass, plugged into
// kernels/forward.inl as ConstraintPipeline:
//   position: collision (contacts) and make_constraint (rows, diagA, impedance, R, D, KBIP)
//   velocity: efc_vel = J qvel and the reference acceleration efc_aref
//   solve:    MuJoCo's Newton solver: qacc, qfrc_constraint, efc_force, contact forces
// Collision, row construction and the solver run on one lane of the team (lane 0); the
// reference acceleration runs one row per lane. The stage bodies live in
// stampede::kern::constraint (collision_*.h, constraint_*.h, solver_*.h).
#pragma once

#include "kernels/collision_driver.h"
#include "kernels/constraint_impedance.h"
#include "kernels/solver_newton.h"
#include "sim/data.h"
#include "sim/model.h"

namespace stampede::kern {

struct ConstraintPipeline {
  static constexpr bool kSimulatesConstraints = true;

  // mj_collision + mj_makeConstraint
  template <class Real, class Team>
  SP_HD static void position(const sim::ModelView<Real>& m, const sim::DataView<Real>& d, int w,
                             Team& team) {
    team.single([&] {
      constraint::collision_world(m, d, w);
      constraint::make_constraint_world(m, d, w);
    });
  }

  // mj_referenceConstraint
  template <class Real, class Team>
  SP_HD static void velocity(const sim::ModelView<Real>& m, const sim::DataView<Real>& d, int w,
                             Team& team) {
    int nefc = d.nefc.at(w)[0];
    team.for_lanes(nefc, [&](int i) { constraint::constraint_reference_row(m, d, w, i); });
  }

  // mj_fwdConstraint (Newton)
  template <class Real, class Team>
  SP_HD static void solve(const sim::ModelView<Real>& m, const sim::DataView<Real>& d, int w,
                          Team& team) {
    team.single([&] { constraint::solve_newton_world(m, d, w); });
  }
};

}  // namespace stampede::kern
