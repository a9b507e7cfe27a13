// kernels/smooth_stages.inl — dispatch of one Stage to its per-world body; shared by the CPU
// (kernels/smooth.cpp) and CUDA (kernels/smooth.cu) translation units.
#pragma once

#include "kernels/forward.inl"
#include "kernels/smooth.h"

namespace stampede::kern {

template <class Real, class Team>
SP_HD void run_stage_world(Stage stage, const sim::ModelView<Real>& m, const sim::DataView<Real>& d, int w,
                           Team& team) {
  switch (stage) {
    case Stage::kKinematics: kinematics(m, d, w, team); break;
    case Stage::kComPos: com_pos(m, d, w, team); break;
    case Stage::kCrb: crb(m, d, w, team); break;
    case Stage::kFactorM: factor_m(m, d, w, team); break;
    case Stage::kComVel: com_vel(m, d, w, team); break;
    case Stage::kPassive: passive(m, d, w, team); break;
    case Stage::kRne: rne(m, d, w, team); break;
    case Stage::kActuation: actuation(m, d, w, team); break;
    case Stage::kFwdAcceleration: fwd_acceleration(m, d, w, team); break;
    case Stage::kFwdConstraint: constraint_solve<ConstraintPipeline>(m, d, w, team); break;
    case Stage::kEuler: euler(m, d, w, team); break;
    case Stage::kFwdPosition: fwd_position(m, d, w, team); break;
    case Stage::kFwdVelocity: fwd_velocity(m, d, w, team); break;
    case Stage::kForward: forward(m, d, w, team); break;
    case Stage::kStep: step(m, d, w, team); break;
    case Stage::kReset:
      reset_world(m, d, w, team);
      forward(m, d, w, team);
      break;
  }
}

// the masked reset, world w: where mask[w], the kReset stage and the world's warning flags
// cleared; other worlds untouched (the mask test is uniform over the team). The CPU's
// reset_masked and the device-resident CUDA backend's reset_masked_cuda both run it
template <class Real, class Team>
SP_HD void reset_masked_world(const sim::ModelView<Real>& m, const sim::DataView<Real>& d, int w,
                              const unsigned char* mask, Team& team) {
  if (!mask[w]) return;
  run_stage_world(Stage::kReset, m, d, w, team);
  team.sync();
  team.single([&] { d.warning_flags.at(w)[0] = 0; });
}

// nstep steps of one world, then the frames at the new state (kinematics, com_pos) so that xpos,
// xquat and subtree_com describe it. The contacts, constraint forces and qacc stay those of the
// last substep, the ones that acted in the integration (as the MuJoCo reference backend reports
// them): recomputing collision here would replace them by force-less contacts of a state no
// force has acted on yet, and cost a whole position stage per call.
template <class Real, class Team>
SP_HD void step_world(const sim::ModelView<Real>& m, const sim::DataView<Real>& d, int w, int nstep, Team& team) {
  for (int s = 0; s < nstep; ++s) step(m, d, w, team);
  kinematics(m, d, w, team);
  com_pos(m, d, w, team);
}

}  // namespace stampede::kern
