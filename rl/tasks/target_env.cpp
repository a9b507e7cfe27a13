// rl/tasks/target_env.cpp — the "target" task: a contextual bandit with time-outs, on which PPO
// must pass a reward threshold in seconds (Brax keeps the same kind of trivial env for its
// training tests).
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "rl/rng.h"
#include "rl/tasks/builtin.h"

namespace stampede::rl {
namespace {

class TargetEnv final : public VecEnvBase {
 public:
  static constexpr int kDim = 3;          // target and action size
  static constexpr int kEpisodeSteps = 10;

  TargetEnv(int num_envs, uint64_t seed)
      : n_(num_envs), rng_(seed ^ 0x7a26e7ull), target_(num_envs * kDim), t_(num_envs, 0) {}

  int num_envs() const override { return n_; }
  int obs_dim() const override { return kDim; }
  int act_dim() const override { return kDim; }
  int max_episode_steps() const override { return kEpisodeSteps; }

  void reset(float* obs) override {
    for (int i = 0; i < n_; ++i) new_episode(i);
    std::copy(target_.begin(), target_.end(), obs);
  }

  void step(const float* actions, float* obs, float* reward, unsigned char* terminated,
            unsigned char* truncated, float* final_obs) override {
    double err_sum = 0;
    for (int i = 0; i < n_; ++i) {
      // reward: minus the mean absolute error of the action against the target
      double err = 0;
      for (int j = 0; j < kDim; ++j) err += std::abs(actions[i * kDim + j] - target_[i * kDim + j]);
      err /= kDim;
      err_sum += err;
      reward[i] = static_cast<float>(-err);
      terminated[i] = 0;
      // time-out: the observation the episode ended on goes to final_obs, then a new episode
      truncated[i] = ++t_[i] >= kEpisodeSteps;
      if (truncated[i]) {
        std::copy_n(&target_[i * kDim], kDim, final_obs + i * kDim);
        new_episode(i);
      }
    }
    std::copy(target_.begin(), target_.end(), obs);
    last_err_ = err_sum / n_;
  }

  std::map<std::string, double> step_stats() const override { return {{"abs_error", last_err_}}; }

 private:
  void new_episode(int i) {
    for (int j = 0; j < kDim; ++j) target_[i * kDim + j] = static_cast<float>(rng_.uniform(-1.0, 1.0));
    t_[i] = 0;
  }

  int n_;
  Rng rng_;
  std::vector<float> target_;  // (n, kDim) the target of each world's episode
  std::vector<int> t_;         // (n) steps into the episode
  double last_err_ = 0;        // mean |a - t| of the last step
};

}  // namespace

std::unique_ptr<VecEnvBase> make_target_env(int num_envs, const std::string& device, uint64_t seed) {
  if (device != "cpu") throw std::invalid_argument("task 'target' runs on the CPU only (device '" + device + "')");
  return std::make_unique<TargetEnv>(num_envs, seed);
}

}  // namespace stampede::rl
