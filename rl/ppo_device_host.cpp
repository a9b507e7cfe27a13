// rl/ppo_device_host.cpp — the CUDA learner's code (rl/ppo_device.inl) over host memory: what the
// tests run to check it without a GPU (tests/rl/test_device_learner.cpp).
#include "rl/ppo_device.inl"

namespace stampede::rl {

template class DevicePpoLearner<HostLearnSpace>;

std::unique_ptr<PpoLearner> make_host_space_learner(const PpoConfig& cfg, int num_envs, int obs_dim, int act_dim,
                                                    bool reverse_order) {
  HostLearnSpace space;
  space.reverse_order = reverse_order;
  return std::make_unique<DevicePpoLearner<HostLearnSpace>>(space, cfg, num_envs, obs_dim, act_dim);
}

}  // namespace stampede::rl
