// runtime/safety.h — the checks that put the robot into damping mode (targets = current position,
// kp = 0, kd kept): a non-finite or stuck sensor, a joint outside its limits, the base tilted past
// a threshold, a non-finite observation or action, a control cycle that misses its deadline.
// Also the clamp that keeps every commanded target inside the joint limits.
#pragma once

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "runtime/robot_io.h"
#include "sim/robot/robot.h"

namespace stampede::runtime {

// joint position limits in policy order; +-infinity where a joint is unlimited
struct JointLimits {
  std::vector<double> lower, upper;  // rad (or m)
  static JointLimits unlimited(int nj) {
    const double inf = std::numeric_limits<double>::infinity();
    return {std::vector<double>(nj, -inf), std::vector<double>(nj, inf)};
  }
};

struct SafetyConfig {
  double max_tilt = 1.0;       // rad between the IMU's z axis and the world's up axis
  int stuck_cycles = 10;       // this many consecutive bit-identical sensor samples: a stuck sensor
  double limit_margin = 0.02;  // rad (or m) past a joint limit tolerated before damping
};

enum class SafetyKind {
  kNanSensor,        // a sensor value is NaN or infinite
  kStuckSensor,      // the sensor sample has not changed for stuck_cycles cycles
  kJointLimit,       // a joint is outside its limits (plus margin)
  kTilt,             // the base is tilted beyond max_tilt
  kNanObservation,   // the observation is not finite
  kNanAction,        // the policy's action is not finite
  kDeadlineMiss,     // a cycle took longer than its deadline
};
const char* to_string(SafetyKind kind);

struct SafetyEvent {
  long cycle = 0;      // control cycle index
  double time = 0;     // RobotIO::now() at the start of the cycle, s
  SafetyKind kind;
  std::string detail;  // what was seen: "joint 3 (left_knee) q=2.31 outside [-0.26, 2.05]"
};

struct SafetyViolation {
  SafetyKind kind;
  std::string detail;
};

class SafetyMonitor {
 public:
  SafetyMonitor(const robot::RobotSpec& spec, JointLimits limits, SafetyConfig config);

  // checks one sensor sample (and remembers it, for the stuck-sensor check); allocates only when
  // it reports a violation
  std::optional<SafetyViolation> check_sensors(const SensorReading& s);

  // clamps targets (policy order) into the joint limits
  void clamp_targets(double* target) const;

  const JointLimits& limits() const { return limits_; }
  const SafetyConfig& config() const { return config_; }

 private:
  bool same_as_previous(const SensorReading& s) const;

  const robot::RobotSpec& spec_;
  JointLimits limits_;
  SafetyConfig config_;
  SensorReading previous_;
  bool has_previous_ = false;
  int unchanged_ = 0;  // consecutive samples equal to the previous one
};

}  // namespace stampede::runtime
