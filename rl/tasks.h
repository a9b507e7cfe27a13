// rl/tasks.h — the task registry: task name -> VecEnv factory. The built-in learning tasks
// (rl/tasks/: "target", "point-reach") are always there; other libraries add theirs with
// register_task (the locomotion library's "h1-walk", "humanoid-walk", ... are registered by the
// `stampede` binary, so rl never depends on sim/tasks at compile time).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "rl/env.h"

namespace stampede::rl {

// builds num_envs worlds of a task on a device ("cpu", "cuda", or a backend name the task
// understands) seeded with seed; throws std::invalid_argument when it cannot
using EnvFactory = std::function<std::unique_ptr<VecEnvBase>(int num_envs, const std::string& device,
                                                             uint64_t seed)>;

// adds or replaces a task
void register_task(const std::string& name, EnvFactory factory, const std::string& summary = "");
bool has_task(const std::string& name);
// (name, summary) of every registered task, sorted by name
std::vector<std::pair<std::string, std::string>> list_tasks();
// throws std::invalid_argument naming the known tasks when `task` is not registered
std::unique_ptr<VecEnvBase> make_env(const std::string& task, int num_envs, const std::string& device,
                                     uint64_t seed);

}  // namespace stampede::rl
