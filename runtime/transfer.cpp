// runtime/transfer.cpp — the transfer benchmark: TransferIO (MuJoCo with perturbations), episodes,
// conditions, the table and JSON, and log replay.
#include "runtime/transfer.h"

#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "runtime/controller.h"

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

double parse_number(const std::string& s, const std::string& text, const char* what) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size() || !std::isfinite(v))
    throw std::invalid_argument("--perturb " + text + ": " + what + " '" + s + "' is not a number");
  return v;
}

// FNV-1a, so that conditions get distinct, reproducible random streams
uint64_t hash_label(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

// ---- conditions --------------------------------------------------------------------------------

const std::vector<std::string>& perturbation_names() {
  static const std::vector<std::string> names = {"friction", "mass", "motor_strength", "kp", "kd",
                                                 "latency", "sensor_noise", "push"};
  return names;
}

double nominal_value(const std::string& name) {
  if (name == "nominal" || name == "mass" || name == "latency" || name == "sensor_noise" || name == "push") return 0;
  if (name == "friction" || name == "motor_strength" || name == "kp" || name == "kd") return 1;
  std::string known;
  for (const auto& n : perturbation_names()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown perturbation '" + name + "' (known: " + known + ")");
}

std::string Condition::label() const {
  if (name == "nominal") return name;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s=%g", name.c_str(), value);
  return buf;
}

std::vector<Condition> parse_perturb(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos) throw std::invalid_argument("--perturb " + text + ": expected name=lo:hi[:n]");
  const std::string name = text.substr(0, eq);
  nominal_value(name);  // throws for an unknown name
  std::vector<std::string> parts;
  std::stringstream in(text.substr(eq + 1));
  std::string part;
  while (std::getline(in, part, ':')) parts.push_back(part);
  if (parts.size() < 2 || parts.size() > 3) throw std::invalid_argument("--perturb " + text + ": expected name=lo:hi[:n]");
  const double lo = parse_number(parts[0], text, "lo"), hi = parse_number(parts[1], text, "hi");
  int n = 3;
  if (parts.size() == 3) {
    const double nn = parse_number(parts[2], text, "n");
    if (nn < 1 || nn > 100 || nn != std::floor(nn)) throw std::invalid_argument("--perturb " + text + ": n must be an integer in [1, 100]");
    n = static_cast<int>(nn);
  }
  if (hi < lo) throw std::invalid_argument("--perturb " + text + ": hi < lo");
  const bool nonneg = name != "mass";
  if (nonneg && lo < 0) throw std::invalid_argument("--perturb " + text + ": " + name + " must be >= 0");
  std::vector<Condition> out;
  for (int i = 0; i < n; ++i) {
    double v = n == 1 ? lo : lo + (hi - lo) * i / (n - 1);
    if (name == "latency") {
      v = std::round(v);
      if (!out.empty() && out.back().value == v) continue;  // latency is whole control steps
    }
    out.push_back({name, v});
  }
  return out;
}

// ---- TransferIO --------------------------------------------------------------------------------

TransferIO::TransferIO(const robot::RobotSpec& spec, const Condition& condition, uint64_t seed, double push_interval)
    : spec_(spec), condition_(condition), push_interval_(push_interval), rng_(seed) {
  char error[1024] = "";
  m_ = mj_loadXML(spec.mjcf.c_str(), nullptr, error, sizeof(error));
  if (!m_) throw std::runtime_error(spec.mjcf + ": MuJoCo could not load the model: " + error);
  auto fail = [&](const std::string& what) {
    mj_deleteModel(m_);
    m_ = nullptr;
    throw std::runtime_error(spec.mjcf + ": " + what);
  };
  for (const auto& j : spec.joints) {
    const int jid = mj_name2id(m_, mjOBJ_JOINT, j.name.c_str());
    if (jid < 0) fail("no joint named '" + j.name + "'");
    const std::string act = j.actuator.empty() ? j.name : j.actuator;
    const int aid = mj_name2id(m_, mjOBJ_ACTUATOR, act.c_str());
    if (aid < 0) fail("no actuator named '" + act + "' (for joint '" + j.name + "')");
    if (m_->actuator_trntype[aid] != mjTRN_JOINT || m_->actuator_trnid[2 * aid] != jid || m_->actuator_gear[6 * aid] == 0)
      fail("actuator '" + act + "' does not drive joint '" + j.name + "' with a nonzero gear");
    qposadr_.push_back(m_->jnt_qposadr[jid]);
    dofadr_.push_back(m_->jnt_dofadr[jid]);
    actuator_.push_back(aid);
    gear_.push_back(m_->actuator_gear[6 * aid]);
  }
  imu_site_ = mj_name2id(m_, mjOBJ_SITE, spec.imu_site.c_str());
  if (imu_site_ < 0) fail("no site named '" + spec.imu_site + "' (frames.imu)");
  base_body_ = mj_name2id(m_, mjOBJ_BODY, spec.base_body.c_str());
  if (base_body_ < 0) fail("no body named '" + spec.base_body + "' (frames.base)");
  const int bj = m_->body_jntadr[base_body_];
  if (bj >= 0 && m_->jnt_type[bj] == mjJNT_FREE) {
    base_qposadr_ = m_->jnt_qposadr[bj];
    base_dofadr_ = m_->jnt_dofadr[bj];
  }

  // the perturbed model
  const std::string& p = condition_.name;
  const double v = condition_.value;
  if (p == "friction") {
    for (int g = 0; g < m_->ngeom; ++g) m_->geom_friction[3 * g] = v;
  } else if (p == "mass") {
    if (m_->body_mass[base_body_] + v <= 0) fail("mass=" + std::to_string(v) + " would make the base mass <= 0");
    m_->body_mass[base_body_] += v;
  } else if (p == "push" && v > 0 && base_dofadr_ < 0) {
    fail("push needs a free joint on the base body '" + spec.base_body + "'");
  }
  d_ = mj_makeData(m_);

  // initial state: the keyframe "home", or qpos0 with the joints at their defaults
  const int key = mj_name2id(m_, mjOBJ_KEY, "home");
  if (key >= 0) {
    mj_resetDataKeyframe(m_, d_, key);
  } else {
    mj_resetData(m_, d_);
    for (std::size_t j = 0; j < spec.joints.size(); ++j) d_->qpos[qposadr_[j]] = spec.joints[j].default_pos;
  }
  mj_forward(m_, d_);
  // before the first command reaches the motors (latency), they hold the default pose
  const std::size_t nj = spec.joints.size();
  for (std::size_t j = 0; j < nj; ++j) {
    applied_.target.push_back(spec.joints[j].default_pos);
    applied_.kp.push_back(spec.joints[j].kp);
    applied_.kd.push_back(spec.joints[j].kd);
    applied_.torque_limit.push_back(spec.joints[j].torque_limit);
  }
  fall_body_.assign(m_->nbody, 0);
  next_push_ = push_interval_;
}

TransferIO::~TransferIO() {
  if (d_) mj_deleteData(d_);
  if (m_) mj_deleteModel(m_);
}

JointLimits TransferIO::joint_limits() const {
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

void TransferIO::set_fall_criteria(const FallCriteria& fall) {
  fall_ = fall;
  std::fill(fall_body_.begin(), fall_body_.end(), 0);
  if (fall.base_contact) fall_body_[base_body_] = 1;
  for (const auto& name : fall.contact_bodies) {
    const int b = mj_name2id(m_, mjOBJ_BODY, name.c_str());
    if (b < 0) throw std::runtime_error(spec_.mjcf + ": no body named '" + name + "' (termination.contact_bodies)");
    fall_body_[b] = 1;
  }
}

bool TransferIO::fallen() const {
  const double height = d_->xpos[3 * base_body_ + 2];
  if (!std::isfinite(height)) return true;
  if (fall_.min_base_height > 0 && height < fall_.min_base_height) return true;
  if (fall_.max_tilt > 0 && d_->xmat[9 * base_body_ + 8] < std::cos(fall_.max_tilt)) return true;
  for (int i = 0; i < d_->ncon; ++i) {
    const mjContact& c = d_->contact[i];
    if (fall_body_[m_->geom_bodyid[c.geom[0]]] || fall_body_[m_->geom_bodyid[c.geom[1]]]) return true;
  }
  return false;
}

double TransferIO::heading_velocity() const {
  mjtNum vel[6];  // (angular, linear), world-aligned frame at the body
  mj_objectVelocity(m_, d_, mjOBJ_XBODY, base_body_, vel, 0);
  const double* R = d_->xmat + 9 * base_body_;
  const double yaw = std::atan2(R[3], R[0]);  // heading of the base x axis
  return std::cos(yaw) * vel[3] + std::sin(yaw) * vel[4];
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
  const std::size_t nj = spec_.joints.size();
  out.joint_pos.resize(nj);
  out.joint_vel.resize(nj);
  for (std::size_t j = 0; j < nj; ++j) {
    out.joint_pos[j] = d_->qpos[qposadr_[j]];
    out.joint_vel[j] = d_->qvel[dofadr_[j]];
  }
  mju_mat2Quat(out.imu_quat, d_->site_xmat + 9 * imu_site_);
  mjtNum vel[6];
  mj_objectVelocity(m_, d_, mjOBJ_SITE, imu_site_, vel, 1);
  for (int k = 0; k < 3; ++k) out.imu_ang_vel[k] = vel[k];
  mj_objectVelocity(m_, d_, mjOBJ_XBODY, base_body_, vel, 1);  // frame origin, frame axes: the free joint's qvel as training reads it
  for (int k = 0; k < 3; ++k) out.base_lin_vel[k] = vel[3 + k];
  out.has_base_lin_vel = true;
  if (condition_.name != "sensor_noise" || condition_.value <= 0) return;
  // uniform noise on the raw readings, per observation term, as the training task adds it
  for (const auto& term : spec_.observation) {
    const double h = condition_.value * term.noise;
    if (h <= 0) continue;
    std::uniform_real_distribution<double> u(-h, h);
    if (term.term == "base_lin_vel") {
      for (double& x : out.base_lin_vel) x += u(rng_);
    } else if (term.term == "base_ang_vel") {
      for (double& x : out.imu_ang_vel) x += u(rng_);
    } else if (term.term == "joint_pos") {
      for (double& x : out.joint_pos) x += u(rng_);
    } else if (term.term == "joint_vel") {
      for (double& x : out.joint_vel) x += u(rng_);
    } else if (term.term == "projected_gravity") {
      // a small rotation about the IMU's x and y axes moves projected gravity by about h per axis
      const double rx = u(rng_), ry = u(rng_);
      double dq[4] = {1, 0.5 * rx, 0.5 * ry, 0}, q[4];
      mju_normalize4(dq);
      mju_mulQuat(q, out.imu_quat, dq);
      for (int k = 0; k < 4; ++k) out.imu_quat[k] = q[k];
    }
  }
}

void TransferIO::write(const JointCommand& cmd) {
  pending_.push_back(cmd);
  const std::size_t latency = condition_.name == "latency" ? static_cast<std::size_t>(condition_.value) : 0;
  while (pending_.size() > latency) {
    applied_ = pending_.front();
    pending_.erase(pending_.begin());
  }
}

double TransferIO::now() { return d_->time; }

void TransferIO::command_torques(double* tau) const {
  const double strength = condition_.name == "motor_strength" ? condition_.value : 1.0;
  const double kp_scale = condition_.name == "kp" ? condition_.value : 1.0;
  const double kd_scale = condition_.name == "kd" ? condition_.value : 1.0;
  for (std::size_t j = 0; j < actuator_.size(); ++j) {
    const double q = d_->qpos[qposadr_[j]], qd = d_->qvel[dofadr_[j]];
    const double lim = std::fmin(applied_.torque_limit[j], spec_.joints[j].torque_limit);
    const double t = strength * (kp_scale * applied_.kp[j] * (applied_.target[j] - q) - kd_scale * applied_.kd[j] * qd);
    tau[j] = std::fmin(std::fmax(t, -lim), lim);
  }
}

void TransferIO::apply_pd() {
  double tau[256];
  std::vector<double> big;
  double* t = tau;
  if (actuator_.size() > 256) {
    big.resize(actuator_.size());
    t = big.data();
  }
  command_torques(t);
  const double dt = m_->opt.timestep;
  for (std::size_t j = 0; j < actuator_.size(); ++j) {
    d_->ctrl[actuator_[j]] = t[j] / gear_[j];
    abs_torque_sum_ += std::fabs(t[j]);
    energy_ += std::fabs(t[j] * d_->qvel[dofadr_[j]]) * dt;
  }
  torque_steps_ += static_cast<long>(actuator_.size());
}

void TransferIO::push_if_due() {
  if (condition_.name != "push" || condition_.value <= 0 || push_interval_ <= 0) return;
  if (d_->time < next_push_ - 0.5 * m_->opt.timestep) return;
  std::uniform_real_distribution<double> u(-condition_.value, condition_.value);
  d_->qvel[base_dofadr_] += u(rng_);
  d_->qvel[base_dofadr_ + 1] += u(rng_);
  next_push_ += push_interval_;
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
  TransferIO io(spec, condition, seed, options.push_interval);
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

std::string transfer_table(const std::vector<ConditionResult>& results) {
  std::ostringstream s;
  char buf[256];
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
                          const std::string& policy, const std::string& robot, const std::string& target) {
  std::ostringstream s;
  s << "{\n  \"format\": \"stampede-transfer-1\",\n  \"policy\": " << json_string(policy)
    << ",\n  \"robot\": " << json_string(robot) << ",\n  \"target\": " << json_string(target)
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
