// kernels/velocity.inl — velocity stage: body velocities and dof derivatives (mj_comVel),
// passive joint springs and dampers (mj_passive), bias forces by recursive Newton-Euler
// (mj_rne with flg_acc = 0). Included by kernels/smooth.h.
#pragma once

#include "kernels/spatial.h"
#include "kernels/views.h"

namespace stampede::kern {

// res += sum_k dof_k v_k over n dofs (MuJoCo's mju_mulDofVec, then added)
template <class Real>
SP_HD SP_INLINE void add_dof_vec(Real res[6], const Real* dof, const Real* v, int n) {
  Real tmp[6];
  for (int c = 0; c < 6; ++c) tmp[c] = dof[c] * v[0];
  for (int k = 1; k < n; ++k)
    for (int c = 0; c < 6; ++c) tmp[c] += dof[6 * k + c] * v[k];
  for (int c = 0; c < 6; ++c) res[c] += tmp[c];
}

// cvel of body b from its parent's, and cdof_dot of its dofs
template <class Real>
SP_HD SP_INLINE void body_velocity(const ModelView<Real>& m, const DataView<Real>& d, int w, int b) {
  const Real* qvel = d.qvel.at(w);
  const Real* cdof = d.cdof.at(w);
  Real* cdof_dot = d.cdof_dot.at(w);
  Real cvel[6];
  copy_n(cvel, d.cvel.at(w) + 6 * m.body_parentid[b], 6);
  int bda = m.body_dofadr[b], dofnum = m.body_dofnum[b];
  for (int j = 0; j < dofnum; ++j) {
    int dof = bda + j;
    switch (m.jnt_type[m.dof_jntid[dof]]) {
      case sim::kJntFree:
        // translation: cdof_dot = 0, then velocity
        zero_n(cdof_dot + 6 * dof, 18);
        add_dof_vec(cvel, cdof + 6 * dof, qvel + dof, 3);
        j += 3;
        dof += 3;
        [[fallthrough]];
      case sim::kJntBall:
        // rotation: all three cdof_dot from the velocity before the joint's own
        for (int k = 0; k < 3; ++k) cross_motion(cdof_dot + 6 * (dof + k), cvel, cdof + 6 * (dof + k));
        add_dof_vec(cvel, cdof + 6 * dof, qvel + dof, 3);
        j += 2;
        break;
      default:
        cross_motion(cdof_dot + 6 * dof, cvel, cdof + 6 * dof);
        add_dof_vec(cvel, cdof + 6 * dof, qvel + dof, 1);
        break;
    }
  }
  copy_n(d.cvel.at(w) + 6 * b, cvel, 6);
}

// mj_comVel, level by level
template <class Real, class Team>
SP_STAGE void com_vel(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  team.single([&] { zero_n(d.cvel.at(w), 6); });
  for (int lev = 1; lev < m.nlevel; ++lev) {
    int adr = m.level_bodyadr[lev];
    team.for_lanes(m.level_bodyadr[lev + 1] - adr,
                   [&](int k) { body_velocity(m, d, w, m.level_body[adr + k]); });
  }
}

// spring force of joint j (mj_springdamper, springs part)
template <class Real>
SP_HD SP_INLINE void joint_spring(const ModelView<Real>& m, const Real* qpos, Real* qfrc_spring, int j) {
  Real k = m.jnt_stiffness[j];
  if (k == 0) return;
  int padr = m.jnt_qposadr[j], dadr = m.jnt_dofadr[j];
  const Real* ref = m.qpos_spring;
  switch (m.jnt_type[j]) {
    case sim::kJntFree:
      for (int c = 0; c < 3; ++c) qfrc_spring[dadr + c] = (qpos[padr + c] - ref[padr + c]) * -k;
      padr += 3;
      dadr += 3;
      [[fallthrough]];
    case sim::kJntBall: {
      Real quat[4], dif[3];
      copy4(quat, qpos + padr);
      quat_normalize(quat);
      quat_sub(dif, quat, ref + padr);
      for (int c = 0; c < 3; ++c) qfrc_spring[dadr + c] = dif[c] * -k;
      break;
    }
    default:
      qfrc_spring[dadr] = -(qpos[padr] - ref[padr]) * k;
      break;
  }
}

// mj_passive: joint springs and dof dampers
template <class Real, class Team>
SP_STAGE void passive(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  const Real* qpos = d.qpos.at(w);
  const Real* qvel = d.qvel.at(w);
  const Real* damping = m.dof_damping.at(w);
  Real* spring = d.qfrc_spring.at(w);
  Real* damper = d.qfrc_damper.at(w);
  Real* total = d.qfrc_passive.at(w);
  bool spring_on = !(m.opt.disableflags & sim::kDsblSpring);
  bool damper_on = !(m.opt.disableflags & sim::kDsblDamper);

  team.for_lanes(m.nv, [&](int i) { spring[i] = 0; });
  if (spring_on) team.for_lanes(m.njnt, [&](int j) { joint_spring(m, qpos, spring, j); });
  team.for_lanes(m.nv, [&](int i) {
    damper[i] = (damper_on && damping[i] != 0) ? -qvel[i] * damping[i] : Real(0);
    total[i] = (spring_on || damper_on) ? spring[i] + damper[i] : Real(0);
  });
}

// mj_rne(flg_acc = 0): qfrc_bias = C(q, v) including gravity
template <class Real, class Team>
SP_STAGE void rne(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  const Real* qvel = d.qvel.at(w);
  const Real* cinert = d.cinert.at(w);
  const Real* cvel = d.cvel.at(w);
  const Real* cdof = d.cdof.at(w);
  const Real* cdof_dot = d.cdof_dot.at(w);
  Real* cacc = d.cacc.at(w);
  Real* cfrc = d.cfrc_body.at(w);
  Real* qfrc_bias = d.qfrc_bias.at(w);

  // world: acceleration -gravity, no force
  team.single([&] {
    zero_n(cacc, 6);
    zero_n(cfrc, 6);
    if (!(m.opt.disableflags & sim::kDsblGravity)) {
      const Real* g = m.opt_gravity.at(w);
      cacc[3] = -g[0]; cacc[4] = -g[1]; cacc[5] = -g[2];
    }
  });

  // forward: cacc = cacc_parent + cdof_dot qvel; cfrc = I cacc + cvel x* (I cvel)
  for (int lev = 1; lev < m.nlevel; ++lev) {
    int adr = m.level_bodyadr[lev];
    team.for_lanes(m.level_bodyadr[lev + 1] - adr, [&](int k) {
      int b = m.level_body[adr + k];
      int bda = m.body_dofadr[b], dofnum = m.body_dofnum[b];
      Real tmp[6] = {0, 0, 0, 0, 0, 0};
      if (dofnum == 1) {
        for (int c = 0; c < 6; ++c) tmp[c] = cdof_dot[6 * bda + c] * qvel[bda];
      } else {
        for (int j = 0; j < dofnum; ++j)
          for (int c = 0; c < 6; ++c) tmp[c] += cdof_dot[6 * (bda + j) + c] * qvel[bda + j];
      }
      const Real* pacc = cacc + 6 * m.body_parentid[b];
      for (int c = 0; c < 6; ++c) cacc[6 * b + c] = pacc[c] + tmp[c];
      Real iv[6], cr[6];
      inert_mul(cfrc + 6 * b, cinert + 10 * b, cacc + 6 * b);
      inert_mul(iv, cinert + 10 * b, cvel + 6 * b);
      cross_force(cr, cvel + 6 * b, iv);
      for (int c = 0; c < 6; ++c) cfrc[6 * b + c] += cr[c];
    });
  }

  // backward: subtree sums of body forces, then project on the dofs
  accumulate_subtree(m, cfrc, 6, true, team);
  team.for_lanes(m.nv, [&](int i) { qfrc_bias[i] = dot6(cdof + 6 * i, cfrc + 6 * m.dof_bodyid[i]); });
}

}  // namespace stampede::kern
