// kernels/constraint_make.h — constraint rows of one world (mj_makeConstraint, dense rows):
// dof frictionloss, joint limits (hinge, slide, ball), contacts (frictionless, pyramidal or
// elliptic cone), in MuJoCo's order; then diagA, the impedance and R, D, KBIP
// (mj_diagApprox, mj_makeImpedance); and the reference acceleration (mj_referenceConstraint).
//
// Rows beyond efc_capacity are not written: the constraint is dropped whole, counted in
// efc_overflow, and kWarnConstraintOverflow is set.
#pragma once

#include "kernels/collision_math.h"
#include "sim/data.h"

namespace stampede::kern::constraint {

// mjtConstraintState values
enum ConstraintState : int {
  kStateSatisfied = 0,
  kStateQuadratic = 1,
  kStateLinearNeg = 2,
  kStateLinearPos = 3,
  kStateCone = 4,
};

// room for `rows` more rows? Otherwise count the overflow and flag the world
template <class Real>
SP_HD inline bool efc_reserve(const sim::DataView<Real>& d, int w, int rows) {
  if (d.nefc.at(w)[0] + rows <= d.s.efc_capacity) return true;
  d.efc_overflow.at(w)[0] += rows;
  d.warning_flags.at(w)[0] |= kWarnConstraintOverflow;
  return false;
}

// describe rows [i, i + n) of one constraint
template <class Real>
SP_HD inline void efc_describe(const sim::DataView<Real>& d, int w, int i, int n, int type,
                               int id, const Real* pos, const Real* margin, Real frictionloss) {
  for (int k = 0; k < n; k++) {
    d.efc_type.at(w)[i + k] = type;
    d.efc_id.at(w)[i + k] = id;
    d.efc_pos.at(w)[i + k] = pos ? pos[k] : Real(0);
    d.efc_margin.at(w)[i + k] = margin ? margin[k] : Real(0);
    d.efc_frictionloss.at(w)[i + k] = frictionloss;
  }
}

// dof frictionloss rows: J = e_i
template <class Real>
SP_HD inline void make_friction_rows(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                     int w) {
  int nv = m.nv;
  for (int i = 0; i < nv; i++) {
    if (m.dof_frictionloss[i] == 0) continue;
    if (!efc_reserve(d, w, 1)) continue;
    int r = d.nefc.at(w)[0]++;
    Real* J = d.efc_J.at(w) + static_cast<long>(r) * nv;
    for (int j = 0; j < nv; j++) J[j] = 0;
    J[i] = 1;
    efc_describe(d, w, r, 1, sim::kCnstrFrictionDof, i, static_cast<const Real*>(nullptr),
                 static_cast<const Real*>(nullptr), m.dof_frictionloss[i]);
    d.nf.at(w)[0]++;
  }
}

// joint limit rows: hinge/slide one per violated side, ball one on the rotation angle
template <class Real>
SP_HD inline void make_limit_rows(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                  int w) {
  int nv = m.nv;
  const Real* qpos = d.qpos.at(w);
  for (int j = 0; j < m.njnt; j++) {
    if (!m.jnt_limited[j]) continue;
    Real margin = m.jnt_margin[j];
    int type = m.jnt_type[j];
    int dofadr = m.jnt_dofadr[j];
    if (type == sim::kJntSlide || type == sim::kJntHinge) {
      Real value = qpos[m.jnt_qposadr[j]];
      for (int side = -1; side <= 1; side += 2) {
        Real dist = Real(side) * (m.jnt_range[2 * j + (side + 1) / 2] - value);
        if (dist >= margin) continue;
        if (!efc_reserve(d, w, 1)) continue;
        int r = d.nefc.at(w)[0]++;
        Real* J = d.efc_J.at(w) + static_cast<long>(r) * nv;
        for (int k = 0; k < nv; k++) J[k] = 0;
        J[dofadr] = -Real(side);
        efc_describe(d, w, r, 1, sim::kCnstrLimitJoint, j, &dist, &margin, Real(0));
        d.nl.at(w)[0]++;
      }
    } else if (type == sim::kJntBall) {
      // rotation angle and axis of the joint quaternion (mju_quat2Vel)
      const Real* q = qpos + m.jnt_qposadr[j];
      Real quat[4] = {q[0], q[1], q[2], q[3]};
      Real norm = col_sqrt(quat[0] * quat[0] + quat[1] * quat[1] + quat[2] * quat[2] +
                           quat[3] * quat[3]);
      if (norm < ColConst<Real>::minval) {
        quat[0] = 1;
        quat[1] = quat[2] = quat[3] = 0;
      } else if (col_abs(norm - 1) > ColConst<Real>::minval) {
        for (int k = 0; k < 4; k++) quat[k] *= 1 / norm;
      }
      Real axis[3] = {quat[1], quat[2], quat[3]};
      Real sin_half = normalize3(axis);
      Real angle = 2 * atan2(sin_half, quat[0]);
      if (angle > Real(3.14159265358979323846)) angle -= Real(2 * 3.14159265358979323846);
      Real angle_axis[3];
      scl3(angle_axis, axis, angle);
      Real value = normalize3(angle_axis);
      Real dist = col_max(m.jnt_range[2 * j], m.jnt_range[2 * j + 1]) - value;
      if (dist >= margin) continue;
      if (!efc_reserve(d, w, 1)) continue;
      int r = d.nefc.at(w)[0]++;
      Real* J = d.efc_J.at(w) + static_cast<long>(r) * nv;
      for (int k = 0; k < nv; k++) J[k] = 0;
      for (int k = 0; k < 3; k++) J[dofadr + k] = -angle_axis[k];
      efc_describe(d, w, r, 1, sim::kCnstrLimitJoint, j, &dist, &margin, Real(0));
      d.nl.at(w)[0]++;
    }
  }
}

// last dof of the chain that moves body b (-1: welded to the world)
template <class Real>
SP_HD inline int body_last_dof(const sim::ModelView<Real>& m, int b) {
  while (b && !m.body_dofnum[b]) b = m.body_parentid[b];
  if (!b) return -1;
  return m.body_dofadr[b] + m.body_dofnum[b] - 1;
}

// translational Jacobian column of dof j at point p (world frame, MuJoCo's mj_jac)
template <class Real>
SP_HD inline void dof_point_jac(Real res[3], const Real* cdof, const Real offset[3], int j) {
  const Real* c = cdof + 6 * j;
  Real tmp[3];
  cross3(tmp, c, offset);
  res[0] = c[3] + tmp[0];
  res[1] = c[4] + tmp[1];
  res[2] = c[5] + tmp[2];
}

// the `nrow` frame-rotated rows of the contact Jacobian difference (body 2 minus body 1) at
// pos, written to rows (nrow x nv); returns false when no dof moves the contact
template <class Real>
SP_HD inline bool contact_jacobian(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                   int w, int b1, int b2, const Real pos[3], const Real* frame,
                                   int nrow, Real* rows) {
  int nv = m.nv;
  const Real* cdof = d.cdof.at(w);
  const Real* subtree_com = d.subtree_com.at(w);
  for (int k = 0; k < nrow * nv; k++) rows[k] = 0;
  int last1 = body_last_dof(m, b1), last2 = body_last_dof(m, b2);
  bool moved = false;

  // body 2 (+)
  Real offset[3], jp[3];
  sub3(offset, pos, subtree_com + 3 * m.body_rootid[b2]);
  for (int j = last2; j >= 0; j = m.dof_parentid[j]) {
    dof_point_jac(jp, cdof, offset, j);
    for (int r = 0; r < nrow; r++) rows[r * nv + j] = dot3(frame + 3 * r, jp);
    moved = true;
  }

  // body 1 (-); dofs common to both chains cancel exactly
  sub3(offset, pos, subtree_com + 3 * m.body_rootid[b1]);
  for (int j = last1; j >= 0; j = m.dof_parentid[j]) {
    bool common = false;
    for (int k = last2; k >= 0; k = m.dof_parentid[k]) {
      if (k == j) {
        common = true;
        break;
      }
    }
    if (common) {
      // the rest of chain 1 is common too
      for (int k = j; k >= 0; k = m.dof_parentid[k]) {
        for (int r = 0; r < nrow; r++) rows[r * nv + k] = 0;
      }
      break;
    }
    dof_point_jac(jp, cdof, offset, j);
    scl3(jp, jp, Real(-1));
    for (int r = 0; r < nrow; r++) rows[r * nv + j] = dot3(frame + 3 * r, jp);
    moved = true;
  }
  if (!moved) return false;
  for (int k = 0; k < nrow * nv; k++) {
    if (rows[k] != 0) return true;
  }
  return false;
}

// contact rows: frictionless (1), pyramidal (2 per friction direction) or elliptic (dim)
template <class Real>
SP_HD inline void make_contact_rows(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                    int w) {
  int nv = m.nv;
  int ncon = d.ncon.at(w)[0];
  bool elliptic = m.opt.cone == sim::kConeElliptic;
  for (int c = 0; c < ncon; c++) {
    d.contact_efc_address.at(w)[c] = -1;
    Real dist = d.contact_dist.at(w)[c];
    Real includemargin = d.contact_includemargin.at(w)[c];
    if (dist >= includemargin) continue;  // in the gap band: kept, not in the solver

    int dim = d.contact_dim.at(w)[c];
    int nrow = dim == 1 ? 1 : (elliptic ? dim : 2 * (dim - 1));
    if (!efc_reserve(d, w, nrow)) continue;
    int r0 = d.nefc.at(w)[0];
    Real* J = d.efc_J.at(w) + static_cast<long>(r0) * nv;
    const Real* frame = d.contact_frame.at(w) + 9 * c;
    int b1 = m.geom_bodyid[d.contact_geom.at(w)[2 * c]];
    int b2 = m.geom_bodyid[d.contact_geom.at(w)[2 * c + 1]];
    const Real* pos = d.contact_pos.at(w) + 3 * c;

    if (dim == 1 || elliptic) {
      // frame rows directly
      if (!contact_jacobian(m, d, w, b1, b2, pos, frame, dim, J)) continue;
      Real cpos[6] = {dist, 0, 0, 0, 0, 0};
      Real cmargin[6] = {includemargin, 0, 0, 0, 0, 0};
      efc_describe(d, w, r0, dim,
                   dim == 1 ? sim::kCnstrContactFrictionless : sim::kCnstrContactElliptic, c,
                   cpos, cmargin, Real(0));
    } else {
      // pyramid edges J0 +- mu_k Jk: the frame rows go to the last dim of the 2 (dim - 1) row
      // slots, then the edge pairs are built in place, column by column
      Real* frows = J + static_cast<long>(nrow - dim) * nv;
      if (!contact_jacobian(m, d, w, b1, b2, pos, frame, dim, frows)) continue;
      const Real* friction = d.contact_friction.at(w) + 5 * c;
      for (int j = 0; j < nv; j++) {
        // one column at a time, so the in-place overwrite is safe
        Real col[6];
        for (int k = 0; k < dim; k++) col[k] = frows[k * nv + j];
        for (int k = 1; k < dim; k++) {
          J[static_cast<long>(2 * (k - 1)) * nv + j] = col[0] + col[k] * friction[k - 1];
          J[static_cast<long>(2 * (k - 1) + 1) * nv + j] = col[0] + col[k] * (-friction[k - 1]);
        }
      }
      Real cpos[10], cmargin[10];
      for (int k = 0; k < nrow; k++) {
        cpos[k] = dist;
        cmargin[k] = includemargin;
      }
      efc_describe(d, w, r0, nrow, sim::kCnstrContactPyramidal, c, cpos, cmargin, Real(0));
    }
    d.contact_efc_address.at(w)[c] = r0;
    d.nefc.at(w)[0] += nrow;
  }
}

}  // namespace stampede::kern::constraint
