// runtime/io_mujoco.h — RobotIO on MuJoCo, for sim-to-sim: the robot's MJCF stepped at its own
// timestep, the PD law applied at every physics step and torque-limited, as in training:
//   tau = clip(kp (target - q) - kd qd, +-torque_limit),  ctrl = tau / gear
// Sensors come from the simulated state: joint q/qd, the IMU site's orientation and local angular
// velocity, the base body's local linear velocity. Not part of the runtime core.
// The robot's place in a MuJoCo model, the sensor read and the initial state are free functions
// here, shared with the transfer benchmark's MuJoCo target (runtime/transfer.h TransferIO).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "runtime/robot_io.h"
#include "runtime/safety.h"
#include "sim/robot/robot.h"

struct mjModel_;
struct mjData_;

namespace stampede::runtime {

// where the robot's joints (policy order), actuators, IMU site and base body are in a MuJoCo model
struct MujocoRobotMap {
  std::vector<int> jnt, qposadr, dofadr, actuator;  // per joint: joint id, qpos and qvel address, actuator id
  std::vector<double> gear;                    // per joint: the actuator's gear (torque = gear * ctrl)
  int imu_site = -1;                           // frames.imu
  int base_body = -1;                          // frames.base
  int base_qposadr = -1, base_dofadr = -1;     // the base's free joint, -1: none
};

// throws std::runtime_error naming the MJCF and the element that is missing or does not fit
MujocoRobotMap map_mujoco_robot(const mjModel_* m, const robot::RobotSpec& spec);
// the sensors at the current state (after mj_forward): joint q/qd, the IMU site's orientation and
// local angular velocity, the base's linear velocity at its frame origin in its frame axes (the
// free joint's qvel rotated into the base frame, as training reads it)
void read_mujoco_sensors(const mjModel_* m, const mjData_* d, const MujocoRobotMap& map, SensorReading& out);
// the MJCF joint ranges in policy order (+-inf for unlimited joints)
JointLimits mujoco_joint_limits(const mjModel_* m, const MujocoRobotMap& map);
// the keyframe (when it exists), else qpos0 with the joints at their defaults; then mj_forward
void reset_mujoco_state(const mjModel_* m, mjData_* d, const MujocoRobotMap& map, const robot::RobotSpec& spec,
                        const std::string& keyframe);

struct MujocoIOOptions {
  bool realtime = false;           // pace physics to the wall clock
  std::string keyframe = "home";   // initial state; when absent: qpos0 with joints at their defaults
};

class MujocoIO final : public RobotIO {
 public:
  MujocoIO(const robot::RobotSpec& spec, MujocoIOOptions options);  // throws std::runtime_error
  ~MujocoIO() override;
  MujocoIO(const MujocoIO&) = delete;
  MujocoIO& operator=(const MujocoIO&) = delete;

  void read(SensorReading& out) override;
  void write(const JointCommand& cmd) override;
  double now() override;
  void wait_until(double t) override;
  double start() override;  // the simulated time, exactly: the schedule never depends on host speed

  JointLimits joint_limits() const;   // the MJCF joint ranges (+-inf for unlimited joints)
  double sim_time() const;
  double base_height() const;         // world z of the base body, m
  double max_torque_ratio() const { return max_torque_ratio_; }  // max |tau| / limit applied so far
  long physics_steps() const { return physics_steps_; }

 private:
  void apply_pd();

  const robot::RobotSpec& spec_;
  MujocoIOOptions options_;
  mjModel_* m_ = nullptr;
  mjData_* d_ = nullptr;
  MujocoRobotMap map_;
  JointCommand command_;
  bool has_command_ = false;
  double max_torque_ratio_ = 0;
  long physics_steps_ = 0;
  std::chrono::steady_clock::time_point wall_start_, wall_mark_;
  double sim_mark_ = 0;
};

}  // namespace stampede::runtime
