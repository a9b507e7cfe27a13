// runtime/robot_io.h — what the control loop needs from a robot: sensors in, PD targets and gains
// out, and a clock. A real robot's driver implements it; runtime/io_mujoco.h implements it on
// MuJoCo for sim-to-sim; tests implement it with scripted readings.
#pragma once

#include <cmath>
#include <cstddef>
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

// the PD law of joint j, as the training task applies it at every physics step
// (sim/tasks/locomotion_kernels.h pd_torque_world):
//   tau = clip(strength (kp_scale kp (target - q) - kd_scale kd qd), +-min(torque_limit, limit))
// limit: the robot's torque limit (robot.yaml). On a robot strength and the scales are 1; the
// transfer benchmark perturbs them.
inline double pd_torque(const JointCommand& c, std::size_t j, double q, double qd, double limit, double strength = 1,
                        double kp_scale = 1, double kd_scale = 1) {
  const double lim = std::fmin(c.torque_limit[j], limit);
  const double tau = strength * (kp_scale * c.kp[j] * (c.target[j] - q) - kd_scale * c.kd[j] * qd);
  return std::fmin(std::fmax(tau, -lim), lim);
}

class RobotIO {
 public:
  virtual ~RobotIO() = default;
  virtual void read(SensorReading& out) = 0;       // latest sample; must not allocate once sized
  virtual void write(const JointCommand& cmd) = 0;
  virtual double now() = 0;                        // seconds, monotonic
  virtual void wait_until(double t) = 0;           // return once now() >= t (a simulator steps)
  // the controller's schedule origin, called once as a run begins; a simulator restarts its clock
  // here so the time spent before the run does not shift the schedule
  virtual double start() { return now(); }
};

}  // namespace stampede::runtime
