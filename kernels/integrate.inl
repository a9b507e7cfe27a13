// kernels/integrate.inl — semi-implicit Euler (mj_Euler) with MuJoCo's implicit joint damping
// (eulerdamp): (M + h D) qacc' = qfrc_smooth + qfrc_constraint, then
// qvel += h qacc', qpos integrated with the new qvel (quaternions on the unit sphere).
#pragma once

#include "kernels/inertia.inl"
#include "kernels/spatial.h"
#include "kernels/views.h"

namespace stampede::kern {

// qpos += h qvel on every joint (mj_integratePos)
template <class Real>
SP_HD SP_INLINE void integrate_joint(const ModelView<Real>& m, Real* qpos, const Real* qvel, Real h, int j) {
  int padr = m.jnt_qposadr[j], vadr = m.jnt_dofadr[j];
  switch (m.jnt_type[j]) {
    case sim::kJntFree:
      for (int c = 0; c < 3; ++c) qpos[padr + c] += h * qvel[vadr + c];
      padr += 3;
      vadr += 3;
      [[fallthrough]];
    case sim::kJntBall:
      quat_integrate(qpos + padr, qvel + vadr, h);
      break;
    default:
      qpos[padr] += h * qvel[vadr];
      break;
  }
}

// true when Euler integrates damping implicitly in world w
template <class Real>
SP_HD SP_INLINE bool implicit_damping(const ModelView<Real>& m, int w) {
  if (m.opt.disableflags & (sim::kDsblEulerdamp | sim::kDsblDamper)) return false;
  const Real* damping = m.dof_damping.at(w);
  for (int i = 0; i < m.nv; ++i)
    if (damping[i] > 0) return true;
  return false;
}

// mj_Euler: advance qvel, qpos and time by one step from qacc (and qfrc_constraint)
template <class Real, class Team>
SP_STAGE void euler(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  const int nv = m.nv;
  const Real h = m.opt.timestep;
  Real* qacc_int = d.qacc_integrate.at(w);
  const Real* qacc = d.qacc.at(w);

  if (!implicit_damping(m, w)) {
    team.for_lanes(nv, [&](int i) { qacc_int[i] = qacc[i]; });
  } else {
    // qH = M + h diag(damping), factored; qacc' = qH^-1 (qfrc_smooth + qfrc_constraint)
    Real* qH = d.qH.at(w);
    const Real* qM = d.qM.at(w);
    const Real* damping = m.dof_damping.at(w);
    const Real* smooth = d.qfrc_smooth.at(w);
    const Real* constraint = d.qfrc_constraint.at(w);
    team.for_lanes(nv, [&](int i) { qacc_int[i] = smooth[i] + constraint[i]; });
    team.single([&] {
      tree_compact(qH, qM, m, damping, h);
      factor_ldl_compact(qH, d.qHDiagInv.at(w), m);
      solve_ldl_compact(qacc_int, qH, d.qHDiagInv.at(w), m);
    });
  }

  // velocities, then positions with the new velocities, then time and warm start
  Real* qvel = d.qvel.at(w);
  Real* qpos = d.qpos.at(w);
  team.for_lanes(nv, [&](int i) { qvel[i] += qacc_int[i] * h; });
  team.for_lanes(m.njnt, [&](int j) { integrate_joint(m, qpos, qvel, h, j); });
  team.for_lanes(nv, [&](int i) { d.qacc_warmstart.at(w)[i] = qacc[i]; });
  team.single([&] { d.time.at(w)[0] += h; });
}

}  // namespace stampede::kern
