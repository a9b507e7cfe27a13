// runtime/observation.h — the policy observation, built from sensor readings exactly as the
// training task builds it: the terms of robot.yaml's observation layout in order, each component
// multiplied by its scale and clipped to +-clip (clip 0: none). No noise is added at deployment.
//   base_lin_vel       base-frame linear velocity (estimator), m/s
//   base_ang_vel       IMU angular velocity, IMU frame, rad/s
//   projected_gravity  R^T (0, 0, -1), R the IMU orientation (w, x, y, z)
//   commands           (vx, vy, yaw rate) command
//   joint_pos          q - default
//   joint_vel          qd
//   last_action        the previous action after clipping (what was turned into targets)
//   gait_phase         (sin 2 pi phase, cos 2 pi phase), phase in [0, 1)
#pragma once

#include <vector>

#include "runtime/robot_io.h"
#include "sim/robot/robot.h"

namespace stampede::runtime {

// res = R(q)^T (0, 0, -1): gravity's direction in the frame whose orientation is q (w, x, y, z)
void projected_gravity(double res[3], const double quat[4]);

class ObservationBuilder {
 public:
  explicit ObservationBuilder(const robot::RobotSpec& spec);  // throws std::invalid_argument

  int size() const { return size_; }
  bool needs_base_lin_vel() const;

  // writes size() floats; command[3] = (vx, vy, yaw rate); last_action: nj values
  void build(float* obs, const SensorReading& s, const double command[3], const float* last_action,
             double gait_phase) const;

 private:
  enum class Term { kBaseLinVel, kBaseAngVel, kGravity, kCommands, kJointPos, kJointVel, kLastAction, kGaitPhase };
  const robot::RobotSpec& spec_;
  std::vector<Term> terms_;  // kind of each observation term, layout order
  int size_ = 0;
};

}  // namespace stampede::runtime
