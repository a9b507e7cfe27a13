// tests/runtime/test_obs_parity.cpp — issue #7: "the runtime's observation equals training's for
// the same state, bit for bit in the same precision", on the real robot (assets/h1/robot.yaml).
//
// Training side: LocomotionEnv<double> on the MuJoCo backend (make_locomotion_vec_env, device
// "mujoco"), every random draw off (no domain randomization, so no observation noise; no init
// noise). Several worlds get random states written into the backend's qpos/qvel (random base
// orientation, joint angles and velocities), a known command, last action and episode step;
// env.observe() recomputes the observation.
// Runtime side: the same qpos/qvel as a keyframe of a copy of h1.xml, loaded by the runtime's own
// MujocoIO (mj_resetDataKeyframe + mj_forward), read with MujocoIO::read, turned into the policy
// observation by ObservationBuilder with the same command, last action and the gait phase the
// controller (runtime/controller.cpp) derives from the same step count.
//
// What is bit-identical and what is not:
//  - commands, joint_pos, joint_vel, last_action: the same double arithmetic on the same inputs
//    (q - default, x * scale, cast to float): required equal bit for bit.
//  - gait_phase: the controller (runtime::gait_phase_at) and training compute
//    fmod(step * dt, gait_period) / gait_period, wrapped, the same way: required bit-identical
//    over a whole episode.
//  - base_lin_vel, base_ang_vel, projected_gravity: the same physical quantity through different
//    but mathematically equal computations, so exact equality is impossible:
//      training: R(q)^T qvel_lin (the free joint's linear qvel is the velocity of the pelvis origin
//      in the world frame); the IMU's orientation and angular velocity by a chain walk from the
//      base quaternion (imu site on the pelvis: an identity chain), omega = R(q) qvel_ang then
//      rotated back into the IMU frame; gravity = R_imu^T (0, 0, -1) by quaternion rotation.
//      runtime: mj_objectVelocity(mjOBJ_XBODY, local) (cvel at the subtree CoM shifted to the
//      body origin, rotated by xmat), mj_objectVelocity(mjOBJ_SITE, local), and the gravity from
//      mju_mat2Quat(site_xmat) through the quaternion formula of projected_gravity().
//    Their double values are required within 1e-12 (same frame, same point, same sign), and the
//    float observation elements within 1 float ulp (a double difference of ~1e-16 can flip the
//    last bit of the float rounding).
#include <catch2/catch.hpp>

#include <mujoco/mujoco.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/io_mujoco.h"
#include "runtime/controller.h"
#include "runtime/observation.h"
#include "sim/robot/robot.h"
#include "sim/tasks/locomotion_env.h"
#include "sim/tasks/locomotion_kernels.h"
#include "sim/tasks/make_env.h"
#include "sim/tasks/task_config.h"

using namespace stampede;
using namespace stampede::sim::tasks;

namespace {

constexpr double kTol = 1e-12;  // double-precision tolerance where the computations differ

// the h1-walk task with every random draw off (tests/python/test_env.py's quiet_config)
TaskConfig quiet_h1_config() {
  TaskConfig c = find_task_config("h1-walk");
  c.robot = "h1";
  c.domain_rand.enabled = false;  // also turns the observation noise off (obs_noise_level 0)
  c.init.joint_pos_noise = c.init.joint_vel_noise = 0;
  c.init.base_lin_vel_noise = c.init.base_ang_vel_noise = 0;
  c.init.base_yaw_range = 0;
  c.commands.heading_command = false;
  return c;
}

std::string fmt17(const double* v, int n) {
  std::ostringstream s;
  for (int i = 0; i < n; ++i) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.17g", v[i]);
    s << (i ? " " : "") << buf;
  }
  return s.str();
}

// one float ulp at x
double float_ulp(float x) {
  const float a = std::fabs(x);
  return static_cast<double>(std::nextafter(a, INFINITY) - a);
}

// the gait phase the runtime controller uses for control cycle `step` (runtime/controller.cpp)
double controller_phase(long step, double period, double gait_period) {
  return runtime::gait_phase_at(step, period, gait_period);
}

// writes a copy of the MJCF with extra keyframes "parity<w>" (qpos, qvel at full precision)
std::string write_mjcf_with_keys(const std::string& mjcf, const std::string& dir,
                                 const std::vector<std::vector<double>>& qpos,
                                 const std::vector<std::vector<double>>& qvel) {
  std::ifstream in(mjcf);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string xml = ss.str();
  std::string keys;
  for (std::size_t w = 0; w < qpos.size(); ++w)
    keys += "\n    <key name=\"parity" + std::to_string(w) + "\" qpos=\"" +
            fmt17(qpos[w].data(), static_cast<int>(qpos[w].size())) + "\" qvel=\"" +
            fmt17(qvel[w].data(), static_cast<int>(qvel[w].size())) + "\"/>";
  const std::size_t at = xml.find("<keyframe>");
  if (at != std::string::npos) {
    xml.insert(at + std::strlen("<keyframe>"), keys);
  } else {
    const std::size_t end = xml.rfind("</mujoco>");
    REQUIRE(end != std::string::npos);
    xml.insert(end, "  <keyframe>" + keys + "\n  </keyframe>\n");
  }
  const std::string path = dir + "/robot_parity.xml";
  std::ofstream(path) << xml;
  return path;
}

// |a - b| on the circle of phases [0, 1): 0.9999999999999998 and 0 are 2e-16 apart
double circular_diff(double a, double b) {
  const double d = std::fabs(a - b);
  return std::min(d, std::fabs(1.0 - d));
}

struct TermStats {
  double max_float_diff = 0;   // over the float observation elements
  double max_double_diff = 0;  // over the double quantities before scaling (where compared)
  int mismatches = 0;          // float elements not bit-identical
};

}  // namespace

TEST_CASE("observation parity: runtime (MujocoIO + ObservationBuilder) == training env, H1", "[runtime][parity]") {
  set_data_dir(STAMPEDE_SOURCE_DIR);
  const TaskConfig cfg = quiet_h1_config();
  const int nworld = 32;
  auto venv = make_locomotion_vec_env("h1-walk", nworld, "mujoco", /*seed=*/3, &cfg, /*nthread=*/1);
  auto* env = dynamic_cast<LocomotionEnv<double>*>(venv.get());
  REQUIRE(env != nullptr);
  const robot::RobotSpec& spec = env->robot();
  REQUIRE(spec.observation.at(0).term == "base_lin_vel");
  REQUIRE(spec.observation.at(0).scale.at(0) == 2.0);
  const TaskModel<double>& m = env->model();
  const int nq = m.nq, nv = m.nv, na = m.na, od = env->obs_dim();
  REQUIRE(na == spec.num_joints());
  std::vector<float> obs_train(static_cast<std::size_t>(nworld) * od);
  env->reset(obs_train.data());

  // random states, commands, last actions and episode steps (the later ones past a gait cycle)
  std::mt19937_64 rng(20240607);
  auto uni = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
  std::normal_distribution<double> gauss;
  std::vector<int> steps = {0, 1, 7, 39, 40, 53, 123, 200, 999};
  while (static_cast<int>(steps.size()) < nworld) steps.push_back(std::uniform_int_distribution<int>(0, 999)(rng));
  std::vector<std::vector<double>> qpos(nworld), qvel(nworld), command(nworld);
  std::vector<std::vector<float>> action(nworld);
  double* bq = env->backend().qpos();
  double* bv = env->backend().qvel();
  const TaskData<double>& d = env->data();
  for (int w = 0; w < nworld; ++w) {
    std::vector<double>& q = qpos[w];
    std::vector<double>& v = qvel[w];
    q.assign(m.init_qpos, m.init_qpos + nq);
    v.assign(nv, 0.0);
    const int b = m.base_qposadr, bd = m.base_dofadr;
    q[b + 0] = uni(-2, 2);
    q[b + 1] = uni(-2, 2);
    q[b + 2] = uni(0.5, 1.2);
    double quat[4], n = 0;
    for (double& c : quat) {
      c = gauss(rng);
      n += c * c;
    }
    n = std::sqrt(n);
    for (int k = 0; k < 4; ++k) q[b + 3 + k] = quat[k] / n;
    for (int k = 0; k < 3; ++k) v[bd + k] = uni(-2, 2);      // linear, world frame
    for (int k = 0; k < 3; ++k) v[bd + 3 + k] = uni(-3, 3);  // angular, base frame
    for (int j = 0; j < na; ++j) {
      q[m.jnt_qposadr[j]] = spec.joints[j].default_pos + uni(-0.6, 0.6);
      v[m.jnt_dofadr[j]] = uni(-6, 6);
    }
    std::copy(q.begin(), q.end(), bq + static_cast<long>(w) * nq);
    std::copy(v.begin(), v.end(), bv + static_cast<long>(w) * nv);
    command[w] = {uni(-1, 1), uni(-1, 1), uni(-1, 1)};
    for (int k = 0; k < 3; ++k) d.commands[4 * w + k] = command[w][k];
    action[w].resize(na);
    for (int j = 0; j < na; ++j) {
      action[w][j] = static_cast<float>(uni(-3, 3));  // the policy's float output
      d.actions[w * na + j] = action[w][j];
    }
    d.episode_step[w] = steps[w];
  }
  env->observe(obs_train.data());

  // the runtime, on a copy of the MJCF with the same states as keyframes
  namespace fs = std::filesystem;
  const std::string dir =
      (fs::temp_directory_path() / ("stampede_obs_parity_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  robot::RobotSpec rspec = spec;
  rspec.mjcf = write_mjcf_with_keys(spec.mjcf, dir, qpos, qvel);
  const runtime::ObservationBuilder builder(rspec);
  REQUIRE(builder.size() == od);
  REQUIRE(builder.needs_base_lin_vel());

  std::map<std::string, TermStats> stats;
  for (const auto& t : spec.observation) stats[t.term];
  const double gait_period = cfg.rewards.gait_period;
  for (int w = 0; w < nworld; ++w) {
    CAPTURE(w, steps[w]);
    runtime::MujocoIO io(rspec, runtime::MujocoIOOptions{false, "parity" + std::to_string(w)});
    runtime::SensorReading s;
    io.read(s);
    REQUIRE(s.has_base_lin_vel);
    // the keyframe carried the state exactly
    for (int j = 0; j < na; ++j) {
      REQUIRE(s.joint_pos[j] == qpos[w][m.jnt_qposadr[j]]);
      REQUIRE(s.joint_vel[j] == qvel[w][m.jnt_dofadr[j]]);
    }
    const double phase = controller_phase(steps[w], spec.control_period, gait_period);
    std::vector<float> obs_rt(od);
    builder.build(obs_rt.data(), s, command[w].data(), action[w].data(), phase);

    // double quantities before scaling: the sensor reading against training's derived base state
    const double* base = d.base + kBaseStride * w;
    // the states discriminate: the base frame is far from the world frame, so a velocity in the
    // wrong frame could not pass
    double frame_gap = 0;
    for (int k = 0; k < 3; ++k) frame_gap = std::max(frame_gap, std::fabs(base[kBLinVel + k] - qvel[w][m.base_dofadr + k]));
    CHECK(frame_gap > 0.05);
    double grav[3];
    runtime::projected_gravity(grav, s.imu_quat);
    for (int k = 0; k < 3; ++k) {
      CAPTURE(k);
      const double dl = std::fabs(s.base_lin_vel[k] - base[kBLinVel + k]);
      const double da = std::fabs(s.imu_ang_vel[k] - base[kBImuAngVel + k]);
      const double dg = std::fabs(grav[k] - base[kBImuGravity + k]);
      CHECK(dl <= kTol);
      CHECK(da <= kTol);
      CHECK(dg <= kTol);
      stats["base_lin_vel"].max_double_diff = std::max(stats["base_lin_vel"].max_double_diff, dl);
      stats["base_ang_vel"].max_double_diff = std::max(stats["base_ang_vel"].max_double_diff, da);
      stats["projected_gravity"].max_double_diff = std::max(stats["projected_gravity"].max_double_diff, dg);
    }
    // the gait phase: the controller's formula against training's
    const double train_phase = gait_phase_world(w, 0, env->params(), d);
    const double dp = circular_diff(phase, train_phase);
    CHECK(dp <= kTol);
    stats["gait_phase"].max_double_diff = std::max(stats["gait_phase"].max_double_diff, dp);

    // the float observations, element by element
    for (const auto& t : spec.observation) {
      const int off = spec.obs_offset(t.term);
      const bool exact = t.term == "commands" || t.term == "joint_pos" || t.term == "joint_vel" ||
                         t.term == "last_action";
      TermStats& st = stats[t.term];
      for (int c = 0; c < t.size; ++c) {
        const float a = obs_rt[off + c], b = obs_train[static_cast<long>(w) * od + off + c];
        CAPTURE(t.term, c, a, b);
        REQUIRE(std::isfinite(a));
        const double diff = std::fabs(static_cast<double>(a) - static_cast<double>(b));
        st.max_float_diff = std::max(st.max_float_diff, diff);
        if (std::memcmp(&a, &b, sizeof(float)) != 0) ++st.mismatches;
        if (exact) {
          CHECK(std::memcmp(&a, &b, sizeof(float)) == 0);
        } else {
          // 1 float ulp, or the double tolerance scaled where the value is near 0 (tiny ulps)
          CHECK(diff <= std::max(float_ulp(b), std::fabs(t.scale[c]) * kTol));
        }
      }
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);

  std::printf("observation parity over %d H1 states (float obs: max |diff|, elements not bit-identical; "
              "double quantities before scaling: max |diff|)\n", nworld);
  for (const auto& t : spec.observation) {
    const TermStats& st = stats[t.term];
    std::printf("  %-18s float %.3g (%d/%d differ)  double %.3g\n", t.term.c_str(), st.max_float_diff,
                st.mismatches, nworld * t.size, st.max_double_diff);
  }
}

// the gait clock over a whole episode: training's phase against the controller's
// (runtime::gait_phase_at), bit for bit. (An earlier controller formula, fmod(step * period / T, 1),
// differed in the last bit at 92 of 2002 floats, e.g. phase 0 vs 0.9999999999999998 at step 200.)
TEST_CASE("observation parity: gait_phase over a whole episode", "[runtime][parity]") {
  set_data_dir(STAMPEDE_SOURCE_DIR);
  const TaskConfig cfg = quiet_h1_config();
  const int nworld = 8;
  auto venv = make_locomotion_vec_env("h1-walk", nworld, "mujoco", /*seed=*/5, &cfg, /*nthread=*/1);
  auto* env = dynamic_cast<LocomotionEnv<double>*>(venv.get());
  REQUIRE(env != nullptr);
  const robot::RobotSpec& spec = env->robot();
  const int od = env->obs_dim(), na = env->act_dim();
  const int off = spec.obs_offset("gait_phase");
  REQUIRE(off >= 0);
  std::vector<float> obs(static_cast<std::size_t>(nworld) * od), obs_rt(od);
  env->reset(obs.data());
  const runtime::ObservationBuilder builder(spec);
  runtime::SensorReading s;
  s.joint_pos.assign(na, 0.0);
  s.joint_vel.assign(na, 0.0);
  const double command[3] = {0, 0, 0};
  const std::vector<float> action(na, 0.0f);
  const int episode = env->max_episode_steps();
  double max_diff = 0;
  int differ = 0;
  for (int s0 = 0; s0 <= episode; s0 += nworld) {
    for (int w = 0; w < nworld; ++w) env->data().episode_step[w] = s0 + w;
    env->observe(obs.data());
    for (int w = 0; w < nworld && s0 + w <= episode; ++w) {
      const int step = s0 + w;
      builder.build(obs_rt.data(), s, command, action.data(),
                    controller_phase(step, spec.control_period, cfg.rewards.gait_period));
      for (int c = 0; c < 2; ++c) {
        const float a = obs_rt[off + c], b = obs[static_cast<long>(w) * od + off + c];
        CAPTURE(step, c, a, b);
        const double diff = std::fabs(static_cast<double>(a) - static_cast<double>(b));
        CHECK(diff <= kTol);
        max_diff = std::max(max_diff, diff);
        if (std::memcmp(&a, &b, sizeof(float)) != 0) ++differ;
      }
    }
  }
  std::printf("gait_phase over steps 0..%d: max |diff| %.3g, %d/%d floats not bit-identical\n", episode,
              max_diff, differ, 2 * (episode + 1));
  CHECK(differ == 0);
}
