// runtime/transfer.cpp — the transfer benchmark: TransferIO (MuJoCo with perturbations), the target
// factory, episodes, conditions, the table and JSON, and log replay.
#include "runtime/transfer.h"

#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "runtime/controller.h"

#ifdef STAMPEDE_TRANSFER_TRAINING
#include "runtime/io_training.h"
#endif

namespace stampede::runtime {
namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out + "\"";
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

// FNV-1a, so that conditions get distinct, reproducible random streams
uint64_t hash_label(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

// ---- TransferIO --------------------------------------------------------------------------------

TransferIO::TransferIO(const robot::RobotSpec& spec, const Condition& condition, uint64_t seed, double push_interval)
    : TransferTarget(spec, condition, seed, push_interval), spec_(spec) {
  char error[1024] = "";
  m_ = mj_loadXML(spec.mjcf.c_str(), nullptr, error, sizeof(error));
  if (!m_) throw std::runtime_error(spec.mjcf + ": MuJoCo could not load the model: " + error);
  try {
    map_ = map_mujoco_robot(m_, spec);
    // the perturbed model
    for (int g = 0; g < m_->ngeom; ++g) m_->geom_friction[3 * g] = perturbed_friction(m_->geom_friction[3 * g], condition);
    m_->body_mass[map_.base_body] = perturbed_base_mass(m_->body_mass[map_.base_body], condition, spec.mjcf);
    if (condition.name == "push" && condition.value > 0 && map_.base_dofadr < 0)
      throw std::runtime_error(spec.mjcf + ": push needs a free joint on the base body '" + spec.base_body + "'");
  } catch (...) {
    mj_deleteModel(m_);
    m_ = nullptr;
    throw;
  }
  d_ = mj_makeData(m_);
  reset_mujoco_state(m_, d_, map_, spec, "home");
  fall_body_.assign(m_->nbody, 0);
  tau_.resize(spec.joints.size());
}

TransferIO::~TransferIO() {
  if (d_) mj_deleteData(d_);
  if (m_) mj_deleteModel(m_);
}

JointLimits TransferIO::joint_limits() const { return mujoco_joint_limits(m_, map_); }

void TransferIO::set_fall_criteria(const FallCriteria& fall) {
  fall_body_ = fall_bodies(m_, map_.base_body, fall, spec_.mjcf);
  fall_ = fall;
}

bool TransferIO::fallen() const {
  bool contact = false;
  for (int i = 0; i < d_->ncon && !contact; ++i) {
    const mjContact& c = d_->contact[i];
    contact = fall_body_[m_->geom_bodyid[c.geom[0]]] || fall_body_[m_->geom_bodyid[c.geom[1]]];
  }
  const int b = map_.base_body;
  return is_fall(fall_, d_->xpos[3 * b + 2], d_->xmat[9 * b + 8], contact);
}

double TransferIO::heading_velocity() const {
  mjtNum vel[6];  // (angular, linear), world-aligned frame at the body
  mj_objectVelocity(m_, d_, mjOBJ_XBODY, map_.base_body, vel, 0);
  const double* R = d_->xmat + 9 * map_.base_body;
  return runtime::heading_velocity(vel[3], vel[4], std::atan2(R[3], R[0]));  // yaw of the base x axis
}

int TransferIO::nq() const { return m_->nq; }
int TransferIO::nv() const { return m_->nv; }
const double* TransferIO::qpos() const { return d_->qpos; }
const double* TransferIO::qvel() const { return d_->qvel; }
double TransferIO::sim_time() const { return d_->time; }

void TransferIO::set_state(const double* qpos, const double* qvel) {
  mju_copy(d_->qpos, qpos, m_->nq);
  mju_copy(d_->qvel, qvel, m_->nv);
  mj_forward(m_, d_);
}

void TransferIO::read(SensorReading& out) {
  read_mujoco_sensors(m_, d_, map_, out);
  effects_.add_sensor_noise(out);
}

void TransferIO::command_torques(double* tau) const {
  for (std::size_t j = 0; j < map_.actuator.size(); ++j)
    tau[j] = effects_.torque(j, d_->qpos[map_.qposadr[j]], d_->qvel[map_.dofadr[j]]);
}

void TransferIO::apply_pd() {
  command_torques(tau_.data());
  const double dt = m_->opt.timestep;
  for (std::size_t j = 0; j < map_.actuator.size(); ++j) {
    d_->ctrl[map_.actuator[j]] = tau_[j] / map_.gear[j];
    effects_.account(tau_[j], d_->qvel[map_.dofadr[j]], dt);
  }
}

void TransferIO::push_if_due() {
  double dv[2];
  if (!effects_.push(d_->time, m_->opt.timestep, dv)) return;
  d_->qvel[map_.base_dofadr] += dv[0];
  d_->qvel[map_.base_dofadr + 1] += dv[1];
}

void TransferIO::wait_until(double t) {
  const double dt = m_->opt.timestep;
  while (d_->time < t - 0.5 * dt) {
    push_if_due();
    apply_pd();
    mj_step(m_, d_);
  }
  mj_forward(m_, d_);  // derived quantities (site frames, velocities, contacts) for the next read
}

// ---- targets -----------------------------------------------------------------------------------

std::vector<std::string> transfer_targets() {
#ifdef STAMPEDE_TRANSFER_TRAINING
  return {"mujoco", "training"};
#else
  return {"mujoco"};
#endif
}

std::unique_ptr<TransferTarget> make_transfer_target(const std::string& target, const robot::RobotSpec& spec,
                                                     const Condition& condition, uint64_t seed, double push_interval) {
  if (target == "mujoco") return std::make_unique<TransferIO>(spec, condition, seed, push_interval);
#ifdef STAMPEDE_TRANSFER_TRAINING
  if (target == "training") return std::make_unique<TrainingIO>(spec, condition, seed, push_interval);
#else
  if (target == "training")
    throw std::invalid_argument("target 'training': this build has no CPU kernel backend (sim/cpu_backend, sim/tasks); use mujoco");
#endif
  std::string known;
  for (const auto& t : transfer_targets()) known += (known.empty() ? "" : ", ") + t;
  throw std::invalid_argument("unknown target '" + target + "' (this build has: " + known + ")");
}

// ---- episodes and conditions -------------------------------------------------------------------

RobotLog make_robot_log(const robot::RobotSpec& spec, const Policy& policy, int nq, int nv) {
  RobotLog log;
  log.robot = spec.name;
  log.contract_hash = policy.contract_hash();
  log.control_period = spec.control_period;
  for (const auto& j : spec.joints) log.joint_names.push_back(j.name);
  log.nq = nq;
  log.nv = nv;
  log.nobs = spec.obs_size();
  return log;
}

EpisodeResult run_episode(const robot::RobotSpec& spec, Policy& policy, const Condition& condition,
                          const TransferOptions& options, uint64_t seed, RobotLog* log) {
  const std::unique_ptr<TransferTarget> target =
      make_transfer_target(options.target, spec, condition, seed, options.push_interval);
  TransferTarget& io = *target;
  io.set_fall_criteria(options.fall);
  ControllerConfig config;
  config.command[0] = options.command_vx;
  config.gait_period = options.gait_period;
  config.deadline = 1e9;  // simulated time does not pass inside a cycle; timing is stampede-deploy's
  config.limits = io.joint_limits();
  Controller controller(spec, policy, io, config);
  if (log) *log = make_robot_log(spec, policy, io.nq(), io.nv());

  const double period = spec.control_period;
  const long cycles = static_cast<long>(std::ceil(options.episode_seconds / period - 1e-9));
  std::vector<double> tau(spec.joints.size());
  EpisodeResult r;
  double err = 0;
  long samples = 0;
  for (long k = 0; k < cycles && !r.fell; ++k) {
    io.wait_until(k * period);
    if (k > 0 && io.fallen()) {
      r.fell = true;
      break;
    }
    err += std::fabs(io.heading_velocity() - options.command_vx);
    ++samples;
    controller.step();
    if (log) {
      io.command_torques(tau.data());
      log->append(k * period, io.qpos(), io.qvel(), controller.last_observation().data(),
                  controller.last_action().data(), controller.last_command().target.data(), tau.data(),
                  controller.damping());
    }
  }
  if (!r.fell) {
    io.wait_until(cycles * period);
    r.fell = io.fallen();
  }
  r.damping = controller.damping();
  r.duration = io.sim_time();
  r.vel_error = samples ? err / samples : 0;
  r.mean_abs_torque = io.mean_abs_torque();
  r.power = r.duration > 0 ? io.energy() / r.duration : 0;
  return r;
}

ConditionResult run_condition(const robot::RobotSpec& spec, Policy& policy, const Condition& condition,
                              const TransferOptions& options, RobotLog* log_first_episode) {
  ConditionResult c;
  c.condition = condition;
  const uint64_t base = options.seed * 0x9E3779B97F4A7C15ull ^ hash_label(condition.label());
  int successes = 0;
  for (int e = 0; e < options.episodes; ++e) {
    c.episodes.push_back(run_episode(spec, policy, condition, options, base + 7919ull * e, e == 0 ? log_first_episode : nullptr));
    const EpisodeResult& r = c.episodes.back();
    c.falls += r.fell;
    c.damping += r.damping;
    successes += !r.fell;
    c.vel_error += r.vel_error;
    c.mean_abs_torque += r.mean_abs_torque;
    c.power += r.power;
    c.duration += r.duration;
  }
  const double n = std::max(1, options.episodes);
  c.success_rate = successes / n;
  c.vel_error /= n;
  c.mean_abs_torque /= n;
  c.power /= n;
  c.duration /= n;
  return c;
}

std::string transfer_table(const std::vector<ConditionResult>& results, const TransferOptions& o) {
  std::ostringstream s;
  char buf[256];
  s << "target " << o.target << "; d = condition - nominal, both on " << o.target << "\n";
  std::snprintf(buf, sizeof(buf), "%-22s %8s %6s %9s %9s %9s %9s | %9s %9s %9s\n", "condition", "success", "falls",
                "vel err", "|tau|", "power", "duration", "d success", "d vel err", "d power");
  s << buf;
  std::snprintf(buf, sizeof(buf), "%-22s %8s %6s %9s %9s %9s %9s | %9s %9s %9s\n", "", "", "", "m/s", "N*m", "W", "s",
                "", "m/s", "W");
  s << buf;
  const ConditionResult* nominal = results.empty() ? nullptr : &results[0];
  for (const auto& r : results) {
    std::snprintf(buf, sizeof(buf), "%-22s %7.0f%% %6d %9.3f %9.2f %9.1f %9.2f | %+8.0f%% %+9.3f %+9.1f\n",
                  r.condition.label().c_str(), 100 * r.success_rate, r.falls, r.vel_error, r.mean_abs_torque, r.power,
                  r.duration, 100 * (r.success_rate - nominal->success_rate), r.vel_error - nominal->vel_error,
                  r.power - nominal->power);
    s << buf;
  }
  return s.str();
}

std::string transfer_json(const std::vector<ConditionResult>& results, const TransferOptions& o,
                          const std::string& policy, const std::string& robot) {
  std::ostringstream s;
  s << "{\n  \"format\": \"stampede-transfer-1\",\n  \"policy\": " << json_string(policy)
    << ",\n  \"robot\": " << json_string(robot) << ",\n  \"target\": " << json_string(o.target)
    << ",\n  \"command_vx\": " << json_number(o.command_vx) << ",\n  \"episodes\": " << o.episodes
    << ",\n  \"episode_seconds\": " << json_number(o.episode_seconds) << ",\n  \"seed\": " << o.seed
    << ",\n  \"push_interval_s\": " << json_number(o.push_interval) << ",\n  \"fall\": {\"min_base_height\": "
    << json_number(o.fall.min_base_height) << ", \"max_tilt\": " << json_number(o.fall.max_tilt)
    << ", \"base_contact\": " << (o.fall.base_contact ? "true" : "false") << ", \"contact_bodies\": [";
  for (std::size_t i = 0; i < o.fall.contact_bodies.size(); ++i) s << (i ? ", " : "") << json_string(o.fall.contact_bodies[i]);
  s << "]},\n  \"conditions\": [";
  const ConditionResult* nominal = results.empty() ? nullptr : &results[0];
  for (std::size_t i = 0; i < results.size(); ++i) {
    const ConditionResult& r = results[i];
    s << (i ? ",\n    " : "\n    ") << "{\"label\": " << json_string(r.condition.label())
      << ", \"perturbation\": " << json_string(r.condition.name) << ", \"value\": " << json_number(r.condition.value)
      << ", \"episodes\": " << r.episodes.size() << ", \"success_rate\": " << json_number(r.success_rate)
      << ", \"falls\": " << r.falls << ", \"damping\": " << r.damping << ", \"vel_error\": " << json_number(r.vel_error)
      << ", \"mean_abs_torque\": " << json_number(r.mean_abs_torque) << ", \"power\": " << json_number(r.power)
      << ", \"duration\": " << json_number(r.duration) << ", \"gap\": {\"success_rate\": "
      << json_number(r.success_rate - nominal->success_rate) << ", \"vel_error\": "
      << json_number(r.vel_error - nominal->vel_error) << ", \"mean_abs_torque\": "
      << json_number(r.mean_abs_torque - nominal->mean_abs_torque) << ", \"power\": "
      << json_number(r.power - nominal->power) << "}, \"episode_results\": [";
    for (std::size_t e = 0; e < r.episodes.size(); ++e) {
      const EpisodeResult& x = r.episodes[e];
      s << (e ? ", " : "") << "{\"fell\": " << (x.fell ? "true" : "false") << ", \"damping\": "
        << (x.damping ? "true" : "false") << ", \"duration\": " << json_number(x.duration)
        << ", \"vel_error\": " << json_number(x.vel_error) << ", \"mean_abs_torque\": "
        << json_number(x.mean_abs_torque) << ", \"power\": " << json_number(x.power) << "}";
    }
    s << "]}";
  }
  s << "\n  ]\n}\n";
  return s.str();
}

// ---- replay ------------------------------------------------------------------------------------

ReplayResult replay_log(const robot::RobotSpec& spec, const RobotLog& log, const std::string& source) {
  validate_robot_log(log, source);
  if (log.robot != spec.name) throw RobotLogError(source + ": attribute 'robot': '" + log.robot + "', the robot is '" + spec.name + "'");
  const int nj = spec.num_joints();
  bool same = log.num_joints() == nj;
  for (int j = 0; same && j < nj; ++j) same = log.joint_names[j] == spec.joints[j].name;
  if (!same) throw RobotLogError(source + ": attribute 'joint_names': differs from " + spec.path + "'s joints (policy order)");
  if (std::fabs(log.control_period - spec.control_period) > 1e-12)
    throw RobotLogError(source + ": attribute 'control_period': " + std::to_string(log.control_period) + " s, the robot's is " +
                        std::to_string(spec.control_period) + " s");
  TransferIO io(spec, Condition{}, 0);
  if (log.nq != io.nq()) throw RobotLogError(source + ": dataset 'qpos': " + std::to_string(log.nq) + " columns, " + spec.mjcf + " has nq " + std::to_string(io.nq()));
  if (log.nv != io.nv()) throw RobotLogError(source + ": dataset 'qvel': " + std::to_string(log.nv) + " columns, " + spec.mjcf + " has nv " + std::to_string(io.nv()));

  ReplayResult r;
  for (const auto& j : spec.joints) r.joints.push_back(j.name);
  r.rms.assign(nj, 0.0);
  r.max.assign(nj, 0.0);
  io.set_state(log.qpos.data(), log.qvel.data());
  JointCommand cmd;
  for (const auto& j : spec.joints) {
    cmd.kd.push_back(j.kd);
    cmd.torque_limit.push_back(j.torque_limit);
  }
  cmd.target.resize(nj);
  cmd.kp.resize(nj);
  double base_sq = 0;
  for (int k = 0; k + 1 < log.steps; ++k) {
    for (int j = 0; j < nj; ++j) {
      cmd.target[j] = log.pd_targets[static_cast<std::size_t>(k) * nj + j];
      cmd.kp[j] = log.mode[k] ? 0.0 : spec.joints[j].kp;
    }
    io.write(cmd);
    io.wait_until(log.time[k + 1] - log.time[0]);
    const double* want = log.qpos.data() + static_cast<std::size_t>(k + 1) * log.nq;
    for (int j = 0; j < nj; ++j) {
      const double e = std::fabs(io.qpos()[io.joint_qposadr(j)] - want[io.joint_qposadr(j)]);
      r.rms[j] += e * e;
      r.max[j] = std::max(r.max[j], e);
    }
    if (io.base_qposadr() >= 0) {
      double sq = 0;
      for (int a = 0; a < 3; ++a) {
        const double e = io.qpos()[io.base_qposadr() + a] - want[io.base_qposadr() + a];
        sq += e * e;
      }
      base_sq += sq;
      r.base_pos_max = std::max(r.base_pos_max, std::sqrt(sq));
    }
    ++r.steps;
  }
  for (int j = 0; j < nj; ++j) r.rms[j] = r.steps ? std::sqrt(r.rms[j] / r.steps) : 0;
  r.base_pos_rms = r.steps ? std::sqrt(base_sq / r.steps) : 0;
  return r;
}

std::string replay_table(const ReplayResult& r) {
  std::ostringstream s;
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%-24s %12s %12s\n", "joint", "rms qpos", "max qpos");
  s << buf;
  for (std::size_t j = 0; j < r.joints.size(); ++j) {
    std::snprintf(buf, sizeof(buf), "%-24s %12.3e %12.3e\n", r.joints[j].c_str(), r.rms[j], r.max[j]);
    s << buf;
  }
  std::snprintf(buf, sizeof(buf), "%-24s %12.3e %12.3e  (m, position)\n", "base", r.base_pos_rms, r.base_pos_max);
  s << buf;
  return s.str();
}

std::string replay_json(const ReplayResult& r, const std::string& log, const std::string& robot) {
  std::ostringstream s;
  s << "{\n  \"format\": \"stampede-replay-1\",\n  \"log\": " << json_string(log) << ",\n  \"robot\": " << json_string(robot)
    << ",\n  \"steps\": " << r.steps << ",\n  \"base_pos_rms\": " << json_number(r.base_pos_rms)
    << ",\n  \"base_pos_max\": " << json_number(r.base_pos_max) << ",\n  \"joints\": [";
  for (std::size_t j = 0; j < r.joints.size(); ++j) {
    s << (j ? ",\n    " : "\n    ") << "{\"name\": " << json_string(r.joints[j]) << ", \"rms\": " << json_number(r.rms[j])
      << ", \"max\": " << json_number(r.max[j]) << "}";
  }
  s << "\n  ]\n}\n";
  return s.str();
}

}  // namespace stampede::runtime
