// rl/storage.h — the rollout of one iteration, (num_steps, num_envs) transitions stored
// step-major (row = step * num_envs + env), and the returns computation (GAE).
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <vector>

namespace stampede::rl {

// a vector aligned like Eigen's own matrices (EIGEN_MAX_ALIGN_BYTES): Eigen picks vectorized
// paths and peels loops by the address of the data, so the float results of the same product
// could otherwise differ between two learners (or a learner and its resumed copy)
template <class T>
using AlignedVector = std::vector<T, Eigen::aligned_allocator<T>>;

struct RolloutStorage {
  RolloutStorage() = default;
  RolloutStorage(int num_steps, int num_envs, int obs_dim, int act_dim);

  int num_steps = 0, num_envs = 0, obs_dim = 0, act_dim = 0;
  int step = 0;  // transitions recorded so far in this rollout

  AlignedVector<float> obs;         // (T, N, obs_dim) normalized observations the actions were taken on
  AlignedVector<float> actions;     // (T, N, act_dim) sampled actions
  AlignedVector<float> mu;          // (T, N, act_dim) policy mean at sampling time
  AlignedVector<float> sigma;       // (T, N, act_dim) policy std at sampling time
  AlignedVector<float> log_prob;    // (T, N) log-probability of the sampled action
  AlignedVector<float> values;      // (T, N) critic value of obs
  AlignedVector<float> rewards;     // (T, N) rewards, time-outs bootstrapped (+ gamma V(final obs))
  std::vector<unsigned char> dones;  // (T, N) 1 where the episode ended (terminated or truncated)
  AlignedVector<float> returns;     // (T, N) value targets, after compute_gae
  AlignedVector<float> advantages;  // (T, N) advantages, after compute_gae (normalized by the learner)

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
