// fuzz/robot_yaml_target.cpp — (a) the robot.yaml parser and validator on arbitrary text.
//
// Accepted: every rule docs/robot_yaml.md states holds for the RobotSpec, the contract hash is
// deterministic, and the lookups agree with the lists. Refused: robot::RobotError, whose message
// starts with the file name. The same bytes are also fed to robot::contract_diff as a canonical
// contract text, since the runtime passes a policy file's (untrusted) contract text to it.
#include <cmath>
#include <set>
#include <string>

#include "fuzz/fuzz_targets.h"
#include "sim/robot/robot.h"

namespace stampede::fuzz {
namespace {

const char* const kFile = "fuzz/robot.yaml";

void expect(bool ok, const std::string& what) {
  if (!ok) throw FuzzInvariant("robot_yaml: accepted spec violates: " + what);
}

bool finite_positive(double v) { return std::isfinite(v) && v > 0; }
bool finite_non_negative(double v) { return std::isfinite(v) && v >= 0; }

// the humanoid's canonical contract, the other side of contract_diff
const std::string& reference_contract() {
  static const std::string text =
      robot::canonical_contract(robot::load_robot(std::string(STAMPEDE_ASSETS_DIR) + "/humanoid/robot.yaml"));
  return text;
}

void check_joints(const robot::RobotSpec& s) {
  expect(!s.joints.empty(), "at least one joint");
  std::set<std::string> names, actuators;
  for (int i = 0; i < s.num_joints(); ++i) {
    const robot::JointSpec& j = s.joints[i];
    const std::string at = "joints[" + std::to_string(i) + "]";
    expect(!j.name.empty() && !j.actuator.empty(), at + " has a name and an actuator");
    expect(names.insert(j.name).second, at + ".name unique");
    expect(actuators.insert(j.actuator).second, at + ".actuator unique");
    expect(std::isfinite(j.default_pos), at + ".default finite");
    expect(finite_positive(j.kp), at + ".kp > 0");
    expect(finite_non_negative(j.kd), at + ".kd >= 0");
    expect(finite_positive(j.torque_limit), at + ".torque_limit > 0");
    expect(j.line >= 1, at + " has a line");
    expect(s.joint_index(j.name) == i, at + ": joint_index(name) == index");
  }
}

void check_observation(const robot::RobotSpec& s) {
  expect(!s.observation.empty(), "at least one observation term");
  std::set<std::string> seen;
  int offset = 0;
  for (const robot::ObsTerm& t : s.observation) {
    const std::string at = "observation term '" + t.term + "'";
    expect(seen.insert(t.term).second, at + " unique");
    expect(t.size == robot::observation_term_size(t.term, s.num_joints()) && t.size > 0, at + " size");
    expect(static_cast<int>(t.scale.size()) == t.size, at + " has one scale per component");
    for (double v : t.scale) expect(finite_positive(v), at + " scale > 0");
    expect(finite_non_negative(t.clip), at + " clip >= 0");
    expect(finite_non_negative(t.noise), at + " noise >= 0");
    expect(s.obs_offset(t.term) == offset, at + ": obs_offset");
    offset += t.size;
  }
  expect(s.obs_size() == offset, "obs_size() == sum of term sizes");
}

void check_spec(const robot::RobotSpec& s, const std::string& text) {
  expect(!s.name.empty() && !s.mjcf.empty(), "name and mjcf given");
  check_joints(s);
  expect(finite_positive(s.action_scale) && finite_positive(s.action_clip), "action scale, clip > 0");
  expect(finite_positive(s.control_period), "control.period > 0");
  expect(s.decimation >= 1, "control.decimation >= 1");
  check_observation(s);
  expect(!s.base_body.empty() && !s.imu_site.empty(), "frames.base, frames.imu given");
  expect(!s.feet.empty(), "frames.feet not empty");
  expect(std::set<std::string>(s.feet.begin(), s.feet.end()).size() == s.feet.size(), "frames.feet unique");
  for (const auto& [field, line] : s.lines) expect(line >= 1, "line of " + field + " >= 1");

  // the contract: deterministic, equal to itself, hashed as 64 hex characters
  const std::string canonical = robot::canonical_contract(s);
  const std::string hash = robot::contract_hash(s);
  expect(hash.size() == 64 && hash.find_first_not_of("0123456789abcdef") == std::string::npos, "hash is 64 hex");
  expect(robot::contract_diff(canonical, canonical).empty(), "contract_diff(c, c) is empty");
  expect(robot::contract_hash(robot::parse_robot(text, kFile)) == hash, "parsing twice gives the same hash");
  const bool same = canonical == reference_contract();
  expect(robot::contract_diff(canonical, reference_contract()).empty() == same,
         "contract_diff with the humanoid is empty exactly when the contracts are equal");
}

}  // namespace

int robot_yaml(const uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  robot::contract_diff(text, reference_contract());
  robot::contract_diff(reference_contract(), text);
  robot::RobotSpec spec;
  try {
    spec = robot::parse_robot(text, kFile);
  } catch (const robot::RobotError& e) {
    const std::string what = e.what();
    if (what.rfind(std::string(kFile) + ":", 0) != 0) throw FuzzInvariant("robot_yaml: error does not name the file: " + what);
    return 0;
  }
  check_spec(spec, text);
  return 0;
}

}  // namespace stampede::fuzz
