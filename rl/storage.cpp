// rl/storage.cpp
#include "rl/storage.h"

#include <cmath>

namespace stampede::rl {

RolloutStorage::RolloutStorage(int T, int N, int obs_dim_, int act_dim_)
    : num_steps(T), num_envs(N), obs_dim(obs_dim_), act_dim(act_dim_) {
  const std::size_t n = size();
  obs.resize(n * obs_dim);
  actions.resize(n * act_dim);
  mu.resize(n * act_dim);
  sigma.resize(n * act_dim);
  log_prob.resize(n);
  values.resize(n);
  rewards.resize(n);
  dones.resize(n);
  returns.resize(n);
  advantages.resize(n);
}

void compute_gae(int T, int N, const float* rewards, const unsigned char* dones, const float* values,
                 const float* last_values, double gamma, double lam, float* advantages, float* returns) {
  for (int n = 0; n < N; ++n) {
    double gae = 0;  // A_{t+1}, the advantage of the next step
    for (int t = T - 1; t >= 0; --t) {
      const std::size_t i = static_cast<std::size_t>(t) * N + n;
      // V(s_{t+1}): the next stored value, or the value after the rollout at its end
      const double next_value = t == T - 1 ? last_values[n] : values[i + N];
      // 0 where the episode ended at step t: nothing after it belongs to this episode
      const double not_done = dones[i] ? 0.0 : 1.0;
      // TD error: delta_t = r_t + gamma V(s_{t+1}) (1 - done_t) - V(s_t)
      const double delta = rewards[i] + gamma * next_value * not_done - values[i];
      // A_t = delta_t + gamma lambda (1 - done_t) A_{t+1}
      gae = delta + gamma * lam * not_done * gae;
      // value target: R_t = A_t + V(s_t)
      returns[i] = static_cast<float>(gae + values[i]);
      advantages[i] = static_cast<float>(gae);
    }
  }
}

void normalize_advantages(float* a, std::size_t n) {
  if (n == 0) return;
  double mean = 0;
  for (std::size_t i = 0; i < n; ++i) mean += a[i];
  mean /= static_cast<double>(n);
  double var = 0;
  for (std::size_t i = 0; i < n; ++i) var += (a[i] - mean) * (a[i] - mean);
  var /= n > 1 ? static_cast<double>(n - 1) : 1.0;
  const double inv = 1.0 / (std::sqrt(var) + 1e-8);
  for (std::size_t i = 0; i < n; ++i) a[i] = static_cast<float>((a[i] - mean) * inv);
}

}  // namespace stampede::rl
