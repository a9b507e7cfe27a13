// runtime/io_mujoco.cpp — MuJoCo-backed RobotIO, and the robot map, sensor read and initial state
// it shares with the transfer benchmark's MuJoCo target.
#include "runtime/io_mujoco.h"

#include <mujoco/mujoco.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>

namespace stampede::runtime {

MujocoRobotMap map_mujoco_robot(const mjModel* m, const robot::RobotSpec& spec) {
  auto fail = [&](const std::string& what) { throw std::runtime_error(spec.mjcf + ": " + what); };
  MujocoRobotMap map;
  // joints and their actuators, in policy order
  for (const auto& j : spec.joints) {
    const int jid = mj_name2id(m, mjOBJ_JOINT, j.name.c_str());
    if (jid < 0) fail("no joint named '" + j.name + "'");
    if (m->jnt_type[jid] != mjJNT_HINGE && m->jnt_type[jid] != mjJNT_SLIDE) fail("joint '" + j.name + "' is not a hinge or slide");
    const std::string act = j.actuator.empty() ? j.name : j.actuator;
    const int aid = mj_name2id(m, mjOBJ_ACTUATOR, act.c_str());
    if (aid < 0) fail("no actuator named '" + act + "' (for joint '" + j.name + "')");
    if (m->actuator_trntype[aid] != mjTRN_JOINT || m->actuator_trnid[2 * aid] != jid) fail("actuator '" + act + "' does not drive joint '" + j.name + "'");
    if (m->actuator_gear[6 * aid] == 0) fail("actuator '" + act + "' has gear 0");
    map.jnt.push_back(jid);
    map.qposadr.push_back(m->jnt_qposadr[jid]);
    map.dofadr.push_back(m->jnt_dofadr[jid]);
    map.actuator.push_back(aid);
    map.gear.push_back(m->actuator_gear[6 * aid]);
  }
  map.imu_site = mj_name2id(m, mjOBJ_SITE, spec.imu_site.c_str());
  if (map.imu_site < 0) fail("no site named '" + spec.imu_site + "' (frames.imu)");
  map.base_body = mj_name2id(m, mjOBJ_BODY, spec.base_body.c_str());
  if (map.base_body < 0) fail("no body named '" + spec.base_body + "' (frames.base)");
  const int bj = m->body_jntadr[map.base_body];
  if (bj >= 0 && m->jnt_type[bj] == mjJNT_FREE) {
    map.base_qposadr = m->jnt_qposadr[bj];
    map.base_dofadr = m->jnt_dofadr[bj];
  }
  return map;
}

void read_mujoco_sensors(const mjModel* m, const mjData* d, const MujocoRobotMap& map, SensorReading& out) {
  const std::size_t nj = map.qposadr.size();
  out.joint_pos.resize(nj);
  out.joint_vel.resize(nj);
  for (std::size_t j = 0; j < nj; ++j) {
    out.joint_pos[j] = d->qpos[map.qposadr[j]];
    out.joint_vel[j] = d->qvel[map.dofadr[j]];
  }
  mju_mat2Quat(out.imu_quat, d->site_xmat + 9 * map.imu_site);
  mjtNum vel[6];  // (angular, linear), local frame
  mj_objectVelocity(m, d, mjOBJ_SITE, map.imu_site, vel, 1);
  for (int k = 0; k < 3; ++k) out.imu_ang_vel[k] = vel[k];
  mj_objectVelocity(m, d, mjOBJ_XBODY, map.base_body, vel, 1);  // frame origin, frame axes: the free joint's qvel as training reads it
  for (int k = 0; k < 3; ++k) out.base_lin_vel[k] = vel[3 + k];
  out.has_base_lin_vel = true;
}

JointLimits mujoco_joint_limits(const mjModel* m, const MujocoRobotMap& map) {
  const double inf = std::numeric_limits<double>::infinity();
  JointLimits l;
  for (const int jid : map.jnt) {
    const bool limited = m->jnt_limited[jid];
    l.lower.push_back(limited ? m->jnt_range[2 * jid] : -inf);
    l.upper.push_back(limited ? m->jnt_range[2 * jid + 1] : inf);
  }
  return l;
}

void reset_mujoco_state(const mjModel* m, mjData* d, const MujocoRobotMap& map, const robot::RobotSpec& spec,
                        const std::string& keyframe) {
  const int key = keyframe.empty() ? -1 : mj_name2id(m, mjOBJ_KEY, keyframe.c_str());
  if (key >= 0) {
    mj_resetDataKeyframe(m, d, key);
  } else {
    mj_resetData(m, d);
    for (std::size_t j = 0; j < spec.joints.size(); ++j) d->qpos[map.qposadr[j]] = spec.joints[j].default_pos;
  }
  mj_forward(m, d);
}

MujocoIO::MujocoIO(const robot::RobotSpec& spec, MujocoIOOptions options) : spec_(spec), options_(std::move(options)) {
  char error[1024] = "";
  m_ = mj_loadXML(spec.mjcf.c_str(), nullptr, error, sizeof(error));
  if (!m_) throw std::runtime_error(spec.mjcf + ": MuJoCo could not load the model: " + error);
  try {
    map_ = map_mujoco_robot(m_, spec);
  } catch (...) {
    mj_deleteModel(m_);
    m_ = nullptr;
    throw;
  }
  d_ = mj_makeData(m_);
  reset_mujoco_state(m_, d_, map_, spec, options_.keyframe);
  const std::size_t nj = spec.joints.size();
  command_.target.resize(nj);
  command_.kp.assign(nj, 0.0);
  command_.kd.resize(nj);
  command_.torque_limit.resize(nj);
  for (std::size_t j = 0; j < nj; ++j) {
    command_.target[j] = d_->qpos[map_.qposadr[j]];
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

JointLimits MujocoIO::joint_limits() const { return mujoco_joint_limits(m_, map_); }

void MujocoIO::read(SensorReading& out) { read_mujoco_sensors(m_, d_, map_, out); }

void MujocoIO::write(const JointCommand& cmd) {
  command_ = cmd;
  has_command_ = true;
}

// the PD law (runtime/robot_io.h pd_torque) at the physics rate
void MujocoIO::apply_pd() {
  for (std::size_t j = 0; j < map_.actuator.size(); ++j) {
    const double limit = spec_.joints[j].torque_limit;
    const double tau = pd_torque(command_, j, d_->qpos[map_.qposadr[j]], d_->qvel[map_.dofadr[j]], limit);
    max_torque_ratio_ = std::fmax(max_torque_ratio_, std::fabs(tau) / limit);
    d_->ctrl[map_.actuator[j]] = tau / map_.gear[j];
  }
}

double MujocoIO::sim_time() const { return d_->time; }

double MujocoIO::base_height() const { return d_->xpos[3 * map_.base_body + 2]; }

// realtime: the wall clock; otherwise simulated time plus the wall time spent since physics last
// advanced, so the controller's own compute time still counts against its deadline
double MujocoIO::now() {
  const auto wall = std::chrono::steady_clock::now();
  if (options_.realtime) return sim_mark_ + std::chrono::duration<double>(wall - wall_mark_).count();
  return d_->time + std::chrono::duration<double>(wall - wall_mark_).count();
}

double MujocoIO::start() {
  wall_start_ = wall_mark_ = std::chrono::steady_clock::now();
  sim_mark_ = d_->time;
  return d_->time;
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
