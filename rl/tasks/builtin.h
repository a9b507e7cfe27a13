// rl/tasks/builtin.h — the small learning tasks of rl/ (registered in rl/tasks.cpp). They run on
// the CPU only; device "cuda" is refused with a message.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "rl/env.h"

namespace stampede::rl {

// "target": obs = a target vector t in [-1, 1]^3 drawn per episode; reward = -mean_j |a_j - t_j|;
// episodes of 10 steps end by time-out. The optimal policy is a = t (reward 0).
std::unique_ptr<VecEnvBase> make_target_env(int num_envs, const std::string& device, uint64_t seed);

// "point-reach": a 0.5 kg point mass on two slide joints (MuJoCo, plain mj_step per world),
// two motors (|force| <= 1 N); obs = (target - position, velocity); reward per step =
// 1 / (1 + distance) - 0.01 |action|^2 (at most 1: returns are at most 100); episodes of 100 control steps (4 s) end by time-out, or by
// termination when the mass leaves the 5 m x 5 m arena.
std::unique_ptr<VecEnvBase> make_point_reach_env(int num_envs, const std::string& device, uint64_t seed);

}  // namespace stampede::rl
