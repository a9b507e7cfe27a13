// tests/runtime/test_safety.cpp — the control loop and its safety layer on a scripted robot:
// every violation puts the robot in damping mode within the cycle that sees it, logs one event,
// and no command ever leaves the joint limits or the contract's torque limits.
#include <catch2/catch.hpp>

#include "runtime/controller.h"
#include "tests/runtime/runtime_test_util.h"

using namespace stampede;
using runtime::SafetyKind;

namespace {

struct Rig {
  robot::RobotSpec spec = test::small_robot();
  runtime::Policy policy;
  test::FakeIO io{spec};
  runtime::ControllerConfig config;

  explicit Rig(unsigned seed = 21)
      : policy(runtime::Policy::from_bytes(test::policy_bytes(test::random_mlp(test::default_sizes(spec), seed), spec), "p.onnx")) {
    config.limits.lower = {-0.5, -1.0, -0.3};
    config.limits.upper = {0.5, 0.4, 0.3};
    config.safety.max_tilt = 0.6;
    config.safety.stuck_cycles = 5;
  }
};

// commands are inside the limits, use the contract's gains and torque limits
void check_command_bounds(const Rig& r, const runtime::JointCommand& c, bool damping) {
  for (int j = 0; j < r.spec.num_joints(); ++j) {
    CHECK(std::isfinite(c.target[j]));
    CHECK(c.target[j] >= r.config.limits.lower[j]);
    CHECK(c.target[j] <= r.config.limits.upper[j]);
    CHECK(c.kp[j] == (damping ? 0.0 : r.spec.joints[j].kp));
    CHECK(c.kd[j] == r.spec.joints[j].kd);
    CHECK(c.torque_limit[j] == r.spec.joints[j].torque_limit);
  }
}

void check_damping_event(runtime::Controller& c, SafetyKind kind, long cycle) {
  CHECK(c.damping());
  REQUIRE(c.events().size() == 1);
  CHECK(c.events()[0].kind == kind);
  CHECK(c.events()[0].cycle == cycle);
  CHECK_FALSE(c.events()[0].detail.empty());
}

}  // namespace

TEST_CASE("policy mode: targets = default + scale * clip(action), fed back as last_action") {
  Rig r;
  runtime::Controller c(r.spec, r.policy, r.io, r.config);
  c.run(0.2);
  REQUIRE(c.cycle() == 10);
  CHECK_FALSE(c.damping());
  CHECK(c.events().empty());
  REQUIRE(r.io.commands.size() == 10);
  const auto& cmd = r.io.commands.back();
  check_command_bounds(r, cmd, false);
  const auto& a = c.last_action();
  for (int j = 0; j < 3; ++j) {
    const double clipped = std::fmin(std::fmax(static_cast<double>(a[j]), -2.0), 2.0);
    const double want = r.spec.joints[j].default_pos + 0.5 * clipped;
    CHECK(cmd.target[j] == Approx(std::fmin(std::fmax(want, r.config.limits.lower[j]), r.config.limits.upper[j])));
  }
  // gait phase after 9 cycles of 0.02 s at 0.8 s per cycle is 0.225; last_action term holds the
  // clipped action of cycle 8 (checked through the observation's last_action slot)
  const auto& obs = c.last_observation();
  const int phase_at = r.spec.obs_offset("gait_phase");
  CHECK(obs[phase_at] == Approx(std::sin(2 * M_PI * 0.225)).margin(1e-6));
  CHECK(obs[phase_at + 1] == Approx(std::cos(2 * M_PI * 0.225)).margin(1e-6));
  const auto lat = c.latency();
  CHECK(lat.cycles == 10);
  CHECK(lat.missed == 0);
  CHECK(lat.p50 == Approx(0.001));  // the fake clock advances 1 ms per read
}

TEST_CASE("NaN sensor -> damping in the same cycle") {
  Rig r;
  runtime::Controller c(r.spec, r.policy, r.io, r.config);
  for (int k = 0; k < 3; ++k) c.step();
  CHECK_FALSE(c.damping());
  r.io.reading.joint_vel[1] = NAN;
  c.step();
  check_damping_event(c, SafetyKind::kNanSensor, 3);
  CHECK_THAT(c.events()[0].detail, Catch::Contains("joint_vel[1] (knee)"));
  check_command_bounds(r, r.io.commands.back(), true);
  // damping holds the current position
  for (int j = 0; j < 3; ++j) CHECK(r.io.commands.back().target[j] == r.io.reading.joint_pos[j]);
  // latched: the sensor recovers, the robot stays in damping, no further event
  r.io.reading.joint_vel[1] = 0;
  c.step();
  CHECK(c.damping());
  CHECK(c.events().size() == 1);
  check_command_bounds(r, r.io.commands.back(), true);
}

TEST_CASE("NaN in the IMU -> damping, and a NaN joint position never reaches a target") {
  Rig r;
  runtime::Controller c(r.spec, r.policy, r.io, r.config);
  c.step();
  r.io.reading.joint_pos[0] = NAN;
  c.step();
  check_damping_event(c, SafetyKind::kNanSensor, 1);
  check_command_bounds(r, r.io.commands.back(), true);
}

TEST_CASE("stuck sensor -> damping") {
  Rig r;
  runtime::Controller c(r.spec, r.policy, r.io, r.config);
  for (int k = 0; k < 5; ++k) c.step();
  CHECK_FALSE(c.damping());
  r.io.vary = false;  // from now on every sample repeats the last one (cycle 4's)
  for (int k = 0; k < 4; ++k) c.step();
  CHECK_FALSE(c.damping());  // 4 repeats: not yet
  c.step();                  // the 5th repeat (stuck_cycles = 5)
  check_damping_event(c, SafetyKind::kStuckSensor, 9);
  check_command_bounds(r, r.io.commands.back(), true);
}

TEST_CASE("joint outside its limits -> damping") {
  Rig r;
  runtime::Controller c(r.spec, r.policy, r.io, r.config);
  c.step();
  r.io.reading.joint_pos[1] = 0.4 + 0.01;  // inside the 0.02 margin
  c.step();
  CHECK_FALSE(c.damping());
  r.io.reading.joint_pos[1] = 0.4 + 0.05;
  c.step();
  check_damping_event(c, SafetyKind::kJointLimit, 2);
  CHECK_THAT(c.events()[0].detail, Catch::Contains("knee"));
  // the damping target (the current position) is clamped back inside the limit
  CHECK(r.io.commands.back().target[1] == 0.4);
  check_command_bounds(r, r.io.commands.back(), true);
}

TEST_CASE("base tilted beyond the threshold -> damping") {
  Rig r;
  runtime::Controller c(r.spec, r.policy, r.io, r.config);
  const double small_tilt = 0.5, big_tilt = 0.7;  // threshold 0.6 rad
  r.io.reading.imu_quat[0] = std::cos(small_tilt / 2);
  r.io.reading.imu_quat[1] = std::sin(small_tilt / 2);
  c.step();
  CHECK_FALSE(c.damping());
  r.io.reading.imu_quat[0] = std::cos(big_tilt / 2);
  r.io.reading.imu_quat[1] = std::sin(big_tilt / 2);
  c.step();
  check_damping_event(c, SafetyKind::kTilt, 1);
  check_command_bounds(r, r.io.commands.back(), true);
}

TEST_CASE("a cycle that misses its deadline sends damping instead of its late action") {
  Rig r;
  runtime::Controller c(r.spec, r.policy, r.io, r.config);
  c.run(0.1);
  CHECK_FALSE(c.damping());
  const std::size_t before = r.io.commands.size();
  r.io.read_delay = 0.025;  // the sensor read alone takes longer than the 20 ms period
  c.step();
  check_damping_event(c, SafetyKind::kDeadlineMiss, 5);
  REQUIRE(r.io.commands.size() == before + 1);  // the very cycle that missed wrote damping
  check_command_bounds(r, r.io.commands.back(), true);
  CHECK(c.latency().missed == 1);
  CHECK(c.latency().max == Approx(0.025));
  CHECK_THAT(c.report(), Catch::Contains("deadline_miss") && Catch::Contains("missed deadlines: 1"));
}

TEST_CASE("a policy producing NaN -> damping") {
  const robot::RobotSpec spec = test::small_robot();
  test::TestMlp mlp = test::random_mlp(test::default_sizes(spec), 22);
  mlp.biases.back()[2] = NAN;
  runtime::Policy policy = runtime::Policy::from_bytes(test::policy_bytes(mlp, spec), "nan.onnx");
  test::FakeIO io(spec);
  runtime::Controller c(spec, policy, io, {});
  c.step();
  check_damping_event(c, SafetyKind::kNanAction, 0);
  for (double t : io.commands.back().target) CHECK(std::isfinite(t));
  for (double kp : io.commands.back().kp) CHECK(kp == 0);
}

TEST_CASE("targets stay inside the joint limits even for saturated actions") {
  Rig r(23);
  r.config.limits.lower = {0.05, -0.25, -0.01};  // tighter than default +- scale * clip
  r.config.limits.upper = {0.15, -0.15, 0.01};
  r.config.command[0] = 50.0;  // a huge command drives the observation far from training data
  runtime::Controller c(r.spec, r.policy, r.io, r.config);
  c.run(0.2);
  CHECK_FALSE(c.damping());
  for (const auto& cmd : r.io.commands) check_command_bounds(r, cmd, false);
}

TEST_CASE("the controller refuses a policy for another contract") {
  const robot::RobotSpec spec = test::small_robot();
  std::string yaml = test::kSmallRobotYaml;
  yaml.replace(yaml.find("kp: 20.0"), 8, "kp: 25.0");
  const robot::RobotSpec other = test::small_robot(yaml);
  runtime::Policy policy =
      runtime::Policy::from_bytes(test::policy_bytes(test::random_mlp(test::default_sizes(other), 3), other), "other.onnx");
  test::FakeIO io(spec);
  REQUIRE_THROWS_WITH(runtime::Controller(spec, policy, io, {}), Catch::Contains("joints[2].kp: 25 vs 20"));
}

TEST_CASE("the gait clock comes from the policy unless the config overrides it") {
  const robot::RobotSpec spec = test::small_robot();
  test::TestMlp mlp = test::random_mlp(test::default_sizes(spec), 24);
  test::TestModel m = test::mlp_model(mlp);
  m.metadata["stampede.format"] = "stampede-policy-1";
  m.metadata["stampede.contract"] = robot::canonical_contract(spec);
  m.metadata["stampede.contract_hash"] = robot::contract_hash(spec);
  runtime::Policy policy = runtime::Policy::from_bytes(m.serialize(), "nogait.onnx");
  test::FakeIO io(spec);
  REQUIRE_THROWS_WITH(runtime::Controller(spec, policy, io, {}), Catch::Contains("gait_period"));
  runtime::ControllerConfig config;
  config.gait_period = 0.5;
  runtime::Controller c(spec, policy, io, config);
  for (int k = 0; k < 6; ++k) c.step();
  // cycle 5: t = 0.1 s, phase 0.2
  CHECK(c.last_observation()[spec.obs_offset("gait_phase")] == Approx(std::sin(2 * M_PI * 0.2)).margin(1e-6));
}
