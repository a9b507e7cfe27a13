// runtime/io_training.h — the transfer benchmark's "training" target: the runtime against our own
// training simulator. One world of the CPU kernel backend (sim/cpu_backend, float), as
// `stampede train --device cpu` steps it for sim/tasks' LocomotionEnv:
//   - the MJCF compiled by MuJoCo, the robot checked against it (sim/robot_check.h);
//   - initial state: the task's init_qpos (keyframe "home", else qpos0 with the joints at their
//     defaults), zero velocity, no randomization;
//   - decimation physics steps per control step, the PD law at each (runtime/robot_io.h pd_torque,
//     the task's actuator law), ctrl = tau / gear through the task's actuator map;
//   - sensors read as the training observation reads them (locomotion_kernels.h base_state_world,
//     from qpos/qvel): joint q/qd, the IMU site's orientation (imu_frame_world) and angular velocity
//     in its frame, the base linear velocity in the base frame;
//   - falls by the same rules as the MuJoCo target (transfer_target.h is_fall), on the backend's
//     state after the last physics step (its contacts: those of that step, as training reads them);
//     a world the backend reset for a NaN state is a fall.
// Every condition applies: friction and mass through the backend's per-world model fields
// (geom_friction, body_mass: what domain randomization writes), pushes on the base's qvel, the rest
// through ConditionEffects. Not part of the runtime core (library stampede_runtime_transfer).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/transfer_target.h"
#include "sim/backend.h"
#include "sim/tasks/task_model.h"

namespace stampede::runtime {

class TrainingIO final : public TransferTarget {
 public:
  // throws std::invalid_argument / std::runtime_error naming the robot.yaml or MJCF field that does
  // not fit the training task, or the condition that cannot be applied
  TrainingIO(const robot::RobotSpec& spec, const Condition& condition, uint64_t seed, double push_interval = 2.5);
  ~TrainingIO() override;
  TrainingIO(const TrainingIO&) = delete;
  TrainingIO& operator=(const TrainingIO&) = delete;

  void read(SensorReading& out) override;
  void wait_until(double t) override;

  JointLimits joint_limits() const override;
  void set_fall_criteria(const FallCriteria& fall) override;
  bool fallen() const override;
  double heading_velocity() const override;
  double sim_time() const override { return steps_ * dt_; }
  int nq() const override { return model_.nq; }
  int nv() const override { return model_.nv; }
  const double* qpos() const override { return qpos_.data(); }
  const double* qvel() const override { return qvel_.data(); }
  void command_torques(double* tau) const override;

 private:
  void apply_pd();
  void push_if_due();
  void observe();  // the derived base state and the double copies of qpos/qvel

  const robot::RobotSpec& spec_;
  std::shared_ptr<const mjModel> mj_;                  // the compiled MJCF (outlives the backend)
  std::unique_ptr<sim::Backend<float>> backend_;       // one world
  sim::tasks::TaskModelStorage<float> storage_;
  sim::tasks::TaskModel<float> model_;
  std::vector<float> base_;                            // kBaseStride: the task's derived base state
  float imu_quat_[4] = {1, 0, 0, 0};                   // IMU site orientation, world (w, x, y, z)
  JointLimits limits_;                                 // the MJCF joint ranges, policy order
  std::vector<double> qpos_, qvel_;                    // the world's state, double
  std::vector<double> tau_;                            // scratch: torques of one physics step
  std::vector<char> fall_body_;                        // per body: a contact on it is a fall
  FallCriteria fall_;
  double dt_ = 0;                                      // physics timestep, s
  long steps_ = 0;                                     // physics steps so far
  int nan_resets_ = 0;                                 // the backend's count at construction
};

}  // namespace stampede::runtime
