// tests/rl/test_learner.cpp — the CPU learner end to end: determinism for a seed, bit-identical
// resume from an HDF5 checkpoint, thread-count independence (to float rounding), the adaptive
// learning rate, and a Brax-style learning check on the trivial "target" task.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <unistd.h>

#include "rl/checkpoint.h"
#include "rl/learner.h"
#include "rl/normalizer.h"
#include "rl/runner.h"
#include "rl/tasks.h"
#include "learner_fixture.h"

using namespace stampede::rl;
using namespace stampede::rl::testing;

namespace {

void require_same_state(const LearnerState& a, const LearnerState& b) {
  REQUIRE(a.params == b.params);
  REQUIRE(a.adam_exp_avg == b.adam_exp_avg);
  REQUIRE(a.adam_exp_avg_sq == b.adam_exp_avg_sq);
  REQUIRE(a.adam_step == b.adam_step);
  REQUIRE(a.learning_rate == b.learning_rate);
  REQUIRE(a.obs_mean == b.obs_mean);
  REQUIRE(a.obs_var == b.obs_var);
  REQUIRE(a.obs_count == b.obs_count);
  REQUIRE(a.rng == b.rng);
}

}  // namespace

TEST_CASE("training is deterministic for a seed", "[rl][learner]") {
  const PpoConfig cfg = small_config(128, 2);
  EnvLoop e1("point-reach", 128, 9), e2("point-reach", 128, 9);
  auto l1 = make_learner(cfg, 128, e1.env->obs_dim(), e1.env->act_dim());
  auto l2 = make_learner(cfg, 128, e2.env->obs_dim(), e2.env->act_dim());
  e1.iterations(*l1, 2, cfg.runner.num_steps_per_env);
  e2.iterations(*l2, 2, cfg.runner.num_steps_per_env);
  require_same_state(l1->state(), l2->state());
  // and a different seed gives a different policy
  auto l3 = make_learner(small_config(128, 2, 4), 128, e1.env->obs_dim(), e1.env->act_dim());
  REQUIRE(l3->state().params != l1->state().params);
}

TEST_CASE("resuming from a checkpoint continues bit-identically", "[rl][learner][checkpoint]") {
  // N iterations straight == N/2, save, load into a fresh learner, N/2 more (same env stream)
  const int N = 4, envs = 128;
  const PpoConfig cfg = small_config(envs, 2);
  const int T = cfg.runner.num_steps_per_env;
  EnvLoop straight_env("point-reach", envs, 21), split_env("point-reach", envs, 21);
  auto straight = make_learner(cfg, envs, straight_env.env->obs_dim(), straight_env.env->act_dim());
  straight_env.iterations(*straight, N, T);

  auto first = make_learner(cfg, envs, split_env.env->obs_dim(), split_env.env->act_dim());
  split_env.iterations(*first, N / 2, T);
  const auto dir = std::filesystem::temp_directory_path() / ("stampede_resume_" + std::to_string(::getpid()));
  Checkpoint ck;
  ck.iteration = N / 2;
  ck.obs_dim = split_env.env->obs_dim();
  ck.act_dim = split_env.env->act_dim();
  ck.config_yaml = config_to_yaml(cfg);
  ck.learner = first->state();
  const std::string path = checkpoint_path(dir.string(), ck.iteration);
  save_checkpoint(path, ck);
  first.reset();

  auto resumed = make_learner(config_from_yaml(load_checkpoint(path).config_yaml), envs, ck.obs_dim, ck.act_dim);
  resumed->load_state(load_checkpoint(path).learner);
  split_env.iterations(*resumed, N - N / 2, T);
  require_same_state(straight->state(), resumed->state());
  std::filesystem::remove_all(dir);
}

TEST_CASE("one thread and two threads compute the same update to float rounding", "[rl][learner]") {
  // rows are split over threads and their gradients combined by weight; the only difference
  // from one thread is the order of float sums, so after one iteration (20 Adam steps of at
  // most lr = 1e-3 each) parameters agree to far below a step
  EnvLoop e1("point-reach", 256, 5), e2("point-reach", 256, 5);
  auto l1 = make_learner(small_config(256, 1), 256, 4, 2);
  auto l2 = make_learner(small_config(256, 2), 256, 4, 2);
  const UpdateStats s1 = e1.iterations(*l1, 1, 24);
  const UpdateStats s2 = e2.iterations(*l2, 1, 24);
  const auto p1 = l1->state().params, p2 = l2->state().params;
  double max_diff = 0;
  for (std::size_t i = 0; i < p1.size(); ++i) max_diff = std::max(max_diff, static_cast<double>(std::abs(p1[i] - p2[i])));
  CHECK(max_diff < 1e-5);
  CHECK(s1.value_loss == Approx(s2.value_loss).epsilon(1e-4));
  CHECK(s1.kl == Approx(s2.kl).epsilon(1e-3));
}

TEST_CASE("adaptive-KL learning rate rule", "[rl][learner]") {
  AlgorithmConfig a;  // desired KL 0.01, bounds [1e-5, 1e-2]
  CHECK(scheduled_learning_rate(a, 1e-3, 0.03) == Approx(1e-3 / 1.5));   // kl > 2 desired
  CHECK(scheduled_learning_rate(a, 1e-3, 0.021) == Approx(1e-3 / 1.5));
  CHECK(scheduled_learning_rate(a, 1e-3, 0.02) == 1e-3);                 // within [desired/2, 2 desired]
  CHECK(scheduled_learning_rate(a, 1e-3, 0.01) == 1e-3);
  CHECK(scheduled_learning_rate(a, 1e-3, 0.005) == 1e-3);
  CHECK(scheduled_learning_rate(a, 1e-3, 0.004) == Approx(1.5e-3));     // kl < desired / 2
  CHECK(scheduled_learning_rate(a, 1e-3, 0.0) == 1e-3);                  // no measurement, no change
  CHECK(scheduled_learning_rate(a, 1.2e-5, 1.0) == 1e-5);                // lower bound
  CHECK(scheduled_learning_rate(a, 9e-3, 1e-6) == 1e-2);                 // upper bound
  a.schedule = "fixed";
  CHECK(scheduled_learning_rate(a, 1e-3, 1.0) == 1e-3);
}

TEST_CASE("the adaptive schedule moves the learning rate within its bounds; fixed keeps it", "[rl][learner]") {
  for (const std::string schedule : {"adaptive", "fixed"}) {
    PpoConfig cfg = small_config(64, 1);
    cfg.algorithm.schedule = schedule;
    cfg.algorithm.learning_rate = 1e-3;
    EnvLoop e("target", 64, 2);
    auto l = make_learner(cfg, 64, 3, 3);
    bool moved = false;
    for (int k = 0; k < 5; ++k) {
      const UpdateStats st = e.iterations(*l, 1, cfg.runner.num_steps_per_env);
      CHECK(st.learning_rate >= cfg.algorithm.min_learning_rate);
      CHECK(st.learning_rate <= cfg.algorithm.max_learning_rate);
      moved = moved || st.learning_rate != 1e-3;
    }
    CHECK(moved == (schedule == "adaptive"));
  }
}

TEST_CASE("Brax-style check: PPO solves the target task", "[rl][learner][learning]") {
  // reward = -mean|a - t|; a random policy (std 1) scores about -0.8 per step, the optimum 0
  PpoConfig cfg = small_config(64, 0, 1);
  cfg.policy.actor_hidden = {64, 64};
  cfg.policy.critic_hidden = {64, 64};
  cfg.runner.max_iterations = 60;
  OnPolicyRunner runner(cfg, make_env("target", 64, "cpu", 1), "");
  std::vector<double> step_reward;
  runner.on_iteration = [&](const IterationStats& s) { step_reward.push_back(s.mean_step_reward); };
  const auto t0 = std::chrono::steady_clock::now();
  runner.learn();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(step_reward.size() == 60);
  CHECK(step_reward.front() < -0.6);
  // the deterministic policy on fresh targets: mean |mu - t| below 0.1 (a tenth of the range)
  auto env = make_env("target", 256, "cpu", 77);
  std::vector<float> obs(256 * 3), act(256 * 3);
  env->reset(obs.data());
  runner.learner().act_inference(obs.data(), act.data(), 256);
  double err = 0;
  for (std::size_t i = 0; i < obs.size(); ++i) err += std::abs(act[i] - obs[i]);
  err /= static_cast<double>(obs.size());
  INFO("deterministic |a - t| = " << err << ", training step reward " << step_reward.back() << ", " << seconds << " s");
  CHECK(err < 0.1);
  CHECK(step_reward.back() > step_reward.front() + 0.3);
}

TEST_CASE("the running normalizer equals the statistics of all data seen", "[rl][normalizer]") {
  ObsNormalizer n(2);
  Rng rng(4);
  std::vector<float> all;
  for (int batch : {1, 7, 30, 2}) {
    std::vector<float> x(batch * 2);
    for (int i = 0; i < batch; ++i) {
      x[2 * i] = static_cast<float>(3.0 + 2.0 * rng.normal());
      x[2 * i + 1] = static_cast<float>(-1.0 + 0.5 * rng.normal());
    }
    n.update(x.data(), batch);
    all.insert(all.end(), x.begin(), x.end());
  }
  const int count = static_cast<int>(all.size() / 2);
  REQUIRE(n.count() == count);
  for (int j = 0; j < 2; ++j) {
    double m = 0, v = 0;
    for (int i = 0; i < count; ++i) m += all[2 * i + j];
    m /= count;
    for (int i = 0; i < count; ++i) v += (all[2 * i + j] - m) * (all[2 * i + j] - m);
    v /= count;
    CHECK(n.mean()[j] == Approx(m).epsilon(1e-12));
    CHECK(n.var()[j] == Approx(v).epsilon(1e-12));
  }
  // y = (x - mean) / (std + 0.01)
  const float x[2] = {5.0f, 0.0f};
  float y[2];
  n.normalize(x, y, 1);
  CHECK(y[0] == Approx((5.0 - n.mean()[0]) / (std::sqrt(n.var()[0]) + 0.01)).epsilon(1e-6));
}

TEST_CASE("a checkpoint from another robot contract is refused", "[rl][checkpoint]") {
  PpoConfig cfg = small_config(8, 1);
  const auto dir = std::filesystem::temp_directory_path() / ("stampede_contract_" + std::to_string(::getpid()));
  OnPolicyRunner runner(cfg, make_env("target", 8, "cpu", 1), dir.string());
  Checkpoint ck;
  ck.obs_dim = 3;
  ck.act_dim = 3;
  ck.contract_hash = "deadbeef";
  ck.config_yaml = config_to_yaml(cfg);
  ck.learner = runner.learner().state();
  const std::string path = checkpoint_path(dir.string(), 1);
  save_checkpoint(path, ck);
  CHECK_THROWS_WITH(runner.load(path), Catch::Contains("deadbeef") && Catch::Contains("contract"));
  std::filesystem::remove_all(dir);
}
