// sim/tasks/rl_tasks.cpp — see rl_tasks.h.
#include "sim/tasks/rl_tasks.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "rl/tasks.h"
#include "sim/tasks/make_env.h"

namespace stampede::sim::tasks {

namespace {

void register_locomotion(const std::string& name, const char* summary) {
  rl::register_task(
      name,
      [name](int num_envs, const std::string& device, uint64_t seed) {
        std::string sim_device = device;
        const auto devices = available_devices();
        if (std::find(devices.begin(), devices.end(), device) == devices.end()) sim_device = "mujoco";
        return make_locomotion_env(name, num_envs, sim_device, seed);
      },
      summary);
}

}  // namespace

void register_rl_task_file(const std::string& task) {
  std::error_code ec;
  if (task.size() <= 5 || task.compare(task.size() - 5, 5, ".yaml") != 0 || rl::has_task(task)) return;
  if (!std::filesystem::is_regular_file(task, ec))
    throw std::invalid_argument("task file '" + task + "' does not exist");
  register_locomotion(task, "locomotion task from a YAML file");
}

void register_rl_tasks() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::vector<std::string> names;
    try {
      names = locomotion_task_names();
    } catch (const std::exception&) {
    }
    for (const char* n : {"h1-walk", "humanoid-walk"})
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    for (const auto& name : names) register_locomotion(name, "locomotion task (sim/tasks)");
  });
}

}  // namespace stampede::sim::tasks
