// runtime/transfer.h — the transfer benchmark (`stampede transfer`, docs/TRANSFER.md): an exported
// policy run through the deployment runtime (contract check, observation, evaluator, action
// clip/scale, PD targets, safety layer: runtime::Controller) against a target's dynamics, nominal
// or perturbed in one way per condition (runtime/transfer_target.h), and the replay of recorded
// robot logs.
//
// Targets: "mujoco", TransferIO below (the robot's MJCF, mj_step at its timestep, decimation physics
// steps per control step); "training", TrainingIO (runtime/io_training.h: our training simulator's
// CPU kernel backend, when this build has it).
// Not part of the runtime core: it needs MuJoCo (library stampede_runtime_transfer).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/io_mujoco.h"
#include "runtime/policy.h"
#include "runtime/robot_log.h"
#include "runtime/transfer_target.h"
#include "sim/robot/robot.h"

struct mjModel_;
struct mjData_;

namespace stampede::runtime {

// the MuJoCo target: the robot's MJCF, mj_step at its timestep, the PD law at every physics step,
// sensors and the state after mj_forward
class TransferIO final : public TransferTarget {
 public:
  // throws std::runtime_error naming the MJCF and the missing element, std::invalid_argument for
  // an unknown perturbation
  TransferIO(const robot::RobotSpec& spec, const Condition& condition, uint64_t seed, double push_interval = 2.5);
  ~TransferIO() override;
  TransferIO(const TransferIO&) = delete;
  TransferIO& operator=(const TransferIO&) = delete;

  void read(SensorReading& out) override;
  void wait_until(double t) override;

  JointLimits joint_limits() const override;
  void set_fall_criteria(const FallCriteria& fall) override;
  bool fallen() const override;
  double heading_velocity() const override;
  double sim_time() const override;
  int nq() const override;
  int nv() const override;
  const double* qpos() const override;
  const double* qvel() const override;
  void command_torques(double* tau) const override;

  void set_state(const double* qpos, const double* qvel);  // then mj_forward
  int base_qposadr() const { return map_.base_qposadr; }  // the base's free joint in qpos, -1: none
  int joint_qposadr(int j) const { return map_.qposadr[j]; }

 private:
  void apply_pd();
  void push_if_due();

  const robot::RobotSpec& spec_;
  mjModel_* m_ = nullptr;
  mjData_* d_ = nullptr;
  MujocoRobotMap map_;
  std::vector<char> fall_body_;          // per MuJoCo body: a contact on it is a fall
  FallCriteria fall_;
  std::vector<double> tau_;              // scratch: torques of one physics step
};

// the targets this build can run ("mujoco", and "training" when it has the CPU kernel backend)
std::vector<std::string> transfer_targets();
// one target with one condition applied; throws std::invalid_argument for an unknown target (naming
// the ones this build has) or perturbation, std::runtime_error when the robot does not fit
std::unique_ptr<TransferTarget> make_transfer_target(const std::string& target, const robot::RobotSpec& spec,
                                                     const Condition& condition, uint64_t seed,
                                                     double push_interval = 2.5);

struct TransferOptions {
  std::string target = "mujoco";  // make_transfer_target
  double command_vx = 1.0;     // m/s forward command (vy = yaw rate = 0)
  int episodes = 5;
  double episode_seconds = 10;
  uint64_t seed = 0;
  double push_interval = 2.5;  // s
  double gait_period = 0;      // s; <= 0: the policy's metadata
  FallCriteria fall;
};

struct EpisodeResult {
  bool fell = false;
  bool damping = false;        // the safety layer switched to damping mode
  double duration = 0;         // s simulated (to the fall, or the whole episode)
  double vel_error = 0;        // mean |vx - command| over the control steps, m/s
  double mean_abs_torque = 0;  // N·m, over physics steps and joints
  double power = 0;            // energy / duration: sum |tau qd| dt per second, W
};

struct ConditionResult {
  Condition condition;
  std::vector<EpisodeResult> episodes;
  int falls = 0, damping = 0;
  double success_rate = 0;     // episodes that ran to the end without a fall
  double vel_error = 0, mean_abs_torque = 0, power = 0, duration = 0;  // episode means
};

// one episode; `log` (may be null) receives every control step
EpisodeResult run_episode(const robot::RobotSpec& spec, Policy& policy, const Condition& condition,
                          const TransferOptions& options, uint64_t seed, RobotLog* log);
ConditionResult run_condition(const robot::RobotSpec& spec, Policy& policy, const Condition& condition,
                              const TransferOptions& options, RobotLog* log_first_episode);
// an empty log sized for this robot, policy and MJCF
RobotLog make_robot_log(const robot::RobotSpec& spec, const Policy& policy, int nq, int nv);

// the results as a table and as JSON; gap = condition - nominal, both on options.target
// (results[0] must be the nominal)
std::string transfer_table(const std::vector<ConditionResult>& results, const TransferOptions& options);
std::string transfer_json(const std::vector<ConditionResult>& results, const TransferOptions& options,
                          const std::string& policy, const std::string& robot);

// replay: the logged PD targets (kp = 0 in damping rows) played in nominal MuJoCo from the logged
// initial state; per-joint divergence of qpos from the log
struct ReplayResult {
  int steps = 0;                           // rows compared (the log's rows after the first)
  std::vector<std::string> joints;
  std::vector<double> rms, max;            // per joint, rad (or m)
  double base_pos_rms = 0, base_pos_max = 0;  // base position (qpos of the free joint), m
};
// throws RobotLogError when the log does not fit the robot (naming the attribute or dataset)
ReplayResult replay_log(const robot::RobotSpec& spec, const RobotLog& log, const std::string& source);
std::string replay_table(const ReplayResult& r);
std::string replay_json(const ReplayResult& r, const std::string& log, const std::string& robot);

}  // namespace stampede::runtime
