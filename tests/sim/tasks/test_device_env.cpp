// tests/sim/tasks/test_device_env.cpp — DeviceLocomotionEnv, the env device "cuda" runs, checked
// without a GPU: its host instantiation (HostSpace over the CPU kernel backend) against
// LocomotionEnv on the same backend and seed, step for step and bit for bit, through falls, time
// limits, randomization, noise and pushes; worlds in reverse order change nothing. On a machine
// with a GPU the CUDA env is compared with the CPU one as well (label gpu in test_gpu_device_env).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "rl/learner.h"
#include "rl/runner.h"
#include "sim/make_backend.h"
#include "sim/tasks/locomotion_device_env.h"
#include "sim/tasks/locomotion_env.h"
#include "sim/tasks/make_env.h"
#include "task_fixture.h"
#include "tests/rl/learner_fixture.h"

using namespace stampede;
using namespace stampede::sim::tasks;

namespace {

struct H1 {
  robot::RobotSpec spec = robot::load_robot(std::string(STAMPEDE_ASSETS_DIR) + "/h1/robot.yaml");
  test::ModelPtr model{test::load_model(spec.mjcf)};
};

// everything one run of an env shows its learner, step by step
struct Trace {
  std::vector<float> obs, reward, final_obs, terms;
  std::vector<unsigned char> done;
  std::vector<double> stats;
};

Trace run(rl::VecEnvBase& venv, int steps, uint64_t action_seed) {
  auto& env = dynamic_cast<LocomotionVecEnv&>(venv);
  const int n = env.num_envs(), od = env.obs_dim(), na = env.act_dim();
  std::vector<float> obs(n * od), final_obs(n * od), reward(n), act(n * na), terms(n * kNumRewardTerms);
  std::vector<unsigned char> term(n), trunc(n);
  Trace t;
  env.reset(obs.data());
  t.obs = obs;
  uint64_t rng = action_seed;
  for (int s = 0; s < steps; ++s) {
    for (float& a : act) a = static_cast<float>(rng_uniform(rng, -1.5, 1.5));
    env.step(act.data(), obs.data(), reward.data(), term.data(), trunc.data(), final_obs.data());
    t.obs.insert(t.obs.end(), obs.begin(), obs.end());
    t.reward.insert(t.reward.end(), reward.begin(), reward.end());
    for (int w = 0; w < n; ++w) {
      t.done.push_back(static_cast<unsigned char>(term[w] + 2 * trunc[w]));
      if (term[w] || trunc[w]) t.final_obs.insert(t.final_obs.end(), final_obs.begin() + w * od, final_obs.begin() + (w + 1) * od);
    }
    env.reward_terms_out(terms.data());
    t.terms.insert(t.terms.end(), terms.begin(), terms.end());
    for (const auto& [k, v] : env.step_stats()) t.stats.push_back(v);
  }
  return t;
}

double max_rel(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double e = 0;
  for (std::size_t i = 0; i < a.size(); ++i) e = std::fmax(e, std::fabs(a[i] - b[i]) / (1e-3 + std::fabs(b[i])));
  return e;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

}  // namespace

TEST_CASE("device env on the host equals LocomotionEnv step for step", "[tasks][env][device]") {
  H1 h1;
  auto cfg = find_task_config("h1-walk");  // randomization (friction, mass, gains, latency), noise, pushes
  cfg.episode_length = 1.6;                // time limits inside the run, besides the falls
  const int n = 8, steps = 200;
  const uint64_t seed = 21;

  LocomotionEnv<float> host(sim::make_backend<float>("cpu", h1.model.get(), n, 1), h1.spec, cfg, seed, 1);
  DeviceLocomotionEnv<float, HostSpace<float>> dev(HostSpace<float>(sim::make_backend<float>("cpu", h1.model.get(), n, 1)),
                                                   h1.spec, cfg, seed);
  REQUIRE(dev.num_envs() == host.num_envs());
  REQUIRE(dev.obs_dim() == host.obs_dim());
  REQUIRE(dev.act_dim() == host.act_dim());
  CHECK(dev.max_episode_steps() == host.max_episode_steps());
  CHECK(dev.contract_hash() == host.contract_hash());
  CHECK(dev.device() == "cpu");

  const Trace a = run(host, steps, 5), b = run(dev, steps, 5);
  // the run went through every kind of ending
  int falls = 0, timeouts = 0;
  for (unsigned char d : a.done) {
    falls += d == 1;
    timeouts += d == 2;
  }
  INFO("falls " << falls << ", time-outs " << timeouts);
  CHECK(falls > 0);
  CHECK(timeouts > 0);

  CHECK(same_bits(a.obs, b.obs));
  // rewards are outputs only (nothing feeds back into the state): the two translation units may
  // contract a*b+c into an FMA differently, so they agree to float rounding
  CHECK(max_rel(a.reward, b.reward) < 1e-5);
  CHECK(same_bits(a.done, b.done));
  CHECK(same_bits(a.final_obs, b.final_obs));
  CHECK(max_rel(a.terms, b.terms) < 1e-5);
  // statistics: the same keys; sums in another order, so to rounding
  REQUIRE(a.stats.size() == b.stats.size());
  for (std::size_t i = 0; i < a.stats.size(); ++i) CHECK(b.stats[i] == Approx(a.stats[i]).margin(1e-9));
  const auto sa = host.step_stats(), sb = dev.step_stats();
  for (const auto& [k, v] : sa) {
    INFO(k);
    REQUIRE(sb.count(k));
  }

  // render pose comes back from the space
  std::vector<double> qa(h1.model->nq), qb(h1.model->nq);
  REQUIRE(host.render_qpos(2, qa.data()));
  REQUIRE(dev.render_qpos(2, qb.data()));
  CHECK(qa == qb);
  CHECK_FALSE(dev.render_qpos(n, qb.data()));
}

TEST_CASE("device env: worlds in reverse order and reseeding change nothing", "[tasks][env][device]") {
  H1 h1;
  auto cfg = find_task_config("h1-walk");
  cfg.episode_length = 0.3;
  auto make = [&](bool reverse) {
    HostSpace<float> space(sim::make_backend<float>("cpu", h1.model.get(), 5, 1));
    space.reverse_order = reverse;
    return std::make_unique<DeviceLocomotionEnv<float, HostSpace<float>>>(std::move(space), h1.spec, cfg, 3);
  };
  auto fwd = make(false), rev = make(true);
  const Trace a = run(*fwd, 60, 9), b = run(*rev, 60, 9);
  CHECK(same_bits(a.obs, b.obs));
  CHECK(same_bits(a.done, b.done));
  // the same seed again gives the same run; another seed another one
  fwd->seed(3);
  const Trace c = run(*fwd, 60, 9);
  CHECK(same_bits(a.obs, c.obs));
  fwd->seed(4);
  const Trace d = run(*fwd, 60, 9);
  CHECK_FALSE(same_bits(a.obs, d.obs));
}

TEST_CASE("device env: reset_device/step_device leave the same outputs in the space", "[tasks][env][device]") {
  H1 h1;
  auto cfg = find_task_config("h1-walk");
  cfg.episode_length = 0.3;
  auto make = [&] {
    return std::make_unique<DeviceLocomotionEnv<float, HostSpace<float>>>(
        HostSpace<float>(sim::make_backend<float>("cpu", h1.model.get(), 4, 1)), h1.spec, cfg, 8);
  };
  auto host = make(), dev = make();
  CHECK_FALSE(dev->device_resident());  // HostSpace: host memory, the same code path
  const int n = 4, od = dev->obs_dim(), na = dev->act_dim();
  std::vector<float> obs(n * od), fin(n * od), rew(n), act(n * na);
  std::vector<unsigned char> term(n), trunc(n);
  host->reset(obs.data());
  dev->reset_device();
  auto o = dev->device_outputs();
  CHECK(std::memcmp(obs.data(), o.obs, sizeof(float) * n * od) == 0);
  uint64_t rng = 4;
  int ended = 0;
  for (int s = 0; s < 40; ++s) {
    for (float& a : act) a = static_cast<float>(rng_uniform(rng, -1.0, 1.0));
    host->step(act.data(), obs.data(), rew.data(), term.data(), trunc.data(), fin.data());
    dev->step_device(act.data());
    o = dev->device_outputs();
    CHECK(std::memcmp(obs.data(), o.obs, sizeof(float) * n * od) == 0);
    CHECK(std::memcmp(rew.data(), o.reward, sizeof(float) * n) == 0);
    CHECK(std::memcmp(term.data(), o.terminated, n) == 0);
    CHECK(std::memcmp(trunc.data(), o.truncated, n) == 0);
    for (int w = 0; w < n; ++w) {
      if (!term[w] && !trunc[w]) continue;
      ++ended;
      CHECK(std::memcmp(fin.data() + w * od, o.final_obs + w * od, sizeof(float) * od) == 0);
    }
  }
  CHECK(ended > 0);
  // the host env's device API refuses clearly
  LocomotionEnv<float> plain(sim::make_backend<float>("cpu", h1.model.get(), 2, 1), h1.spec, cfg, 1, 1);
  CHECK_FALSE(plain.device_resident());
  CHECK_THROWS_WITH(plain.step_device(act.data()), Catch::Contains("not device resident"));
}

TEST_CASE("device \"cuda\": the GPU env, or a clear error without a device", "[tasks][env][device]") {
  std::unique_ptr<LocomotionVecEnv> env;
  try {
    env = make_locomotion_vec_env("h1-walk", 4, "cuda", 0);
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    CHECK((msg.find("no CUDA device") != std::string::npos || msg.find("no CUDA backend") != std::string::npos));
    WARN("no GPU here: " << msg);
    return;
  }
  CHECK(env->device() == "cuda");
  // the CUDA env against the host one (float, different FMA contraction: close, not equal)
  H1 h1;
  const TaskConfig cfg = find_task_config("h1-walk");
  DeviceLocomotionEnv<float, HostSpace<float>> ref(HostSpace<float>(sim::make_backend<float>("cpu", h1.model.get(), 4, 1)),
                                                   h1.spec, cfg, 0);
  const Trace a = run(*env, 20, 5), b = run(ref, 20, 5);
  REQUIRE(a.obs.size() == b.obs.size());
  const std::size_t first = static_cast<std::size_t>(env->num_envs()) * env->obs_dim();
  double reset_err = 0, step_err = 0;
  for (std::size_t i = 0; i < first; ++i) reset_err = std::fmax(reset_err, std::fabs(a.obs[i] - b.obs[i]));
  for (std::size_t i = first; i < 2 * first; ++i) step_err = std::fmax(step_err, std::fabs(a.obs[i] - b.obs[i]));
  CHECK(reset_err < 1e-4);  // the reset draws are the same; only rounding differs
  CHECK(step_err < 1e-2);   // one control step of physics later
  for (float v : a.obs) CHECK(std::isfinite(v));
  for (float v : a.reward) CHECK(std::isfinite(v));
}

TEST_CASE("training on the device API: the CUDA learner's code on the device env's code", "[tasks][env][device][rl]") {
  // the loop `stampede train --device cuda` runs (learner and env in one memory space, the
  // rollout on their device API), here over host memory, against the same learner on the
  // LocomotionEnv through host arrays: the same training to float rounding (the two envs'
  // rewards differ by FMA contraction only)
  H1 h1;
  auto cfg = find_task_config("h1-walk");
  cfg.episode_length = 0.3;  // time-outs inside every rollout, besides the falls
  const int n = 16;
  const uint64_t seed = 4;
  rl::PpoConfig pc = rl::testing::small_config(n, 1, 2);
  pc.runner.max_iterations = 3;
  auto dev_env = std::make_unique<DeviceLocomotionEnv<float, HostSpace<float>>>(
      HostSpace<float>(sim::make_backend<float>("cpu", h1.model.get(), n, 1)), h1.spec, cfg, seed);
  auto host_env = std::make_unique<LocomotionEnv<float>>(sim::make_backend<float>("cpu", h1.model.get(), n, 1),
                                                         h1.spec, cfg, seed, 1);
  const int O = host_env->obs_dim(), A = host_env->act_dim();
  rl::OnPolicyRunner a(pc, std::move(dev_env), "", nullptr, rl::make_host_space_learner(pc, n, O, A));
  rl::OnPolicyRunner b(pc, std::move(host_env), "", nullptr, rl::make_host_space_learner(pc, n, O, A));
  CHECK(a.device_loop());
  CHECK_FALSE(b.device_loop());
  std::vector<rl::IterationStats> sa, sb;
  a.on_iteration = [&](const rl::IterationStats& s) { sa.push_back(s); };
  b.on_iteration = [&](const rl::IterationStats& s) { sb.push_back(s); };
  a.learn();
  b.learn();
  REQUIRE(sa.size() == 3);
  REQUIRE(sb.size() == 3);
  const rl::LearnerState la = a.learner().state(), lb = b.learner().state();
  double pmax = 0;
  for (std::size_t i = 0; i < la.params.size(); ++i) pmax = std::fmax(pmax, std::fabs(la.params[i] - lb.params[i]));
  INFO("max |param difference| after 3 iterations: " << pmax);
  CHECK(pmax < 1e-3);
  CHECK(la.obs_count == lb.obs_count);
  for (int k = 0; k < 3; ++k) {
    CHECK(sa[k].total_samples == sb[k].total_samples);
    CHECK(sa[k].mean_step_reward == Approx(sb[k].mean_step_reward).epsilon(1e-3));
    CHECK(sa[k].update.value_loss == Approx(sb[k].update.value_loss).epsilon(1e-2));
    CHECK(sa[k].nonfinite_worlds == 0);
    // the device loop's episode statistics: the episodes that ended in the iteration
    INFO("iteration " << k << ": device loop return " << sa[k].mean_episode_return << ", length "
                      << sa[k].mean_episode_length << "; host loop " << sb[k].mean_episode_return << ", "
                      << sb[k].mean_episode_length);
    CHECK(std::isfinite(sa[k].mean_episode_return));
    CHECK(sa[k].mean_episode_length >= 1);
    CHECK(sa[k].mean_episode_length <= a.env().max_episode_steps());
    for (const auto& [key, v] : sb[k].step_stats)
      CHECK(sa[k].step_stats.at(key) == Approx(v).epsilon(1e-3).margin(1e-6));
  }
  // over the first iteration both loops saw the same episodes end (same actions up to rounding)
  CHECK(sa[0].mean_episode_length == Approx(sb[0].mean_episode_length).epsilon(1e-6));
}
