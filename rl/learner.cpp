// rl/learner.cpp — backend selection.
#include "rl/learner.h"
#include "rl/schedule.h"

#include <algorithm>
#include <stdexcept>

#ifdef STAMPEDE_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace stampede::rl {

double scheduled_learning_rate(const AlgorithmConfig& a, double lr, double kl) {
  return adaptive_learning_rate(a.schedule == "adaptive", a.desired_kl, a.min_learning_rate, a.max_learning_rate,
                                lr, kl);
}

#ifndef STAMPEDE_WITH_CUDA
std::unique_ptr<PpoLearner> make_cuda_learner(const PpoConfig&, int, int, int) {
  throw std::runtime_error("--device cuda: this build has no CUDA support (configured with STAMPEDE_WITH_CUDA=OFF "
                           "or without nvcc); use --device cpu");
}
#endif

bool cuda_available(std::string* why) {
#ifdef STAMPEDE_WITH_CUDA
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    if (why) *why = std::string("no CUDA device found (") + cudaGetErrorString(err) + ")";
    return false;
  }
  return true;
#else
  if (why) *why = "this build has no CUDA support (configured with STAMPEDE_WITH_CUDA=OFF or without nvcc)";
  return false;
#endif
}

std::unique_ptr<PpoLearner> make_learner(const PpoConfig& cfg, int num_envs, int obs_dim, int act_dim) {
  if (cfg.runner.device == "cpu") return make_cpu_learner(cfg, num_envs, obs_dim, act_dim);
  if (cfg.runner.device == "cuda") {
    std::string why;
    if (!cuda_available(&why)) throw std::runtime_error("--device cuda: " + why + "; use --device cpu");
    return make_cuda_learner(cfg, num_envs, obs_dim, act_dim);
  }
  throw std::invalid_argument("unknown device '" + cfg.runner.device + "' (expected cpu or cuda)");
}

}  // namespace stampede::rl
