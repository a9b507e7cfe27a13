// tests/sim/robot/test_robot.cpp — robot.yaml parsing: the values a user wrote come back, and
// every kind of mistake is refused with file, line, field and expectation in the message.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "robot_fixture.h"

namespace fs = std::filesystem;
using namespace stampede::robot;
using namespace stampede::robot::test;

namespace {

// parsing `text` fails with "<path>:<line>: <field>: ..." and mentions `expected`
void require_error(const std::string& text, int line, const std::string& field, const std::string& expected) {
  const std::string msg = parse_error(text);
  INFO("message: " << msg);
  REQUIRE_FALSE(msg.empty());
  CHECK(msg.find(std::string(kRobotPath) + ":" + std::to_string(line) + ": " + field + ": ") == 0);
  CHECK(msg.find(expected) != std::string::npos);
}

// a fresh empty folder under the system temp dir, private to this process
fs::path temp_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("stampede_test_robot_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

}  // namespace

TEST_CASE("robot.yaml: the written values come back", "[robot]") {
  const RobotSpec s = parse_robot(kRobotYaml, kRobotPath);
  CHECK(s.name == "tiny");
  CHECK(s.path == kRobotPath);
  CHECK(s.mjcf == "/robots/tiny/tiny.xml");  // relative to robot.yaml
  REQUIRE(s.num_joints() == 3);
  CHECK(s.joints[0].name == "hip");
  CHECK(s.joints[0].actuator == "hip");  // defaults to the joint name
  CHECK(s.joints[0].default_pos == 0.1);
  CHECK(s.joints[0].kp == 150.0);
  CHECK(s.joints[0].kd == 2.0);
  CHECK(s.joints[0].torque_limit == 200.0);
  CHECK(s.joints[0].line == 5);
  CHECK(s.joints[1].name == "knee");
  CHECK(s.joints[1].actuator == "knee_motor");
  CHECK(s.joints[1].default_pos == -0.3);
  CHECK(s.joints[1].kp == 100);
  CHECK(s.joints[1].kd == 1.5);
  CHECK(s.joints[1].torque_limit == 120);
  CHECK(s.joints[1].line == 10);
  CHECK(s.joints[2].name == "ankle");
  CHECK(s.joints[2].actuator == "ankle");
  CHECK(s.joints[2].kd == 0.5);
  CHECK(s.joints[2].line == 16);
  CHECK(s.action_scale == 0.25);
  CHECK(s.action_clip == 10.0);
  CHECK(s.control_period == 0.02);
  CHECK(s.decimation == 4);
  CHECK(s.base_body == "pelvis");
  CHECK(s.imu_site == "imu");
  CHECK(s.feet == std::vector<std::string>{"left_foot", "right_foot"});

  // observation: sizes, broadcast scalars, per-component lists, defaults
  REQUIRE(s.observation.size() == 7);
  const std::vector<std::string> terms = {"base_ang_vel", "projected_gravity", "commands", "joint_pos",
                                          "joint_vel", "last_action", "gait_phase"};
  const std::vector<int> sizes = {3, 3, 3, 3, 3, 3, 2};
  for (std::size_t i = 0; i < terms.size(); ++i) {
    CHECK(s.observation[i].term == terms[i]);
    CHECK(s.observation[i].size == sizes[i]);
    CHECK(static_cast<int>(s.observation[i].scale.size()) == sizes[i]);
  }
  CHECK(s.observation[0].scale == std::vector<double>{0.25, 0.25, 0.25});
  CHECK(s.observation[0].noise == 0.2);
  CHECK(s.observation[0].clip == 0);
  CHECK(s.observation[1].scale == std::vector<double>{1, 1, 1});
  CHECK(s.observation[2].scale == std::vector<double>{2.0, 2.0, 0.25});
  CHECK(s.observation[2].noise == 0);
  CHECK(s.observation[4].clip == 100);
  CHECK(s.observation[4].noise == 1.5);
  CHECK(s.observation[6].scale == std::vector<double>{1, 1});
  CHECK(s.obs_size() == 20);
  CHECK(s.obs_offset("base_ang_vel") == 0);
  CHECK(s.obs_offset("joint_pos") == 9);
  CHECK(s.obs_offset("gait_phase") == 18);
  CHECK(s.obs_offset("base_lin_vel") == -1);
  CHECK(s.joint_index("knee") == 1);
  CHECK(s.joint_index("elbow") == -1);

  // lines of fields, for messages that point into the file
  CHECK(s.line_of("joints[1].kp") == 13);
  CHECK(s.line_of("joints[1].actuator") == 11);
  CHECK(s.line_of("joints[2].name") == 16);
  CHECK(s.line_of("control.decimation") == 18);
  CHECK(s.line_of("frames.feet[1]") == 27);
}

TEST_CASE("robot.yaml: observation term sizes follow the joint count", "[robot]") {
  CHECK(observation_term_size("base_lin_vel", 19) == 3);
  CHECK(observation_term_size("base_ang_vel", 19) == 3);
  CHECK(observation_term_size("projected_gravity", 19) == 3);
  CHECK(observation_term_size("commands", 19) == 3);
  CHECK(observation_term_size("joint_pos", 19) == 19);
  CHECK(observation_term_size("joint_vel", 19) == 19);
  CHECK(observation_term_size("last_action", 19) == 19);
  CHECK(observation_term_size("gait_phase", 19) == 2);
  CHECK(observation_term_size("height_scan", 19) == -1);
  CHECK(observation_terms().size() == 8);
  const std::string yaml = replace_once(kRobotYaml, "  - {term: gait_phase}\n",
                                        "  - {term: gait_phase}\n  - {term: base_lin_vel, scale: 2}\n");
  CHECK(parse_robot(yaml, kRobotPath).obs_size() == 23);
}

TEST_CASE("robot.yaml: an unknown key is refused at every level", "[robot]") {
  const std::string y = kRobotYaml;
  std::string t = replace_once(y, "name: tiny\n", "name: tiny\nmass: 40\n");
  require_error(t, 3, "mass", "unknown field");
  t = replace_once(y, "    kp: 100\n", "    kp: 100\n    ki: 3\n");
  require_error(t, line_containing(t, "ki: 3"), "joints[1].ki", "unknown field");
  t = replace_once(y, "{scale: 0.25, clip: 10.0}", "{scale: 0.25, clip: 10.0, offset: 1}");
  require_error(t, line_containing(t, "offset"), "action.offset", "expected one of: scale, clip");
  t = replace_once(y, "{period: 0.02, decimation: 4}", "{period: 0.02, decimation: 4, substeps: 2}");
  require_error(t, line_containing(t, "substeps"), "control.substeps", "unknown field");
  t = replace_once(y, "{term: last_action}", "{term: last_action, delay: 1}");
  require_error(t, line_containing(t, "delay"), "observation[5].delay", "unknown field");
  t = replace_once(y, "imu: imu,", "imu: imu, head: head,");
  require_error(t, line_containing(t, "head"), "frames.head", "unknown field");
}

TEST_CASE("robot.yaml: a key given twice is refused", "[robot]") {
  const std::string t = replace_once(kRobotYaml, "    kp: 150.0\n", "    kp: 150.0\n    kp: 160.0\n");
  require_error(t, line_containing(t, "kp: 160"), "joints[0].kp", "given twice");
}

TEST_CASE("robot.yaml: a missing field is refused", "[robot]") {
  const std::string y = kRobotYaml;
  std::string t = replace_once(y, "    kp: 100\n", "");
  require_error(t, line_containing(t, "name: knee"), "joints[1].kp", "missing required field");
  t = replace_once(y, "default: 0.2, ", "");
  require_error(t, line_containing(t, "name: ankle"), "joints[2].default", "missing required field");
  t = replace_once(y, "mjcf: tiny.xml\n", "");
  require_error(t, 2, "mjcf", "missing required field");
  t = replace_once(y, "control: {period: 0.02, decimation: 4}\n", "");
  require_error(t, 2, "control", "missing required field");
  t = replace_once(y, ", decimation: 4", "");
  require_error(t, line_containing(t, "control:"), "control.decimation", "missing required field");
  t = replace_once(y, "{term: last_action}", "{scale: 2}");
  require_error(t, line_containing(t, "{scale: 2}"), "observation[5].term", "missing required field");
  t = replace_once(y, "imu: imu, ", "");
  require_error(t, line_containing(t, "frames:"), "frames.imu", "missing required field");
}

TEST_CASE("robot.yaml: a value of the wrong type is refused", "[robot]") {
  const std::string y = kRobotYaml;
  std::string t = replace_once(y, "kp: 150.0", "kp: stiff");
  require_error(t, 7, "joints[0].kp", "expected a number, got 'stiff'");
  t = replace_once(y, "kp: 150.0", "kp: \"150\"");
  require_error(t, 7, "joints[0].kp", "quoted string");
  t = replace_once(y, "kp: 150.0", "kp: [150, 160]");
  require_error(t, 7, "joints[0].kp", "expected a number, got a list");
  t = replace_once(y, "kp: 150.0", "kp:");
  require_error(t, 7, "joints[0].kp", "expected a number, got an empty value");
  t = replace_once(y, "kd: 2.0", "kd: true");
  require_error(t, 8, "joints[0].kd", "expected a number");
  t = replace_once(y, "kp: 150.0", "kp: .nan");
  require_error(t, 7, "joints[0].kp", "finite");
  // a map where the list of joints belongs
  t = "name: tiny\nmjcf: tiny.xml\njoints: {hip: {kp: 1}}\n";
  require_error(t, 3, "joints", "expected a list of joints, got a map");
  t = replace_once(y, "decimation: 4", "decimation: 4.5");
  require_error(t, 18, "control.decimation", "expected an integer, got '4.5'");
  t = replace_once(y, "action: {scale: 0.25, clip: 10.0}", "action: 0.25");
  require_error(t, 17, "action", "expected a map, got '0.25'");
  t = replace_once(y, "feet: [left_foot, right_foot]", "feet: left_foot");
  require_error(t, 27, "frames.feet", "expected a list of foot bodies");
  t = replace_once(y, "base: pelvis", "base: {body: pelvis}");
  require_error(t, 27, "frames.base", "expected a name, got a map");
  t = replace_once(y, "scale: [2.0, 2.0, 0.25]", "scale: {x: 2}");
  require_error(t, 22, "observation[2].scale", "expected a number > 0 or a list of 3");
  t = replace_once(y, "scale: [2.0, 2.0, 0.25]", "scale: [2.0, two, 0.25]");
  require_error(t, 22, "observation[2].scale[1]", "expected a number");
  require_error("- just\n- a list\n", 1, "(top level)", "expected a robot description");
}

TEST_CASE("robot.yaml: gains and limits must have the right sign", "[robot]") {
  const std::string y = kRobotYaml;
  require_error(replace_once(y, "kp: 150.0", "kp: -150.0"), 7, "joints[0].kp", "expected a number > 0, got -150");
  require_error(replace_once(y, "kp: 150.0", "kp: 0"), 7, "joints[0].kp", "expected a number > 0, got 0");
  require_error(replace_once(y, "kd: 1.5", "kd: -0.1"), 14, "joints[1].kd", "expected a number >= 0, got -0.1");
  require_error(replace_once(y, "torque_limit: 50", "torque_limit: 0"), 16, "joints[2].torque_limit",
                "expected a number > 0");
  require_error(replace_once(y, "torque_limit: 200.0", "torque_limit: -1"), 9, "joints[0].torque_limit",
                "expected a number > 0");
  // the value is quoted as written, not re-printed at 17 digits
  const std::string msg = parse_error(replace_once(y, "kd: 1.5", "kd: -0.1"));
  CHECK(msg.substr(msg.size() - 8) == "got -0.1");
  // zero damping is allowed
  CHECK(parse_robot(replace_once(y, "kd: 2.0", "kd: 0"), kRobotPath).joints[0].kd == 0);
  require_error(replace_once(y, "scale: 0.25, clip: 10.0", "scale: 0.25, clip: 0"), 17, "action.clip", "> 0");
  require_error(replace_once(y, "scale: 0.25, clip: 10.0", "scale: -0.25, clip: 10"), 17, "action.scale", "> 0");
  require_error(replace_once(y, "period: 0.02", "period: 0"), 18, "control.period", "> 0");
  require_error(replace_once(y, "noise: 0.05", "noise: -0.05"), 21, "observation[1].noise", ">= 0");
  require_error(replace_once(y, "clip: 100", "clip: -1"), 24, "observation[4].clip", ">= 0");
}

TEST_CASE("robot.yaml: decimation must be at least 1", "[robot]") {
  require_error(replace_once(kRobotYaml, "decimation: 4", "decimation: 0"), 18, "control.decimation",
                "expected an integer >= 1");
  require_error(replace_once(kRobotYaml, "decimation: 4", "decimation: -2"), 18, "control.decimation",
                "expected an integer >= 1");
  CHECK(parse_robot(replace_once(kRobotYaml, "decimation: 4", "decimation: 1"), kRobotPath).decimation == 1);
}

TEST_CASE("robot.yaml: a joint, an actuator, a term or a foot listed twice is refused", "[robot]") {
  const std::string y = kRobotYaml;
  std::string t = replace_once(y, "{name: ankle,", "{name: hip,");
  require_error(t, 16, "joints[2].name", "joint 'hip' listed twice (first as joints[0], line 5)");
  t = replace_once(y, "{name: ankle,", "{name: ankle, actuator: knee_motor,");
  require_error(t, 16, "joints[2].actuator", "actuator 'knee_motor' already drives joints[1]");
  t = replace_once(y, "{term: last_action}", "{term: joint_pos}");
  require_error(t, line_containing(t, "{term: joint_pos}\n  - {term: gait"), "observation[5].term", "listed twice");
  t = replace_once(y, "[left_foot, right_foot]", "[left_foot, left_foot]");
  require_error(t, 27, "frames.feet[1]", "listed twice");
}

TEST_CASE("robot.yaml: an unknown observation term or a scale list of the wrong length is refused",
          "[robot]") {
  std::string t = replace_once(kRobotYaml, "{term: last_action}", "{term: last_actions}");
  require_error(t, 25, "observation[5].term", "unknown observation term 'last_actions' (expected one of: base_lin_vel");
  t = replace_once(kRobotYaml, "scale: [2.0, 2.0, 0.25]", "scale: [2.0, 2.0]");
  require_error(t, 22, "observation[2].scale", "list of 3 scales (one per component of commands), got a list of 2");
  t = replace_once(kRobotYaml, "{term: joint_pos, noise: 0.01}", "{term: joint_pos, scale: [1, 1, 1, 1]}");
  require_error(t, 23, "observation[3].scale", "list of 3 scales");
  t = replace_once(kRobotYaml, "{term: joint_pos, noise: 0.01}", "{term: joint_pos, scale: [1, 0.5, 2]}");
  CHECK(parse_robot(t, kRobotPath).observation[3].scale == std::vector<double>{1, 0.5, 2});
  t = replace_once(kRobotYaml, "  - {term: base_ang_vel", "  - {term: base_ang_vel, scale: 0.25, noise: 0.2}\n  - {term: x");
  require_error(t, 21, "observation[1].term", "unknown observation term 'x'");
  t = "name: a\nmjcf: a.xml\njoints: []\n";
  require_error(t, 3, "joints", "expected a non-empty list of joints");
}

TEST_CASE("robot.yaml: malformed YAML names file and line", "[robot]") {
  const std::string t = replace_once(kRobotYaml, "[left_foot, right_foot]", "[left_foot, right_foot");
  const std::string msg = parse_error(t);
  INFO(msg);
  CHECK(msg.find(std::string(kRobotPath) + ":") == 0);
  CHECK(msg.find("invalid YAML") != std::string::npos);
}

TEST_CASE("robot.yaml: load_robot reads files and refuses missing ones", "[robot]") {
  const fs::path dir = temp_dir("load");
  write_file(dir / "robot.yaml", kRobotYaml);
  const std::string path = (dir / "robot.yaml").string();

  // the MJCF it names does not exist yet
  try {
    load_robot(path);
    FAIL("loaded a robot whose MJCF is missing");
  } catch (const RobotError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find(path + ":3: mjcf: ") == 0);
    CHECK(msg.find((dir / "tiny.xml").string()) != std::string::npos);
  }

  write_file(dir / "tiny.xml", "<mujoco/>");
  const RobotSpec s = load_robot(path);
  CHECK(s.path == path);
  CHECK(s.mjcf == (dir / "tiny.xml").string());
  CHECK(s.num_joints() == 3);

  const std::string missing = (dir / "nope.yaml").string();
  try {
    load_robot(missing);
    FAIL("loaded a file that does not exist");
  } catch (const RobotError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find(missing + ": cannot read") == 0);
    CHECK(msg.find("No such file") != std::string::npos);
  }
  CHECK_THROWS_AS(load_robot(dir.string()), RobotError);
  fs::remove_all(dir);
}

TEST_CASE("robot.yaml: resolve_robot_path finds assets/<name>/robot.yaml", "[robot]") {
  const fs::path assets = temp_dir("assets");
  fs::create_directories(assets / "h1");
  write_file(assets / "h1" / "robot.yaml", kRobotYaml);
  CHECK(resolve_robot_path("h1", assets.string()) == (assets / "h1" / "robot.yaml").string());
  CHECK(resolve_robot_path("g1", assets.string()) == "g1");
  CHECK(resolve_robot_path("some/dir/robot.yaml", assets.string()) == "some/dir/robot.yaml");
  // a folder holding a robot.yaml resolves to it
  CHECK(resolve_robot_path((assets / "h1").string(), "/nonexistent") == (assets / "h1" / "robot.yaml").string());
  fs::remove_all(assets);
}
