// tests/sim/robot/test_contract.cpp — the contract hash: the same for the same contract however
// it is written, different when any contract field changes; contract_diff names the field.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "robot_fixture.h"
#include "sim/robot/sha256.h"

using namespace stampede::robot;
using namespace stampede::robot::test;

namespace {

// kRobotYaml's contract in another key order, block/flow mix, number spelling, with comments,
// another robot name and MJCF path
const char* kRestyledYaml = R"(
# the same contract, written differently
frames:
  feet:
    - left_foot
    - right_foot
  imu: imu      # a trailing comment
  base: pelvis
observation:
  - term: base_ang_vel
    noise: 2e-1
    scale: [0.25, 0.25, 0.25]
  - {noise: 0.050, term: projected_gravity}
  - term: commands
    scale:
      - 2
      - 2.0
      - 0.250
  - {term: joint_pos, noise: 0.01, clip: 0, scale: 1}
  - {term: joint_vel, clip: 100.0, noise: 1.5, scale: 0.05}
  - {term: last_action}
  - term: gait_phase
control:
  decimation: 4
  period: 0.020
action:
  clip: 10
  scale: 0.25

joints:
  - {torque_limit: 200, kd: 2, kp: 150, default: 0.1, name: hip, actuator: hip}
  - name:   knee
    torque_limit: 1.2e2
    actuator: "knee_motor"
    kd: 1.5
    kp: 100.0
    default: -0.30
  - name: ankle
    default: 0.2
    kp: 40
    kd: 0.5
    torque_limit: 50
mjcf: ../elsewhere/other.xml
name: tiny_renamed
)";

std::string hash_of(const std::string& yaml) { return contract_hash(parse_robot(yaml, kRobotPath)); }
std::string canon_of(const std::string& yaml) { return canonical_contract(parse_robot(yaml, kRobotPath)); }

}  // namespace

TEST_CASE("contract: the hash ignores key order, style, comments, name and paths", "[robot][contract]") {
  const RobotSpec a = parse_robot(kRobotYaml, kRobotPath);
  const RobotSpec b = parse_robot(kRestyledYaml, "/somewhere/else/robot.yaml");
  INFO(canonical_contract(a));
  CHECK(contract_diff(canonical_contract(a), canonical_contract(b)).empty());
  CHECK(canonical_contract(a) == canonical_contract(b));
  CHECK(contract_hash(a) == contract_hash(b));
  CHECK(contract_hash(a).size() == 64);
  CHECK(contract_hash(a).find_first_not_of("0123456789abcdef") == std::string::npos);
  // the hash is the SHA-256 of the canonical text; a parsed spec equals itself
  CHECK(contract_hash(a) == sha256_hex(canonical_contract(a)));
}

TEST_CASE("contract: the canonical text holds every field at round-trip precision", "[robot][contract]") {
  const std::string c = canon_of(kRobotYaml);
  INFO(c);
  CHECK(c.find("joints.count=3\n") != std::string::npos);
  CHECK(c.find("joints[1].name=knee\njoints[1].actuator=knee_motor\n") != std::string::npos);
  CHECK(c.find("joints[0].default=0.10000000000000001\n") != std::string::npos);  // %.17g
  CHECK(c.find("joints[0].kp=150\n") != std::string::npos);
  CHECK(c.find("joints[2].torque_limit=50\n") != std::string::npos);
  CHECK(c.find("action.scale=0.25\naction.clip=10\n") != std::string::npos);
  CHECK(c.find("control.period=0.02\ncontrol.decimation=4\n") != std::string::npos);
  CHECK(c.find("observation.size=20\n") != std::string::npos);
  CHECK(c.find("observation[2].term=commands\nobservation[2].size=3\nobservation[2].scale=2,2,0.25\n") !=
        std::string::npos);
  CHECK(c.find("observation[4].clip=100\nobservation[4].noise=1.5\n") != std::string::npos);
  CHECK(c.find("frames.base=pelvis\nframes.imu=imu\nframes.feet=left_foot,right_foot\n") != std::string::npos);
  // neither the file's path nor the robot's name is part of the contract
  CHECK(c.find("robots") == std::string::npos);
  CHECK(c.find("tiny") == std::string::npos);

  // every number reads back to the exact double that was parsed
  const RobotSpec s = parse_robot(kRobotYaml, kRobotPath);
  const std::string key = "joints[1].default=";
  const auto pos = c.find(key) + key.size();
  CHECK(std::strtod(c.c_str() + pos, nullptr) == s.joints[1].default_pos);
  const std::string key2 = "observation[0].noise=";
  CHECK(std::strtod(c.c_str() + c.find(key2) + key2.size(), nullptr) == s.observation[0].noise);
}

TEST_CASE("contract: changing any one contract field changes the hash, and the diff names it",
          "[robot][contract]") {
  struct Change {
    const char* from;
    const char* to;
    const char* field;  // the one field contract_diff must report
  };
  const std::vector<Change> changes = {
      {"kp: 150.0", "kp: 150.00000000000003", "joints[0].kp"},  // one ulp
      {"name: knee", "name: knee2", "joints[1].name"},
      {"actuator: knee_motor", "actuator: knee_drive", "joints[1].actuator"},
      {"default: 0.1", "default: 0.11", "joints[0].default"},
      {"default: 0.2", "default: -0.2", "joints[2].default"},
      {"kd: 2.0", "kd: 2.5", "joints[0].kd"},
      {"kd: 0.5", "kd: 0", "joints[2].kd"},
      {"torque_limit: 200.0", "torque_limit: 199", "joints[0].torque_limit"},
      {"scale: 0.25, clip: 10.0", "scale: 0.5, clip: 10.0", "action.scale"},
      {"scale: 0.25, clip: 10.0", "scale: 0.25, clip: 5.0", "action.clip"},
      {"period: 0.02", "period: 0.025", "control.period"},
      {"decimation: 4", "decimation: 5", "control.decimation"},
      {"{term: base_ang_vel, scale: 0.25", "{term: base_ang_vel, scale: 0.3", "observation[0].scale"},
      {"scale: 0.25, noise: 0.2", "scale: 0.25, noise: 0.3", "observation[0].noise"},
      {"noise: 0.05", "noise: 0.06", "observation[1].noise"},
      {"0.25]}", "0.5]}", "observation[2].scale"},
      {"clip: 100", "clip: 50", "observation[4].clip"},
      {"{term: last_action}", "{term: last_action, clip: 5}", "observation[5].clip"},
      {"{term: gait_phase}", "{term: gait_phase, scale: [1, 2]}", "observation[6].scale"},
      {"imu: imu", "imu: imu2", "frames.imu"},
      {"base: pelvis", "base: torso", "frames.base"},
      {"[left_foot, right_foot]", "[right_foot, left_foot]", "frames.feet"},
      {"[left_foot, right_foot]", "[left_foot, right_foot, tail]", "frames.feet"},
  };
  const std::string base_yaml = kRobotYaml;
  const std::string base_canon = canon_of(base_yaml);
  std::set<std::string> hashes = {hash_of(base_yaml)};
  for (const Change& ch : changes) {
    const std::string yaml = replace_once(base_yaml, ch.from, ch.to);
    INFO("change: '" << ch.from << "' -> '" << ch.to << "'");
    const auto diff = contract_diff(base_canon, canon_of(yaml));
    REQUIRE(diff.size() == 1);
    CHECK(diff[0].rfind(std::string(ch.field) + ": ", 0) == 0);
    hashes.insert(hash_of(yaml));
  }
  CHECK(hashes.size() == changes.size() + 1);  // every change gave a hash of its own

  // changes of structure: order, count
  const std::string ankle = "  - {name: ankle, default: 0.2, kp: 40, kd: 0.5, torque_limit: 50}\n";
  const std::vector<std::string> structural = {
      // joints reordered: ankle first
      replace_once(replace_once(base_yaml, ankle, ""), "joints:\n", "joints:\n" + ankle),
      // a joint more
      replace_once(base_yaml, ankle, ankle + "  - {name: toe, default: 0, kp: 1, kd: 0, torque_limit: 1}\n"),
      // a term less, a term more, two terms swapped
      replace_once(base_yaml, "  - {term: last_action}\n", ""),
      replace_once(base_yaml, "  - {term: gait_phase}\n", "  - {term: gait_phase}\n  - {term: base_lin_vel}\n"),
      replace_once(replace_once(base_yaml, "  - {term: last_action}\n", ""), "  - {term: gait_phase}\n",
                   "  - {term: gait_phase}\n  - {term: last_action}\n"),
  };
  for (const std::string& yaml : structural) {
    INFO(yaml);
    CHECK_FALSE(contract_diff(base_canon, canon_of(yaml)).empty());
    hashes.insert(hash_of(yaml));
  }
  CHECK(hashes.size() == changes.size() + structural.size() + 1);
}

TEST_CASE("contract: -0 and 0 are the same value; a scalar scale equals its broadcast list",
          "[robot][contract]") {
  const std::string y = kRobotYaml;
  CHECK(hash_of(replace_once(y, "default: 0.2", "default: -0.0")) ==
        hash_of(replace_once(y, "default: 0.2", "default: 0")));
  CHECK(hash_of(replace_once(y, "{term: joint_vel, scale: 0.05,", "{term: joint_vel, scale: [0.05, 0.05, 0.05],")) ==
        hash_of(y));
}

TEST_CASE("contract: contract_diff lists changed, missing and added fields", "[robot][contract]") {
  const std::string a = "contract.version=1\njoints.count=2\njoints[0].kp=150\njoints[1].kp=100\n";
  const std::string b = "contract.version=1\njoints.count=1\njoints[0].kp=120\nframes.imu=imu\n";
  const auto d = contract_diff(a, b);
  REQUIRE(d.size() == 4);
  CHECK(d[0] == "joints.count: 2 vs 1");
  CHECK(d[1] == "joints[0].kp: 150 vs 120");
  CHECK(d[2] == "joints[1].kp: 100 vs (absent)");
  CHECK(d[3] == "frames.imu: (absent) vs imu");
  CHECK(contract_diff(a, a).empty());
}

TEST_CASE("contract: names with separator characters cannot collide", "[robot][contract]") {
  // feet [a,b] as one name vs two names a and b
  const std::string one = replace_once(kRobotYaml, "[left_foot, right_foot]", "[\"a,b\"]");
  const std::string two = replace_once(kRobotYaml, "[left_foot, right_foot]", "[a, b]");
  CHECK(hash_of(one) != hash_of(two));
}
