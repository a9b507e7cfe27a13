// runtime/safety.cpp — sensor checks and the joint-limit clamp.
#include "runtime/safety.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

#include "runtime/observation.h"

namespace stampede::runtime {
namespace {

bool all_finite(const double* v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) return false;
  }
  return true;
}

bool same_bits(const double* a, const double* b, std::size_t n) { return std::memcmp(a, b, n * sizeof(double)) == 0; }

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

}  // namespace

const char* to_string(SafetyKind kind) {
  switch (kind) {
    case SafetyKind::kNanSensor: return "nan_sensor";
    case SafetyKind::kStuckSensor: return "stuck_sensor";
    case SafetyKind::kJointLimit: return "joint_limit";
    case SafetyKind::kTilt: return "tilt";
    case SafetyKind::kNanObservation: return "nan_observation";
    case SafetyKind::kNanAction: return "nan_action";
    case SafetyKind::kDeadlineMiss: return "deadline_miss";
  }
  return "unknown";
}

SafetyMonitor::SafetyMonitor(const robot::RobotSpec& spec, JointLimits limits, SafetyConfig config)
    : spec_(spec), limits_(std::move(limits)), config_(config) {
  const std::size_t nj = spec.joints.size();
  if (limits_.lower.empty() && limits_.upper.empty()) limits_ = JointLimits::unlimited(static_cast<int>(nj));
  if (limits_.lower.size() != nj || limits_.upper.size() != nj) {
    throw std::invalid_argument("safety: joint limits for " + std::to_string(limits_.lower.size()) + "/" +
                                std::to_string(limits_.upper.size()) + " joints, the robot has " + std::to_string(nj));
  }
  for (std::size_t j = 0; j < nj; ++j) {
    if (!(limits_.lower[j] <= limits_.upper[j])) {
      throw std::invalid_argument("safety: joint " + spec.joints[j].name + " has lower limit above upper limit");
    }
  }
  previous_.joint_pos.resize(nj);
  previous_.joint_vel.resize(nj);
}

bool SafetyMonitor::same_as_previous(const SensorReading& s) const {
  return same_bits(s.joint_pos.data(), previous_.joint_pos.data(), s.joint_pos.size()) &&
         same_bits(s.joint_vel.data(), previous_.joint_vel.data(), s.joint_vel.size()) &&
         same_bits(s.imu_quat, previous_.imu_quat, 4) && same_bits(s.imu_ang_vel, previous_.imu_ang_vel, 3);
}

std::optional<SafetyViolation> SafetyMonitor::check_sensors(const SensorReading& s) {
  const std::size_t nj = spec_.joints.size();
  if (s.joint_pos.size() != nj || s.joint_vel.size() != nj) {
    return SafetyViolation{SafetyKind::kNanSensor, "sensor sample has " + std::to_string(s.joint_pos.size()) +
                                                       " joint positions, expected " + std::to_string(nj)};
  }
  // non-finite values
  if (!all_finite(s.joint_pos.data(), nj) || !all_finite(s.joint_vel.data(), nj) || !all_finite(s.imu_quat, 4) ||
      !all_finite(s.imu_ang_vel, 3) || (s.has_base_lin_vel && !all_finite(s.base_lin_vel, 3))) {
    std::string what;
    for (std::size_t j = 0; j < nj && what.empty(); ++j) {
      if (!std::isfinite(s.joint_pos[j])) what = "joint_pos[" + std::to_string(j) + "] (" + spec_.joints[j].name + ")";
      else if (!std::isfinite(s.joint_vel[j])) what = "joint_vel[" + std::to_string(j) + "] (" + spec_.joints[j].name + ")";
    }
    if (what.empty()) what = all_finite(s.imu_quat, 4) ? (all_finite(s.imu_ang_vel, 3) ? "base_lin_vel" : "imu_ang_vel") : "imu_quat";
    return SafetyViolation{SafetyKind::kNanSensor, what + " is not finite"};
  }
  // a sample identical to the last one, stuck_cycles times in a row
  unchanged_ = has_previous_ && same_as_previous(s) ? unchanged_ + 1 : 0;
  std::copy(s.joint_pos.begin(), s.joint_pos.end(), previous_.joint_pos.begin());
  std::copy(s.joint_vel.begin(), s.joint_vel.end(), previous_.joint_vel.begin());
  std::memcpy(previous_.imu_quat, s.imu_quat, sizeof(s.imu_quat));
  std::memcpy(previous_.imu_ang_vel, s.imu_ang_vel, sizeof(s.imu_ang_vel));
  has_previous_ = true;
  if (config_.stuck_cycles > 0 && unchanged_ >= config_.stuck_cycles) {
    return SafetyViolation{SafetyKind::kStuckSensor, "sensor sample unchanged for " + std::to_string(unchanged_ + 1) + " cycles"};
  }
  // joint limits
  for (std::size_t j = 0; j < nj; ++j) {
    const double q = s.joint_pos[j];
    if (q < limits_.lower[j] - config_.limit_margin || q > limits_.upper[j] + config_.limit_margin) {
      return SafetyViolation{SafetyKind::kJointLimit, "joint " + std::to_string(j) + " (" + spec_.joints[j].name + ") q=" + num(q) +
                                                          " outside [" + num(limits_.lower[j]) + ", " + num(limits_.upper[j]) + "]"};
    }
  }
  // tilt: the angle between the IMU z axis and up is acos(-g_z), g the projected gravity
  double g[3];
  projected_gravity(g, s.imu_quat);
  const double tilt = std::acos(std::fmax(-1.0, std::fmin(1.0, -g[2])));
  if (tilt > config_.max_tilt) {
    return SafetyViolation{SafetyKind::kTilt, "base tilt " + num(tilt) + " rad > " + num(config_.max_tilt) + " rad"};
  }
  return std::nullopt;
}

void SafetyMonitor::clamp_targets(double* target) const {
  for (std::size_t j = 0; j < spec_.joints.size(); ++j) {
    target[j] = std::fmin(std::fmax(target[j], limits_.lower[j]), limits_.upper[j]);
  }
}

}  // namespace stampede::runtime
