// tests/rl/test_storage.cpp — GAE against values computed by hand, including a time-out
// (bootstrapped with V(final obs)) and a termination (not bootstrapped); advantage normalization.
#include <catch2/catch.hpp>

#include <cmath>

#include "rl/learner.h"
#include "rl/storage.h"

using namespace stampede::rl;

TEST_CASE("GAE matches hand-computed values across a time-out", "[rl][gae]") {
  // two envs, three steps, gamma 0.9, lambda 0.8 (step-major: row = t * 2 + env)
  // env 0: rewards 1, 2, 3; values 0.5, 1.0, 1.5; the episode times out after step 1 with
  //        V(final obs) = 4, so its reward there is 2 + 0.9 * 4 = 5.6; V(after the rollout) = 2
  // env 1: rewards 0, 0, 1; values 0, 0, 0; no episode end; V(after) = 1
  const float rewards[] = {1, 0, 5.6f, 0, 3, 1};
  const unsigned char dones[] = {0, 0, 1, 0, 0, 0};
  const float values[] = {0.5f, 0, 1.0f, 0, 1.5f, 0};
  const float last[] = {2.0f, 1.0f};
  float adv[6], ret[6];
  compute_gae(3, 2, rewards, dones, values, last, 0.9, 0.8, adv, ret);
  // env 0, t = 2: delta = 3 + 0.9 * 2 - 1.5 = 3.3
  CHECK(adv[4] == Approx(3.3f));
  CHECK(ret[4] == Approx(4.8f));
  // t = 1 ends the episode: delta = 5.6 - 1.0, and nothing from t = 2 flows back
  CHECK(adv[2] == Approx(4.6f));
  CHECK(ret[2] == Approx(5.6f));
  // t = 0: delta = 1 + 0.9 * 1.0 - 0.5 = 1.4; A = 1.4 + 0.9 * 0.8 * 4.6 = 4.712
  CHECK(adv[0] == Approx(4.712f));
  CHECK(ret[0] == Approx(5.212f));
  // env 1: A2 = 1 + 0.9 * 1 = 1.9; A1 = 0.72 * 1.9 = 1.368; A0 = 0.72 * 1.368 = 0.98496
  CHECK(adv[5] == Approx(1.9f));
  CHECK(adv[3] == Approx(1.368f));
  CHECK(adv[1] == Approx(0.98496f));
  CHECK(ret[1] == Approx(0.98496f));
}

TEST_CASE("advantage normalization: zero mean, unit (Bessel) std", "[rl][gae]") {
  float a[] = {1, 2, 3, 4};
  normalize_advantages(a, 4);
  // mean 2.5, sample std sqrt(5/3)
  const float s = static_cast<float>(std::sqrt(5.0 / 3.0));
  CHECK(a[0] == Approx(-1.5f / s));
  CHECK(a[3] == Approx(1.5f / s));
  CHECK(a[0] + a[1] + a[2] + a[3] == Approx(0).margin(1e-6));
}

TEST_CASE("the learner bootstraps time-outs with V(final obs) and not terminations", "[rl][gae]") {
  PpoConfig cfg;
  cfg.policy.actor_hidden = {8};
  cfg.policy.critic_hidden = {8};
  cfg.algorithm.normalize_observations = false;
  cfg.algorithm.gamma = 0.9;
  cfg.runner.num_envs = 3;
  cfg.runner.num_steps_per_env = 1;
  cfg.algorithm.num_mini_batches = 1;
  cfg.runner.num_threads = 1;
  auto learner = make_learner(cfg, 3, 2, 1);
  const float obs[] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
  const float final_obs[] = {1.0f, -1.0f, 2.0f, 0.5f, -0.5f, 1.5f};
  float actions[3];
  learner->act(obs, actions);
  // env 0: runs on; env 1: time-out; env 2: terminated (and truncated: termination wins)
  const float rewards[] = {1.0f, 2.0f, 3.0f};
  const unsigned char term[] = {0, 0, 1}, trunc[] = {0, 1, 1};
  learner->process_env_step(rewards, term, trunc, final_obs);
  const float next_obs[] = {0.7f, 0.8f, 0.9f, 1.0f, 1.1f, 1.2f};
  learner->compute_returns(next_obs);

  float v_final[3], v_next[3];
  learner->evaluate(final_obs, v_final, 3);
  learner->evaluate(next_obs, v_next, 3);
  const RolloutStorage* s = learner->host_storage();
  REQUIRE(s != nullptr);
  CHECK(s->rewards[0] == 1.0f);
  CHECK(s->rewards[1] == Approx(2.0f + 0.9f * v_final[1]));
  CHECK(s->rewards[2] == 3.0f);
  CHECK(s->dones[0] == 0);
  CHECK(s->dones[1] == 1);
  CHECK(s->dones[2] == 1);
  // returns: env 0 bootstraps from the next obs; env 1 from its final obs (via the reward); env 2 not at all
  CHECK(s->returns[0] == Approx(1.0f + 0.9f * v_next[0]));
  CHECK(s->returns[1] == Approx(2.0f + 0.9f * v_final[1]));
  CHECK(s->returns[2] == Approx(3.0f));
}
