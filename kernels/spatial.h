// kernels/spatial.h — small vector, quaternion and spatial-algebra helpers (host and device).
// Output first; the arithmetic follows MuJoCo's engine_util_spatial so double results agree
// with MuJoCo to rounding. Spatial vectors are (rotation, translation); a 10-vector inertia is
// (Ixx, Iyy, Izz, Ixy, Ixz, Iyz, m*c_x, m*c_y, m*c_z, m).
#pragma once

#include <cmath>

#include "kernels/config.h"

namespace stampede::kern {

template <class Real> SP_HD SP_INLINE Real min_val() { return Real(1e-15); }

template <class Real>
SP_HD SP_INLINE void copy3(Real r[3], const Real a[3]) { r[0] = a[0]; r[1] = a[1]; r[2] = a[2]; }
template <class Real>
SP_HD SP_INLINE void copy4(Real r[4], const Real a[4]) { r[0] = a[0]; r[1] = a[1]; r[2] = a[2]; r[3] = a[3]; }
template <class Real>
SP_HD SP_INLINE void zero_n(Real* r, int n) { for (int i = 0; i < n; ++i) r[i] = Real(0); }
template <class Real>
SP_HD SP_INLINE void copy_n(Real* r, const Real* a, int n) { for (int i = 0; i < n; ++i) r[i] = a[i]; }

template <class Real>
SP_HD SP_INLINE void cross3(Real r[3], const Real a[3], const Real b[3]) {
  r[0] = a[1] * b[2] - a[2] * b[1];
  r[1] = a[2] * b[0] - a[0] * b[2];
  r[2] = a[0] * b[1] - a[1] * b[0];
}

template <class Real>
SP_HD SP_INLINE Real dot6(const Real a[6], const Real b[6]) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3] + a[4] * b[4] + a[5] * b[5];
}

// res = mat * vec (3x3 row-major)
template <class Real>
SP_HD SP_INLINE void mat_vec3(Real r[3], const Real m[9], const Real v[3]) {
  r[0] = m[0] * v[0] + m[1] * v[1] + m[2] * v[2];
  r[1] = m[3] * v[0] + m[4] * v[1] + m[5] * v[2];
  r[2] = m[6] * v[0] + m[7] * v[1] + m[8] * v[2];
}

// normalize a quaternion in place as MuJoCo does (tiny: identity; near-unit: untouched)
template <class Real>
SP_HD SP_INLINE void quat_normalize(Real q[4]) {
  Real norm = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  if (norm < min_val<Real>()) {
    q[0] = 1; q[1] = 0; q[2] = 0; q[3] = 0;
  } else if (std::fabs(norm - Real(1)) > min_val<Real>()) {
    Real inv = Real(1) / norm;
    q[0] *= inv; q[1] *= inv; q[2] *= inv; q[3] *= inv;
  }
}

// normalize a 3-vector, return its length (tiny: (1, 0, 0))
template <class Real>
SP_HD SP_INLINE Real vec_normalize3(Real v[3]) {
  Real norm = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  if (norm < min_val<Real>()) {
    v[0] = 1; v[1] = 0; v[2] = 0;
  } else {
    Real inv = Real(1) / norm;
    v[0] *= inv; v[1] *= inv; v[2] *= inv;
  }
  return norm;
}

// res = qa * qb (res may alias either)
template <class Real>
SP_HD SP_INLINE void quat_mul(Real r[4], const Real a[4], const Real b[4]) {
  Real t0 = a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3];
  Real t1 = a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2];
  Real t2 = a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1];
  Real t3 = a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0];
  r[0] = t0; r[1] = t1; r[2] = t2; r[3] = t3;
}

// res = rotation of vec by quat
template <class Real>
SP_HD SP_INLINE void quat_rotate(Real r[3], const Real v[3], const Real q[4]) {
  if (v[0] == 0 && v[1] == 0 && v[2] == 0) {
    r[0] = r[1] = r[2] = 0;
  } else if (q[0] == 1 && q[1] == 0 && q[2] == 0 && q[3] == 0) {
    copy3(r, v);
  } else {
    Real t0 = q[0] * v[0] + q[2] * v[2] - q[3] * v[1];
    Real t1 = q[0] * v[1] + q[3] * v[0] - q[1] * v[2];
    Real t2 = q[0] * v[2] + q[1] * v[1] - q[2] * v[0];
    r[0] = v[0] + 2 * (q[2] * t2 - q[3] * t1);
    r[1] = v[1] + 2 * (q[3] * t0 - q[1] * t2);
    r[2] = v[2] + 2 * (q[1] * t1 - q[2] * t0);
  }
}

// quaternion of a rotation by angle about a unit axis
template <class Real>
SP_HD SP_INLINE void axis_angle_quat(Real r[4], const Real axis[3], Real angle) {
  if (angle == 0) {
    r[0] = 1; r[1] = 0; r[2] = 0; r[3] = 0;
  } else {
    Real s = std::sin(angle * Real(0.5));
    r[0] = std::cos(angle * Real(0.5));
    r[1] = axis[0] * s; r[2] = axis[1] * s; r[3] = axis[2] * s;
  }
}

// rotation matrix (row-major) of a unit quaternion
template <class Real>
SP_HD SP_INLINE void quat_to_mat(Real r[9], const Real q[4]) {
  if (q[0] == 1 && q[1] == 0 && q[2] == 0 && q[3] == 0) {
    r[0] = 1; r[1] = 0; r[2] = 0; r[3] = 0; r[4] = 1; r[5] = 0; r[6] = 0; r[7] = 0; r[8] = 1;
    return;
  }
  Real q00 = q[0] * q[0], q01 = q[0] * q[1], q02 = q[0] * q[2], q03 = q[0] * q[3];
  Real q11 = q[1] * q[1], q12 = q[1] * q[2], q13 = q[1] * q[3];
  Real q22 = q[2] * q[2], q23 = q[2] * q[3], q33 = q[3] * q[3];
  r[0] = q00 + q11 - q22 - q33;
  r[4] = q00 - q11 + q22 - q33;
  r[8] = q00 - q11 - q22 + q33;
  r[1] = 2 * (q12 - q03);
  r[2] = 2 * (q13 + q02);
  r[3] = 2 * (q12 + q03);
  r[5] = 2 * (q23 - q01);
  r[6] = 2 * (q13 - q02);
  r[7] = 2 * (q23 + q01);
}

// 3D rotation vector taking qb to qa: qb * quat(res) = qa
template <class Real>
SP_HD SP_INLINE void quat_sub(Real r[3], const Real qa[4], const Real qb[4]) {
  Real qneg[4] = {qb[0], -qb[1], -qb[2], -qb[3]};
  Real qdif[4];
  quat_mul(qdif, qneg, qa);
  Real axis[3] = {qdif[1], qdif[2], qdif[3]};
  Real sin_a_2 = vec_normalize3(axis);
  Real speed = 2 * std::atan2(sin_a_2, qdif[0]);
  const Real pi = Real(3.14159265358979323846);
  if (speed > pi) speed -= 2 * pi;
  r[0] = axis[0] * speed; r[1] = axis[1] * speed; r[2] = axis[2] * speed;
}

// integrate a quaternion by angular velocity vel (local frame) over time scale
template <class Real>
SP_HD SP_INLINE void quat_integrate(Real q[4], const Real vel[3], Real scale) {
  Real axis[3] = {vel[0], vel[1], vel[2]};
  Real angle = scale * vec_normalize3(axis);
  Real qrot[4];
  axis_angle_quat(qrot, axis, angle);
  quat_normalize(q);
  quat_mul(q, q, qrot);
}

// frame (pos, mat) of a child at local (lpos, lquat) on a parent with (xpos, xquat)
template <class Real>
SP_HD SP_INLINE void local_to_global(Real pos[3], Real mat[9], const Real xpos[3], const Real xmat[9],
                                     const Real xquat[4], const Real lpos[3], const Real lquat[4]) {
  Real tmp[3];
  mat_vec3(tmp, xmat, lpos);
  pos[0] = xpos[0] + tmp[0]; pos[1] = xpos[1] + tmp[1]; pos[2] = xpos[2] + tmp[2];
  Real q[4];
  quat_mul(q, xquat, lquat);
  quat_to_mat(mat, q);
}

// inertia (diagonal inert in frame mat, at offset dif from the com-frame origin) as a 10-vector
template <class Real>
SP_HD SP_INLINE void inert_com(Real r[10], const Real inert[3], const Real mat[9], const Real dif[3], Real mass) {
  Real t[9] = {mat[0] * inert[0], mat[3] * inert[0], mat[6] * inert[0],
               mat[1] * inert[1], mat[4] * inert[1], mat[7] * inert[1],
               mat[2] * inert[2], mat[5] * inert[2], mat[8] * inert[2]};
  r[0] = mat[0] * t[0] + mat[1] * t[3] + mat[2] * t[6];
  r[1] = mat[3] * t[1] + mat[4] * t[4] + mat[5] * t[7];
  r[2] = mat[6] * t[2] + mat[7] * t[5] + mat[8] * t[8];
  r[3] = mat[0] * t[1] + mat[1] * t[4] + mat[2] * t[7];
  r[4] = mat[0] * t[2] + mat[1] * t[5] + mat[2] * t[8];
  r[5] = mat[3] * t[2] + mat[4] * t[5] + mat[5] * t[8];
  r[0] += mass * (dif[1] * dif[1] + dif[2] * dif[2]);
  r[1] += mass * (dif[0] * dif[0] + dif[2] * dif[2]);
  r[2] += mass * (dif[0] * dif[0] + dif[1] * dif[1]);
  r[3] -= mass * dif[0] * dif[1];
  r[4] -= mass * dif[0] * dif[2];
  r[5] -= mass * dif[1] * dif[2];
  r[6] = mass * dif[0];
  r[7] = mass * dif[1];
  r[8] = mass * dif[2];
  r[9] = mass;
}

// res = inertia (10-vector) * spatial motion v
template <class Real>
SP_HD SP_INLINE void inert_mul(Real r[6], const Real i[10], const Real v[6]) {
  r[0] = i[0] * v[0] + i[3] * v[1] + i[4] * v[2] - i[8] * v[4] + i[7] * v[5];
  r[1] = i[3] * v[0] + i[1] * v[1] + i[5] * v[2] + i[8] * v[3] - i[6] * v[5];
  r[2] = i[4] * v[0] + i[5] * v[1] + i[2] * v[2] - i[7] * v[3] + i[6] * v[4];
  r[3] = i[8] * v[1] - i[7] * v[2] + i[9] * v[3];
  r[4] = i[6] * v[2] - i[8] * v[0] + i[9] * v[4];
  r[5] = i[7] * v[0] - i[6] * v[1] + i[9] * v[5];
}

// motion cross product vel x v
template <class Real>
SP_HD SP_INLINE void cross_motion(Real r[6], const Real vel[6], const Real v[6]) {
  r[0] = -vel[2] * v[1] + vel[1] * v[2];
  r[1] = vel[2] * v[0] - vel[0] * v[2];
  r[2] = -vel[1] * v[0] + vel[0] * v[1];
  r[3] = -vel[2] * v[4] + vel[1] * v[5];
  r[4] = vel[2] * v[3] - vel[0] * v[5];
  r[5] = -vel[1] * v[3] + vel[0] * v[4];
  r[3] += -vel[5] * v[1] + vel[4] * v[2];
  r[4] += vel[5] * v[0] - vel[3] * v[2];
  r[5] += -vel[4] * v[0] + vel[3] * v[1];
}

// force cross product vel x* f
template <class Real>
SP_HD SP_INLINE void cross_force(Real r[6], const Real vel[6], const Real f[6]) {
  r[0] = -vel[2] * f[1] + vel[1] * f[2];
  r[1] = vel[2] * f[0] - vel[0] * f[2];
  r[2] = -vel[1] * f[0] + vel[0] * f[1];
  r[3] = -vel[2] * f[4] + vel[1] * f[5];
  r[4] = vel[2] * f[3] - vel[0] * f[5];
  r[5] = -vel[1] * f[3] + vel[0] * f[4];
  r[0] += -vel[5] * f[4] + vel[4] * f[5];
  r[1] += vel[5] * f[3] - vel[3] * f[5];
  r[2] += -vel[4] * f[3] + vel[3] * f[4];
}

// motion dof (axis, axis x offset) about the com frame; offset == nullptr: slide (0, axis)
template <class Real>
SP_HD SP_INLINE void dof_com(Real r[6], const Real axis[3], const Real* offset) {
  if (offset) {
    copy3(r, axis);
    cross3(r + 3, axis, offset);
  } else {
    r[0] = r[1] = r[2] = 0;
    copy3(r + 3, axis);
  }
}

}  // namespace stampede::kern
