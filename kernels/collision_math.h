// kernels/collision_math.h — small 3-vector helpers and constants for the collision, constraint
// and solver kernels (output first, as in MuJoCo's mju_* helpers). Host and device.
#pragma once

#include <math.h>

#include "kernels/config.h"

// the large per-world stage bodies are compiled once as device functions instead of being
// inlined into every kernel that runs the pipeline (ptxas time and code size)
#ifndef SP_NOINLINE
#if defined(__CUDACC__)
#define SP_NOINLINE __noinline__
#else
#define SP_NOINLINE
#endif
#endif

namespace stampede::kern::constraint {

// MuJoCo's numeric constants (mjtype.h, mjmodel.h), per scalar type where MuJoCo's single
// build uses other values
template <class Real>
struct ColConst {
  static constexpr Real minval = Real(1e-15);  // mjMINVAL: smallest denominator
  static constexpr Real maxval = Real(1e10);   // mjMAXVAL
  static constexpr Real minmu = Real(1e-5);    // mjMINMU: smallest friction coefficient
  static constexpr Real minimp = Real(0.0001); // mjMINIMP: smallest impedance
  static constexpr Real maximp = Real(0.9999); // mjMAXIMP: largest impedance
  // capsule : capsule axes with sin^2(angle) below this are parallel (MuJoCo 4.0 measured:
  // 1e-8 in double; float has no MuJoCo reference, so it uses a threshold above its rounding)
  static constexpr Real capsule_parallel = sizeof(Real) == 4 ? Real(1e-6) : Real(1e-8);
  // smallest line-search gradient tolerance (tolerance * ls_tolerance), relative as MuJoCo's:
  // in float the slope along the search is only known to about 1e-6 of its terms, so a finer
  // one (MuJoCo's default is 1e-10) is never met and every line search ran to ls_iterations;
  // double keeps MuJoCo's value
  static constexpr Real ls_tolerance_min = sizeof(Real) == 4 ? Real(1e-6) : Real(0);
  // smallest tolerances of the Newton solver's stopping tests (all relative as MuJoCo's, by
  // 1 / trace(M)). In float the gradient Ma - qfrc_smooth - J'f is known only to the rounding
  // of its terms: on MuJoCo's humanoid, where MuJoCo's double solve meets 1e-8 at the warm
  // start, ours measured 1e-6 to 1.5e-5, so the float solve ran an iteration of rounding noise
  // (with its Hessian factor) on 7% of steps. The floor 3e-5 passes 99% of those and stopped
  // 5 of 3,072 solves that MuJoCo continued (their decrement below 1e-6). The decrement and the
  // line search's improvement (costs, scaled) have the floor 1e-7. Double keeps MuJoCo's values.
  static constexpr Real gradient_tolerance_min = sizeof(Real) == 4 ? Real(3e-5) : Real(0);
  static constexpr Real tolerance_min = sizeof(Real) == 4 ? Real(1e-7) : Real(0);
  // box-box rounding scales (engine_collision_box.c), in units of the scalar's epsilon
  static constexpr Real boxbox_sepeps = sizeof(Real) == 4 ? Real(1e-6) : Real(1e-13);
  static constexpr Real boxbox_pareps = sizeof(Real) == 4 ? Real(1e-7) : Real(1e-16);
  static constexpr Real boxbox_sgneps = sizeof(Real) == 4 ? Real(1e-5) : Real(1e-9);
  static constexpr Real boxbox_dupeps = sizeof(Real) == 4 ? Real(1e-10) : Real(1e-14);
};

SP_HD inline float col_sqrt(float x) { return sqrtf(x); }
SP_HD inline double col_sqrt(double x) { return sqrt(x); }
SP_HD inline float col_abs(float x) { return fabsf(x); }
SP_HD inline double col_abs(double x) { return fabs(x); }

template <class Real>
SP_HD inline Real col_min(Real a, Real b) { return a < b ? a : b; }
template <class Real>
SP_HD inline Real col_max(Real a, Real b) { return a > b ? a : b; }
template <class Real>
SP_HD inline Real col_clip(Real x, Real lo, Real hi) { return x < lo ? lo : (x > hi ? hi : x); }
template <class Real>
SP_HD inline Real col_sign(Real x) { return x < 0 ? Real(-1) : (x > 0 ? Real(1) : Real(0)); }

template <class Real>
SP_HD inline Real dot3(const Real a[3], const Real b[3]) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
template <class Real>
SP_HD inline void copy3(Real res[3], const Real a[3]) {
  res[0] = a[0]; res[1] = a[1]; res[2] = a[2];
}
template <class Real>
SP_HD inline void zero3(Real res[3]) {
  res[0] = 0; res[1] = 0; res[2] = 0;
}
template <class Real>
SP_HD inline void add3(Real res[3], const Real a[3], const Real b[3]) {
  res[0] = a[0] + b[0]; res[1] = a[1] + b[1]; res[2] = a[2] + b[2];
}
template <class Real>
SP_HD inline void sub3(Real res[3], const Real a[3], const Real b[3]) {
  res[0] = a[0] - b[0]; res[1] = a[1] - b[1]; res[2] = a[2] - b[2];
}
template <class Real>
SP_HD inline void scl3(Real res[3], const Real a[3], Real s) {
  res[0] = a[0] * s; res[1] = a[1] * s; res[2] = a[2] * s;
}
template <class Real>
SP_HD inline void add_to3(Real res[3], const Real a[3]) {
  res[0] += a[0]; res[1] += a[1]; res[2] += a[2];
}
template <class Real>
SP_HD inline void sub_from3(Real res[3], const Real a[3]) {
  res[0] -= a[0]; res[1] -= a[1]; res[2] -= a[2];
}
// res += a * s
template <class Real>
SP_HD inline void add_to_scl3(Real res[3], const Real a[3], Real s) {
  res[0] += a[0] * s; res[1] += a[1] * s; res[2] += a[2] * s;
}
// res = a + b * s
template <class Real>
SP_HD inline void add_scl3(Real res[3], const Real a[3], const Real b[3], Real s) {
  res[0] = a[0] + b[0] * s; res[1] = a[1] + b[1] * s; res[2] = a[2] + b[2] * s;
}
template <class Real>
SP_HD inline void cross3(Real res[3], const Real a[3], const Real b[3]) {
  Real r0 = a[1] * b[2] - a[2] * b[1];
  Real r1 = a[2] * b[0] - a[0] * b[2];
  Real r2 = a[0] * b[1] - a[1] * b[0];
  res[0] = r0; res[1] = r1; res[2] = r2;
}
// normalize in place, return the original length; a vector shorter than minval becomes (1,0,0)
template <class Real>
SP_HD inline Real normalize3(Real v[3]) {
  Real norm = col_sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  if (norm < ColConst<Real>::minval) {
    v[0] = 1; v[1] = 0; v[2] = 0;
  } else {
    Real inv = 1 / norm;
    v[0] *= inv; v[1] *= inv; v[2] *= inv;
  }
  return norm;
}
// res = mat * v, mat 3x3 row-major
template <class Real>
SP_HD inline void mul_mat_vec3(Real res[3], const Real mat[9], const Real v[3]) {
  Real r0 = mat[0] * v[0] + mat[1] * v[1] + mat[2] * v[2];
  Real r1 = mat[3] * v[0] + mat[4] * v[1] + mat[5] * v[2];
  Real r2 = mat[6] * v[0] + mat[7] * v[1] + mat[8] * v[2];
  res[0] = r0; res[1] = r1; res[2] = r2;
}
// res = mat' * v
template <class Real>
SP_HD inline void mul_mat_t_vec3(Real res[3], const Real mat[9], const Real v[3]) {
  Real r0 = mat[0] * v[0] + mat[3] * v[1] + mat[6] * v[2];
  Real r1 = mat[1] * v[0] + mat[4] * v[1] + mat[7] * v[2];
  Real r2 = mat[2] * v[0] + mat[5] * v[1] + mat[8] * v[2];
  res[0] = r0; res[1] = r1; res[2] = r2;
}
// res = a' * b, both 3x3 row-major
template <class Real>
SP_HD inline void mul_mat_t_mat3(Real res[9], const Real a[9], const Real b[9]) {
  for (int i = 0; i < 3; i++) {
    for (int j = 0; j < 3; j++) {
      res[3 * i + j] = a[i] * b[j] + a[3 + i] * b[3 + j] + a[6 + i] * b[6 + j];
    }
  }
}

}  // namespace stampede::kern::constraint
