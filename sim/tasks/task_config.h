// sim/tasks/task_config.h — the locomotion task's configuration (configs/tasks/<task>.yaml):
// command ranges, reward weights, termination thresholds, episode length, initial-state noise
// and domain-randomization ranges. The robot itself (joints, gains, observation layout) comes
// from robot.yaml; this file only says what the task asks of it.
#pragma once

#include <array>
#include <stdexcept>
#include <string>
#include <vector>

namespace stampede::sim::tasks {

// reward terms, in logging order; weights are given per term in the YAML under rewards.weights
enum RewardTerm : int {
  kTrackingLinVel = 0,  // exp(-|cmd_xy - v_xy|^2 / sigma), base frame
  kTrackingAngVel,      // exp(-(cmd_yaw - w_z)^2 / sigma), base frame
  kLinVelZ,             // v_z^2, base frame (m^2/s^2)
  kAngVelXy,            // w_x^2 + w_y^2, base frame (rad^2/s^2)
  kOrientation,         // g_x^2 + g_y^2 of the gravity direction in the base frame
  kBaseHeight,          // (z_base - target)^2 (m^2)
  kTorques,             // sum tau^2 over actuated joints (N^2 m^2), last physics step
  kDofVel,              // sum qdot^2 (rad^2/s^2)
  kDofAcc,              // sum ((qdot - qdot_prev) / dt)^2 over the control step
  kActionRate,          // sum (a - a_prev)^2
  kDofPosLimits,        // sum of distances outside the soft joint limits (rad)
  kCollision,           // number of non-foot bodies in contact (normal force > threshold)
  kFeetAirTime,         // sum over touchdowns of (air_time - target), when |cmd_xy| > 0.1
  kFeetSlip,            // sum over feet in contact of |v_foot_xy|^2 (m^2/s^2)
  kFeetContactPhase,    // number of feet whose contact state matches the gait clock's stance phase
  kFeetSwingHeight,     // sum over feet in the air of (z_foot - swing_height)^2 (m^2)
  kAlive,               // 1
  kTermination,         // 1 on a fall (not on a time-out)
  kNumRewardTerms
};

// the YAML key of each reward term
const char* reward_term_name(int term);

struct CommandConfig {
  double resampling_time = 10.0;           // s between command resamples (per world)
  bool heading_command = true;             // sample a heading; the yaw rate follows it
  double heading_stiffness = 0.5;          // yaw-rate command = stiffness * heading error (1/s)
  std::array<double, 2> lin_vel_x{-1.0, 1.0};    // m/s
  std::array<double, 2> lin_vel_y{-1.0, 1.0};    // m/s
  std::array<double, 2> ang_vel_yaw{-1.0, 1.0};  // rad/s (also clips the heading controller)
  std::array<double, 2> heading{-3.14159265358979, 3.14159265358979};  // rad
  double min_lin_vel = 0.2;                // |(vx, vy)| below this is set to zero (stand still)
};

struct RewardConfig {
  std::array<double, kNumRewardTerms> weights{};  // per term, before the dt scaling
  bool scale_by_dt = true;                 // multiply weights by the control period (legged_gym)
  bool only_positive = true;               // clip the sum of all but termination at 0 (legged_gym)
  double tracking_sigma = 0.25;            // (m/s)^2 and (rad/s)^2
  double base_height_target = 0.98;        // m
  double soft_dof_pos_limit = 0.9;         // fraction of the joint range that is not penalized
  double feet_air_time_target = 0.5;       // s
  double swing_height_target = 0.08;       // m, foot body origin height in swing
  double contact_force_threshold = 1.0;    // N, normal force above which a foot is in contact
  double collision_force_threshold = 0.1;  // N, for the collision penalty and base contact
  double gait_period = 0.8;                // s, period of the gait-phase clock
  double gait_offset = 0.5;                // phase offset between consecutive feet (fraction)
  double stance_fraction = 0.55;           // fraction of the period a foot should be in stance
};

struct TerminationConfig {
  bool base_contact = true;                // a contact on the base or contact_bodies ends the episode
  std::vector<std::string> contact_bodies; // extra bodies whose contact ends the episode
  double min_base_height = 0.0;            // m (0: off)
  double max_tilt = 0.0;                   // rad between the base z axis and vertical (0: off)
};

struct InitConfig {
  double joint_pos_noise = 0.1;            // uniform half-width around the default (rad)
  double joint_vel_noise = 0.0;            // uniform half-width (rad/s)
  double base_lin_vel_noise = 0.1;         // uniform half-width per component (m/s)
  double base_ang_vel_noise = 0.1;         // uniform half-width per component (rad/s)
  double base_yaw_range = 3.14159265358979; // initial yaw uniform in +-range (rad)
  double base_height_offset = 0.0;         // added to the keyframe/qpos0 base height (m)
};

struct DomainRandConfig {
  bool enabled = true;
  std::array<double, 2> friction{0.5, 1.25};        // sliding friction of every geom
  std::array<double, 2> added_base_mass{-1.0, 3.0}; // kg added to the base body
  std::array<double, 2> motor_strength{0.9, 1.1};   // torque multiplier, per joint
  std::array<double, 2> kp_scale{0.9, 1.1};         // PD stiffness multiplier, per joint
  std::array<double, 2> kd_scale{0.9, 1.1};         // PD damping multiplier, per joint
  int max_action_latency = 1;                       // control steps; drawn in [0, N] per episode
  double observation_noise_level = 1.0;             // multiplies robot.yaml's noise half-widths
  double push_interval = 5.0;                       // s between pushes (0: no pushes)
  double push_vel_xy = 1.5;                         // m/s, uniform half-width of the kick
};

struct TaskConfig {
  std::string name = "h1-walk";            // task name
  std::string robot = "h1";                // robot name or robot.yaml path
  std::string path;                        // YAML path as loaded ("" for defaults)
  double episode_length = 20.0;            // s (time limit: truncation)
  CommandConfig commands;
  RewardConfig rewards;
  TerminationConfig termination;
  InitConfig init;
  DomainRandConfig domain_rand;
};

// errors name the file, the key and what was expected
class TaskConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// defaults known to work for humanoid walking (legged_gym / unitree_rl_gym H1 setup)
TaskConfig default_task_config();
TaskConfig load_task_config(const std::string& path);
// keys absent from the text keep their default_task_config() values; unknown keys are errors
TaskConfig parse_task_config(const std::string& yaml_text, const std::string& path_for_errors);

}  // namespace stampede::sim::tasks
