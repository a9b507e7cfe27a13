// sim/tasks/task_math.h — small quaternion and random-number helpers for the task's per-world
// functions. Header-only, host and device (SP_HD), output first (STYLE.md).
// Quaternions are (w, x, y, z), MuJoCo's convention; rotations are active (v_world = q v_local q*).
#pragma once

#include <cmath>
#include <cstdint>

#if __has_include("kernels/config.h")
#include "kernels/config.h"
#endif
#ifndef SP_HD
#if defined(__CUDACC__)
#define SP_HD __host__ __device__
#else
#define SP_HD
#endif
#endif

namespace stampede::sim::tasks {

template <class Real>
SP_HD inline Real clampr(Real x, Real lo, Real hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

// res = a * b
template <class Real>
SP_HD inline void quat_mul(Real res[4], const Real a[4], const Real b[4]) {
  const Real w = a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3];
  const Real x = a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2];
  const Real y = a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1];
  const Real z = a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0];
  res[0] = w;
  res[1] = x;
  res[2] = y;
  res[3] = z;
}

// res = R(q) v (local to world)
template <class Real>
SP_HD inline void quat_rotate(Real res[3], const Real v[3], const Real q[4]) {
  // t = 2 (u x v); res = v + w t + u x t, with u the vector part of q
  const Real tx = 2 * (q[2] * v[2] - q[3] * v[1]);
  const Real ty = 2 * (q[3] * v[0] - q[1] * v[2]);
  const Real tz = 2 * (q[1] * v[1] - q[2] * v[0]);
  const Real rx = v[0] + q[0] * tx + (q[2] * tz - q[3] * ty);
  const Real ry = v[1] + q[0] * ty + (q[3] * tx - q[1] * tz);
  const Real rz = v[2] + q[0] * tz + (q[1] * ty - q[2] * tx);
  res[0] = rx;
  res[1] = ry;
  res[2] = rz;
}

// res = R(q)^T v (world to local)
template <class Real>
SP_HD inline void quat_rotate_inverse(Real res[3], const Real v[3], const Real q[4]) {
  const Real qc[4] = {q[0], -q[1], -q[2], -q[3]};
  quat_rotate(res, v, qc);
}

// res = rotation by angle (rad) about the unit axis
template <class Real>
SP_HD inline void quat_from_axis_angle(Real res[4], const Real axis[3], Real angle) {
  const Real s = std::sin(angle / 2);
  res[0] = std::cos(angle / 2);
  res[1] = axis[0] * s;
  res[2] = axis[1] * s;
  res[3] = axis[2] * s;
}

// q / |q|; the identity for a zero quaternion
template <class Real>
SP_HD inline void quat_normalize(Real q[4]) {
  const Real n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  if (n > Real(0)) {
    for (int i = 0; i < 4; ++i) q[i] /= n;
  } else {
    q[0] = 1;
    q[1] = q[2] = q[3] = 0;
  }
}

// angle wrapped to [-pi, pi)
template <class Real>
SP_HD inline Real wrap_angle(Real a) {
  const Real two_pi = Real(6.283185307179586);
  a = std::fmod(a + Real(3.141592653589793), two_pi);
  if (a < 0) a += two_pi;
  return a - Real(3.141592653589793);
}

// per-world random stream: splitmix64 (counter-based, one 64-bit state per world)
SP_HD inline uint64_t rng_next(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// uniform in [0, 1) with 53 random bits
SP_HD inline double rng_uniform01(uint64_t& state) {
  return static_cast<double>(rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

// uniform in [lo, hi)
template <class Real>
SP_HD inline Real rng_uniform(uint64_t& state, Real lo, Real hi) {
  return lo + static_cast<Real>(rng_uniform01(state)) * (hi - lo);
}

// uniform integer in [0, n] (inclusive)
SP_HD inline int rng_int_inclusive(uint64_t& state, int n) {
  if (n <= 0) return 0;
  return static_cast<int>(rng_next(state) % static_cast<uint64_t>(n + 1));
}

// the initial state of world w's stream for a seed
SP_HD inline uint64_t rng_seed_world(uint64_t seed, int w) {
  uint64_t s = seed ^ (0xD1B54A32D192ED03ull * static_cast<uint64_t>(w + 1));
  rng_next(s);
  return s;
}

}  // namespace stampede::sim::tasks
