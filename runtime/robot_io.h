// runtime/robot_io.h — what the control loop needs from a robot: sensors in, PD targets and gains
// out, and a clock. A real robot's driver implements it; runtime/io_mujoco.h implements it on
// MuJoCo for sim-to-sim; tests implement it with scripted readings.
#pragma once

#include <vector>

namespace stampede::runtime {

// one sensor sample; joint arrays in policy order (RobotSpec::joints)
struct SensorReading {
  std::vector<double> joint_pos;   // rad (or m), nj
  std::vector<double> joint_vel;   // rad/s (or m/s), nj
  double imu_quat[4] = {1, 0, 0, 0};  // IMU orientation in the world frame, (w, x, y, z)
  double imu_ang_vel[3] = {0, 0, 0};  // angular velocity in the IMU frame, rad/s
  double base_lin_vel[3] = {0, 0, 0}; // base linear velocity in the base frame, m/s (estimator)
  bool has_base_lin_vel = false;      // false: this robot cannot provide base_lin_vel
};

// PD command per joint, policy order: tau = clip(kp (target - q) - kd qd, +-torque_limit), applied
// by the driver at its own rate
struct JointCommand {
  std::vector<double> target;        // rad (or m)
  std::vector<double> kp;            // N·m/rad
  std::vector<double> kd;            // N·m·s/rad
  std::vector<double> torque_limit;  // N·m, > 0
};

class RobotIO {
 public:
  virtual ~RobotIO() = default;
  virtual void read(SensorReading& out) = 0;       // latest sample; must not allocate once sized
  virtual void write(const JointCommand& cmd) = 0;
  virtual double now() = 0;                        // seconds, monotonic
  virtual void wait_until(double t) = 0;           // return once now() >= t (a simulator steps)
};

}  // namespace stampede::runtime
