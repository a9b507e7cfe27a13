// runtime/transfer_target.cpp — conditions, fall rules and ConditionEffects: the part of the
// transfer benchmark that does not depend on the engine.
#include "runtime/transfer_target.h"

#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace stampede::runtime {
namespace {

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

// res = a * b, quaternions (w, x, y, z)
void quat_mul(double res[4], const double a[4], const double b[4]) {
  res[0] = a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3];
  res[1] = a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2];
  res[2] = a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1];
  res[3] = a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0];
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

// ---- falls, heading, model values --------------------------------------------------------------

std::vector<char> fall_bodies(const mjModel* m, int base_body, const FallCriteria& fall, const std::string& mjcf) {
  std::vector<char> body(m->nbody, 0);
  if (fall.base_contact) body[base_body] = 1;
  for (const auto& name : fall.contact_bodies) {
    const int b = mj_name2id(m, mjOBJ_BODY, name.c_str());
    if (b < 0) throw std::runtime_error(mjcf + ": no body named '" + name + "' (termination.contact_bodies)");
    body[b] = 1;
  }
  return body;
}

bool is_fall(const FallCriteria& fall, double base_height, double base_up_z, bool fall_contact) {
  if (!std::isfinite(base_height)) return true;
  if (fall.min_base_height > 0 && base_height < fall.min_base_height) return true;
  if (fall.max_tilt > 0 && base_up_z < std::cos(fall.max_tilt)) return true;
  return fall_contact;
}

double heading_velocity(double vx, double vy, double yaw) { return std::cos(yaw) * vx + std::sin(yaw) * vy; }

double perturbed_friction(double friction, const Condition& c) { return c.name == "friction" ? c.value : friction; }

double perturbed_base_mass(double mass, const Condition& c, const std::string& where) {
  if (c.name != "mass") return mass;
  if (mass + c.value <= 0) throw std::runtime_error(where + ": mass=" + std::to_string(c.value) + " would make the base mass <= 0");
  return mass + c.value;
}

// ---- ConditionEffects --------------------------------------------------------------------------

ConditionEffects::ConditionEffects(const robot::RobotSpec& spec, const Condition& condition, uint64_t seed,
                                   double push_interval)
    : spec_(spec), condition_(condition), push_interval_(push_interval), next_push_(push_interval), rng_(seed) {
  nominal_value(condition.name);  // throws for an unknown perturbation
  const std::string& p = condition.name;
  if (p == "motor_strength") strength_ = condition.value;
  if (p == "kp") kp_scale_ = condition.value;
  if (p == "kd") kd_scale_ = condition.value;
  if (p == "latency") latency_ = static_cast<std::size_t>(condition.value);
  for (const auto& j : spec.joints) {
    applied_.target.push_back(j.default_pos);
    applied_.kp.push_back(j.kp);
    applied_.kd.push_back(j.kd);
    applied_.torque_limit.push_back(j.torque_limit);
  }
}

void ConditionEffects::write(const JointCommand& cmd) {
  pending_.push_back(cmd);
  while (pending_.size() > latency_) {
    applied_ = pending_.front();
    pending_.erase(pending_.begin());
  }
}

double ConditionEffects::torque(std::size_t j, double q, double qd) const {
  return pd_torque(applied_, j, q, qd, spec_.joints[j].torque_limit, strength_, kp_scale_, kd_scale_);
}

void ConditionEffects::account(double tau, double qd, double dt) {
  abs_torque_sum_ += std::fabs(tau);
  energy_ += std::fabs(tau * qd) * dt;
  ++torque_samples_;
}

void ConditionEffects::add_sensor_noise(SensorReading& r) {
  if (condition_.name != "sensor_noise" || condition_.value <= 0) return;
  for (const auto& term : spec_.observation) {
    const double h = condition_.value * term.noise;
    if (h <= 0) continue;
    std::uniform_real_distribution<double> u(-h, h);
    if (term.term == "base_lin_vel") {
      for (double& x : r.base_lin_vel) x += u(rng_);
    } else if (term.term == "base_ang_vel") {
      for (double& x : r.imu_ang_vel) x += u(rng_);
    } else if (term.term == "joint_pos") {
      for (double& x : r.joint_pos) x += u(rng_);
    } else if (term.term == "joint_vel") {
      for (double& x : r.joint_vel) x += u(rng_);
    } else if (term.term == "projected_gravity") {
      // a small rotation about the IMU's x and y axes moves projected gravity by about h per axis
      const double rx = u(rng_), ry = u(rng_);
      double dq[4] = {1, 0.5 * rx, 0.5 * ry, 0}, q[4];
      const double norm = std::sqrt(dq[0] * dq[0] + dq[1] * dq[1] + dq[2] * dq[2]);
      for (double& x : dq) x /= norm;
      quat_mul(q, r.imu_quat, dq);
      for (int k = 0; k < 4; ++k) r.imu_quat[k] = q[k];
    }
  }
}

bool ConditionEffects::push(double t, double dt, double dv[2]) {
  if (condition_.name != "push" || condition_.value <= 0 || push_interval_ <= 0) return false;
  if (t < next_push_ - 0.5 * dt) return false;
  std::uniform_real_distribution<double> u(-condition_.value, condition_.value);
  dv[0] = u(rng_);
  dv[1] = u(rng_);
  next_push_ += push_interval_;
  return true;
}

}  // namespace stampede::runtime
