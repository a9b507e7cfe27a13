// sim/tasks/locomotion_device_env.cu — DeviceLocomotionEnv over CudaSpace: the locomotion task
// on the GPU, every per-world stage a kernel (device "cuda").
#include "sim/tasks/cuda_space.cuh"
#include "sim/tasks/locomotion_device_env.inl"

namespace stampede::sim::tasks {

template class DeviceLocomotionEnv<float, CudaSpace<float>>;

std::unique_ptr<LocomotionVecEnv> make_cuda_locomotion_env(const mjModel* m, int num_envs,
                                                           const robot::RobotSpec& spec, const TaskConfig& cfg,
                                                           uint64_t seed) {
  CudaSpace<float> space(std::make_unique<CudaBackend<float>>(m, num_envs));
  return std::make_unique<DeviceLocomotionEnv<float, CudaSpace<float>>>(std::move(space), spec, cfg, seed);
}

}  // namespace stampede::sim::tasks
