// runtime/robot_log.h — recorded robot logs (HDF5), one row per control step. Written by
// `stampede transfer --log` and `stampede-deploy --log`, replayed by `stampede transfer --replay`.
// Schema (docs/TRANSFER.md), format "stampede-robot-log-1":
//   attributes on "/": format, robot, contract_hash, joint_names (comma-separated, policy order):
//                      fixed-length strings; control_period: float64, one value (s)
//   datasets, T = steps >= 1, nj = joints:
//     time        [T]        float64  s since the start of the log
//     qpos        [T, nq]    float64  generalized positions, MJCF order, at the cycle's sensor read
//     qvel        [T, nv]    float64  generalized velocities, MJCF order
//     observation [T, nobs]  float32  the policy input (the last one built, in damping mode)
//     actions     [T, nj]    float32  the raw policy output (the last one in damping mode)
//     pd_targets  [T, nj]    float64  commanded joint targets, policy order, rad (or m)
//     torques     [T, nj]    float64  the motors' torque at the cycle's first physics step, N·m
//     mode        [T]        uint8    0 policy, 1 damping (kp = 0, kd kept)
// Part of the runtime but not of its core: it needs libhdf5 (library stampede_runtime_log).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace stampede::runtime {

// a log that cannot be read or written; the message names the file and the dataset or attribute
class RobotLogError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kRobotLogFormat = "stampede-robot-log-1";

struct RobotLog {
  std::string robot;                     // robot.yaml name
  std::string contract_hash;             // the policy's contract hash (SHA-256 hex)
  double control_period = 0;             // s
  std::vector<std::string> joint_names;  // policy order, nj
  int steps = 0, nq = 0, nv = 0, nobs = 0;
  std::vector<double> time;              // (steps)
  std::vector<double> qpos, qvel;        // (steps, nq), (steps, nv)
  std::vector<float> observation;        // (steps, nobs)
  std::vector<float> actions;            // (steps, nj)
  std::vector<double> pd_targets, torques;  // (steps, nj)
  std::vector<unsigned char> mode;       // (steps): 0 policy, 1 damping

  int num_joints() const { return static_cast<int>(joint_names.size()); }
  // appends one row; sizes must match nq, nv, nobs, nj (throws std::invalid_argument)
  void append(double t, const double* qpos_row, const double* qvel_row, const float* obs_row, const float* action_row,
              const double* target_row, const double* torque_row, bool damping);
};

// throws RobotLogError naming `source` and the field when the sizes disagree or a value is bad
void validate_robot_log(const RobotLog& log, const std::string& source);

// writes path (via path.tmp, renamed); throws RobotLogError
void write_robot_log(const std::string& path, const RobotLog& log);

// reads and validates every dataset's shape and dtype and every attribute; throws RobotLogError
RobotLog read_robot_log(const std::string& path);
// the same from the bytes of an HDF5 file (HDF5's file-image API); `source` names it in errors
RobotLog read_robot_log_bytes(const void* data, std::size_t size, const std::string& source);

}  // namespace stampede::runtime
