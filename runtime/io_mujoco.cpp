// runtime/io_mujoco.cpp — MuJoCo-backed RobotIO.
#include "runtime/io_mujoco.h"

#include <mujoco/mujoco.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>

namespace stampede::runtime {

MujocoIO::MujocoIO(const robot::RobotSpec& spec, MujocoIOOptions options) : spec_(spec), options_(std::move(options)) {
  char error[1024] = "";
  m_ = mj_loadXML(spec.mjcf.c_str(), nullptr, error, sizeof(error));
  if (!m_) throw std::runtime_error(spec.mjcf + ": MuJoCo could not load the model: " + error);
  d_ = mj_makeData(m_);
  auto fail = [&](const std::string& what) {
    mj_deleteData(d_);
    mj_deleteModel(m_);
    d_ = nullptr;
    m_ = nullptr;
    throw std::runtime_error(spec.mjcf + ": " + what);
  };
  // joints and their actuators, in policy order
  for (const auto& j : spec.joints) {
    const int jid = mj_name2id(m_, mjOBJ_JOINT, j.name.c_str());
    if (jid < 0) fail("no joint named '" + j.name + "'");
    if (m_->jnt_type[jid] != mjJNT_HINGE && m_->jnt_type[jid] != mjJNT_SLIDE) fail("joint '" + j.name + "' is not a hinge or slide");
    const std::string act = j.actuator.empty() ? j.name : j.actuator;
    const int aid = mj_name2id(m_, mjOBJ_ACTUATOR, act.c_str());
    if (aid < 0) fail("no actuator named '" + act + "' (for joint '" + j.name + "')");
    if (m_->actuator_trntype[aid] != mjTRN_JOINT || m_->actuator_trnid[2 * aid] != jid) fail("actuator '" + act + "' does not drive joint '" + j.name + "'");
    if (m_->actuator_gear[6 * aid] == 0) fail("actuator '" + act + "' has gear 0");
    qposadr_.push_back(m_->jnt_qposadr[jid]);
    dofadr_.push_back(m_->jnt_dofadr[jid]);
    actuator_.push_back(aid);
    gear_.push_back(m_->actuator_gear[6 * aid]);
  }
  imu_site_ = mj_name2id(m_, mjOBJ_SITE, spec.imu_site.c_str());
  if (imu_site_ < 0) fail("no site named '" + spec.imu_site + "' (frames.imu)");
  base_body_ = mj_name2id(m_, mjOBJ_BODY, spec.base_body.c_str());
  if (base_body_ < 0) fail("no body named '" + spec.base_body + "' (frames.base)");

  // initial state: the keyframe, or qpos0 with the joints at their defaults
  const int key = options_.keyframe.empty() ? -1 : mj_name2id(m_, mjOBJ_KEY, options_.keyframe.c_str());
  if (key >= 0) {
    mj_resetDataKeyframe(m_, d_, key);
  } else {
    mj_resetData(m_, d_);
    for (std::size_t j = 0; j < spec.joints.size(); ++j) d_->qpos[qposadr_[j]] = spec.joints[j].default_pos;
  }
  mj_forward(m_, d_);
  const std::size_t nj = spec.joints.size();
  command_.target.resize(nj);
  command_.kp.assign(nj, 0.0);
  command_.kd.resize(nj);
  command_.torque_limit.resize(nj);
  for (std::size_t j = 0; j < nj; ++j) {
    command_.target[j] = d_->qpos[qposadr_[j]];
    command_.kd[j] = spec.joints[j].kd;
    command_.torque_limit[j] = spec.joints[j].torque_limit;
  }
  wall_start_ = wall_mark_ = std::chrono::steady_clock::now();
  sim_mark_ = d_->time;
}

MujocoIO::~MujocoIO() {
  if (d_) mj_deleteData(d_);
  if (m_) mj_deleteModel(m_);
}

JointLimits MujocoIO::joint_limits() const {
  const double inf = std::numeric_limits<double>::infinity();
  JointLimits l;
  for (const auto& j : spec_.joints) {
    const int jid = mj_name2id(m_, mjOBJ_JOINT, j.name.c_str());
    const bool limited = m_->jnt_limited[jid];
    l.lower.push_back(limited ? m_->jnt_range[2 * jid] : -inf);
    l.upper.push_back(limited ? m_->jnt_range[2 * jid + 1] : inf);
  }
  return l;
}

void MujocoIO::read(SensorReading& out) {
  const std::size_t nj = spec_.joints.size();
  out.joint_pos.resize(nj);
  out.joint_vel.resize(nj);
  for (std::size_t j = 0; j < nj; ++j) {
    out.joint_pos[j] = d_->qpos[qposadr_[j]];
    out.joint_vel[j] = d_->qvel[dofadr_[j]];
  }
  mju_mat2Quat(out.imu_quat, d_->site_xmat + 9 * imu_site_);
  mjtNum vel[6];  // (angular, linear), local frame
  mj_objectVelocity(m_, d_, mjOBJ_SITE, imu_site_, vel, 1);
  for (int k = 0; k < 3; ++k) out.imu_ang_vel[k] = vel[k];
  mj_objectVelocity(m_, d_, mjOBJ_XBODY, base_body_, vel, 1);  // frame origin, frame axes: the free joint's qvel as training reads it
  for (int k = 0; k < 3; ++k) out.base_lin_vel[k] = vel[3 + k];
  out.has_base_lin_vel = true;
}

void MujocoIO::write(const JointCommand& cmd) {
  command_ = cmd;
  has_command_ = true;
}

// tau = clip(kp (target - q) - kd qd, +-limit) at the physics rate
void MujocoIO::apply_pd() {
  for (std::size_t j = 0; j < actuator_.size(); ++j) {
    const double q = d_->qpos[qposadr_[j]], qd = d_->qvel[dofadr_[j]];
    const double lim = std::fmin(command_.torque_limit[j], spec_.joints[j].torque_limit);
    double tau = command_.kp[j] * (command_.target[j] - q) - command_.kd[j] * qd;
    tau = std::fmin(std::fmax(tau, -lim), lim);
    max_torque_ratio_ = std::fmax(max_torque_ratio_, std::fabs(tau) / spec_.joints[j].torque_limit);
    d_->ctrl[actuator_[j]] = tau / gear_[j];
  }
}

double MujocoIO::sim_time() const { return d_->time; }

double MujocoIO::base_height() const { return d_->xpos[3 * base_body_ + 2]; }

// realtime: the wall clock; otherwise simulated time plus the wall time spent since physics last
// advanced, so the controller's own compute time still counts against its deadline
double MujocoIO::now() {
  const auto wall = std::chrono::steady_clock::now();
  if (options_.realtime) return sim_mark_ + std::chrono::duration<double>(wall - wall_mark_).count();
  return d_->time + std::chrono::duration<double>(wall - wall_mark_).count();
}

void MujocoIO::wait_until(double t) {
  const double dt = m_->opt.timestep;
  while (d_->time < t - 0.5 * dt) {
    apply_pd();
    mj_step(m_, d_);
    ++physics_steps_;
  }
  mj_forward(m_, d_);  // derived quantities (site frames, velocities) for the next read
  if (options_.realtime) {
    std::this_thread::sleep_until(wall_mark_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                   std::chrono::duration<double>(t - sim_mark_)));
    return;
  }
  wall_mark_ = std::chrono::steady_clock::now();
}

}  // namespace stampede::runtime
