// tests/sim/robot/robot_fixture.h — a small valid robot.yaml and text helpers shared by the
// robot-description tests.
#pragma once

#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "sim/robot/robot.h"

namespace stampede::robot::test {

// three joints in three styles (block, block with an explicit actuator, flow), every term kind
inline const char* kRobotYaml = R"(# test robot
name: tiny
mjcf: tiny.xml
joints:
  - name: hip
    default: 0.1
    kp: 150.0
    kd: 2.0
    torque_limit: 200.0
  - name: knee
    actuator: knee_motor
    default: -0.3
    kp: 100
    kd: 1.5
    torque_limit: 120
  - {name: ankle, default: 0.2, kp: 40, kd: 0.5, torque_limit: 50}
action: {scale: 0.25, clip: 10.0}
control: {period: 0.02, decimation: 4}
observation:
  - {term: base_ang_vel, scale: 0.25, noise: 0.2}
  - {term: projected_gravity, noise: 0.05}
  - {term: commands, scale: [2.0, 2.0, 0.25]}
  - {term: joint_pos, noise: 0.01}
  - {term: joint_vel, scale: 0.05, noise: 1.5, clip: 100}
  - {term: last_action}
  - {term: gait_phase}
frames: {base: pelvis, imu: imu, feet: [left_foot, right_foot]}
)";

inline const char* kRobotPath = "/robots/tiny/robot.yaml";

// `text` with the one occurrence of `from` replaced by `to` (fails the test if not exactly one)
inline std::string replace_once(const std::string& text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  INFO("replacing '" << from << "'");
  REQUIRE(pos != std::string::npos);
  REQUIRE(text.find(from, pos + 1) == std::string::npos);
  return text.substr(0, pos) + to + text.substr(pos + from.size());
}

// 1-based line of the first occurrence of `needle`
inline int line_containing(const std::string& text, const std::string& needle) {
  const auto pos = text.find(needle);
  REQUIRE(pos != std::string::npos);
  int line = 1;
  for (std::size_t i = 0; i < pos; ++i) line += text[i] == '\n';
  return line;
}

// the RobotError message of parsing `text`, or "" when it parses
inline std::string parse_error(const std::string& text, const std::string& path = kRobotPath) {
  try {
    parse_robot(text, path);
  } catch (const RobotError& e) {
    return e.what();
  }
  return "";
}

}  // namespace stampede::robot::test
