// sim/robot/robot.h — the robot description (robot.yaml): the contract shared by the simulator,
// the learner and the deployment runtime. Depends on yaml-cpp only (no MuJoCo, no CUDA).
// The schema is documented field by field in docs/robot_yaml.md.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace stampede::robot {

// one actuated joint, in policy order
struct JointSpec {
  std::string name;          // MJCF joint name (hinge or slide)
  std::string actuator;      // MJCF actuator driving it (defaults to the joint name)
  double default_pos = 0;    // default position (rad or m)
  double kp = 0;             // PD stiffness (N·m/rad), > 0
  double kd = 0;             // PD damping (N·m·s/rad), >= 0
  double torque_limit = 0;   // |torque| limit (N·m), > 0
  int line = 0;              // 1-based line in robot.yaml, for error messages
};

// one observation term, in layout order
struct ObsTerm {
  std::string term;           // base_lin_vel | base_ang_vel | projected_gravity | commands |
                              // joint_pos | joint_vel | last_action | gait_phase
  std::vector<double> scale;  // per component (a scalar in YAML is broadcast to size)
  double clip = 0;            // clip |value| after scaling (0: no clip)
  double noise = 0;           // uniform noise half-width, in the term's unscaled units
  int size = 0;               // number of components
};

struct RobotSpec {
  std::string name;                 // robot name
  std::string path;                 // robot.yaml path as loaded
  std::string mjcf;                 // MJCF path, resolved relative to robot.yaml
  std::vector<JointSpec> joints;    // actuated joints in policy order
  double action_scale = 0;          // target = default + action_scale * clip(action), > 0
  double action_clip = 0;           // |action| clip, > 0
  double control_period = 0;        // seconds between policy steps, > 0
  int decimation = 0;               // physics steps per policy step, >= 1
  std::vector<ObsTerm> observation; // observation layout
  std::string base_body;            // floating-base body
  std::string imu_site;             // IMU frame (a site)
  std::vector<std::string> feet;    // foot bodies

  // 1-based robot.yaml line of every field read, keyed by field path ("joints[3].kp",
  // "frames.feet[1]", "control.period"); not part of the contract
  std::map<std::string, int> lines;

  int obs_size() const;             // sum of term sizes
  int num_joints() const { return static_cast<int>(joints.size()); }
  int line_of(const std::string& field) const;     // lines[field], or 0 when not recorded
  int joint_index(const std::string& name) const;  // policy index of a joint, -1 if absent
  int obs_offset(const std::string& term) const;   // first component of a term, -1 if absent
};

// every parse/validation error names the file, the line, the field and what was expected
class RobotError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// observation terms, in the order the schema lists them, and their sizes
const std::vector<std::string>& observation_terms();
int observation_term_size(const std::string& term, int num_joints);  // -1 for an unknown term

RobotSpec load_robot(const std::string& path);                              // throws RobotError
RobotSpec parse_robot(const std::string& yaml_text, const std::string& path_for_errors);

// SHA-256 over a canonical serialization of the contract fields (independent of key order,
// formatting and comments; changes when any contract field changes), as 64 hex characters
std::string contract_hash(const RobotSpec& spec);
std::string canonical_contract(const RobotSpec& spec);  // the text that is hashed

// the fields in which two canonical contracts differ, one line each ("joints[3].kp: 150 vs 120",
// "joints[19].name: (absent) vs ankle"); empty when they are equal
std::vector<std::string> contract_diff(const std::string& canonical_a, const std::string& canonical_b);

// resolve "h1" / "humanoid" to assets/<name>/robot.yaml, or return a path unchanged
std::string resolve_robot_path(const std::string& name_or_path, const std::string& assets_dir);

}  // namespace stampede::robot
