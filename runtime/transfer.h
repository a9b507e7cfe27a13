// runtime/transfer.h — the transfer benchmark (`stampede transfer`, docs/TRANSFER.md): an exported
// policy run through the deployment runtime (contract check, observation, evaluator, action
// clip/scale, PD targets, safety layer: runtime::Controller) against MuJoCo dynamics, nominal or
// perturbed in one way per condition, and the replay of recorded robot logs.
//
// TransferIO is a RobotIO on MuJoCo (the robot's MJCF, mj_step at its timestep, decimation physics
// steps per control step) with the perturbations the training task randomizes, mirrored from
// sim/tasks/locomotion_kernels.h:
//   friction       sliding friction of every geom set to the value (MuJoCo takes the max of a pair)
//   mass           kg added to the base body
//   motor_strength tau = s (kp (target - q) - kd qd), then clipped to the torque limit
//   kp, kd         the robot's gains are these multiples of the commanded ones
//   latency        a command reaches the motors this many control steps late
//   sensor_noise   uniform sensor noise, this multiple of robot.yaml's per-term noise half-widths
//   push           every push interval, U(-v, v) m/s added to the base's x and y velocities
// Not part of the runtime core: it needs MuJoCo (library stampede_runtime_transfer).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "runtime/policy.h"
#include "runtime/robot_io.h"
#include "runtime/robot_log.h"
#include "runtime/safety.h"
#include "sim/robot/robot.h"

struct mjModel_;
struct mjData_;

namespace stampede::runtime {

// perturbation names in the order they are reported, and their nominal (unperturbed) values
const std::vector<std::string>& perturbation_names();
double nominal_value(const std::string& name);  // throws std::invalid_argument for an unknown name

// one condition: "nominal", or one perturbation at one value
struct Condition {
  std::string name = "nominal";
  double value = 0;
  std::string label() const;  // "nominal", "friction=0.5", "latency=2"
};

// --perturb name=lo:hi[:n] -> n conditions (default 3) evenly spaced in [lo, hi]; throws
// std::invalid_argument naming the part that is wrong
std::vector<Condition> parse_perturb(const std::string& text);

// what ends an episode as a fall (the task's termination section)
struct FallCriteria {
  double min_base_height = 0;               // m, 0: off
  double max_tilt = 0;                      // rad between the base z axis and vertical, 0: off
  bool base_contact = true;                 // a contact on the base body is a fall
  std::vector<std::string> contact_bodies;  // and on these bodies
};

class TransferIO final : public RobotIO {
 public:
  // throws std::runtime_error naming the MJCF and the missing element
  TransferIO(const robot::RobotSpec& spec, const Condition& condition, uint64_t seed, double push_interval = 2.5);
  ~TransferIO() override;
  TransferIO(const TransferIO&) = delete;
  TransferIO& operator=(const TransferIO&) = delete;

  void read(SensorReading& out) override;
  void write(const JointCommand& cmd) override;
  double now() override;                 // simulated time: transfer measures dynamics, not timing
  void wait_until(double t) override;

  JointLimits joint_limits() const;
  void set_fall_criteria(const FallCriteria& fall);  // throws std::runtime_error for an unknown body
  bool fallen() const;                   // at the current state
  double heading_velocity() const;       // base forward velocity in the heading frame, m/s
  int nq() const;
  int nv() const;
  const double* qpos() const;
  const double* qvel() const;
  void set_state(const double* qpos, const double* qvel);  // then mj_forward
  int base_qposadr() const { return base_qposadr_; }  // the base's free joint in qpos, -1: none
  int joint_qposadr(int j) const { return qposadr_[j]; }
  // the torque the motors apply at the current state (the command now at the motors, after any
  // latency, with the perturbed gains and strength), N·m, policy order
  void command_torques(double* tau) const;

  // accumulated over physics steps: sum |tau| / (steps * nj), sum |tau qd| dt
  double mean_abs_torque() const { return torque_steps_ ? abs_torque_sum_ / torque_steps_ : 0; }
  double energy() const { return energy_; }  // J
  double sim_time() const;

 private:
  void apply_pd();
  void push_if_due();

  const robot::RobotSpec& spec_;
  Condition condition_;
  double push_interval_;
  mjModel_* m_ = nullptr;
  mjData_* d_ = nullptr;
  std::vector<int> qposadr_, dofadr_, actuator_;
  std::vector<double> gear_;
  int imu_site_ = -1, base_body_ = -1, base_qposadr_ = -1, base_dofadr_ = -1;
  std::vector<char> fall_body_;          // per MuJoCo body: a contact on it is a fall
  FallCriteria fall_;
  std::vector<JointCommand> pending_;    // commands not yet at the motors (latency)
  JointCommand applied_;                 // what the motors do now
  std::mt19937_64 rng_;
  double next_push_ = 0;
  double abs_torque_sum_ = 0, energy_ = 0;
  long torque_steps_ = 0;
};

struct TransferOptions {
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

// the results as a table (gap = condition - nominal; results[0] must be the nominal) and as JSON
std::string transfer_table(const std::vector<ConditionResult>& results);
std::string transfer_json(const std::vector<ConditionResult>& results, const TransferOptions& options,
                          const std::string& policy, const std::string& robot, const std::string& target);

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
