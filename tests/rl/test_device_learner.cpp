// tests/rl/test_device_learner.cpp — the CUDA learner's code (rl/ppo_device.inl) without a GPU:
// its host instantiation (HostLearnSpace: host memory, Eigen GEMMs, launches as loops) against
// the CPU learner stage by stage (initial parameters, inference, normalizer, rollout records,
// time-out bootstrapping, GAE, one whole PPO update), in reverse launch order, deterministic for
// a seed, resumed from a checkpoint, and learning the target task through the runner. On a GPU
// the CUDA instantiation is compared with the host one; here that part says why it skips.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <unistd.h>

#include "rl/checkpoint.h"
#include "rl/learner.h"
#include "rl/runner.h"
#include "rl/tasks.h"
#include "learner_fixture.h"

using namespace stampede::rl;
using namespace stampede::rl::testing;

namespace {

// max |a - b| / (scale + |b|)
template <class T>
double max_rel(const T& a, const T& b, double scale = 1e-3) {
  REQUIRE(a.size() == b.size());
  double e = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = static_cast<double>(a[i]), y = static_cast<double>(b[i]);
    e = std::max(e, std::abs(x - y) / (scale + std::abs(y)));
  }
  return e;
}

std::vector<float> random_obs(int n, int dim, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(static_cast<std::size_t>(n) * dim);
  for (float& v : x) v = static_cast<float>(2.0 * rng.normal());
  return x;
}

}  // namespace

TEST_CASE("the CUDA learner's code on the host computes what the CPU learner computes", "[rl][learner][device]") {
  const int N = 64;
  const PpoConfig cfg = small_config(N, 1);
  const int T = cfg.runner.num_steps_per_env;
  EnvLoop e("point-reach", N, 11);
  const int O = e.env->obs_dim(), A = e.env->act_dim();
  auto cpu = make_cpu_learner(cfg, N, O, A);
  auto dev = make_host_space_learner(cfg, N, O, A);
  CHECK(dev->device() == "host-space");
  CHECK(std::string(dev->array_space()) == "host");
  CHECK(cpu->array_space() == nullptr);

  // the same initial parameters (one initializer, one seed), bit for bit
  REQUIRE(dev->state().params == cpu->state().params);
  CHECK(dev->state().learning_rate == cpu->state().learning_rate);

  // inference: GEMMs in another order, so float rounding apart
  {
    const std::vector<float> x = random_obs(100, O, 5);  // more rows than the scratch holds
    std::vector<float> a1(100 * A), a2(100 * A), v1(100), v2(100);
    cpu->act_inference(x.data(), a1.data(), 100);
    dev->act_inference(x.data(), a2.data(), 100);
    cpu->evaluate(x.data(), v1.data(), 100);
    dev->evaluate(x.data(), v2.data(), 100);
    CHECK(max_rel(a2, a1) < 1e-5);
    CHECK(max_rel(v2, v1) < 1e-5);
  }

  // a rollout fed the same observations, rewards and endings: the normalizer, the normalized
  // observations, means, values and bootstrapped rewards agree; actions differ (each learner
  // draws its own noise) but each is recorded with its own log-probability
  // (the env is first run to 10 steps before its time limit, so episodes end inside the rollout)
  {
    std::vector<float> zero(static_cast<std::size_t>(N) * A, 0.f);
    for (int t = 0; t < e.env->max_episode_steps() - 10; ++t)
      e.env->step(zero.data(), e.obs.data(), e.rew.data(), e.term.data(), e.trunc.data(), e.final_obs.data());
  }
  for (int t = 0; t < T; ++t) {
    std::vector<float> a_cpu(N * A), a_dev(N * A);
    cpu->act(e.obs.data(), a_cpu.data());
    dev->act(e.obs.data(), a_dev.data());
    e.env->step(a_cpu.data(), e.obs.data(), e.rew.data(), e.term.data(), e.trunc.data(), e.final_obs.data());
    cpu->process_env_step(e.rew.data(), e.term.data(), e.trunc.data(), e.final_obs.data());
    dev->process_env_step(e.rew.data(), e.term.data(), e.trunc.data(), e.final_obs.data());
  }
  const LearnerState sc = cpu->state(), sd = dev->state();
  CHECK(max_rel(sd.obs_mean, sc.obs_mean, 1e-6) < 1e-12);
  CHECK(max_rel(sd.obs_var, sc.obs_var, 1e-6) < 1e-12);
  CHECK(sd.obs_count == sc.obs_count);
  const RolloutStorage rc = *cpu->host_storage();
  const RolloutStorage rd = *dev->host_storage();
  REQUIRE(rd.step == T);
  CHECK(max_rel(rd.obs, rc.obs) < 1e-5);
  CHECK(max_rel(rd.mu, rc.mu, 1e-2) < 1e-5);
  CHECK(max_rel(rd.sigma, rc.sigma) < 1e-6);
  CHECK(max_rel(rd.values, rc.values, 1e-2) < 1e-5);
  CHECK(rd.dones == rc.dones);
  int timeouts = 0;
  for (unsigned char d : rc.dones) timeouts += d;
  INFO("episode ends in the rollout: " << timeouts);
  CHECK(timeouts > 0);  // point-reach's time limit falls inside the rollout: bootstrapping ran
  CHECK(max_rel(rd.rewards, rc.rewards) < 1e-5);
  // the device learner's log-probabilities are those of its own actions
  double worst = 0;
  for (std::size_t i = 0; i < rd.size(); ++i) {
    double lp = 0;
    for (int j = 0; j < A; ++j) {
      const double s = rd.sigma[i * A + j], z = (rd.actions[i * A + j] - rd.mu[i * A + j]) / s;
      lp += -0.5 * z * z - std::log(s) - 0.91893853320467274178;
    }
    worst = std::max(worst, std::abs(lp - rd.log_prob[i]) / (1 + std::abs(lp)));
  }
  CHECK(worst < 1e-5);
  // and the noise is standard normal: mean 0, variance 1 over the rollout
  double m = 0, m2 = 0;
  for (std::size_t k = 0; k < rd.actions.size(); ++k) {
    const double z = (rd.actions[k] - rd.mu[k]) / rd.sigma[k];
    m += z;
    m2 += z * z;
  }
  m /= static_cast<double>(rd.actions.size());
  m2 /= static_cast<double>(rd.actions.size());
  CHECK(std::abs(m) < 0.1);  // 3072 draws: 4 standard errors
  CHECK(std::abs(m2 - 1) < 0.1);

  // one PPO update from the same state and the same rollout (the CPU learner's actions and its
  // RNG state, so the same minibatch permutations)
  dev->load_state(cpu->state());
  dev->set_rollout(rc);
  cpu->compute_returns(e.obs.data());
  dev->compute_returns(e.obs.data());
  const RolloutStorage gc = *cpu->host_storage(), gd = *dev->host_storage();
  CHECK(max_rel(gd.returns, gc.returns) < 1e-5);
  CHECK(max_rel(gd.advantages, gc.advantages, 1e-2) < 1e-4);
  const UpdateStats uc = cpu->update(), ud = dev->update();
  CHECK(ud.surrogate_loss == Approx(uc.surrogate_loss).margin(1e-6).epsilon(1e-3));
  CHECK(ud.value_loss == Approx(uc.value_loss).epsilon(1e-4));
  CHECK(ud.entropy == Approx(uc.entropy).epsilon(1e-6));
  CHECK(ud.kl == Approx(uc.kl).margin(1e-7).epsilon(1e-3));
  CHECK(ud.grad_norm == Approx(uc.grad_norm).epsilon(1e-4));
  CHECK(ud.learning_rate == uc.learning_rate);
  CHECK(ud.action_std == Approx(uc.action_std).epsilon(1e-6));
  const LearnerState ac = cpu->state(), ad = dev->state();
  double pmax = 0;
  for (std::size_t i = 0; i < ac.params.size(); ++i)
    pmax = std::max(pmax, static_cast<double>(std::abs(ac.params[i] - ad.params[i])));
  INFO("max |param difference| after one update (20 Adam steps of lr " << uc.learning_rate << "): " << pmax);
  CHECK(pmax < 1e-4);
  CHECK(ad.adam_step == ac.adam_step);
  CHECK(ad.rng == ac.rng);
  CHECK(max_rel(ad.adam_exp_avg_sq, ac.adam_exp_avg_sq, 1e-8) < 1e-2);
}

TEST_CASE("the CUDA learner's stages do not depend on the order of their indices", "[rl][learner][device]") {
  // a GPU runs a launch's indices in any order: backwards on the host must change nothing
  const int N = 48;
  const PpoConfig cfg = small_config(N, 1, 7);
  EnvLoop e1("point-reach", N, 2), e2("point-reach", N, 2);
  auto fwd = make_host_space_learner(cfg, N, e1.env->obs_dim(), e1.env->act_dim(), false);
  auto rev = make_host_space_learner(cfg, N, e2.env->obs_dim(), e2.env->act_dim(), true);
  const UpdateStats s1 = e1.iterations(*fwd, 2, cfg.runner.num_steps_per_env);
  const UpdateStats s2 = e2.iterations(*rev, 2, cfg.runner.num_steps_per_env);
  const LearnerState a = fwd->state(), b = rev->state();
  CHECK(a.params == b.params);
  CHECK(a.adam_exp_avg == b.adam_exp_avg);
  CHECK(a.adam_exp_avg_sq == b.adam_exp_avg_sq);
  CHECK(a.obs_mean == b.obs_mean);
  CHECK(a.obs_var == b.obs_var);
  CHECK(a.learning_rate == b.learning_rate);
  CHECK(s1.kl == s2.kl);
  CHECK(s1.value_loss == s2.value_loss);
}

TEST_CASE("the CUDA learner's code is deterministic for a seed and resumes bit-identically", "[rl][learner][device]") {
  const int N = 32, K = 4;
  const PpoConfig cfg = small_config(N, 1, 5);
  const int T = cfg.runner.num_steps_per_env;
  EnvLoop straight_env("point-reach", N, 21), split_env("point-reach", N, 21), other_env("point-reach", N, 21);
  auto straight = make_host_space_learner(cfg, N, straight_env.env->obs_dim(), straight_env.env->act_dim());
  straight_env.iterations(*straight, K, T);
  auto again = make_host_space_learner(cfg, N, other_env.env->obs_dim(), other_env.env->act_dim());
  other_env.iterations(*again, K, T);
  CHECK(again->state().params == straight->state().params);

  auto first = make_host_space_learner(cfg, N, split_env.env->obs_dim(), split_env.env->act_dim());
  split_env.iterations(*first, K / 2, T);
  const auto dir = std::filesystem::temp_directory_path() / ("stampede_dev_resume_" + std::to_string(::getpid()));
  Checkpoint ck;
  ck.iteration = K / 2;
  ck.obs_dim = split_env.env->obs_dim();
  ck.act_dim = split_env.env->act_dim();
  ck.config_yaml = config_to_yaml(cfg);
  ck.learner = first->state();
  const std::string path = checkpoint_path(dir.string(), ck.iteration);
  save_checkpoint(path, ck);
  first.reset();
  auto resumed = make_host_space_learner(cfg, N, ck.obs_dim, ck.act_dim);
  resumed->load_state(load_checkpoint(path).learner);
  split_env.iterations(*resumed, K - K / 2, T);
  const LearnerState a = straight->state(), b = resumed->state();
  CHECK(a.params == b.params);
  CHECK(a.adam_exp_avg == b.adam_exp_avg);
  CHECK(a.adam_exp_avg_sq == b.adam_exp_avg_sq);
  CHECK(a.learning_rate == b.learning_rate);
  CHECK(a.obs_mean == b.obs_mean);
  CHECK(a.rng == b.rng);
  std::filesystem::remove_all(dir);

  // and a state of the wrong shape is refused
  auto wrong = make_host_space_learner(small_config(N, 1), N, 3, 3);
  CHECK_THROWS_WITH(wrong->load_state(a), Catch::Contains("parameters, this network has"));
}

TEST_CASE("the CUDA learner's code learns the target task through the runner", "[rl][learner][device][learning]") {
  // the Brax-style check of test_learner.cpp, with the device learner's code
  PpoConfig cfg = small_config(64, 1, 1);
  cfg.policy.actor_hidden = {64, 64};
  cfg.policy.critic_hidden = {64, 64};
  cfg.runner.max_iterations = 60;
  auto env = make_env("target", 64, "cpu", 1);
  auto learner = make_host_space_learner(cfg, 64, env->obs_dim(), env->act_dim());
  OnPolicyRunner runner(cfg, std::move(env), "", nullptr, std::move(learner));
  CHECK_FALSE(runner.device_loop());  // the target task has no device API: host arrays, staged
  CHECK(runner.learner().device() == "host-space");
  std::vector<double> step_reward;
  runner.on_iteration = [&](const IterationStats& s) { step_reward.push_back(s.mean_step_reward); };
  runner.learn();
  REQUIRE(step_reward.size() == 60);
  auto eval = make_env("target", 256, "cpu", 77);
  std::vector<float> obs(256 * 3), act(256 * 3);
  eval->reset(obs.data());
  runner.learner().act_inference(obs.data(), act.data(), 256);
  double err = 0;
  for (std::size_t i = 0; i < obs.size(); ++i) err += std::abs(act[i] - obs[i]);
  err /= static_cast<double>(obs.size());
  INFO("deterministic |a - t| = " << err << ", step reward " << step_reward.front() << " -> " << step_reward.back());
  CHECK(err < 0.1);
  CHECK(step_reward.back() > step_reward.front() + 0.3);
}

TEST_CASE("the CPU learner has no device API; --device cuda explains itself here", "[rl][learner][device]") {
  const PpoConfig cfg = small_config(8, 1);
  auto cpu = make_cpu_learner(cfg, 8, 3, 2);
  CHECK_THROWS_WITH(cpu->act_device(nullptr), Catch::Contains("no device API"));
  CHECK_THROWS_WITH(cpu->take_episode_sums(), Catch::Contains("no device API"));
  PpoConfig c = cfg;
  c.runner.device = "cuda";
  std::string why;
  if (!cuda_available(&why)) CHECK_THROWS_WITH(make_learner(c, 8, 3, 2), Catch::Contains("use --device cpu"));
  // a data-parallel rank's GPU: local rank modulo the device count; none here
  if (cuda_available(&why)) {
    CHECK(select_cuda_device(0) == 0);
    const int d = select_cuda_device(5);
    CHECK(d >= 0);
    CHECK(d <= 5);
    CHECK(select_cuda_device(0) == 0);
  } else {
    CHECK(select_cuda_device(0) == -1);
    CHECK(select_cuda_device(5) == -1);
  }
}

TEST_CASE("CUDA learner against its host instantiation (GPU only)", "[rl][learner][device][gpu]") {
  std::string why;
  if (!cuda_available(&why)) {
    WARN("SKIPPED (no usable CUDA device): " << why);
    return;
  }
  // the same code, the same counter-based noise: actions, records and the update agree to
  // float rounding (cuBLAS in plain FP32 sums in another order than Eigen)
  const int N = 256;
  const PpoConfig cfg = small_config(N, 1, 4);
  EnvLoop e("point-reach", N, 8);
  const int O = e.env->obs_dim(), A = e.env->act_dim();
  auto gpu = make_cuda_learner(cfg, N, O, A);
  auto host = make_host_space_learner(cfg, N, O, A);
  CHECK(gpu->device() == "cuda");
  CHECK(std::string(gpu->array_space()) == "cuda");
  REQUIRE(gpu->state().params == host->state().params);
  for (int it = 0; it < 2; ++it) {
    double worst_action = 0;
    for (int t = 0; t < cfg.runner.num_steps_per_env; ++t) {
      std::vector<float> a1(N * A), a2(N * A);
      gpu->act(e.obs.data(), a1.data());
      host->act(e.obs.data(), a2.data());
      worst_action = std::max(worst_action, max_rel(a1, a2));
      e.env->step(a2.data(), e.obs.data(), e.rew.data(), e.term.data(), e.trunc.data(), e.final_obs.data());
      gpu->process_env_step(e.rew.data(), e.term.data(), e.trunc.data(), e.final_obs.data());
      host->process_env_step(e.rew.data(), e.term.data(), e.trunc.data(), e.final_obs.data());
    }
    CHECK(worst_action < 1e-4);
    gpu->compute_returns(e.obs.data());
    host->compute_returns(e.obs.data());
    const RolloutStorage r1 = *gpu->host_storage(), r2 = *host->host_storage();
    CHECK(max_rel(r1.values, r2.values) < 1e-4);
    CHECK(max_rel(r1.returns, r2.returns) < 1e-4);
    CHECK(max_rel(r1.log_prob, r2.log_prob) < 1e-4);
    const UpdateStats s1 = gpu->update(), s2 = host->update();
    CHECK(s1.value_loss == Approx(s2.value_loss).epsilon(1e-3));
    CHECK(s1.kl == Approx(s2.kl).margin(1e-6).epsilon(1e-2));
    CHECK(s1.learning_rate == Approx(s2.learning_rate));
    const LearnerState g = gpu->state(), h = host->state();
    double pmax = 0;
    for (std::size_t i = 0; i < g.params.size(); ++i)
      pmax = std::max(pmax, static_cast<double>(std::abs(g.params[i] - h.params[i])));
    INFO("iteration " << it << ": max |param difference| " << pmax);
    CHECK(pmax < 1e-3);
    CHECK(max_rel(g.obs_mean, h.obs_mean, 1e-6) < 1e-9);
  }
}
