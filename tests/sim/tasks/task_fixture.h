// tests/sim/tasks/task_fixture.h — a small biped (MJCF + robot.yaml written to a temp folder)
// whose numbers are easy to check by hand: a free-floating torso, a head on a pitch hinge that
// carries a rotated IMU site, and two legs of hip + knee hinges ending in foot bodies.
// Actuator gears are 2 so ctrl = torque / 2 is visible.
#pragma once

#include <mujoco/mujoco.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "sim/robot/robot.h"
#include "sim/tasks/task_config.h"
#include "sim/tasks/task_model.h"

namespace stampede::test {

inline const char* kBipedXml = R"(
<mujoco model="biped">
  <compiler angle="radian"/>
  <option timestep="0.005"/>
  <worldbody>
    <geom name="floor" type="plane" size="0 0 0.05"/>
    <body name="torso" pos="0 0 1.0">
      <freejoint name="root"/>
      <geom name="torso" type="box" size="0.1 0.15 0.2" mass="10"/>
      <body name="head" pos="0 0 0.3">
        <joint name="neck" type="hinge" axis="0 1 0" range="-0.5 0.5"/>
        <geom name="head" type="sphere" size="0.08" mass="1"/>
        <site name="imu" pos="0.02 0 0.05" quat="0.9238795 0 0 0.3826834"/>
      </body>
      <body name="left_thigh" pos="0 0.1 -0.2">
        <joint name="left_hip" type="hinge" axis="0 1 0" range="-1 1"/>
        <geom name="left_thigh" type="capsule" fromto="0 0 0 0 0 -0.35" size="0.04" mass="2"/>
        <body name="left_shin" pos="0 0 -0.35">
          <joint name="left_knee" type="hinge" axis="0 1 0" range="0 2"/>
          <geom name="left_shin" type="capsule" fromto="0 0 0 0 0 -0.33" size="0.035" mass="1.5"/>
          <body name="left_foot" pos="0 0 -0.38">
            <geom name="left_foot" type="box" size="0.08 0.04 0.02" mass="0.5"/>
          </body>
        </body>
      </body>
      <body name="right_thigh" pos="0 -0.1 -0.2">
        <joint name="right_hip" type="hinge" axis="0 1 0" range="-1 1"/>
        <geom name="right_thigh" type="capsule" fromto="0 0 0 0 0 -0.35" size="0.04" mass="2"/>
        <body name="right_shin" pos="0 0 -0.35">
          <joint name="right_knee" type="hinge" axis="0 1 0" range="0 2"/>
          <geom name="right_shin" type="capsule" fromto="0 0 0 0 0 -0.33" size="0.035" mass="1.5"/>
          <body name="right_foot" pos="0 0 -0.38">
            <geom name="right_foot" type="box" size="0.08 0.04 0.02" mass="0.5"/>
          </body>
        </body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="left_hip" joint="left_hip" gear="2" ctrlrange="-20 20"/>
    <motor name="left_knee" joint="left_knee" gear="2" ctrlrange="-20 20"/>
    <motor name="right_hip" joint="right_hip" gear="2" ctrlrange="-20 20"/>
    <motor name="right_knee" joint="right_knee" gear="2" ctrlrange="-20 20"/>
  </actuator>
  <sensor>
    <gyro name="gyro" site="imu"/>
  </sensor>
</mujoco>
)";

inline const char* kBipedYaml = R"(
name: biped
mjcf: biped.xml
joints:
  - {name: left_hip,   default: -0.2, kp: 50.0, kd: 1.0, torque_limit: 40.0}
  - {name: left_knee,  default:  0.4, kp: 60.0, kd: 2.0, torque_limit: 30.0}
  - {name: right_hip,  default: -0.2, kp: 50.0, kd: 1.0, torque_limit: 40.0}
  - {name: right_knee, default:  0.4, kp: 60.0, kd: 2.0, torque_limit: 30.0}
action: {scale: 0.5, clip: 2.0}
control: {period: 0.02, decimation: 4}
observation:
  - {term: base_lin_vel, scale: 2.0}
  - {term: base_ang_vel, scale: 0.25, noise: 0.2}
  - {term: projected_gravity, noise: 0.05}
  - {term: commands, scale: [2.0, 2.0, 0.25]}
  - {term: joint_pos, noise: 0.01}
  - {term: joint_vel, scale: 0.05, clip: 1.0}
  - {term: last_action}
  - {term: gait_phase}
frames: {base: torso, imu: imu, feet: [left_foot, right_foot]}
)";

struct ModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};
using ModelPtr = std::unique_ptr<mjModel, ModelDeleter>;

inline mjModel* load_model(const std::string& path) {
  char err[1000] = "";
  mjModel* m = mj_loadXML(path.c_str(), nullptr, err, sizeof(err));
  if (!m) throw std::runtime_error(path + ": " + err);
  return m;
}

// writes the biped to a fresh temp folder; loads the spec and the compiled model
struct Biped {
  std::string dir;
  robot::RobotSpec spec;
  ModelPtr model;

  Biped() {
    namespace fs = std::filesystem;
    static int counter = 0;
    dir = (fs::temp_directory_path() / ("stampede_biped_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(counter++)))
              .string();
    fs::create_directories(dir);
    std::ofstream(dir + "/biped.xml") << kBipedXml;
    std::ofstream(dir + "/robot.yaml") << kBipedYaml;
    spec = robot::load_robot(dir + "/robot.yaml");
    model.reset(load_model(dir + "/biped.xml"));
  }
  ~Biped() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// a config with every random draw off, so states are exactly what a test writes
inline sim::tasks::TaskConfig quiet_config() {
  sim::tasks::TaskConfig c = sim::tasks::default_task_config();
  c.domain_rand.enabled = false;
  c.init.joint_pos_noise = c.init.joint_vel_noise = 0;
  c.init.base_lin_vel_noise = c.init.base_ang_vel_noise = 0;
  c.init.base_yaw_range = 0;
  c.commands.heading_command = false;
  return c;
}

}  // namespace stampede::test
