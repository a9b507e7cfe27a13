// kernels/actuation.inl — actuator forces (mj_fwdActuation for joint transmissions without
// dynamics) and the unconstrained acceleration (mj_fwdAcceleration). Included by kernels/smooth.h.
#pragma once

#include <cmath>

#include "kernels/inertia.inl"
#include "kernels/spatial.h"
#include "kernels/views.h"

namespace stampede::kern {

// mj_fwdActuation: clamp ctrl, length/velocity = gear * joint position/velocity,
// force = gain * ctrl + bias (clamped), qfrc_actuator = gear * force, clamped per joint
template <class Real, class Team>
SP_STAGE void actuation(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  const Real* qpos = d.qpos.at(w);
  const Real* qvel = d.qvel.at(w);
  const Real* ctrl_in = d.ctrl.at(w);
  const Real* gainprm = m.actuator_gainprm.at(w);
  const Real* biasprm = m.actuator_biasprm.at(w);
  Real* length = d.actuator_length.at(w);
  Real* velocity = d.actuator_velocity.at(w);
  Real* force = d.actuator_force.at(w);
  Real* qfrc = d.qfrc_actuator.at(w);
  const int nu = m.nu;

  // transmission: length (computed even when actuation is disabled, as MuJoCo) and velocity
  bool disabled = nu == 0 || (m.opt.disableflags & sim::kDsblActuation);
  team.for_lanes(nu, [&](int i) {
    int j = m.actuator_trnid[2 * i];
    Real gear = m.actuator_gear[6 * i];
    length[i] = qpos[m.jnt_qposadr[j]] * gear;
    velocity[i] = disabled ? Real(0) : gear * qvel[m.jnt_dofadr[j]];
  });
  team.for_lanes(m.nv, [&](int i) { qfrc[i] = 0; });
  if (disabled) {
    team.for_lanes(nu, [&](int i) { force[i] = 0; });
    return;
  }

  // any NaN/Inf control zeroes all controls for this step, as MuJoCo does
  Real bad = team.template reduce_sum<Real>(nu, [&](int i) { return std::isfinite(ctrl_in[i]) ? Real(0) : Real(1); });
  if (bad > 0) team.single([&] { d.warning_flags.at(w)[0] |= kWarnBadCtrl; });
  bool clamp = !(m.opt.disableflags & sim::kDsblClampCtrl);

  team.for_lanes(nu, [&](int i) {
    Real u = bad > 0 ? Real(0) : ctrl_in[i];
    if (clamp && m.actuator_ctrllimited[i] && bad == 0) {
      const Real* r = m.actuator_ctrlrange + 2 * i;
      u = u < r[0] ? r[0] : (u > r[1] ? r[1] : u);
    }
    const Real* g = gainprm + sim::kNGain * i;
    const Real* b = biasprm + sim::kNBias * i;
    Real gain = m.actuator_gaintype[i] == sim::kGainAffine ? g[0] + g[1] * length[i] + g[2] * velocity[i] : g[0];
    Real bias = m.actuator_biastype[i] == sim::kBiasAffine ? b[0] + b[1] * length[i] + b[2] * velocity[i] : Real(0);
    Real f = gain * u;
    f += bias;
    if (m.actuator_forcelimited[i]) {
      const Real* r = m.actuator_forcerange + 2 * i;
      f = f < r[0] ? r[0] : (f > r[1] ? r[1] : f);
    }
    force[i] = f;
  });

  // scatter to dofs in actuator order (several actuators may drive one joint)
  team.single([&] {
    for (int i = 0; i < nu; ++i) {
      int dof = m.jnt_dofadr[m.actuator_trnid[2 * i]];
      qfrc[dof] += m.actuator_gear[6 * i] * force[i];
    }
  });
  team.for_lanes(m.njnt, [&](int j) {
    if (!m.jnt_actfrclimited[j]) return;
    int dof = m.jnt_dofadr[j];
    const Real* r = m.jnt_actfrcrange + 2 * j;
    qfrc[dof] = qfrc[dof] < r[0] ? r[0] : (qfrc[dof] > r[1] ? r[1] : qfrc[dof]);
  });
}

// generalized force of the Cartesian wrenches xfrc_applied (at each body's xipos), added to qfrc
template <class Real>
SP_HD void add_xfrc(const ModelView<Real>& m, const DataView<Real>& d, int w, Real* qfrc) {
  const Real* xfrc = d.xfrc_applied.at(w);
  const Real* cdof = d.cdof.at(w);
  for (int b = 1; b < m.nbody; ++b) {
    const Real* f = xfrc + 6 * b;
    if (f[0] == 0 && f[1] == 0 && f[2] == 0 && f[3] == 0 && f[4] == 0 && f[5] == 0) continue;
    const Real* p = d.xipos.at(w) + 3 * b;
    const Real* c = d.subtree_com.at(w) + 3 * m.body_rootid[b];
    Real off[3] = {p[0] - c[0], p[1] - c[1], p[2] - c[2]};
    // dof j moves point p with linear velocity lin_j + ang_j x off and angular velocity ang_j
    int dof = m.body_dofnum[b] ? m.body_dofadr[b] + m.body_dofnum[b] - 1 : -1;
    for (int bb = b; dof < 0 && bb > 0; bb = m.body_parentid[bb])
      if (m.body_dofnum[bb]) dof = m.body_dofadr[bb] + m.body_dofnum[bb] - 1;
    for (int j = dof; j >= 0; j = m.dof_parentid[j]) {
      const Real* cd = cdof + 6 * j;
      Real lin[3];
      cross3(lin, cd, off);
      lin[0] += cd[3]; lin[1] += cd[4]; lin[2] += cd[5];
      qfrc[j] += lin[0] * f[0] + lin[1] * f[1] + lin[2] * f[2];
      qfrc[j] += cd[0] * f[3] + cd[1] * f[4] + cd[2] * f[5];
    }
  }
}

// mj_fwdAcceleration: qfrc_smooth = passive - bias + applied + actuator + J' xfrc;
// qacc_smooth = M^-1 qfrc_smooth
template <class Real, class Team>
SP_STAGE void fwd_acceleration(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  Real* smooth = d.qfrc_smooth.at(w);
  Real* qacc_smooth = d.qacc_smooth.at(w);
  const Real* passive = d.qfrc_passive.at(w);
  const Real* bias = d.qfrc_bias.at(w);
  const Real* applied = d.qfrc_applied.at(w);
  const Real* act = d.qfrc_actuator.at(w);
  team.for_lanes(m.nv, [&](int i) {
    Real s = passive[i] - bias[i];
    s += applied[i];
    s += act[i];
    smooth[i] = s;
  });
  team.single([&] {
    add_xfrc(m, d, w, smooth);
    for (int i = 0; i < m.nv; ++i) qacc_smooth[i] = smooth[i];
    solve_ldl_fast(qacc_smooth, d.qLD.at(w), d.qLDiagInv.at(w), m);
  });
}

}  // namespace stampede::kern
