// tests/sim/tasks/test_locomotion_env.cpp — the batched VecEnv on the MuJoCo reference backend:
// reset/termination/truncation semantics, automatic resets, PD control reaching the engine,
// per-term reward buffers, determinism, and the factory's errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <vector>

#include "sim/mujoco_backend.h"
#include "sim/tasks/locomotion_env.h"
#include "sim/tasks/make_env.h"
#include "float_backend.h"
#include "task_fixture.h"

using namespace stampede;
using namespace stampede::sim::tasks;

namespace {

struct H1 {
  robot::RobotSpec spec = robot::load_robot(std::string(STAMPEDE_ASSETS_DIR) + "/h1/robot.yaml");
  test::ModelPtr model{test::load_model(spec.mjcf)};
};

std::unique_ptr<LocomotionEnv<double>> make_h1_env(const H1& h1, const TaskConfig& cfg, int n,
                                                   uint64_t seed, int nthread = 1) {
  return std::make_unique<LocomotionEnv<double>>(sim::make_mujoco_backend(h1.model.get(), n, nthread),
                                                 h1.spec, cfg, seed, nthread);
}

// output buffers of one step
struct Out {
  std::vector<float> obs, final_obs, reward;
  std::vector<unsigned char> terminated, truncated;
  explicit Out(int n) : reward(n), terminated(n), truncated(n) {}
  explicit Out(const rl::VecEnvBase& env)
      : obs(env.num_envs() * env.obs_dim()),
        final_obs(env.num_envs() * env.obs_dim(), NAN),
        reward(env.num_envs()),
        terminated(env.num_envs()),
        truncated(env.num_envs()) {}
  void step(rl::VecEnvBase& env, const std::vector<float>& act) {
    env.step(act.data(), obs.data(), reward.data(), terminated.data(), truncated.data(),
             final_obs.data());
  }
};

TaskConfig h1_quiet() {
  TaskConfig c = test::quiet_config();
  c.robot = "h1";
  c.termination.contact_bodies = {"torso_link"};
  return c;
}

}  // namespace

TEST_CASE("env: sizes, reset observation, PD control reaches the engine", "[tasks][env]") {
  H1 h1;
  auto env = make_h1_env(h1, h1_quiet(), 3, 1);
  REQUIRE(env->num_envs() == 3);
  REQUIRE(env->act_dim() == 19);
  REQUIRE(env->obs_dim() == 3 + 3 + 3 + 3 + 3 * 19 + 2);
  CHECK(env->max_episode_steps() == 1000);
  CHECK(env->contract_hash() == robot::contract_hash(h1.spec));
  Out out(*env);
  env->reset(out.obs.data());
  // home pose, no noise: joint_pos terms are 0, gravity points down, clock at phase 0
  const int jp = h1.spec.obs_offset("joint_pos");
  const int grav = h1.spec.obs_offset("projected_gravity");
  REQUIRE(jp >= 0);
  REQUIRE(grav >= 0);
  for (int w = 0; w < 3; ++w) {
    const float* o = out.obs.data() + w * env->obs_dim();
    CHECK(o[grav + 2] == Approx(-1.0).margin(1e-6));
    for (int i = 0; i < 19; ++i) CHECK(o[jp + i] == Approx(0.0).margin(1e-6));
    CHECK(o[env->obs_dim() - 2] == 0.0f);  // sin 0
    CHECK(o[env->obs_dim() - 1] == 1.0f);  // cos 0
  }

  // a step with actions: ctrl of the last physics step is tau / gear, tau the clipped PD law at
  // the state before that step, and the targets are default + 0.25 a
  std::vector<float> act(3 * 19);
  for (size_t i = 0; i < act.size(); ++i) act[i] = 0.4f * std::sin(0.7 * i);
  out.step(*env, act);
  const auto& m = env->model();
  const auto& d = env->data();
  for (int w = 0; w < 3; ++w)
    for (int i = 0; i < 19; ++i) {
      const int k = w * 19 + i;
      CHECK(d.targets[k] == Approx(m.default_pos[i] + 0.25 * double(act[k])).epsilon(1e-12));
      CHECK(env->backend().ctrl()[w * m.nu + m.act_id[i]] == Approx(d.torques[k] / m.act_gear[i]));
      CHECK(std::abs(d.torques[k]) <= m.torque_limit[i]);
    }
  for (float v : out.obs) CHECK(std::isfinite(v));
}

TEST_CASE("env: reward is the sum of its per-term buffers; stats name every term", "[tasks][env]") {
  H1 h1;
  auto cfg = h1_quiet();
  cfg.rewards.only_positive = false;
  auto env = make_h1_env(h1, cfg, 4, 2);
  Out out(*env);
  env->reset(out.obs.data());
  std::vector<float> act(4 * 19, 0.1f);
  for (int t = 0; t < 5; ++t) {
    out.step(*env, act);
    for (int w = 0; w < 4; ++w) {
      double sum = 0;
      for (int k = 0; k < kNumRewardTerms; ++k) sum += env->reward_terms()[w * kNumRewardTerms + k];
      CHECK(out.reward[w] == Approx(sum).epsilon(1e-6));  // float output
    }
  }
  const auto stats = env->step_stats();
  for (int k = 0; k < kNumRewardTerms; ++k)
    CHECK(stats.count(std::string("reward/") + reward_term_name(k)) == 1);
  // standing still at the home pose: alive accrues 0.15 x 0.02 per step in every world
  CHECK(stats.at("reward/alive") == Approx(0.15 * 0.02).epsilon(1e-12));
}

TEST_CASE("env: time limit truncates, keeps the final observation and resets", "[tasks][env]") {
  H1 h1;
  auto cfg = h1_quiet();
  cfg.episode_length = 0.1;  // 5 control steps
  cfg.termination.min_base_height = 0.0;
  cfg.termination.max_tilt = 0.0;
  auto env = make_h1_env(h1, cfg, 2, 3);
  Out out(*env);
  env->reset(out.obs.data());
  std::vector<float> act(2 * 19, 0.0f);
  for (int t = 1; t <= 4; ++t) {
    out.step(*env, act);
    CHECK(out.truncated[0] == 0);
    CHECK(out.terminated[0] == 0);
    CHECK(env->data().episode_step[0] == t);
  }
  std::vector<float> before = out.obs;
  out.step(*env, act);
  for (int w = 0; w < 2; ++w) {
    CHECK(out.truncated[w] == 1);
    CHECK(out.terminated[w] == 0);
    CHECK(env->data().episode_step[w] == 0);
  }
  // final_obs is the last observation of the old episode (clock at 5 x 0.02 s), obs the first of
  // the new one (clock at 0); the termination term did not fire
  const int n = env->obs_dim();
  CHECK(out.final_obs[n - 2] == Approx(std::sin(2 * M_PI * 0.1 / 0.8)).margin(1e-6));
  CHECK(out.obs[n - 2] == 0.0f);
  CHECK(env->reward_terms()[kTermination] == 0.0);
  // the world is back at its initial state
  const double* qpos = env->backend().qpos();
  for (int i = 0; i < env->model().nq; ++i) CHECK(qpos[i] == env->model().init_qpos[i]);
  const auto stats = env->step_stats();
  CHECK(stats.at("episode/finished") == 2);
  CHECK(stats.at("episode/length_s") == Approx(0.1).epsilon(1e-12));
}

TEST_CASE("env: a fall terminates (not truncates), pays the penalty and resets", "[tasks][env]") {
  H1 h1;
  auto cfg = h1_quiet();
  auto env = make_h1_env(h1, cfg, 2, 4);
  Out out(*env);
  env->reset(out.obs.data());
  // knock world 1 over: put its pelvis on the ground, rolled by 90 degrees
  double* q = env->backend().qpos() + env->model().nq;
  q[2] = 0.15;
  q[3] = std::cos(M_PI / 4);
  q[4] = std::sin(M_PI / 4);
  std::vector<float> act(2 * 19, 0.0f);
  out.step(*env, act);
  CHECK(out.terminated[0] == 0);
  CHECK(out.terminated[1] == 1);
  CHECK(out.truncated[1] == 0);
  CHECK(env->reward_terms()[kNumRewardTerms + kTermination] == Approx(-200.0 * 0.02));
  // only_positive clips the rest at 0, so the reward is the penalty alone
  CHECK(out.reward[1] == Approx(-4.0f));
  CHECK(env->data().episode_step[1] == 0);
  CHECK(env->backend().qpos()[env->model().nq + 2] == env->model().init_qpos[2]);
  // the final observation shows the fall: gravity along the base's y axis
  const float* fo = out.final_obs.data() + env->obs_dim();
  CHECK(std::abs(fo[h1.spec.obs_offset("projected_gravity") + 1]) > 0.8f);
}

TEST_CASE("env: same seed, same trajectories; another seed, others", "[tasks][env]") {
  H1 h1;
  auto cfg = find_task_config("h1-walk");  // full randomization, noise, pushes
  cfg.episode_length = 0.4;  // resets inside the run
  auto run = [&](uint64_t seed, int nthread = 1) {
    auto env = make_h1_env(h1, cfg, 3, seed, nthread);
    Out out(*env);
    env->reset(out.obs.data());
    std::vector<float> trace = out.obs;
    uint64_t rng = 99;
    std::vector<float> act(3 * 19);
    for (int t = 0; t < 30; ++t) {
      for (float& a : act) a = static_cast<float>(rng_uniform(rng, -1.0, 1.0));
      out.step(*env, act);
      trace.insert(trace.end(), out.obs.begin(), out.obs.end());
      trace.insert(trace.end(), out.reward.begin(), out.reward.end());
      for (int w = 0; w < 3; ++w) trace.push_back(out.terminated[w] + 2 * out.truncated[w]);
    }
    return trace;
  };
  const auto a = run(11), b = run(11), c = run(12), threaded = run(11, 2);
  REQUIRE(a.size() == b.size());
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  // worlds are independent: the thread count changes nothing
  CHECK(std::memcmp(a.data(), threaded.data(), a.size() * sizeof(float)) == 0);
  CHECK(std::memcmp(a.data(), c.data(), a.size() * sizeof(float)) != 0);
}

TEST_CASE("env: threads running blocks of worlds change nothing", "[tasks][env]") {
  // 130 worlds: three blocks of the task's per-world loops, handed to a 2-thread pool
  H1 h1;
  auto cfg = find_task_config("h1-walk");
  auto run = [&](int nthread) {
    auto env = make_h1_env(h1, cfg, 130, 21, nthread);
    Out out(*env);
    env->reset(out.obs.data());
    std::vector<float> trace = out.obs;
    uint64_t rng = 3;
    std::vector<float> act(130 * 19);
    for (int t = 0; t < 5; ++t) {
      for (float& a : act) a = static_cast<float>(rng_uniform(rng, -1.0, 1.0));
      out.step(*env, act);
      trace.insert(trace.end(), out.obs.begin(), out.obs.end());
      trace.insert(trace.end(), out.reward.begin(), out.reward.end());
    }
    return trace;
  };
  const auto serial = run(1), pooled = run(2);
  REQUIRE(serial.size() == pooled.size());
  CHECK(std::memcmp(serial.data(), pooled.data(), serial.size() * sizeof(float)) == 0);
}

TEST_CASE("env: domain randomization reaches the backend's model fields", "[tasks][env]") {
  H1 h1;
  auto cfg = find_task_config("h1-walk");
  auto env = make_h1_env(h1, cfg, 4, 5);
  Out out(*env);
  env->reset(out.obs.data());
  int fsize = 0, msize = 0;
  const double* fr = env->backend().model_field("geom_friction", &fsize);
  const double* mass = env->backend().model_field("body_mass", &msize);
  const int base = env->model().base_body;
  std::vector<double> mus;
  for (int w = 0; w < 4; ++w) {
    const double mu = fr[w * fsize];
    CHECK(mu >= 0.5);
    CHECK(mu <= 1.25);
    mus.push_back(mu);
    CHECK(mass[w * msize + base] >= h1.model->body_mass[base] - 1.0);
    CHECK(mass[w * msize + base] <= h1.model->body_mass[base] + 3.0);
  }
  CHECK(mus[0] != mus[1]);
}

TEST_CASE("factory: tasks, devices and errors", "[tasks][env]") {
  const auto names = locomotion_task_names();
  CHECK(std::find(names.begin(), names.end(), "h1-walk") != names.end());
  CHECK_THROWS_WITH(make_locomotion_env("no-such-task", 2, "mujoco", 0),
                    Catch::Contains("unknown task 'no-such-task'") && Catch::Contains("h1-walk"));
  CHECK_THROWS_WITH(make_locomotion_env("h1-walk", 2, "tpu", 0), Catch::Contains("unknown device 'tpu'"));
  CHECK_THROWS_WITH(make_locomotion_env("h1-walk", 0, "mujoco", 0), Catch::Contains("num_envs"));
  auto env = make_locomotion_env("h1-walk", 2, "mujoco", 0, nullptr, 1);
  CHECK(env->num_envs() == 2);
  CHECK(env->act_dim() == 19);
  // the capsule humanoid runs through the same task
  auto hum = make_locomotion_env("humanoid-walk", 2, "mujoco", 0, nullptr, 1);
  REQUIRE(hum->act_dim() == 21);
  std::vector<float> obs(2 * hum->obs_dim()), fo(obs.size()), rew(2), act(2 * 21, 0.2f);
  std::vector<unsigned char> te(2), tr(2);
  hum->reset(obs.data());
  for (int t = 0; t < 20; ++t) hum->step(act.data(), obs.data(), rew.data(), te.data(), tr.data(), fo.data());
  for (float v : obs) CHECK(std::isfinite(v));
}

TEST_CASE("env: zero actions hold the H1 standing for 3 s under the PD law", "[tasks][env]") {
  // a sign error in the PD law, the targets or the gear would make it fall within a second
  H1 h1;
  auto env = make_h1_env(h1, h1_quiet(), 2, 6);
  Out out(*env);
  env->reset(out.obs.data());
  std::vector<float> act(2 * 19, 0.0f);
  for (int t = 0; t < 150; ++t) {
    out.step(*env, act);
    REQUIRE(out.terminated[0] == 0);
    REQUIRE(out.terminated[1] == 0);
  }
  const double z = env->backend().qpos()[2];
  CHECK(z > 0.9);
  CHECK(z < 1.1);
  // both feet carry the weight: each foot's normal force is a sizeable share of m g
  const double* con = env->data().contact;
  CHECK(con[0] > 100.0);
  CHECK(con[1] > 100.0);
}

TEST_CASE("env: in free fall the PD law drives every joint to default + scale x action", "[tasks][env]") {
  // no contacts and no gravity-induced joint loads in free fall: only the PD law acts on joints
  H1 h1;
  auto cfg = h1_quiet();
  cfg.termination.min_base_height = 0.0;
  cfg.termination.max_tilt = 0.0;
  auto env = make_h1_env(h1, cfg, 1, 7);
  Out out(*env);
  env->reset(out.obs.data());
  env->backend().qpos()[2] = 20.0;
  std::vector<float> act(19);
  for (int i = 0; i < 19; ++i) act[i] = (i % 3 == 0) ? 0.5f : -0.3f;
  for (int t = 0; t < 40; ++t) out.step(*env, act);
  REQUIRE(out.terminated[0] == 0);
  const auto& m = env->model();
  for (int i = 0; i < 19; ++i) {
    INFO("joint " << h1.spec.joints[i].name);
    const double target = m.default_pos[i] + 0.25 * act[i];
    // joint damping and the coupling of the floating base leave a small steady error
    CHECK(env->backend().qpos()[m.jnt_qposadr[i]] == Approx(target).margin(0.015));
  }
}

TEST_CASE("env: the float instantiation tracks the double one on the same physics", "[tasks][env]") {
  // LocomotionEnv<float> is what the kernel backends run; here its backend is MuJoCo with the
  // state rounded to float at every call
  H1 h1;
  auto cfg = find_task_config("h1-walk");  // randomization, noise and pushes on
  auto dbl = make_h1_env(h1, cfg, 4, 8);
  LocomotionEnv<float> flt(std::make_unique<test::FloatBackend>(sim::make_mujoco_backend(h1.model.get(), 4, 1)),
                           h1.spec, cfg, 8);
  REQUIRE(flt.obs_dim() == dbl->obs_dim());
  Out a(*dbl), b(flt);
  dbl->reset(a.obs.data());
  flt.reset(b.obs.data());
  // same random draws (float rounding of the draws aside): the same initial observations
  for (size_t i = 0; i < a.obs.size(); ++i) CHECK(b.obs[i] == Approx(a.obs[i]).margin(1e-5));
  std::vector<float> act(4 * 19);
  double max_diff = 0;
  for (int t = 0; t < 10; ++t) {
    for (size_t i = 0; i < act.size(); ++i) act[i] = 0.3f * std::sin(0.37f * i + t);
    a.step(*dbl, act);
    b.step(flt, act);
    // the float state's rounding (1e-7 relative), amplified by 10 steps of contact dynamics
    for (size_t i = 0; i < a.obs.size(); ++i) {
      CHECK(b.obs[i] == Approx(a.obs[i]).margin(1e-4));
      max_diff = std::max(max_diff, std::abs(double(b.obs[i]) - a.obs[i]));
    }
    for (int w = 0; w < 4; ++w) {
      CHECK(b.reward[w] == Approx(a.reward[w]).margin(1e-5));
      CHECK(b.terminated[w] == a.terminated[w]);
    }
  }
  // measured 1.2e-6 at most: the 1e-4 margin leaves room for chaotic contact events
  CHECK(max_diff > 0);  // the float path really ran on rounded state
}

namespace {

// the same 1 s of standing and swaying on MuJoCo and on the CPU kernel backend; false when this
// build has no CPU kernel backend
bool run_cpu_and_reference(Out& a, Out& b, const std::function<void(int)>& check_step,
                           std::unique_ptr<LocomotionVecEnv>& ref, std::unique_ptr<LocomotionVecEnv>& cpu) {
  const auto devices = available_devices();
  if (std::find(devices.begin(), devices.end(), "cpu") == devices.end()) return false;
  auto cfg = h1_quiet();
  ref = make_locomotion_vec_env("h1-walk", 2, "mujoco", 9, &cfg, 1);
  cpu = make_locomotion_vec_env("h1-walk", 2, "cpu", 9, &cfg, 1);
  a = Out(*ref);
  b = Out(*cpu);
  ref->reset(a.obs.data());
  cpu->reset(b.obs.data());
  std::vector<float> act(2 * 19);
  for (int t = 0; t < 50; ++t) {
    for (size_t i = 0; i < act.size(); ++i) act[i] = 0.2f * std::sin(0.37f * i + 0.1f * t);
    a.step(*ref, act);
    b.step(*cpu, act);
    check_step(t);
  }
  return true;
}

}  // namespace

TEST_CASE("env: on the CPU kernel backend the task's state tracks the MuJoCo reference", "[tasks][env]") {
  std::unique_ptr<LocomotionVecEnv> ref, cpu;
  Out a(1), b(1);
  double max_diff = 0;
  const bool ran = run_cpu_and_reference(a, b, [&](int) {
    for (int w = 0; w < 2; ++w) {
      REQUIRE(a.terminated[w] == 0);
      REQUIRE(b.terminated[w] == 0);
    }
    for (size_t i = 0; i < a.obs.size(); ++i)
      max_diff = std::max(max_diff, std::abs(double(b.obs[i]) - a.obs[i]));
  }, ref, cpu);
  if (!ran) {
    WARN("skipped: this build has no CPU kernel backend (sim/make_backend.h)");
    return;
  }
  CHECK(cpu->device() == "cpu");
  INFO("max |obs_cpu - obs_mujoco| over 1 s: " << max_diff);
  // a float engine with its own contact solver against MuJoCo's; measured 2.4e-6
  CHECK(max_diff < 1e-3);
}

// both backends report, after step(), the last substep's contacts with their solved forces, so
// the foot-contact terms agree too. The CPU engine runs in float against MuJoCo's double: a
// touchdown whose contact force is near the 1 N contact threshold can be seen one control step
// apart, which moves that step's feet-air-time reward (measured: 4 of 200 world-steps, at
// touchdowns); every other step must agree to 1e-4.
TEST_CASE("env: on the CPU kernel backend the rewards track the MuJoCo reference", "[tasks][env]") {
  std::unique_ptr<LocomotionVecEnv> ref, cpu;
  Out a(1), b(1);
  int checked = 0, differ = 0;
  const bool ran = run_cpu_and_reference(a, b, [&](int t) {
    for (int w = 0; w < 2; ++w) {
      ++checked;
      if (std::fabs(b.reward[w] - a.reward[w]) > 1e-4 + 1e-4 * std::fabs(a.reward[w])) {
        ++differ;
        UNSCOPED_INFO("step " << t << " world " << w << ": cpu " << b.reward[w] << " vs mujoco " << a.reward[w]);
      }
    }
  }, ref, cpu);
  if (ran) {
    INFO(differ << " of " << checked << " world-steps differ");
    CHECK(checked > 0);
    CHECK(differ * 20 <= checked);
  }
  if (!ran) WARN("skipped: this build has no CPU kernel backend (sim/make_backend.h)");
}
