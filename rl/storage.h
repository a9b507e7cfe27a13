// rl/storage.h — the rollout of one iteration, (num_steps, num_envs) transitions stored
// step-major (row = step * num_envs + env), and the returns computation (GAE).
#pragma once

#include <cstddef>
#include <vector>

namespace stampede::rl {

struct RolloutStorage {
  RolloutStorage() = default;
  RolloutStorage(int num_steps, int num_envs, int obs_dim, int act_dim);

  int num_steps = 0, num_envs = 0, obs_dim = 0, act_dim = 0;
  int step = 0;  // transitions recorded so far in this rollout

  std::vector<float> obs;         // (T, N, obs_dim) normalized observations the actions were taken on
  std::vector<float> actions;     // (T, N, act_dim) sampled actions
  std::vector<float> mu;          // (T, N, act_dim) policy mean at sampling time
  std::vector<float> sigma;       // (T, N, act_dim) policy std at sampling time
  std::vector<float> log_prob;    // (T, N) log-probability of the sampled action
  std::vector<float> values;      // (T, N) critic value of obs
  std::vector<float> rewards;     // (T, N) rewards, time-outs bootstrapped (+ gamma V(final obs))
  std::vector<unsigned char> dones;  // (T, N) 1 where the episode ended (terminated or truncated)
  std::vector<float> returns;     // (T, N) value targets, after compute_gae
  std::vector<float> advantages;  // (T, N) advantages, after compute_gae (normalized by the learner)

  std::size_t size() const { return static_cast<std::size_t>(num_steps) * num_envs; }
  void clear() { step = 0; }
};

// Generalized advantage estimation over a (num_steps, num_envs) rollout, step-major.
// last_values (num_envs) is V of the observation after the last step. Time-outs are expected to
// be bootstrapped in the rewards already, so dones cut the recursion for both ends of episodes.
void compute_gae(int num_steps, int num_envs, const float* rewards, const unsigned char* dones,
                 const float* values, const float* last_values, double gamma, double lam,
                 float* advantages, float* returns);

// advantages <- (advantages - mean) / (std + 1e-8), std with Bessel's correction (as torch.std)
void normalize_advantages(float* advantages, std::size_t n);

}  // namespace stampede::rl
