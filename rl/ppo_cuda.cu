// rl/ppo_cuda.cu — the CUDA learner: rl/ppo_device.inl over CudaLearnSpace (device memory,
// cuBLAS GEMMs, a thread per index for every other stage).
#include "rl/cuda_learn_space.cuh"
#include "rl/ppo_device.inl"

namespace stampede::rl {

template class DevicePpoLearner<CudaLearnSpace>;

std::unique_ptr<PpoLearner> make_cuda_learner(const PpoConfig& cfg, int num_envs, int obs_dim, int act_dim) {
  return std::make_unique<DevicePpoLearner<CudaLearnSpace>>(CudaLearnSpace(), cfg, num_envs, obs_dim, act_dim);
}

}  // namespace stampede::rl
