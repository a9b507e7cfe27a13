// tests/runtime/test_observation.cpp — observation building against a hand-computed example.
#include <catch2/catch.hpp>

#include "runtime/observation.h"
#include "tests/runtime/runtime_test_util.h"

using namespace stampede;

TEST_CASE("projected gravity is R^T (0, 0, -1)") {
  double g[3];
  const double level[4] = {1, 0, 0, 0};
  runtime::projected_gravity(g, level);
  CHECK(g[0] == Approx(0).margin(1e-15));
  CHECK(g[1] == Approx(0).margin(1e-15));
  CHECK(g[2] == -1.0);
  // rolled +90 deg about x: the body's y axis points up, so gravity is -y in the body
  const double roll[4] = {std::sqrt(0.5), std::sqrt(0.5), 0, 0};
  runtime::projected_gravity(g, roll);
  CHECK(g[0] == Approx(0).margin(1e-12));
  CHECK(g[1] == Approx(-1).epsilon(1e-12));
  CHECK(g[2] == Approx(0).margin(1e-12));
  // pitched +60 deg about y: (sin 60, 0, -cos 60)
  const double pitch[4] = {std::cos(M_PI / 6), 0, std::sin(M_PI / 6), 0};
  runtime::projected_gravity(g, pitch);
  CHECK(g[0] == Approx(std::sqrt(3.0) / 2).epsilon(1e-12));
  CHECK(g[1] == Approx(0).margin(1e-12));
  CHECK(g[2] == Approx(-0.5).epsilon(1e-12));
}

TEST_CASE("observation: every term scaled and clipped as in robot.yaml, in layout order") {
  const robot::RobotSpec spec = test::small_robot();
  runtime::ObservationBuilder b(spec);
  REQUIRE(b.size() == 23);
  REQUIRE(b.needs_base_lin_vel());
  runtime::SensorReading s;
  s.base_lin_vel[0] = 0.5; s.base_lin_vel[1] = -0.25; s.base_lin_vel[2] = 0.1;
  s.has_base_lin_vel = true;
  s.imu_ang_vel[0] = 1.0; s.imu_ang_vel[1] = -4.0; s.imu_ang_vel[2] = 0.4;
  s.imu_quat[0] = std::cos(M_PI / 6); s.imu_quat[1] = 0; s.imu_quat[2] = std::sin(M_PI / 6); s.imu_quat[3] = 0;
  s.joint_pos = {0.3, -0.2, 0.5};
  s.joint_vel = {10.0, -20.0, 4.0};
  const double command[3] = {1.0, -0.5, 2.0};
  const float last_action[3] = {0.5f, -2.0f, 1.0f};
  std::vector<float> obs(23);
  b.build(obs.data(), s, command, last_action, 1.0 / 12.0);
  const std::vector<double> expected = {
      1.0, -0.5, 0.2,                   // base_lin_vel * 2
      0.25, -0.5, 0.1,                  // base_ang_vel * 0.25, clipped to +-0.5 (-1.0 -> -0.5)
      std::sqrt(3.0) / 2, 0.0, -0.5,    // projected gravity, pitched 60 deg
      2.0, -1.0, 0.5,                   // commands * (2, 2, 0.25)
      0.2, 0.0, 0.5,                    // joint_pos - default (0.1, -0.2, 0)
      0.5, -1.0, 0.2,                   // joint_vel * 0.05
      0.5, -2.0, 1.0,                   // last action
      0.5, std::sqrt(3.0) / 2,          // sin, cos of 2 pi / 12
  };
  for (int i = 0; i < 23; ++i) {
    INFO("component " << i);
    CHECK(obs[i] == Approx(expected[i]).margin(1e-7));  // double computed, rounded to float once
  }
}

TEST_CASE("observation: h1's layout (base_lin_vel first) has the size the contract states") {
  const robot::RobotSpec spec = robot::load_robot(std::string(STAMPEDE_ASSETS_DIR) + "/h1/robot.yaml");
  runtime::ObservationBuilder b(spec);
  CHECK(b.size() == spec.obs_size());
  CHECK(b.needs_base_lin_vel());  // the robot must supply a base velocity estimate
  CHECK(spec.obs_offset("base_lin_vel") == 0);
}

TEST_CASE("observation: the humanoid's layout needs no base_lin_vel") {
  const robot::RobotSpec spec = robot::load_robot(std::string(STAMPEDE_ASSETS_DIR) + "/humanoid/robot.yaml");
  runtime::ObservationBuilder b(spec);
  CHECK(b.size() == spec.obs_size());
  CHECK_FALSE(b.needs_base_lin_vel());
}
