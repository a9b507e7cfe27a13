// runtime/io_mujoco.h — RobotIO on MuJoCo, for sim-to-sim: the robot's MJCF stepped at its own
// timestep, the PD law applied at every physics step and torque-limited, as in training:
//   tau = clip(kp (target - q) - kd qd, +-torque_limit),  ctrl = tau / gear
// Sensors come from the simulated state: joint q/qd, the IMU site's orientation and local angular
// velocity, the base body's local linear velocity. Not part of the runtime core.
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
  std::vector<int> qposadr_, dofadr_, actuator_;
  std::vector<double> gear_;
  int imu_site_ = -1, base_body_ = -1;
  JointCommand command_;
  bool has_command_ = false;
  double max_torque_ratio_ = 0;
  long physics_steps_ = 0;
  std::chrono::steady_clock::time_point wall_start_, wall_mark_;
  double sim_mark_ = 0;
};

}  // namespace stampede::runtime
