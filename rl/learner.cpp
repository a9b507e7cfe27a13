// rl/learner.cpp — backend selection.
#include "rl/learner.h"

#include <algorithm>
#include <stdexcept>

#ifdef STAMPEDE_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace stampede::rl {

double scheduled_learning_rate(const AlgorithmConfig& a, double lr, double kl) {
  if (a.schedule != "adaptive") return lr;
  if (kl > 2.0 * a.desired_kl) return std::max(a.min_learning_rate, lr / 1.5);
  if (kl < 0.5 * a.desired_kl && kl > 0.0) return std::min(a.max_learning_rate, lr * 1.5);
  return lr;
}

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
    throw std::runtime_error(
        "--device cuda: the CUDA learner backend is not implemented yet; use --device cpu (with "
        "--env-device cuda the worlds still step on the GPU)");
  }
  throw std::invalid_argument("unknown device '" + cfg.runner.device + "' (expected cpu or cuda)");
}

}  // namespace stampede::rl
