// kernels/kinematics.inl — position stage, part 1: body, joint, geom and site frames
// (mj_kinematics) and com-based quantities (mj_comPos). Included by kernels/smooth.h.
#pragma once

#include "kernels/spatial.h"
#include "kernels/views.h"

namespace stampede::kern {

// frames of one body from its parent's frame and its joints
template <class Real>
SP_HD SP_INLINE void body_frame(const ModelView<Real>& m, const DataView<Real>& d, int w, int b) {
  // data in
  const Real* qpos = d.qpos.at(w);
  // data out
  Real* xpos_out = d.xpos.at(w) + 3 * b;
  Real* xquat_out = d.xquat.at(w) + 4 * b;
  Real* xanchor_out = d.xanchor.at(w);
  Real* xaxis_out = d.xaxis.at(w);

  Real xpos[3], xquat[4];
  int jntadr = m.body_jntadr[b], jntnum = m.body_jntnum[b];

  if (jntnum == 1 && m.jnt_type[jntadr] == sim::kJntFree) {
    // free joint: the frame is the state
    int qadr = m.jnt_qposadr[jntadr];
    copy3(xpos, qpos + qadr);
    copy4(xquat, qpos + qadr + 3);
    quat_normalize(xquat);
    copy3(xanchor_out + 3 * jntadr, xpos);
    copy3(xaxis_out + 3 * jntadr, m.jnt_axis + 3 * jntadr);
  } else {
    // fixed offset from the parent, then each joint in order
    int pid = m.body_parentid[b];
    if (pid) {
      mat_vec3(xpos, d.xmat.at(w) + 9 * pid, m.body_pos + 3 * b);
      const Real* ppos = d.xpos.at(w) + 3 * pid;
      xpos[0] += ppos[0]; xpos[1] += ppos[1]; xpos[2] += ppos[2];
      quat_mul(xquat, d.xquat.at(w) + 4 * pid, m.body_quat + 4 * b);
    } else {
      copy3(xpos, m.body_pos + 3 * b);
      copy4(xquat, m.body_quat + 4 * b);
    }
    for (int j = jntadr; j < jntadr + jntnum; ++j) {
      int qadr = m.jnt_qposadr[j];
      int type = m.jnt_type[j];
      Real xaxis[3], xanchor[3];
      quat_rotate(xaxis, m.jnt_axis + 3 * j, xquat);
      quat_rotate(xanchor, m.jnt_pos + 3 * j, xquat);
      xanchor[0] += xpos[0]; xanchor[1] += xpos[1]; xanchor[2] += xpos[2];
      if (type == sim::kJntSlide) {
        Real dq = qpos[qadr] - m.qpos0[qadr];
        xpos[0] += xaxis[0] * dq; xpos[1] += xaxis[1] * dq; xpos[2] += xaxis[2] * dq;
      } else {
        // ball or hinge: rotate about the anchor
        Real qloc[4];
        if (type == sim::kJntBall) {
          copy4(qloc, qpos + qadr);
          quat_normalize(qloc);
        } else {
          axis_angle_quat(qloc, m.jnt_axis + 3 * j, qpos[qadr] - m.qpos0[qadr]);
        }
        quat_mul(xquat, xquat, qloc);
        Real vec[3];
        quat_rotate(vec, m.jnt_pos + 3 * j, xquat);
        xpos[0] = xanchor[0] - vec[0]; xpos[1] = xanchor[1] - vec[1]; xpos[2] = xanchor[2] - vec[2];
      }
      copy3(xanchor_out + 3 * j, xanchor);
      copy3(xaxis_out + 3 * j, xaxis);
    }
  }
  quat_normalize(xquat);
  copy4(xquat_out, xquat);
  copy3(xpos_out, xpos);
  quat_to_mat(d.xmat.at(w) + 9 * b, xquat);
}

// mj_kinematics: body frames level by level, then inertial, geom and site frames
template <class Real, class Team>
SP_STAGE void kinematics(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  team.single([&] {
    Real* xpos = d.xpos.at(w); Real* xquat = d.xquat.at(w); Real* xmat = d.xmat.at(w);
    Real* xipos = d.xipos.at(w); Real* ximat = d.ximat.at(w);
    for (int k = 0; k < 3; ++k) xpos[k] = xipos[k] = 0;
    xquat[0] = 1; xquat[1] = xquat[2] = xquat[3] = 0;
    for (int k = 0; k < 9; ++k) xmat[k] = ximat[k] = (k % 4 == 0) ? Real(1) : Real(0);
  });
  for (int lev = 1; lev < m.nlevel; ++lev) {
    int adr = m.level_bodyadr[lev];
    team.for_lanes(m.level_bodyadr[lev + 1] - adr,
                   [&](int k) { body_frame(m, d, w, m.level_body[adr + k]); });
  }
  // inertial frames
  team.for_lanes(m.nbody - 1, [&](int k) {
    int b = k + 1;
    local_to_global(d.xipos.at(w) + 3 * b, d.ximat.at(w) + 9 * b, d.xpos.at(w) + 3 * b,
                    d.xmat.at(w) + 9 * b, d.xquat.at(w) + 4 * b, m.body_ipos + 3 * b,
                    m.body_iquat + 4 * b);
  });
  // geom and site frames
  team.for_lanes(m.ngeom, [&](int g) {
    int b = m.geom_bodyid[g];
    local_to_global(d.geom_xpos.at(w) + 3 * g, d.geom_xmat.at(w) + 9 * g, d.xpos.at(w) + 3 * b,
                    d.xmat.at(w) + 9 * b, d.xquat.at(w) + 4 * b, m.geom_pos + 3 * g,
                    m.geom_quat + 4 * g);
  });
  team.for_lanes(m.nsite, [&](int s) {
    int b = m.site_bodyid[s];
    local_to_global(d.site_xpos.at(w) + 3 * s, d.site_xmat.at(w) + 9 * s, d.xpos.at(w) + 3 * b,
                    d.xmat.at(w) + 9 * b, d.xquat.at(w) + 4 * b, m.site_pos + 3 * s,
                    m.site_quat + 4 * s);
  });
  // the qpos these frames belong to (step() skips kinematics when qpos has not changed since)
  const Real* qpos = d.qpos.at(w);
  Real* qpos_kin = d.qpos_kinematics.at(w);
  team.for_lanes(m.nq, [&](int i) { qpos_kin[i] = qpos[i]; });
  team.single([&] { d.kinematics_valid.at(w)[0] = 1; });
}

// true when the frames that kinematics() computes are already those of the current qpos: it
// ran last at this very qpos (they depend on nothing else that may change: the fields they
// read from the model are shared by all worlds and constant)
template <class Real, class Team>
SP_HD SP_INLINE bool kinematics_current(const ModelView<Real>& m, const DataView<Real>& d, int w,
                                        Team& team) {
  if (!d.kinematics_valid.at(w)[0]) return false;
  const Real* qpos = d.qpos.at(w);
  const Real* qpos_kin = d.qpos_kinematics.at(w);
  Real differ = team.template reduce_sum<Real>(m.nq, [&](int i) {
    return qpos[i] == qpos_kin[i] ? Real(0) : Real(1);
  });
  return differ == 0;
}

// subtree sums of an n-vector per body: x[b] += x[child] for every child, deepest level first,
// children in decreasing id (the order of MuJoCo's backward pass). skip_world: leave body 0.
template <class Real, class Team>
SP_HD SP_INLINE void accumulate_subtree(const ModelView<Real>& m, Real* x, int n, bool skip_world,
                                        Team& team) {
  for (int lev = m.nlevel - 2; lev >= (skip_world ? 1 : 0); --lev) {
    int adr = m.level_bodyadr[lev];
    team.for_lanes(m.level_bodyadr[lev + 1] - adr, [&](int k) {
      int b = m.level_body[adr + k];
      int cadr = m.body_childadr[b];
      for (int c = m.body_childnum[b] - 1; c >= 0; --c) {
        const Real* xc = x + n * m.body_child[cadr + c];
        for (int i = 0; i < n; ++i) x[n * b + i] += xc[i];
      }
    });
  }
}

// motion dofs of joint j about the com frame of its tree
template <class Real>
SP_HD SP_INLINE void joint_cdof(const ModelView<Real>& m, const DataView<Real>& d, int w, int j) {
  int b = m.jnt_bodyid[j];
  Real* cdof = d.cdof.at(w) + 6 * m.jnt_dofadr[j];
  const Real* com = d.subtree_com.at(w) + 3 * m.body_rootid[b];
  const Real* xanchor = d.xanchor.at(w) + 3 * j;
  const Real* xmat = d.xmat.at(w) + 9 * b;
  Real offset[3] = {com[0] - xanchor[0], com[1] - xanchor[1], com[2] - xanchor[2]};
  switch (m.jnt_type[j]) {
    case sim::kJntFree:
      zero_n(cdof, 18);
      cdof[3] = cdof[10] = cdof[17] = 1;
      cdof += 18;
      [[fallthrough]];
    case sim::kJntBall:
      for (int k = 0; k < 3; ++k) {
        Real axis[3] = {xmat[k], xmat[k + 3], xmat[k + 6]};
        dof_com(cdof + 6 * k, axis, offset);
      }
      break;
    case sim::kJntSlide:
      dof_com<Real>(cdof, d.xaxis.at(w) + 3 * j, nullptr);
      break;
    default:
      dof_com(cdof, d.xaxis.at(w) + 3 * j, offset);
      break;
  }
}

// mj_comPos: subtree masses and centres of mass, com-frame inertias, motion dofs
template <class Real, class Team>
SP_STAGE void com_pos(const ModelView<Real>& m, const DataView<Real>& d, int w, Team& team) {
  const Real* body_mass = m.body_mass.at(w);
  const Real* body_inertia = m.body_inertia.at(w);
  Real* smass = d.subtree_mass.at(w);
  Real* scom = d.subtree_com.at(w);
  const Real* xipos = d.xipos.at(w);

  // subtree mass and mass-weighted position
  team.for_lanes(m.nbody, [&](int b) {
    smass[b] = body_mass[b];
    for (int k = 0; k < 3; ++k) scom[3 * b + k] = xipos[3 * b + k] * body_mass[b];
  });
  accumulate_subtree(m, smass, 1, false, team);
  accumulate_subtree(m, scom, 3, false, team);
  team.for_lanes(m.nbody, [&](int b) {
    if (smass[b] < min_val<Real>()) {
      copy3(scom + 3 * b, xipos + 3 * b);
    } else {
      Real inv = Real(1) / smass[b];
      for (int k = 0; k < 3; ++k) scom[3 * b + k] *= inv;
    }
  });

  // inertia of each body about the com of its tree, world axes
  Real* cinert = d.cinert.at(w);
  team.for_lanes(m.nbody, [&](int b) {
    if (b == 0) {
      zero_n(cinert, 10);
      return;
    }
    const Real* c = scom + 3 * m.body_rootid[b];
    Real off[3] = {xipos[3 * b] - c[0], xipos[3 * b + 1] - c[1], xipos[3 * b + 2] - c[2]};
    inert_com(cinert + 10 * b, body_inertia + 3 * b, d.ximat.at(w) + 9 * b, off, body_mass[b]);
  });

  // motion dofs
  team.for_lanes(m.njnt, [&](int j) { joint_cdof(m, d, w, j); });
}

}  // namespace stampede::kern
