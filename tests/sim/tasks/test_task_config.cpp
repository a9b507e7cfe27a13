// tests/sim/tasks/test_task_config.cpp — configs/tasks/*.yaml parsing: defaults, overrides,
// refusals that name the file, line and key.
#include <catch2/catch.hpp>

#include "sim/tasks/task_config.h"

using namespace stampede::sim::tasks;

TEST_CASE("task config: an empty file gives the defaults", "[tasks][config]") {
  const TaskConfig c = parse_task_config("", "empty.yaml");
  const TaskConfig d = default_task_config();
  CHECK(c.episode_length == 20.0);
  CHECK(c.rewards.weights == d.rewards.weights);
  CHECK(c.rewards.weights[kTrackingLinVel] == 1.0);
  CHECK(c.rewards.weights[kTermination] == -200.0);
  CHECK(c.commands.heading_command);
}

TEST_CASE("task config: keys override defaults", "[tasks][config]") {
  const TaskConfig c = parse_task_config(R"(
name: test-walk
robot: humanoid
episode_length: 12.5
commands: {lin_vel_x: [0.0, 2.0], heading_command: false}
rewards:
  only_positive: false
  weights: {torques: -0.5, alive: 2.0}
termination: {contact_bodies: [a, b], max_tilt: 0.7}
domain_rand: {enabled: false, max_action_latency: 3, friction: [0.2, 0.3]}
)", "t.yaml");
  CHECK(c.name == "test-walk");
  CHECK(c.robot == "humanoid");
  CHECK(c.episode_length == 12.5);
  CHECK(c.commands.lin_vel_x[1] == 2.0);
  CHECK(c.commands.lin_vel_y == default_task_config().commands.lin_vel_y);
  CHECK_FALSE(c.commands.heading_command);
  CHECK_FALSE(c.rewards.only_positive);
  CHECK(c.rewards.weights[kTorques] == -0.5);
  CHECK(c.rewards.weights[kAlive] == 2.0);
  CHECK(c.rewards.weights[kTrackingLinVel] == 1.0);
  CHECK(c.termination.contact_bodies == std::vector<std::string>{"a", "b"});
  CHECK(c.termination.max_tilt == 0.7);
  CHECK_FALSE(c.domain_rand.enabled);
  CHECK(c.domain_rand.max_action_latency == 3);
  CHECK(c.domain_rand.friction[0] == 0.2);
}

TEST_CASE("task config: refusals name the file, line and key", "[tasks][config]") {
  CHECK_THROWS_WITH(parse_task_config("rewards:\n  weights:\n    tracking_lin_vell: 1.0\n", "w.yaml"),
                    Catch::Contains("w.yaml:3") && Catch::Contains("tracking_lin_vell") &&
                        Catch::Contains("unknown key"));
  CHECK_THROWS_WITH(parse_task_config("commands:\n  lin_vel_x: [1.0, -1.0]\n", "r.yaml"),
                    Catch::Contains("r.yaml:2") && Catch::Contains("commands.lin_vel_x") &&
                        Catch::Contains("lo <= hi"));
  CHECK_THROWS_WITH(parse_task_config("episode_length: fast\n", "e.yaml"),
                    Catch::Contains("episode_length") && Catch::Contains("a number"));
  CHECK_THROWS_WITH(parse_task_config("episode_length: -1\n", "e.yaml"),
                    Catch::Contains("episode_length") && Catch::Contains("> 0"));
  CHECK_THROWS_WITH(parse_task_config("domain_rand: {max_action_latency: 40}\n", "l.yaml"),
                    Catch::Contains("max_action_latency"));
  CHECK_THROWS_WITH(parse_task_config("rewards: [1, 2]\n", "m.yaml"), Catch::Contains("a mapping"));
  CHECK_THROWS_WITH(load_task_config("/nonexistent/x.yaml"), Catch::Contains("cannot open"));
}

TEST_CASE("task config: the shipped h1-walk.yaml parses with its CPU-budget weights", "[tasks][config]") {
  // configs/train/README.md gives the measurement behind each change from legged_gym's values
  const TaskConfig c = load_task_config(std::string(STAMPEDE_SOURCE_DIR) + "/configs/tasks/h1-walk.yaml");
  CHECK(c.name == "h1-walk");
  CHECK(c.robot == "h1");
  CHECK(c.episode_length == 20.0);
  CHECK_FALSE(c.rewards.only_positive);
  CHECK(c.rewards.tracking_sigma == 0.5);
  CHECK(c.rewards.weights[kTrackingLinVel] == 2.0);
  CHECK(c.rewards.weights[kTrackingAngVel] == 0.5);
  CHECK(c.rewards.weights[kDofAcc] == -2.5e-8);
  CHECK(c.rewards.weights[kAlive] == 0.5);
  CHECK(c.rewards.weights[kTermination] == -200.0);
  CHECK(c.commands.lin_vel_x == std::array<double, 2>{0.5, 1.2});
  CHECK_FALSE(c.commands.heading_command);
  CHECK(c.rewards.scale_by_dt);
}

TEST_CASE("task config: the shipped h1-joystick.yaml parses with legged_gym's H1 weights", "[tasks][config]") {
  const TaskConfig c = load_task_config(std::string(STAMPEDE_SOURCE_DIR) + "/configs/tasks/h1-joystick.yaml");
  CHECK(c.name == "h1-joystick");
  CHECK(c.robot == "h1");
  CHECK(c.episode_length == 20.0);
  CHECK(c.rewards.only_positive);
  CHECK(c.rewards.weights[kTrackingLinVel] == 1.0);
  CHECK(c.rewards.weights[kTrackingAngVel] == 0.5);
  CHECK(c.rewards.weights[kLinVelZ] == -2.0);
  CHECK(c.rewards.weights[kBaseHeight] == -10.0);
  CHECK(c.rewards.weights[kDofAcc] == -2.5e-7);
  CHECK(c.rewards.weights[kTermination] == -200.0);
  CHECK(c.rewards.scale_by_dt);
}
