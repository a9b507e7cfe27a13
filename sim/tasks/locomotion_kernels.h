// sim/tasks/locomotion_kernels.h — the locomotion task's per-world computations, written as free
// functions of (world index, views of raw pointers): the shape of kernel bodies, so they can move
// to kernels/ and run on CUDA without a per-world host loop. Nothing here allocates or throws.
//
// Every function reads the simulator state through the backend's world-major arrays and the
// task's own world-major buffers (TaskData). Per-world model constants that domain randomization
// changes (friction, base mass, gains) carry a leading nworld dimension.
#pragma once

#include <cstdint>

#include "sim/tasks/task_config.h"
#include "sim/tasks/task_math.h"

namespace stampede::sim::tasks {

constexpr int kMaxFeet = 8;             // feet per robot the contact bookkeeping holds
constexpr int kMaxCollisionBodies = 64; // non-foot bodies the collision penalty tells apart

// observation terms (robot.yaml observation[].term)
enum ObsKind : int {
  kObsBaseLinVel = 0,   // base linear velocity, base frame (m/s), 3
  kObsBaseAngVel,       // angular velocity, IMU frame (rad/s), 3
  kObsProjectedGravity, // gravity direction, IMU frame (unit), 3
  kObsCommands,         // vx, vy, yaw rate (and heading with size 4)
  kObsJointPos,         // q - default (rad), na
  kObsJointVel,         // qdot (rad/s), na
  kObsLastAction,       // last policy action after clipping, na
  kObsGaitPhase,        // sin, cos of each foot's gait phase, 2 per clock
};

// offsets into TaskData::base (per world, kBaseStride values) of the derived base state
enum BaseField : int {
  kBLinVel = 0,       // 3: base linear velocity, base frame (m/s)
  kBAngVel = 3,       // 3: base angular velocity, base frame (rad/s)
  kBGravity = 6,      // 3: gravity direction, base frame
  kBHeight = 9,          // 1: base origin height (m)
  kBYaw = 10,         // 1: heading of the base x axis (rad)
  kBImuAngVel = 11,       // 3: IMU angular velocity, IMU frame (rad/s)
  kBImuGravity = 14,      // 3: gravity direction, IMU frame
  kBaseStride = 17
};

// offsets into TaskData::contact (per world, contact_stride() values)
// [0, nfeet): foot normal force (N); nfeet: collision-body count; nfeet + 1: base contact (0/1)

// the constant part of the task: robot joints, frames, geoms, observation layout (host or device)
template <class Real>
struct TaskModel {
  // sizes
  int nq = 0, nv = 0, nu = 0, nbody = 0, ngeom = 0;
  int na = 0;                    // actuated joints, policy order
  int nfeet = 0;                 // foot bodies
  int obs_dim = 0;               // observation size
  int nobs_term = 0;             // observation terms
  int hist_len = 1;              // action history length (max latency + 1)
  // actuated joints (na)
  const int* jnt_qposadr = nullptr;   // qpos address
  const int* jnt_dofadr = nullptr;    // qvel address
  const int* act_id = nullptr;        // actuator id (ctrl index)
  const Real* act_gear = nullptr;     // actuator gear (torque = gear * ctrl)
  const Real* default_pos = nullptr;  // default position (rad)
  const Real* kp = nullptr;           // PD stiffness (N m/rad)
  const Real* kd = nullptr;           // PD damping (N m s/rad)
  const Real* torque_limit = nullptr; // |torque| limit (N m)
  const Real* soft_lower = nullptr;   // soft lower limit (rad), -1e30 when unlimited
  const Real* soft_upper = nullptr;   // soft upper limit (rad), +1e30 when unlimited
  // floating base (a free joint)
  int base_body = 0;
  int base_qposadr = 0;               // position (3) then quaternion (4)
  int base_dofadr = 0;                // world linear velocity (3) then local angular velocity (3)
  // IMU: chain of steps from the base body to the IMU's body; a step multiplies the orientation
  // by step_quat, then applies its joint (type 0: none, 1: hinge, 2: slide)
  int imu_nstep = 0;
  const Real* imu_step_quat = nullptr;   // (imu_nstep, 4) body_quat or identity
  const int* imu_step_type = nullptr;    // (imu_nstep)
  const int* imu_step_qposadr = nullptr; // (imu_nstep)
  const int* imu_step_dofadr = nullptr;  // (imu_nstep)
  const Real* imu_step_qpos0 = nullptr;  // (imu_nstep) reference position of the joint
  const Real* imu_step_axis = nullptr;   // (imu_nstep, 3) joint axis in the body frame
  Real imu_site_quat[4] = {1, 0, 0, 0};  // site orientation in its body's frame
  // feet and contacts
  const int* foot_body = nullptr;        // (nfeet) body ids
  const int* geom_foot = nullptr;        // (ngeom) foot index of a geom's body, or -1
  const int* geom_collision = nullptr;   // (ngeom) collision-body index (< 64), or -1
  const unsigned char* geom_terminate = nullptr;  // (ngeom) 1: contact ends the episode
  // observation layout
  const int* obs_kind = nullptr;         // (nobs_term) ObsKind
  const int* obs_offset = nullptr;       // (nobs_term) first component
  const int* obs_size = nullptr;         // (nobs_term) components
  const Real* obs_clip = nullptr;        // (nobs_term) |value| clip after scaling (0: none)
  const Real* obs_scale = nullptr;       // (obs_dim) per component
  const Real* obs_noise = nullptr;       // (obs_dim) uniform half-width, unscaled units (x level)
  // initial state
  const Real* init_qpos = nullptr;       // (nq) keyframe "home" or qpos0 with the default pose
  // nominal model values domain randomization starts from
  Real base_mass = 0;                    // kg

  SP_HD int contact_stride() const { return nfeet + 2; }
};

// scalar parameters (from TaskConfig and robot.yaml)
template <class Real>
struct TaskParams {
  Real dt = 0;                 // control period (s)
  Real physics_dt = 0;         // physics timestep (s)
  int max_episode_steps = 0;   // time limit in control steps
  int resample_steps = 1;      // control steps between command resamples
  int push_steps = 0;          // control steps between pushes (0: none)
  Real action_scale = 0, action_clip = 0;
  // commands
  int heading_command = 0;
  Real heading_stiffness = 0;
  Real lin_vel_x[2] = {0, 0}, lin_vel_y[2] = {0, 0}, ang_vel_yaw[2] = {0, 0}, heading[2] = {0, 0};
  Real min_lin_vel = 0;
  // rewards
  Real weight[kNumRewardTerms] = {};  // already scaled by dt when configured
  int only_positive = 0;
  Real tracking_sigma = 0, base_height_target = 0, feet_air_time_target = 0;
  Real swing_height_target = 0, contact_force_threshold = 0, collision_force_threshold = 0;
  Real gait_period = 1, gait_offset = 0, stance_fraction = 0;
  // terminations
  int base_contact = 0;
  Real min_base_height = 0;
  Real min_up_z = -2;          // cos(max_tilt); -2 disables the tilt check
  // initial state and domain randomization
  Real joint_pos_noise = 0, joint_vel_noise = 0, base_lin_vel_noise = 0, base_ang_vel_noise = 0;
  Real base_yaw_range = 0, base_height_offset = 0;
  int randomize = 0;
  Real friction[2] = {1, 1}, added_base_mass[2] = {0, 0};
  Real motor_strength[2] = {1, 1}, kp_scale[2] = {1, 1}, kd_scale[2] = {1, 1};
  int max_action_latency = 0;
  Real obs_noise_level = 0;
  Real push_vel_xy = 0;
};

// the task's mutable per-world buffers, world-major
template <class Real>
struct TaskData {
  Real* commands = nullptr;          // (nworld, 4) vx, vy (m/s), yaw rate (rad/s), heading (rad)
  int* episode_step = nullptr;       // (nworld) control steps since the episode began
  Real* actions = nullptr;           // (nworld, na) last policy action, clipped
  Real* prev_actions = nullptr;      // (nworld, na) the one before
  Real* action_hist = nullptr;       // (nworld, hist_len, na) ring of past actions
  int* latency = nullptr;            // (nworld) action latency of this episode (control steps)
  Real* targets = nullptr;           // (nworld, na) PD targets (rad)
  Real* torques = nullptr;           // (nworld, na) joint torques of the last physics step (N m)
  Real* dof_vel_prev = nullptr;      // (nworld, na) joint velocities at the previous control step
  Real* feet_air_time = nullptr;     // (nworld, nfeet) s since the foot left the ground
  unsigned char* feet_last_contact = nullptr;  // (nworld, nfeet)
  Real* feet_pos_prev = nullptr;     // (nworld, nfeet, 3) foot positions before the last physics step
  Real* motor_strength = nullptr;    // (nworld, na) torque multiplier
  Real* kp_scale = nullptr;          // (nworld, na)
  Real* kd_scale = nullptr;          // (nworld, na)
  uint64_t* rng = nullptr;           // (nworld) random stream state
  Real* base = nullptr;              // (nworld, kBaseStride) derived base state
  Real* contact = nullptr;           // (nworld, nfeet + 2) foot forces, collision count, base contact
  Real* reward_terms = nullptr;      // (nworld, kNumRewardTerms) weighted contribution of each term
  Real* reward = nullptr;            // (nworld) total reward of the step
  unsigned char* terminated = nullptr;  // (nworld) fell
  unsigned char* truncated = nullptr;   // (nworld) time limit
};

// the simulator arrays the task reads and writes (a Backend's, world-major)
template <class Real>
struct SimView {
  Real* qpos = nullptr;              // (nworld, nq)
  Real* qvel = nullptr;              // (nworld, nv)
  Real* ctrl = nullptr;              // (nworld, nu)
  const Real* xpos = nullptr;        // (nworld, nbody, 3)
  const int* ncon = nullptr;         // (nworld)
  const int* con_geom = nullptr;     // (nworld, ccap, 2)
  const Real* con_force = nullptr;   // (nworld, ccap, 3) normal first
  int contact_capacity = 0;
  Real* geom_friction = nullptr;     // (nworld, ngeom * 3) or null when not randomized
  Real* body_mass = nullptr;         // (nworld, nbody) or null when not randomized
};

// ---------------------------------------------------------------------------------------------
// commands

// yaw-rate command from the heading error (heading mode)
template <class Real>
SP_HD inline void heading_to_yaw_rate_world(int w, const TaskParams<Real>& p, TaskData<Real> d) {
  if (!p.heading_command) return;
  Real* c = d.commands + 4 * w;
  const Real err = wrap_angle(c[3] - d.base[kBaseStride * w + kBYaw]);
  c[2] = clampr(p.heading_stiffness * err, p.ang_vel_yaw[0], p.ang_vel_yaw[1]);
}

// draw a new command for world w
template <class Real>
SP_HD inline void sample_commands_world(int w, const TaskParams<Real>& p, TaskData<Real> d) {
  uint64_t& rng = d.rng[w];
  Real* c = d.commands + 4 * w;
  c[0] = rng_uniform(rng, p.lin_vel_x[0], p.lin_vel_x[1]);
  c[1] = rng_uniform(rng, p.lin_vel_y[0], p.lin_vel_y[1]);
  c[2] = rng_uniform(rng, p.ang_vel_yaw[0], p.ang_vel_yaw[1]);
  c[3] = rng_uniform(rng, p.heading[0], p.heading[1]);
  if (c[0] * c[0] + c[1] * c[1] < p.min_lin_vel * p.min_lin_vel) c[0] = c[1] = 0;
  heading_to_yaw_rate_world(w, p, d);
}

// ---------------------------------------------------------------------------------------------
// actions

// clip the policy's action, push it into the latency ring and set the PD targets
template <class Real>
SP_HD inline void process_actions_world(int w, const TaskModel<Real>& m, const TaskParams<Real>& p,
                                        // data in
                                        const float* actions_in,
                                        // data out
                                        TaskData<Real> d) {
  const int na = m.na;
  const int step = d.episode_step[w];
  const int head = step % m.hist_len;
  const int lat = d.latency[w] < m.hist_len ? d.latency[w] : m.hist_len - 1;
  const int delayed = ((step - lat) % m.hist_len + m.hist_len) % m.hist_len;
  Real* hist = d.action_hist + static_cast<long>(w) * m.hist_len * na;
  for (int i = 0; i < na; ++i) {
    Real a = static_cast<Real>(actions_in[w * na + i]);
    if (!(a == a)) a = 0;  // NaN: no action
    a = clampr(a, -p.action_clip, p.action_clip);
    d.prev_actions[w * na + i] = d.actions[w * na + i];
    d.actions[w * na + i] = a;
    hist[head * na + i] = a;
  }
  for (int i = 0; i < na; ++i)
    d.targets[w * na + i] = m.default_pos[i] + p.action_scale * hist[delayed * na + i];
}

// PD torque at the current physics state: tau = s (kp' (target - q) - kd' qdot), clipped to the
// torque limit; ctrl = tau / gear
template <class Real>
SP_HD inline void pd_torque_world(int w, const TaskModel<Real>& m, SimView<Real> s, TaskData<Real> d) {
  const Real* qpos = s.qpos + static_cast<long>(w) * m.nq;
  const Real* qvel = s.qvel + static_cast<long>(w) * m.nv;
  Real* ctrl = s.ctrl + static_cast<long>(w) * m.nu;
  for (int i = 0; i < m.na; ++i) {
    const int k = w * m.na + i;
    const Real q = qpos[m.jnt_qposadr[i]];
    const Real qd = qvel[m.jnt_dofadr[i]];
    Real tau = d.motor_strength[k] *
               (d.kp_scale[k] * m.kp[i] * (d.targets[k] - q) - d.kd_scale[k] * m.kd[i] * qd);
    tau = clampr(tau, -m.torque_limit[i], m.torque_limit[i]);
    d.torques[k] = tau;
    ctrl[m.act_id[i]] = tau / m.act_gear[i];
  }
}

// foot positions before the last physics step of a control step (for the slip velocity)
template <class Real>
SP_HD inline void save_feet_world(int w, const TaskModel<Real>& m, SimView<Real> s, TaskData<Real> d) {
  for (int f = 0; f < m.nfeet; ++f)
    for (int k = 0; k < 3; ++k)
      d.feet_pos_prev[(w * m.nfeet + f) * 3 + k] =
          s.xpos[(static_cast<long>(w) * m.nbody + m.foot_body[f]) * 3 + k];
}

// ---------------------------------------------------------------------------------------------
// state

// the IMU site's frame from one world's qpos/qvel, walking the chain from the base body to the
// IMU's body: quat_out its orientation in the world (w, x, y, z); omega the world angular
// velocity, in: the base's, out: the IMU's. base_quat: the base orientation, normalized.
template <class Real>
SP_HD inline void imu_frame_world(Real quat_out[4], Real omega[3], const TaskModel<Real>& m, const Real* qpos,
                                  const Real* qvel, const Real base_quat[4]) {
  Real q[4] = {base_quat[0], base_quat[1], base_quat[2], base_quat[3]};
  for (int j = 0; j < m.imu_nstep; ++j) {
    Real t[4];
    quat_mul(t, q, m.imu_step_quat + 4 * j);
    for (int k = 0; k < 4; ++k) q[k] = t[k];
    if (m.imu_step_type[j] == 1) {
      const Real* axis = m.imu_step_axis + 3 * j;
      Real axis_w[3];
      quat_rotate(axis_w, axis, q);
      const Real qd = qvel[m.imu_step_dofadr[j]];
      for (int k = 0; k < 3; ++k) omega[k] += axis_w[k] * qd;
      Real r[4];
      quat_from_axis_angle(r, axis, qpos[m.imu_step_qposadr[j]] - m.imu_step_qpos0[j]);
      quat_mul(t, q, r);
      for (int k = 0; k < 4; ++k) q[k] = t[k];
    }
  }
  quat_mul(quat_out, q, m.imu_site_quat);
}

// base and IMU quantities from qpos/qvel only (valid right after a reset, before any forward)
template <class Real>
SP_HD inline void base_state_world(int w, const TaskModel<Real>& m, SimView<Real> s, TaskData<Real> d) {
  const Real* qpos = s.qpos + static_cast<long>(w) * m.nq;
  const Real* qvel = s.qvel + static_cast<long>(w) * m.nv;
  Real* b = d.base + kBaseStride * w;
  Real q[4] = {qpos[m.base_qposadr + 3], qpos[m.base_qposadr + 4], qpos[m.base_qposadr + 5],
               qpos[m.base_qposadr + 6]};
  quat_normalize(q);
  const Real down[3] = {0, 0, -1};
  const Real ex[3] = {1, 0, 0};
  quat_rotate_inverse(b + kBLinVel, qvel + m.base_dofadr, q);
  for (int k = 0; k < 3; ++k) b[kBAngVel + k] = qvel[m.base_dofadr + 3 + k];
  quat_rotate_inverse(b + kBGravity, down, q);
  b[kBHeight] = qpos[m.base_qposadr + 2];
  Real fwd[3];
  quat_rotate(fwd, ex, q);
  b[kBYaw] = std::atan2(fwd[1], fwd[0]);

  // the IMU frame: orientation and world angular velocity
  Real omega[3], qi[4];
  quat_rotate(omega, b + kBAngVel, q);
  imu_frame_world(qi, omega, m, qpos, qvel, q);
  quat_rotate_inverse(b + kBImuAngVel, omega, qi);
  quat_rotate_inverse(b + kBImuGravity, down, qi);
}

// per-foot normal force, number of collision bodies in contact, base contact (from the contacts)
template <class Real>
SP_HD inline void contact_state_world(int w, const TaskModel<Real>& m, const TaskParams<Real>& p,
                                      SimView<Real> s, TaskData<Real> d) {
  Real* c = d.contact + static_cast<long>(w) * m.contact_stride();
  for (int f = 0; f < m.nfeet; ++f) c[f] = 0;
  uint64_t touched = 0;
  int base_contact = 0;
  const int n = s.ncon[w] < s.contact_capacity ? s.ncon[w] : s.contact_capacity;
  for (int i = 0; i < n; ++i) {
    const long ci = static_cast<long>(w) * s.contact_capacity + i;
    const Real fn = s.con_force[3 * ci];
    for (int side = 0; side < 2; ++side) {
      const int g = s.con_geom[2 * ci + side];
      if (g < 0 || g >= m.ngeom) continue;
      const int f = m.geom_foot[g];
      if (f >= 0) c[f] += fn;
      if (fn > p.collision_force_threshold) {
        const int cb = m.geom_collision[g];
        if (cb >= 0) touched |= (uint64_t(1) << cb);
        if (m.geom_terminate[g]) base_contact = 1;
      }
    }
  }
  int count = 0;
  for (; touched; touched &= touched - 1) ++count;
  c[m.nfeet] = static_cast<Real>(count);
  c[m.nfeet + 1] = static_cast<Real>(base_contact);
}

// gait phase in [0, 1) of foot f at the world's current episode step
template <class Real>
SP_HD inline Real gait_phase_world(int w, int f, const TaskParams<Real>& p, const TaskData<Real>& d) {
  const Real t = static_cast<Real>(d.episode_step[w]) * p.dt;
  Real ph = std::fmod(t, p.gait_period) / p.gait_period + static_cast<Real>(f) * p.gait_offset;
  ph -= std::floor(ph);
  return ph;
}

// ---------------------------------------------------------------------------------------------
// rewards and terminations

// every reward term (weighted) and the total; updates the air-time and contact memories and the
// previous joint velocities. Call after contact_state_world, base_state_world and termination.
template <class Real>
SP_HD inline void rewards_world(int w, const TaskModel<Real>& m, const TaskParams<Real>& p,
                                SimView<Real> s, TaskData<Real> d) {
  const Real* qpos = s.qpos + static_cast<long>(w) * m.nq;
  const Real* qvel = s.qvel + static_cast<long>(w) * m.nv;
  const Real* b = d.base + kBaseStride * w;
  const Real* c = d.commands + 4 * w;
  const Real* con = d.contact + static_cast<long>(w) * m.contact_stride();
  Real r[kNumRewardTerms];
  for (int t = 0; t < kNumRewardTerms; ++t) r[t] = 0;

  // base motion
  const Real ex = c[0] - b[kBLinVel], ey = c[1] - b[kBLinVel + 1];
  const Real ez = c[2] - b[kBAngVel + 2];
  r[kTrackingLinVel] = std::exp(-(ex * ex + ey * ey) / p.tracking_sigma);
  r[kTrackingAngVel] = std::exp(-(ez * ez) / p.tracking_sigma);
  r[kLinVelZ] = b[kBLinVel + 2] * b[kBLinVel + 2];
  r[kAngVelXy] = b[kBAngVel] * b[kBAngVel] + b[kBAngVel + 1] * b[kBAngVel + 1];
  r[kOrientation] = b[kBGravity] * b[kBGravity] + b[kBGravity + 1] * b[kBGravity + 1];
  const Real dh = b[kBHeight] - p.base_height_target;
  r[kBaseHeight] = dh * dh;

  // joints and actions
  for (int i = 0; i < m.na; ++i) {
    const int k = w * m.na + i;
    const Real q = qpos[m.jnt_qposadr[i]];
    const Real qd = qvel[m.jnt_dofadr[i]];
    const Real acc = (d.dof_vel_prev[k] - qd) / p.dt;
    const Real da = d.prev_actions[k] - d.actions[k];
    r[kTorques] += d.torques[k] * d.torques[k];
    r[kDofVel] += qd * qd;
    r[kDofAcc] += acc * acc;
    r[kActionRate] += da * da;
    if (q < m.soft_lower[i]) r[kDofPosLimits] += m.soft_lower[i] - q;
    if (q > m.soft_upper[i]) r[kDofPosLimits] += q - m.soft_upper[i];
    d.dof_vel_prev[k] = qd;
  }

  // contacts and feet
  r[kCollision] = con[m.nfeet];
  const bool moving = c[0] * c[0] + c[1] * c[1] > Real(0.01);
  for (int f = 0; f < m.nfeet; ++f) {
    const int k = w * m.nfeet + f;
    const bool contact = con[f] > p.contact_force_threshold;
    const bool filt = contact || d.feet_last_contact[k];
    d.feet_last_contact[k] = contact ? 1 : 0;
    const bool first = d.feet_air_time[k] > 0 && filt;
    d.feet_air_time[k] += p.dt;
    if (first && moving) r[kFeetAirTime] += d.feet_air_time[k] - p.feet_air_time_target;
    if (filt) d.feet_air_time[k] = 0;

    const Real* x = s.xpos + (static_cast<long>(w) * m.nbody + m.foot_body[f]) * 3;
    const Real* x0 = d.feet_pos_prev + static_cast<long>(k) * 3;
    const Real vx = (x[0] - x0[0]) / p.physics_dt, vy = (x[1] - x0[1]) / p.physics_dt;
    if (contact) r[kFeetSlip] += vx * vx + vy * vy;
    const Real dz = x[2] - p.swing_height_target;
    if (!contact) r[kFeetSwingHeight] += dz * dz;
    const bool stance = gait_phase_world(w, f, p, d) < p.stance_fraction;
    if (contact == stance) r[kFeetContactPhase] += 1;
  }
  r[kAlive] = 1;
  r[kTermination] = d.terminated[w] ? 1 : 0;

  // weighted sum; the termination penalty is added after the positive clip (legged_gym)
  Real* out = d.reward_terms + static_cast<long>(w) * kNumRewardTerms;
  Real total = 0;
  for (int t = 0; t < kNumRewardTerms; ++t) {
    out[t] = p.weight[t] * r[t];
    if (t != kTermination) total += out[t];
  }
  if (p.only_positive && total < 0) total = 0;
  d.reward[w] = total + out[kTermination];
}

// terminated: a fall (base contact, too low, too tilted); truncated: the time limit, not a fall
template <class Real>
SP_HD inline void termination_world(int w, const TaskModel<Real>& m, const TaskParams<Real>& p,
                                    TaskData<Real> d) {
  const Real* b = d.base + kBaseStride * w;
  const Real* con = d.contact + static_cast<long>(w) * m.contact_stride();
  bool fell = p.base_contact && con[m.nfeet + 1] > 0;
  fell = fell || b[kBHeight] < p.min_base_height;
  fell = fell || -b[kBGravity + 2] < p.min_up_z;
  fell = fell || !(b[kBHeight] == b[kBHeight]);  // NaN state
  d.terminated[w] = fell ? 1 : 0;
  d.truncated[w] = (!fell && d.episode_step[w] >= p.max_episode_steps) ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// observations

// one uniform noise draw of half-width `noise`, or 0 without drawing when noise is 0
template <class Real>
SP_HD inline Real obs_noise_world(uint64_t& rng, Real noise) {
  return noise > 0 ? rng_uniform(rng, -noise, noise) : Real(0);
}

// the observation row of world w: each term noised (unscaled units), scaled, clipped
template <class Real>
SP_HD inline void observation_world(int w, const TaskModel<Real>& m, const TaskParams<Real>& p,
                                    SimView<Real> s, TaskData<Real> d, float* obs_out) {
  const Real* qpos = s.qpos + static_cast<long>(w) * m.nq;
  const Real* qvel = s.qvel + static_cast<long>(w) * m.nv;
  const Real* b = d.base + kBaseStride * w;
  float* o = obs_out + static_cast<long>(w) * m.obs_dim;
  uint64_t& rng = d.rng[w];
  for (int t = 0; t < m.nobs_term; ++t) {
    const int off = m.obs_offset[t];
    for (int i = 0; i < m.obs_size[t]; ++i) {
      Real v = 0;
      switch (m.obs_kind[t]) {
        case kObsBaseLinVel: v = b[kBLinVel + i]; break;
        case kObsBaseAngVel: v = b[kBImuAngVel + i]; break;
        case kObsProjectedGravity: v = b[kBImuGravity + i]; break;
        case kObsCommands: v = d.commands[4 * w + i]; break;
        case kObsJointPos: v = qpos[m.jnt_qposadr[i]] - m.default_pos[i]; break;
        case kObsJointVel: v = qvel[m.jnt_dofadr[i]]; break;
        case kObsLastAction: v = d.actions[w * m.na + i]; break;
        case kObsGaitPhase: {
          const Real ph = gait_phase_world(w, i / 2, p, d) * Real(6.283185307179586);
          v = (i % 2 == 0) ? std::sin(ph) : std::cos(ph);
          break;
        }
        default: break;
      }
      v = (v + obs_noise_world(rng, p.obs_noise_level * m.obs_noise[off + i])) * m.obs_scale[off + i];
      const Real clip = m.obs_clip[t];
      if (clip > 0) v = clampr(v, -clip, clip);
      o[off + i] = static_cast<float>(v);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// resets, domain randomization, pushes

// new randomized initial state, domain-randomization draws, cleared buffers and a new command.
// The caller has reset the backend world (time 0); this writes qpos, qvel and model fields.
template <class Real>
SP_HD inline void reset_world(int w, const TaskModel<Real>& m, const TaskParams<Real>& p,
                              SimView<Real> s, TaskData<Real> d) {
  uint64_t& rng = d.rng[w];
  Real* qpos = s.qpos + static_cast<long>(w) * m.nq;
  Real* qvel = s.qvel + static_cast<long>(w) * m.nv;
  for (int i = 0; i < m.nq; ++i) qpos[i] = m.init_qpos[i];
  for (int i = 0; i < m.nv; ++i) qvel[i] = 0;

  // base: random yaw about the world z axis, height offset, velocity noise
  Real* bq = qpos + m.base_qposadr + 3;
  const Real zaxis[3] = {0, 0, 1};
  Real yaw[4], t[4];
  quat_from_axis_angle(yaw, zaxis, rng_uniform(rng, -p.base_yaw_range, p.base_yaw_range));
  quat_mul(t, yaw, bq);
  for (int k = 0; k < 4; ++k) bq[k] = t[k];
  qpos[m.base_qposadr + 2] += p.base_height_offset;
  for (int k = 0; k < 3; ++k) {
    qvel[m.base_dofadr + k] = rng_uniform(rng, -p.base_lin_vel_noise, p.base_lin_vel_noise);
    qvel[m.base_dofadr + 3 + k] = rng_uniform(rng, -p.base_ang_vel_noise, p.base_ang_vel_noise);
  }
  // joints around the default pose
  for (int i = 0; i < m.na; ++i) {
    qpos[m.jnt_qposadr[i]] =
        m.default_pos[i] + rng_uniform(rng, -p.joint_pos_noise, p.joint_pos_noise);
    qvel[m.jnt_dofadr[i]] = rng_uniform(rng, -p.joint_vel_noise, p.joint_vel_noise);
  }

  // domain randomization of this episode
  for (int i = 0; i < m.na; ++i) {
    const int k = w * m.na + i;
    d.motor_strength[k] = p.randomize ? rng_uniform(rng, p.motor_strength[0], p.motor_strength[1]) : 1;
    d.kp_scale[k] = p.randomize ? rng_uniform(rng, p.kp_scale[0], p.kp_scale[1]) : 1;
    d.kd_scale[k] = p.randomize ? rng_uniform(rng, p.kd_scale[0], p.kd_scale[1]) : 1;
  }
  d.latency[w] = p.randomize ? rng_int_inclusive(rng, p.max_action_latency) : 0;
  if (p.randomize && s.geom_friction) {
    const Real mu = rng_uniform(rng, p.friction[0], p.friction[1]);
    for (int g = 0; g < m.ngeom; ++g) s.geom_friction[(static_cast<long>(w) * m.ngeom + g) * 3] = mu;
  }
  if (p.randomize && s.body_mass) {
    s.body_mass[static_cast<long>(w) * m.nbody + m.base_body] =
        m.base_mass + rng_uniform(rng, p.added_base_mass[0], p.added_base_mass[1]);
  }

  // task buffers
  d.episode_step[w] = 0;
  for (int i = 0; i < m.na; ++i) {
    const int k = w * m.na + i;
    d.actions[k] = d.prev_actions[k] = d.torques[k] = 0;
    d.targets[k] = m.default_pos[i];
    d.dof_vel_prev[k] = qvel[m.jnt_dofadr[i]];
  }
  for (int i = 0; i < m.hist_len * m.na; ++i) d.action_hist[static_cast<long>(w) * m.hist_len * m.na + i] = 0;
  for (int f = 0; f < m.nfeet; ++f) {
    d.feet_air_time[w * m.nfeet + f] = 0;
    d.feet_last_contact[w * m.nfeet + f] = 0;
  }
  base_state_world(w, m, s, d);
  sample_commands_world(w, p, d);
}

// a random horizontal kick of the base velocity every push_steps control steps
template <class Real>
SP_HD inline void push_world(int w, const TaskModel<Real>& m, const TaskParams<Real>& p,
                             SimView<Real> s, TaskData<Real> d) {
  if (!p.randomize || p.push_steps <= 0 || d.episode_step[w] == 0 ||
      d.episode_step[w] % p.push_steps != 0)
    return;
  Real* qvel = s.qvel + static_cast<long>(w) * m.nv;
  qvel[m.base_dofadr] += rng_uniform(d.rng[w], -p.push_vel_xy, p.push_vel_xy);
  qvel[m.base_dofadr + 1] += rng_uniform(d.rng[w], -p.push_vel_xy, p.push_vel_xy);
}

}  // namespace stampede::sim::tasks
