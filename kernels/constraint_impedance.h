// kernels/constraint_impedance.h — soft-constraint parameters of one world's rows:
// diagA from MuJoCo's diagApprox rule (dof_invweight0, body_invweight0), impedance from solimp,
// R, D and KBIP from solref (standard or direct), the friction-row adjustments of R
// (mj_diagApprox, mj_makeImpedance), and the reference acceleration (mj_referenceConstraint).
#pragma once

#include <math.h>

#include "kernels/constraint_make.h"

namespace stampede::kern::constraint {

// approximate diag(J M^-1 J') of every row (mj_diagApprox)
template <class Real>
SP_HD inline void constraint_diag_approx(const sim::ModelView<Real>& m,
                                         const sim::DataView<Real>& d, int w) {
  int nefc = d.nefc.at(w)[0];
  Real* dA = d.efc_diagA.at(w);
  const int* type = d.efc_type.at(w);
  const int* id = d.efc_id.at(w);
  for (int i = 0; i < nefc; i++) {
    switch (type[i]) {
      case sim::kCnstrFrictionDof:
        dA[i] = m.dof_invweight0[id[i]];
        break;
      case sim::kCnstrLimitJoint:
        dA[i] = m.dof_invweight0[m.jnt_dofadr[id[i]]];
        break;
      default: {
        // contact: translation and rotation weights of both bodies
        int c = id[i];
        int dim = d.contact_dim.at(w)[c];
        Real tran = 0, rot = 0;
        for (int side = 0; side < 2; side++) {
          int b = m.geom_bodyid[d.contact_geom.at(w)[2 * c + side]];
          tran += m.body_invweight0[2 * b];
          rot += m.body_invweight0[2 * b + 1];
        }
        if (type[i] == sim::kCnstrContactFrictionless) {
          dA[i] = tran;
        } else if (type[i] == sim::kCnstrContactElliptic) {
          for (int j = 0; j < dim; j++) dA[i + j] = j < 3 ? tran : rot;
          i += dim - 1;
        } else {
          const Real* friction = d.contact_friction.at(w) + 5 * c;
          for (int j = 0; j < dim - 1; j++) {
            Real fri = friction[j];
            dA[i + 2 * j] = dA[i + 2 * j + 1] = tran + fri * fri * (j < 2 ? tran : rot);
          }
          i += 2 * dim - 3;
        }
      }
    }
  }
}

// solref, solreffriction, solimp of row i, checked and clamped as MuJoCo's getsolparam
template <class Real>
SP_HD inline void constraint_solparam(const sim::ModelView<Real>& m, const sim::DataView<Real>& d,
                                      int w, int i, Real solref[2], Real solreffriction[2],
                                      Real solimp[5]) {
  int id = d.efc_id.at(w)[i];
  const Real* ref;
  const Real* imp;
  solreffriction[0] = solreffriction[1] = 0;
  switch (d.efc_type.at(w)[i]) {
    case sim::kCnstrLimitJoint:
      ref = m.jnt_solref + 2 * id;
      imp = m.jnt_solimp + 5 * id;
      break;
    case sim::kCnstrFrictionDof:
      ref = m.dof_solref + 2 * id;
      imp = m.dof_solimp + 5 * id;
      break;
    default:
      ref = d.contact_solref.at(w) + 2 * id;
      imp = d.contact_solimp.at(w) + 5 * id;
      solreffriction[0] = d.contact_solreffriction.at(w)[2 * id];
      solreffriction[1] = d.contact_solreffriction.at(w)[2 * id + 1];
  }
  solref[0] = ref[0];
  solref[1] = ref[1];
  for (int k = 0; k < 5; k++) solimp[k] = imp[k];

  // mixed standard/direct format: MuJoCo's default (0.02, 1)
  if ((solref[0] > 0) != (solref[1] > 0)) {
    solref[0] = Real(0.02);
    solref[1] = 1;
  }
  bool refsafe = !(m.opt.disableflags & sim::kDsblRefsafe);
  if (refsafe && solref[0] > 0) solref[0] = col_max(solref[0], 2 * m.opt.timestep);
  if ((solreffriction[0] > 0) != (solreffriction[1] > 0)) {
    solreffriction[0] = solreffriction[1] = 0;
  }
  if (refsafe && solreffriction[0] > 0) {
    solreffriction[0] = col_max(solreffriction[0], 2 * m.opt.timestep);
  }
  const Real minimp = ColConst<Real>::minimp, maximp = ColConst<Real>::maximp;
  solimp[0] = col_min(maximp, col_max(minimp, solimp[0]));
  solimp[1] = col_min(maximp, col_max(minimp, solimp[1]));
  solimp[2] = col_max(Real(0), solimp[2]);
  solimp[3] = col_min(maximp, col_max(minimp, solimp[3]));
  solimp[4] = col_max(Real(1), solimp[4]);
}

// a^b with the common exponents 1 and 2 exact
template <class Real>
SP_HD inline Real imp_power(Real a, Real b) {
  if (b == 1) return a;
  if (b == 2) return a * a;
  return pow(a, b);
}

// impedance and its derivative at violation pos - margin (MuJoCo's getimpedance)
template <class Real>
SP_HD inline void constraint_impedance(const Real solimp[5], Real pos, Real margin, Real* imp,
                                       Real* impP) {
  if (solimp[0] == solimp[1] || solimp[2] <= ColConst<Real>::minval) {
    *imp = Real(0.5) * (solimp[0] + solimp[1]);
    *impP = 0;
    return;
  }
  Real x = (pos - margin) / solimp[2];
  Real sgn = 1;
  if (x < 0) {
    x = -x;
    sgn = -1;
  }
  if (x >= 1 || x <= 0) {
    *imp = x >= 1 ? solimp[1] : solimp[0];
    *impP = 0;
    return;
  }
  Real y, yP;
  if (solimp[4] == 1) {
    y = x;
    yP = 1;
  } else if (x <= solimp[3]) {
    Real a = 1 / imp_power(solimp[3], solimp[4] - 1);
    y = a * imp_power(x, solimp[4]);
    yP = solimp[4] * a * imp_power(x, solimp[4] - 1);
  } else {
    Real b = 1 / imp_power(1 - solimp[3], solimp[4] - 1);
    y = 1 - b * imp_power(1 - x, solimp[4]);
    yP = solimp[4] * b * imp_power(1 - x, solimp[4] - 1);
  }
  *imp = solimp[0] + y * (solimp[1] - solimp[0]);
  *impP = yP * sgn * (solimp[1] - solimp[0]) / solimp[2];
}

// rows of the constraint starting at row i (contacts span several rows)
template <class Real>
SP_HD inline int constraint_rows(const sim::DataView<Real>& d, int w, int i) {
  int type = d.efc_type.at(w)[i];
  if (type == sim::kCnstrContactElliptic) return d.contact_dim.at(w)[d.efc_id.at(w)[i]];
  if (type == sim::kCnstrContactPyramidal) return 2 * (d.contact_dim.at(w)[d.efc_id.at(w)[i]] - 1);
  return 1;
}

// friction coefficient of the regularized cone of the contact whose first row is i
template <class Real>
SP_HD inline Real contact_mu(const sim::DataView<Real>& d, int w, int i) {
  const Real* R = d.efc_R.at(w);
  Real friction0 = d.contact_friction.at(w)[5 * d.efc_id.at(w)[i]];
  return friction0 * col_sqrt(R[i + 1] / R[i]);
}

// efc_R, efc_D, efc_KBIP, and efc_diagA made consistent with R (mj_makeImpedance)
template <class Real>
SP_HD inline void constraint_make_impedance(const sim::ModelView<Real>& m,
                                            const sim::DataView<Real>& d, int w) {
  int nefc = d.nefc.at(w)[0];
  Real* R = d.efc_R.at(w);
  Real* KBIP = d.efc_KBIP.at(w);
  const int* type = d.efc_type.at(w);
  const Real minval = ColConst<Real>::minval;

  for (int i = 0; i < nefc;) {
    Real solref[2], solreffriction[2], solimp[5], imp, impP;
    constraint_solparam(m, d, w, i, solref, solreffriction, solimp);
    int dim = constraint_rows(d, w, i);
    constraint_impedance(solimp, d.efc_pos.at(w)[i], d.efc_margin.at(w)[i], &imp, &impP);
    for (int j = 0; j < dim; j++) {
      int r = i + j;
      R[r] = col_max(minval, (1 - imp) * d.efc_diagA.at(w)[r] / imp);
      bool elliptic_friction = type[r] == sim::kCnstrContactElliptic && j > 0;
      const Real* ref = elliptic_friction && (solreffriction[0] != 0 || solreffriction[1] != 0)
                            ? solreffriction
                            : solref;
      Real* kbip = KBIP + 4 * r;
      if (type[r] == sim::kCnstrFrictionDof || elliptic_friction) {
        kbip[0] = 0;
      } else if (ref[0] > 0) {
        kbip[0] = 1 / col_max(minval, solimp[1] * solimp[1] * ref[0] * ref[0] * ref[1] * ref[1]);
      } else {
        kbip[0] = -ref[0] / col_max(minval, solimp[1] * solimp[1]);
      }
      if (ref[1] > 0) {
        kbip[1] = 2 / col_max(minval, solimp[1] * ref[0]);
      } else {
        kbip[1] = -ref[1] / col_max(minval, solimp[1]);
      }
      kbip[2] = imp;
      kbip[3] = impP;
    }
    i += dim;
  }

  // frictional contacts: R of the friction rows from impratio; pyramids share one R
  int start = d.ne.at(w)[0] + d.nf.at(w)[0];
  for (int i = start; i < nefc;) {
    if (type[i] != sim::kCnstrContactPyramidal && type[i] != sim::kCnstrContactElliptic) {
      i++;
      continue;
    }
    int c = d.efc_id.at(w)[i];
    int dim = d.contact_dim.at(w)[c];
    const Real* friction = d.contact_friction.at(w) + 5 * c;
    R[i + 1] = R[i] / col_max(minval, m.opt.impratio);
    Real mu = friction[0] * col_sqrt(R[i + 1] / R[i]);
    if (type[i] == sim::kCnstrContactElliptic) {
      for (int j = 1; j < dim - 1; j++) {
        R[i + j + 1] = R[i + 1] * friction[0] * friction[0] / (friction[j] * friction[j]);
      }
      i += dim;
    } else {
      Real rpy = 2 * mu * mu * R[i];
      for (int j = 0; j < 2 * (dim - 1); j++) R[i + j] = rpy;
      i += 2 * (dim - 1);
    }
  }

  for (int i = 0; i < nefc; i++) {
    d.efc_D.at(w)[i] = 1 / R[i];
    d.efc_diagA.at(w)[i] = R[i] * KBIP[4 * i + 2] / (1 - KBIP[4 * i + 2]);
  }
}

// all rows of world w with their parameters (mj_makeConstraint)
template <class Real>
SP_HD SP_NOINLINE void make_constraint_world(const sim::ModelView<Real>& m,
                                        const sim::DataView<Real>& d, int w) {
  d.nefc.at(w)[0] = d.ne.at(w)[0] = d.nf.at(w)[0] = d.nl.at(w)[0] = 0;
  d.efc_overflow.at(w)[0] = 0;
  int ncon = d.ncon.at(w)[0];
  for (int c = 0; c < ncon; c++) d.contact_efc_address.at(w)[c] = -1;
  int flags = m.opt.disableflags;
  if (flags & sim::kDsblConstraint) return;
  if (!(flags & sim::kDsblFrictionloss)) make_friction_rows(m, d, w);
  if (!(flags & sim::kDsblLimit)) make_limit_rows(m, d, w);
  if (!(flags & sim::kDsblContact) && m.nv > 0) make_contact_rows(m, d, w);
  if (d.nefc.at(w)[0] == 0) return;
  constraint_diag_approx(m, d, w);
  constraint_make_impedance(m, d, w);
}

// efc_vel = J qvel and efc_aref = -B vel - K I (pos - margin) (mj_referenceConstraint)
template <class Real>
SP_HD inline void constraint_reference_row(const sim::ModelView<Real>& m,
                                           const sim::DataView<Real>& d, int w, int i) {
  int nv = m.nv;
  const Real* J = d.efc_J.at(w) + static_cast<long>(i) * nv;
  const Real* qvel = d.qvel.at(w);
  Real vel = 0;
  for (int j = 0; j < nv; j++) vel += J[j] * qvel[j];
  d.efc_vel.at(w)[i] = vel;
  const Real* kbip = d.efc_KBIP.at(w) + 4 * i;
  d.efc_aref.at(w)[i] =
      -kbip[1] * vel - kbip[0] * kbip[2] * (d.efc_pos.at(w)[i] - d.efc_margin.at(w)[i]);
}

}  // namespace stampede::kern::constraint
