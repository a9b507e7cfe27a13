// tests/rl/learner_fixture.h — what the learner tests share: a small PPO config and an env loop
// that steps a task with whichever learner it is given.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rl/learner.h"
#include "rl/tasks.h"

namespace stampede::rl::testing {

// 32-32 networks, `threads` learner threads, seed
inline PpoConfig small_config(int num_envs, int threads, uint64_t seed = 3) {
  PpoConfig cfg;
  cfg.policy.actor_hidden = {32, 32};
  cfg.policy.critic_hidden = {32, 32};
  cfg.runner.num_envs = num_envs;
  cfg.runner.num_threads = threads;
  cfg.runner.seed = seed;
  return cfg;
}

// an env with its current observation, stepped by whichever learner is given
struct EnvLoop {
  std::unique_ptr<VecEnvBase> env;
  std::vector<float> obs, act, rew, final_obs;
  std::vector<unsigned char> term, trunc;
  EnvLoop(const std::string& task, int n, uint64_t seed) : env(make_env(task, n, "cpu", seed)) {
    obs.resize(static_cast<std::size_t>(n) * env->obs_dim());
    final_obs.resize(obs.size());
    act.resize(static_cast<std::size_t>(n) * env->act_dim());
    rew.resize(n);
    term.resize(n);
    trunc.resize(n);
    env->reset(obs.data());
  }
  // one rollout step: act, env step, record
  void step(PpoLearner& l) {
    l.act(obs.data(), act.data());
    env->step(act.data(), obs.data(), rew.data(), term.data(), trunc.data(), final_obs.data());
    l.process_env_step(rew.data(), term.data(), trunc.data(), final_obs.data());
  }
  // `count` iterations of `steps` rollout steps and an update; the last update's statistics
  UpdateStats iterations(PpoLearner& l, int count, int steps) {
    UpdateStats st;
    for (int k = 0; k < count; ++k) {
      for (int t = 0; t < steps; ++t) step(l);
      l.compute_returns(obs.data());
      st = l.update();
    }
    return st;
  }
};

}  // namespace stampede::rl::testing
