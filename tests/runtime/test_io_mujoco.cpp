// tests/runtime/test_io_mujoco.cpp — the runtime against MuJoCo (sim-to-sim) on assets/h1.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "rl/export/policy_export.h"
#include "runtime/controller.h"
#include "runtime/io_mujoco.h"

using namespace stampede;

namespace {

robot::RobotSpec h1() { return robot::load_robot(std::string(STAMPEDE_ASSETS_DIR) + "/h1/robot.yaml"); }

// records what the controller sends, then forwards it
struct RecordingIO : runtime::RobotIO {
  explicit RecordingIO(runtime::MujocoIO& io) : inner(io) {}
  void read(runtime::SensorReading& out) override { inner.read(out); }
  void write(const runtime::JointCommand& cmd) override {
    commands.push_back(cmd);
    inner.write(cmd);
  }
  double now() override { return inner.now(); }
  void wait_until(double t) override { inner.wait_until(t); }
  double start() override { return inner.start(); }
  runtime::MujocoIO& inner;
  std::vector<runtime::JointCommand> commands;
};

}  // namespace

TEST_CASE("MujocoIO: limits from the MJCF, sensors at the home keyframe") {
  const robot::RobotSpec spec = h1();
  runtime::MujocoIO io(spec, {});
  const runtime::JointLimits l = io.joint_limits();
  const int knee = spec.joint_index("left_knee");
  REQUIRE(knee >= 0);
  CHECK(l.lower[knee] == Approx(-0.26));
  CHECK(l.upper[knee] == Approx(2.05));
  runtime::SensorReading s;
  io.read(s);
  REQUIRE(s.joint_pos.size() == static_cast<std::size_t>(spec.num_joints()));
  double g[3];
  runtime::projected_gravity(g, s.imu_quat);
  CHECK(g[2] == Approx(-1.0).margin(1e-6));  // the robot starts upright
  CHECK(io.sim_time() == 0.0);
}

TEST_CASE("sim-to-sim: a random-weight policy runs 2 s on MuJoCo within every limit") {
  const robot::RobotSpec spec = h1();
  runtime::Policy policy = runtime::Policy::from_bytes(rl::export_policy_onnx_bytes(rl::random_policy(spec, {512, 256, 128}, 3)), "random.onnx");
  runtime::MujocoIO mj(spec, {});
  RecordingIO io(mj);
  runtime::ControllerConfig config;
  config.limits = mj.joint_limits();
  runtime::Controller c(spec, policy, io, config);
  // time spent before the run (a loaded machine) must not shift the simulated schedule
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  c.run(2.0);
  CHECK(c.cycle() == 100);                          // 2 s at 50 Hz
  CHECK(mj.physics_steps() == 400);                 // decimation 4
  CHECK(mj.sim_time() == Approx(2.0).margin(1e-9));
  CHECK(mj.max_torque_ratio() <= 1.0);              // PD torque clipped to the contract's limits
  CHECK(mj.max_torque_ratio() > 0.0);
  REQUIRE(io.commands.size() == 100);
  for (const auto& cmd : io.commands) {
    for (int j = 0; j < spec.num_joints(); ++j) {
      CHECK(cmd.target[j] >= config.limits.lower[j]);
      CHECK(cmd.target[j] <= config.limits.upper[j]);
      CHECK(std::isfinite(cmd.target[j]));
    }
  }
  const runtime::LatencyReport l = c.latency();
  CHECK(l.cycles == 100);
  CHECK(l.p50 > 0);
  CHECK(l.max >= l.p99);
  CHECK(l.p99 >= l.p50);
}

TEST_CASE("sim-to-sim: holding the default pose (zero action) keeps the robot upright for 1 s") {
  const robot::RobotSpec spec = h1();
  rl::ExportedPolicy p = rl::random_policy(spec, {8}, 4);
  for (auto& w : p.weights) std::fill(w.begin(), w.end(), 0.0f);
  for (auto& b : p.biases) std::fill(b.begin(), b.end(), 0.0f);
  runtime::Policy policy = runtime::Policy::from_bytes(rl::export_policy_onnx_bytes(p), "zero.onnx");
  runtime::MujocoIO mj(spec, {});
  runtime::ControllerConfig config;
  config.limits = mj.joint_limits();
  // this test is about the physics: a loaded CI machine must not turn a slow cycle into damping
  config.deadline = 10.0;
  const double h0 = mj.base_height();
  runtime::Controller c(spec, policy, mj, config);
  c.run(1.0);
  CHECK_FALSE(c.damping());
  CHECK(c.events().empty());
  CHECK(mj.base_height() > 0.8 * h0);
}
