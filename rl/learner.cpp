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

LearnerState state_from_root(dist::Communicator& comm, LearnerState s, const std::vector<double>& shape) {
  std::vector<double> root_shape = shape;
  comm.broadcast(root_shape.data(), root_shape.size(), 0);
  double mismatch = root_shape == shape ? 0.0 : 1.0;
  comm.allreduce_sum(&mismatch, 1);
  if (mismatch > 0)
    throw std::runtime_error("data-parallel ranks differ in network, num_envs, rollout length, minibatches, "
                             "epochs or normalization (" + std::to_string(static_cast<int>(mismatch)) +
                             " rank(s) differ from rank 0); every rank must train with the same config");
  comm.broadcast(s.params.data(), s.params.size(), 0);
  comm.broadcast(s.adam_exp_avg.data(), s.adam_exp_avg.size(), 0);
  comm.broadcast(s.adam_exp_avg_sq.data(), s.adam_exp_avg_sq.size(), 0);
  comm.broadcast(s.obs_mean.data(), s.obs_mean.size(), 0);
  comm.broadcast(s.obs_var.data(), s.obs_var.size(), 0);
  double scalars[] = {static_cast<double>(s.adam_step), s.learning_rate, s.obs_count, s.obs_eps};
  comm.broadcast(scalars, 4, 0);
  comm.broadcast(s.rng.data(), s.rng.size(), 0);
  s.adam_step = static_cast<int64_t>(scalars[0]);
  s.learning_rate = scalars[1];
  s.obs_count = scalars[2];
  s.obs_eps = scalars[3];
  if (comm.rank() > 0) {
    Rng r(s.rng[0] ^ (0x9e3779b97f4a7c15ull * static_cast<uint64_t>(comm.rank())));
    for (int k = 0; k < 4; ++k) r.next();
    s.rng = r.state();
  }
  return s;
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

int select_cuda_device(int local_rank) {
#ifdef STAMPEDE_WITH_CUDA
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) return -1;
  const int device = std::max(0, local_rank) % count;
  if (cudaSetDevice(device) != cudaSuccess) return -1;
  return device;
#else
  (void)local_rank;
  return -1;
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
