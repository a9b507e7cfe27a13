// tests/runtime/test_transfer.cpp — the transfer benchmark (runtime/transfer.h) on a tiny policy
// against MuJoCo and against our training sim (assets/h1): sweeps parse, a zero-action policy
// (holds the default pose) stands through a short nominal episode, perturbations change the
// dynamics, the robot log of an episode replays with zero divergence, the training target agrees
// with MuJoCo on the same policy, a zero perturbation equals the nominal there, unknown targets and
// perturbations are refused, and `stampede transfer` writes the JSON it documents for both targets.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

#include "rl/export/policy_export.h"
#include "runtime/robot_log.h"
#include "runtime/transfer.h"

using namespace stampede;
namespace fs = std::filesystem;

namespace {

robot::RobotSpec h1() { return robot::load_robot(std::string(STAMPEDE_ASSETS_DIR) + "/h1/robot.yaml"); }

// a one-hidden-layer policy whose weights are all zero: action 0, targets = the default pose
rl::ExportedPolicy zero_policy(const robot::RobotSpec& spec) {
  rl::ExportedPolicy p = rl::random_policy(spec, {8}, 4);
  for (auto& w : p.weights) std::fill(w.begin(), w.end(), 0.0f);
  for (auto& b : p.biases) std::fill(b.begin(), b.end(), 0.0f);
  return p;
}

runtime::TransferOptions short_options() {
  runtime::TransferOptions o;
  o.episodes = 2;
  o.episode_seconds = 1.0;
  o.command_vx = 1.0;
  o.fall.min_base_height = 0.6;  // h1-walk's termination section
  o.fall.max_tilt = 1.0;
  o.fall.contact_bodies = {"torso_link"};
  return o;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("stampede_test_transfer_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("transfer: --perturb sweeps parse, and bad ones are refused by part") {
  auto c = runtime::parse_perturb("friction=0.5:1.5");
  REQUIRE(c.size() == 3);
  CHECK(c[0].value == 0.5);
  CHECK(c[1].value == 1.0);
  CHECK(c[2].value == 1.5);
  CHECK(c[1].label() == "friction=1");
  c = runtime::parse_perturb("latency=0:2:5");  // whole control steps, repeats dropped
  REQUIRE(c.size() == 3);
  CHECK(c[2].value == 2);
  c = runtime::parse_perturb("mass=-1:3:1");
  REQUIRE(c.size() == 1);
  CHECK(c[0].value == -1);
  CHECK_THROWS_WITH(runtime::parse_perturb("gravity=0:1"), Catch::Contains("unknown perturbation 'gravity'"));
  CHECK_THROWS_WITH(runtime::parse_perturb("kp=1"), Catch::Contains("expected name=lo:hi[:n]"));
  CHECK_THROWS_WITH(runtime::parse_perturb("kp=x:2"), Catch::Contains("lo 'x' is not a number"));
  CHECK_THROWS_WITH(runtime::parse_perturb("kp=2:1"), Catch::Contains("hi < lo"));
  CHECK_THROWS_WITH(runtime::parse_perturb("push=0:1:0"), Catch::Contains("n must be an integer"));
}

TEST_CASE("transfer: a zero-action policy stands through a nominal episode; perturbations act; the log replays") {
  const robot::RobotSpec spec = h1();
  runtime::Policy policy = runtime::Policy::from_bytes(rl::export_policy_onnx_bytes(zero_policy(spec)), "zero.onnx");
  const runtime::TransferOptions o = short_options();

  runtime::RobotLog log;
  const runtime::ConditionResult nominal = runtime::run_condition(spec, policy, runtime::Condition{}, o, &log);
  REQUIRE(nominal.episodes.size() == 2);
  CHECK(nominal.success_rate == 1.0);
  CHECK(nominal.falls == 0);
  CHECK(nominal.damping == 0);
  CHECK(nominal.duration == Approx(1.0).margin(1e-9));
  // standing still under a 1 m/s command: the tracking error is about the command itself
  CHECK(nominal.vel_error == Approx(1.0).margin(0.1));
  CHECK(nominal.mean_abs_torque > 0);
  CHECK(nominal.power > 0);
  // no randomness in the nominal condition: the episodes are identical
  CHECK(nominal.episodes[0].power == nominal.episodes[1].power);

  // one perturbation at a time changes what the motors do
  const auto heavy = runtime::run_condition(spec, policy, {"mass", 10.0}, o, nullptr);
  CHECK(heavy.mean_abs_torque > nominal.mean_abs_torque);
  runtime::TransferOptions pushed = o;
  pushed.push_interval = 0.25;  // pushes at 0.25, 0.5 and 0.75 s
  const auto push = runtime::run_condition(spec, policy, {"push", 1.5}, pushed, nullptr);
  CHECK(push.vel_error != nominal.vel_error);
  const auto weak = runtime::run_condition(spec, policy, {"motor_strength", 0.5}, o, nullptr);
  CHECK(weak.mean_abs_torque != nominal.mean_abs_torque);
  // sensor noise reaches the policy (a zero-weight policy ignores its input: use small random
  // weights), with its own noise in each episode
  runtime::Policy random = runtime::Policy::from_bytes(rl::export_policy_onnx_bytes(rl::random_policy(spec, {8}, 7)), "random.onnx");
  const auto clean = runtime::run_condition(spec, random, runtime::Condition{}, o, nullptr);
  const auto noisy = runtime::run_condition(spec, random, {"sensor_noise", 1.0}, o, nullptr);
  CHECK(clean.episodes[0].power == clean.episodes[1].power);
  CHECK(noisy.episodes[0].power != noisy.episodes[1].power);

  // the log: one row per control step of the first episode, the contract's hash
  REQUIRE(log.steps == 50);  // 1 s at 50 Hz
  CHECK(log.contract_hash == policy.contract_hash());
  CHECK(log.nobs == spec.obs_size());
  for (int k = 0; k < log.steps; ++k) CHECK(log.mode[k] == 0);
  TempDir dir;
  const std::string path = (dir.path / "nominal.h5").string();
  runtime::write_robot_log(path, log);
  const runtime::RobotLog back = runtime::read_robot_log(path);
  // replaying the logged targets in the same (nominal, deterministic) MuJoCo reproduces the run
  const runtime::ReplayResult r = runtime::replay_log(spec, back, path);
  CHECK(r.steps == 49);
  REQUIRE(r.max.size() == static_cast<std::size_t>(spec.num_joints()));
  for (double m : r.max) CHECK(m == 0.0);
  CHECK(r.base_pos_max == 0.0);

  // a log of another robot is refused, naming the attribute
  runtime::RobotLog other = back;
  other.robot = "humanoid";
  CHECK_THROWS_WITH(runtime::replay_log(spec, other, "other.h5"), Catch::Contains("other.h5: attribute 'robot'"));
}

TEST_CASE("transfer: a log recorded under latency diverges from its nominal replay") {
  const robot::RobotSpec spec = h1();
  rl::ExportedPolicy p = rl::random_policy(spec, {8}, 7);  // small random actions move the joints
  runtime::Policy policy = runtime::Policy::from_bytes(rl::export_policy_onnx_bytes(p), "random.onnx");
  runtime::TransferOptions o = short_options();
  o.episodes = 1;
  o.episode_seconds = 0.5;
  runtime::RobotLog log;
  runtime::run_condition(spec, policy, {"latency", 2}, o, &log);
  const runtime::ReplayResult r = runtime::replay_log(spec, log, "latency.h5");
  double worst = 0;
  for (double m : r.max) worst = std::max(worst, m);
  CHECK(worst > 1e-6);
}

bool has_training_target() {
  const auto t = runtime::transfer_targets();
  return std::find(t.begin(), t.end(), "training") != t.end();
}

TEST_CASE("transfer --target training: the training sim agrees with MuJoCo; a zero perturbation is the nominal; perturbations act") {
  if (!has_training_target()) {
    WARN("this build has no training target (no CPU kernel backend): skipped");
    return;
  }
  const robot::RobotSpec spec = h1();
  runtime::Policy policy = runtime::Policy::from_bytes(rl::export_policy_onnx_bytes(zero_policy(spec)), "zero.onnx");
  runtime::Policy random = runtime::Policy::from_bytes(rl::export_policy_onnx_bytes(rl::random_policy(spec, {8}, 7)), "random.onnx");
  const runtime::TransferOptions o = short_options();
  runtime::TransferOptions t = o;
  t.target = "training";

  runtime::RobotLog log;
  const runtime::ConditionResult nominal = runtime::run_condition(spec, policy, runtime::Condition{}, t, &log);
  const runtime::ConditionResult mujoco = runtime::run_condition(spec, policy, runtime::Condition{}, o, nullptr);
  INFO("training: vel_error " << nominal.vel_error << " |tau| " << nominal.mean_abs_torque << " power " << nominal.power);
  INFO("mujoco:   vel_error " << mujoco.vel_error << " |tau| " << mujoco.mean_abs_torque << " power " << mujoco.power);
  CHECK(nominal.success_rate == 1.0);
  CHECK(nominal.damping == 0);
  CHECK(nominal.duration == Approx(1.0).margin(1e-9));
  CHECK(nominal.episodes[0].power == nominal.episodes[1].power);  // deterministic
  REQUIRE(log.steps == 50);
  CHECK(log.nq == 26);  // H1's MJCF state: free joint (7) + 19 hinges

  // the same policy on two engines of the same MJCF: our float kernels and MuJoCo's double
  // mj_step differ by rounding that grows over the episode (measured: 1e-5 relative on these
  // metrics, standing and falling), so 1e-3 relative. A wrong gain, decimation, actuator map,
  // sensor frame or fall rule moves them by far more.
  CHECK(nominal.success_rate == mujoco.success_rate);
  CHECK(nominal.vel_error == Approx(mujoco.vel_error).epsilon(1e-3));
  CHECK(nominal.mean_abs_torque == Approx(mujoco.mean_abs_torque).epsilon(1e-3));
  CHECK(nominal.power == Approx(mujoco.power).epsilon(1e-3));
  {
    // small random weights: the joints move, and H1 falls after about 2 s on both engines
    runtime::TransferOptions m3 = o, t3 = t;
    m3.episodes = t3.episodes = 1;
    m3.episode_seconds = t3.episode_seconds = 3;
    const auto a = runtime::run_condition(spec, random, runtime::Condition{}, m3, nullptr);
    const auto b = runtime::run_condition(spec, random, runtime::Condition{}, t3, nullptr);
    INFO("mujoco: " << a.falls << " falls at " << a.duration << " s; training: " << b.falls << " at " << b.duration << " s");
    CHECK(a.falls == 1);
    CHECK(b.falls == a.falls);
    // a fall is judged at a control step: the same one, or the next as rounding grows in the fall
    CHECK(b.duration == Approx(a.duration).margin(0.021));
    CHECK(b.vel_error == Approx(a.vel_error).epsilon(1e-3));
    CHECK(b.mean_abs_torque == Approx(a.mean_abs_torque).epsilon(1e-3));
    CHECK(b.power == Approx(a.power).epsilon(1e-3));
  }

  {
    // the sensors, read the same way: both engines driven by the same PD targets (the default pose
    // with the hips and knees bent: after 0.3 s the base pitches by about 0.6 rad and moves at
    // 0.3 m/s); measured agreement 1e-5, the same rounding as above, so 1e-3
    const auto mj = runtime::make_transfer_target("mujoco", spec, runtime::Condition{}, 0);
    const auto tr = runtime::make_transfer_target("training", spec, runtime::Condition{}, 0);
    runtime::JointCommand cmd;
    for (const auto& j : spec.joints) {
      const bool bend = j.name.find("hip_pitch") != std::string::npos || j.name.find("knee") != std::string::npos;
      cmd.target.push_back(j.default_pos + (bend ? 0.3 : 0.0));
      cmd.kp.push_back(j.kp);
      cmd.kd.push_back(j.kd);
      cmd.torque_limit.push_back(j.torque_limit);
    }
    mj->write(cmd);
    tr->write(cmd);
    mj->wait_until(0.3);
    tr->wait_until(0.3);
    runtime::SensorReading a, b;
    mj->read(a);
    tr->read(b);
    CHECK(tr->sim_time() == Approx(mj->sim_time()).margin(1e-9));
    for (int j = 0; j < spec.num_joints(); ++j) {
      INFO(spec.joints[j].name);
      CHECK(b.joint_pos[j] == Approx(a.joint_pos[j]).margin(1e-3));
      CHECK(b.joint_vel[j] == Approx(a.joint_vel[j]).margin(1e-2));  // rad/s, |qd| up to about 1
    }
    double moving = 0;
    for (int k = 0; k < 3; ++k) {
      moving = std::max(moving, std::fabs(a.base_lin_vel[k]));
      CHECK(b.base_lin_vel[k] == Approx(a.base_lin_vel[k]).margin(1e-3));
      CHECK(b.imu_ang_vel[k] == Approx(a.imu_ang_vel[k]).margin(1e-3));
    }
    CHECK(moving > 0.05);  // the squat moves the base: the comparison is not of zeros
    for (int k = 0; k < 4; ++k) CHECK(b.imu_quat[k] == Approx(a.imu_quat[k]).margin(1e-4));
    CHECK(tr->heading_velocity() == Approx(mj->heading_velocity()).margin(1e-3));
    CHECK(tr->fallen() == mj->fallen());
  }

  // a condition at its nominal value is the nominal, to the bit
  runtime::TransferOptions one = t;
  one.episodes = 1;
  const runtime::ConditionResult nominal1 = runtime::run_condition(spec, policy, runtime::Condition{}, one, nullptr);
  for (const runtime::Condition& c : std::vector<runtime::Condition>{
           {"friction", 1.0}, {"mass", 0.0}, {"motor_strength", 1.0}, {"kp", 1.0}, {"kd", 1.0}, {"latency", 0.0},
           {"sensor_noise", 0.0}, {"push", 0.0}}) {
    INFO(c.label());
    const auto r = runtime::run_condition(spec, policy, c, one, nullptr);
    CHECK(r.vel_error == nominal1.vel_error);
    CHECK(r.mean_abs_torque == nominal1.mean_abs_torque);
    CHECK(r.power == nominal1.power);
  }

  // and every perturbation changes what happens
  runtime::TransferOptions pushed = one;
  pushed.push_interval = 0.25;
  CHECK(runtime::run_condition(spec, policy, {"mass", 10.0}, one, nullptr).mean_abs_torque > nominal1.mean_abs_torque);
  CHECK(runtime::run_condition(spec, policy, {"motor_strength", 0.5}, one, nullptr).mean_abs_torque != nominal1.mean_abs_torque);
  CHECK(runtime::run_condition(spec, policy, {"kp", 0.5}, one, nullptr).power != nominal1.power);
  CHECK(runtime::run_condition(spec, policy, {"kd", 2.0}, one, nullptr).power != nominal1.power);
  CHECK(runtime::run_condition(spec, policy, {"friction", 0.1}, one, nullptr).power != nominal1.power);
  CHECK(runtime::run_condition(spec, policy, {"push", 1.5}, pushed, nullptr).vel_error != nominal1.vel_error);
  const auto clean = runtime::run_condition(spec, random, runtime::Condition{}, t, nullptr);
  const auto late = runtime::run_condition(spec, random, {"latency", 2}, t, nullptr);
  const auto noisy = runtime::run_condition(spec, random, {"sensor_noise", 1.0}, t, nullptr);
  CHECK(clean.episodes[0].power == clean.episodes[1].power);
  CHECK(late.power != clean.power);
  CHECK(noisy.episodes[0].power != noisy.episodes[1].power);  // its own noise in each episode
}

TEST_CASE("transfer: unknown targets and perturbations, and impossible masses, are refused by name") {
  const robot::RobotSpec spec = h1();
  CHECK_THROWS_WITH(runtime::make_transfer_target("isaac", spec, runtime::Condition{}, 0),
                    Catch::Contains("unknown target 'isaac'"));
  for (const auto& target : runtime::transfer_targets()) {
    INFO(target);
    CHECK_THROWS_WITH(runtime::make_transfer_target(target, spec, {"gravity", 1.0}, 0),
                      Catch::Contains("unknown perturbation 'gravity'"));
    CHECK_THROWS_WITH(runtime::make_transfer_target(target, spec, {"mass", -1000.0}, 0),
                      Catch::Contains("mass=-1000") && Catch::Contains("base mass <= 0"));
    CHECK_NOTHROW(runtime::make_transfer_target(target, spec, {"friction", 0.5}, 0));
  }
}

#ifdef STAMPEDE_BIN
TEST_CASE("stampede transfer: the CLI writes transfer.json for a nominal run and a sweep, and replays its log") {
  const robot::RobotSpec spec = h1();
  TempDir dir;
  const std::string policy = (dir.path / "zero.onnx").string();
  rl::export_policy_onnx(zero_policy(spec), policy);
  const std::string out = (dir.path / "out").string();
  const std::string log = (dir.path / "run.h5").string();
  const std::string cmd = std::string(STAMPEDE_BIN) + " transfer --policy " + policy +
                          " --robot h1 --episodes 1 --episode-seconds 0.5 --perturb kp=0.8:1.2:2 --log " + log +
                          " -o " + out + " > " + (dir.path / "stdout.txt").string() + " 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream in(out + "/transfer.json");
  const std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  INFO(json);
  CHECK(json.find("\"format\": \"stampede-transfer-1\"") != std::string::npos);
  CHECK(json.find("\"target\": \"mujoco\"") != std::string::npos);
  CHECK(json.find("{\"label\": \"nominal\", \"perturbation\": \"nominal\", \"value\": 0, \"episodes\": 1, "
                  "\"success_rate\": 1, \"falls\": 0") != std::string::npos);
  CHECK(json.find("\"label\": \"kp=0.8\"") != std::string::npos);
  CHECK(json.find("\"label\": \"kp=1.2\"") != std::string::npos);
  CHECK(json.find("\"gap\": {\"success_rate\": 0,") != std::string::npos);
  if (std::system("python3 -c 'import json' > /dev/null 2>&1") == 0) {
    const std::string check = "python3 -c \"import json,sys; r=json.load(open(sys.argv[1])); "
                              "assert len(r['conditions']) == 3 and r['conditions'][0]['success_rate'] == 1\" " +
                              out + "/transfer.json";
    CHECK(std::system(check.c_str()) == 0);
  }
  const runtime::RobotLog l = runtime::read_robot_log(log);
  CHECK(l.steps == 25);
  const std::string replay = std::string(STAMPEDE_BIN) + " transfer --replay " + log + " --robot h1 -o " + out +
                             " > /dev/null 2>&1";
  REQUIRE(std::system(replay.c_str()) == 0);
  std::ifstream rin(out + "/replay.json");
  const std::string rjson((std::istreambuf_iterator<char>(rin)), std::istreambuf_iterator<char>());
  CHECK(rjson.find("\"steps\": 24") != std::string::npos);
  CHECK(rjson.find("\"name\": \"left_knee\", \"rms\": 0, \"max\": 0") != std::string::npos);
  // an unknown target is refused
  const std::string unknown = std::string(STAMPEDE_BIN) + " transfer --policy " + policy +
                              " --robot h1 --target isaac -o " + out + " > /dev/null 2>&1";
  CHECK(std::system(unknown.c_str()) != 0);

  // the training target: the same report
  if (!has_training_target()) return;
  const std::string tout = (dir.path / "training").string();
  const std::string training = std::string(STAMPEDE_BIN) + " transfer --policy " + policy +
                               " --robot h1 --target training --episodes 1 --episode-seconds 0.5 --perturb mass=0:10:2 -o " +
                               tout + " > " + (dir.path / "training.txt").string() + " 2>&1";
  REQUIRE(std::system(training.c_str()) == 0);
  std::ifstream tin(tout + "/transfer.json");
  const std::string tjson((std::istreambuf_iterator<char>(tin)), std::istreambuf_iterator<char>());
  INFO(tjson);
  CHECK(tjson.find("\"target\": \"training\"") != std::string::npos);
  CHECK(tjson.find("{\"label\": \"nominal\", \"perturbation\": \"nominal\", \"value\": 0, \"episodes\": 1, "
                   "\"success_rate\": 1, \"falls\": 0") != std::string::npos);
  // mass=0 is the nominal: no gap at all
  CHECK(tjson.find("{\"label\": \"mass=0\", \"perturbation\": \"mass\", \"value\": 0, \"episodes\": 1, "
                   "\"success_rate\": 1, \"falls\": 0, \"damping\": 0") != std::string::npos);
  CHECK(tjson.find("\"gap\": {\"success_rate\": 0, \"vel_error\": 0, \"mean_abs_torque\": 0, \"power\": 0}") !=
        std::string::npos);
  CHECK(tjson.find("\"label\": \"mass=10\"") != std::string::npos);
}
#endif
