// sim/tasks/task_config.cpp — parse configs/tasks/<task>.yaml into TaskConfig.
#include "sim/tasks/task_config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace stampede::sim::tasks {
namespace {

const char* const kRewardNames[kNumRewardTerms] = {
    "tracking_lin_vel", "tracking_ang_vel", "lin_vel_z",      "ang_vel_xy",
    "orientation",      "base_height",      "torques",        "dof_vel",
    "dof_acc",          "action_rate",      "dof_pos_limits", "collision",
    "feet_air_time",    "feet_slip",        "feet_contact_phase", "feet_swing_height",
    "alive",            "termination"};

// reads one YAML mapping, remembering which keys were consumed so the rest can be refused
class Section {
 public:
  Section(const YAML::Node& node, std::string where, const std::string& file)
      : node_(node), where_(std::move(where)), file_(file) {
    present_ = node_.IsDefined() && !node_.IsNull();
    if (present_ && !node_.IsMap()) {
      throw TaskConfigError(file_ + ":" + std::to_string(node_.Mark().line + 1) + ": " + where_ +
                            ": expected a mapping");
    }
  }

  bool has(const std::string& key) {
    seen_.insert(key);
    return present_ && node_[key].IsDefined();
  }
  YAML::Node child(const std::string& key) {
    seen_.insert(key);
    return present_ ? YAML::Node(node_[key]) : YAML::Node(YAML::NodeType::Undefined);
  }
  void read(const std::string& key, double& out) {
    if (!has(key)) return;
    try {
      out = node_[key].as<double>();
    } catch (const YAML::Exception&) {
      fail(key, "a number");
    }
    if (!std::isfinite(out)) fail(key, "a finite number");
  }
  void read(const std::string& key, int& out) {
    if (!has(key)) return;
    try {
      out = node_[key].as<int>();
    } catch (const YAML::Exception&) {
      fail(key, "an integer");
    }
  }
  void read(const std::string& key, bool& out) {
    if (!has(key)) return;
    try {
      out = node_[key].as<bool>();
    } catch (const YAML::Exception&) {
      fail(key, "true or false");
    }
  }
  void read(const std::string& key, std::string& out) {
    if (!has(key)) return;
    try {
      out = node_[key].as<std::string>();
    } catch (const YAML::Exception&) {
      fail(key, "a string");
    }
  }
  void read(const std::string& key, std::vector<std::string>& out) {
    if (!has(key)) return;
    try {
      out = node_[key].as<std::vector<std::string>>();
    } catch (const YAML::Exception&) {
      fail(key, "a list of names");
    }
  }
  // [lo, hi] with lo <= hi
  void read(const std::string& key, std::array<double, 2>& out) {
    if (!has(key)) return;
    std::vector<double> v;
    try {
      v = node_[key].as<std::vector<double>>();
    } catch (const YAML::Exception&) {
      fail(key, "a range [lo, hi]");
    }
    if (v.size() != 2 || !(v[0] <= v[1])) fail(key, "a range [lo, hi] with lo <= hi");
    out = {v[0], v[1]};
  }
  // every key present must have been consumed
  void finish() {
    if (!present_) return;
    for (const auto& kv : node_) {
      const std::string key = kv.first.as<std::string>();
      if (!seen_.count(key)) {
        std::ostringstream allowed;
        for (const auto& s : seen_) allowed << (allowed.tellp() ? ", " : "") << s;
        fail(key, "one of the known keys (" + allowed.str() + "); unknown key");
      }
    }
  }
  [[noreturn]] void fail(const std::string& key, const std::string& expected) const {
    const YAML::Mark mark = present_ && node_[key].IsDefined() ? node_[key].Mark() : node_.Mark();
    std::ostringstream msg;
    msg << file_;
    if (mark.line >= 0) msg << ":" << mark.line + 1;
    msg << ": " << where_ << (where_.empty() ? "" : ".") << key << ": expected " << expected;
    throw TaskConfigError(msg.str());
  }

 private:
  const YAML::Node node_;  // const: lookups never insert keys
  bool present_ = false;
  std::string where_;
  const std::string& file_;
  std::set<std::string> seen_;
};

void require(bool ok, const std::string& file, const std::string& key, const std::string& what) {
  if (!ok) throw TaskConfigError(file + ": " + key + ": expected " + what);
}

void validate(const TaskConfig& c, const std::string& f) {
  require(c.episode_length > 0, f, "episode_length", "> 0 s");
  require(c.commands.resampling_time > 0, f, "commands.resampling_time", "> 0 s");
  require(c.commands.min_lin_vel >= 0, f, "commands.min_lin_vel", ">= 0");
  require(c.rewards.tracking_sigma > 0, f, "rewards.tracking_sigma", "> 0");
  require(c.rewards.soft_dof_pos_limit > 0 && c.rewards.soft_dof_pos_limit <= 1, f,
          "rewards.soft_dof_pos_limit", "in (0, 1]");
  require(c.rewards.gait_period > 0, f, "rewards.gait_period", "> 0 s");
  require(c.rewards.stance_fraction >= 0 && c.rewards.stance_fraction <= 1, f,
          "rewards.stance_fraction", "in [0, 1]");
  require(c.termination.min_base_height >= 0, f, "termination.min_base_height", ">= 0 m");
  require(c.termination.max_tilt >= 0, f, "termination.max_tilt", ">= 0 rad");
  require(c.domain_rand.max_action_latency >= 0 && c.domain_rand.max_action_latency <= 16, f,
          "domain_rand.max_action_latency", "an integer in [0, 16]");
  require(c.domain_rand.friction[0] >= 0, f, "domain_rand.friction", "a range of values >= 0");
  require(c.domain_rand.motor_strength[0] >= 0 && c.domain_rand.kp_scale[0] >= 0 &&
              c.domain_rand.kd_scale[0] >= 0,
          f, "domain_rand.motor_strength/kp_scale/kd_scale", "ranges of values >= 0");
  require(c.domain_rand.push_interval >= 0, f, "domain_rand.push_interval", ">= 0 s");
  require(c.domain_rand.observation_noise_level >= 0, f, "domain_rand.observation_noise_level",
          ">= 0");
  for (double v : {c.init.joint_pos_noise, c.init.joint_vel_noise, c.init.base_lin_vel_noise,
                   c.init.base_ang_vel_noise, c.init.base_yaw_range})
    require(v >= 0, f, "init.*", "noise half-widths >= 0");
}

}  // namespace

const char* reward_term_name(int term) {
  if (term < 0 || term >= kNumRewardTerms) return "unknown";
  return kRewardNames[term];
}

TaskConfig default_task_config() {
  TaskConfig c;
  auto& w = c.rewards.weights;
  w.fill(0.0);
  w[kTrackingLinVel] = 1.0;
  w[kTrackingAngVel] = 0.5;
  w[kLinVelZ] = -2.0;
  w[kAngVelXy] = -0.05;
  w[kOrientation] = -1.0;
  w[kBaseHeight] = -10.0;
  w[kTorques] = -1e-5;
  w[kDofVel] = -1e-3;
  w[kDofAcc] = -2.5e-7;
  w[kActionRate] = -0.01;
  w[kDofPosLimits] = -5.0;
  w[kCollision] = -1.0;
  w[kFeetAirTime] = 0.0;
  w[kFeetSlip] = -0.2;
  w[kFeetContactPhase] = 0.18;
  w[kFeetSwingHeight] = -20.0;
  w[kAlive] = 0.15;
  w[kTermination] = -200.0;
  c.termination.min_base_height = 0.5;
  c.termination.max_tilt = 1.0;
  return c;
}

TaskConfig parse_task_config(const std::string& yaml_text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw TaskConfigError(file + ": not valid YAML: " + e.what());
  }
  TaskConfig c = default_task_config();
  c.path = file;
  if (!root || root.IsNull()) return c;
  Section top(root, "", file);
  top.read("name", c.name);
  top.read("robot", c.robot);
  top.read("episode_length", c.episode_length);

  Section cmd(top.child("commands"), "commands", file);
  cmd.read("resampling_time", c.commands.resampling_time);
  cmd.read("heading_command", c.commands.heading_command);
  cmd.read("heading_stiffness", c.commands.heading_stiffness);
  cmd.read("lin_vel_x", c.commands.lin_vel_x);
  cmd.read("lin_vel_y", c.commands.lin_vel_y);
  cmd.read("ang_vel_yaw", c.commands.ang_vel_yaw);
  cmd.read("heading", c.commands.heading);
  cmd.read("min_lin_vel", c.commands.min_lin_vel);
  cmd.finish();

  Section rew(top.child("rewards"), "rewards", file);
  rew.read("scale_by_dt", c.rewards.scale_by_dt);
  rew.read("only_positive", c.rewards.only_positive);
  rew.read("tracking_sigma", c.rewards.tracking_sigma);
  rew.read("base_height_target", c.rewards.base_height_target);
  rew.read("soft_dof_pos_limit", c.rewards.soft_dof_pos_limit);
  rew.read("feet_air_time_target", c.rewards.feet_air_time_target);
  rew.read("swing_height_target", c.rewards.swing_height_target);
  rew.read("contact_force_threshold", c.rewards.contact_force_threshold);
  rew.read("collision_force_threshold", c.rewards.collision_force_threshold);
  rew.read("gait_period", c.rewards.gait_period);
  rew.read("gait_offset", c.rewards.gait_offset);
  rew.read("stance_fraction", c.rewards.stance_fraction);
  Section weights(rew.child("weights"), "rewards.weights", file);
  for (int t = 0; t < kNumRewardTerms; ++t) weights.read(kRewardNames[t], c.rewards.weights[t]);
  weights.finish();
  rew.finish();

  Section term(top.child("termination"), "termination", file);
  term.read("base_contact", c.termination.base_contact);
  term.read("contact_bodies", c.termination.contact_bodies);
  term.read("min_base_height", c.termination.min_base_height);
  term.read("max_tilt", c.termination.max_tilt);
  term.finish();

  Section init(top.child("init"), "init", file);
  init.read("joint_pos_noise", c.init.joint_pos_noise);
  init.read("joint_vel_noise", c.init.joint_vel_noise);
  init.read("base_lin_vel_noise", c.init.base_lin_vel_noise);
  init.read("base_ang_vel_noise", c.init.base_ang_vel_noise);
  init.read("base_yaw_range", c.init.base_yaw_range);
  init.read("base_height_offset", c.init.base_height_offset);
  init.finish();

  Section dr(top.child("domain_rand"), "domain_rand", file);
  dr.read("enabled", c.domain_rand.enabled);
  dr.read("friction", c.domain_rand.friction);
  dr.read("added_base_mass", c.domain_rand.added_base_mass);
  dr.read("motor_strength", c.domain_rand.motor_strength);
  dr.read("kp_scale", c.domain_rand.kp_scale);
  dr.read("kd_scale", c.domain_rand.kd_scale);
  dr.read("max_action_latency", c.domain_rand.max_action_latency);
  dr.read("observation_noise_level", c.domain_rand.observation_noise_level);
  dr.read("push_interval", c.domain_rand.push_interval);
  dr.read("push_vel_xy", c.domain_rand.push_vel_xy);
  dr.finish();

  top.finish();
  validate(c, file);
  return c;
}

TaskConfig load_task_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw TaskConfigError(path + ": cannot open task config");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_task_config(ss.str(), path);
}

}  // namespace stampede::sim::tasks
