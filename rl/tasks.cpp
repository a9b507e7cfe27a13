// rl/tasks.cpp — the task registry, seeded with the built-in tasks.
#include "rl/tasks.h"

#include <map>
#include <mutex>
#include <stdexcept>

#include "rl/tasks/builtin.h"

namespace stampede::rl {
namespace {

struct Entry {
  EnvFactory factory;
  std::string summary;
};

std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

// the registry, with the built-in tasks added on first use (referenced from here, so a static
// link always keeps them)
std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> tasks = [] {
    std::map<std::string, Entry> t;
    t["target"] = {make_target_env,
                   "trivial check task: observe a target vector, reward -|action - target| (Brax-style)"};
    t["point-reach"] = {make_point_reach_env,
                        "MuJoCo point mass driven by two motors to a random target in the plane"};
    return t;
  }();
  return tasks;
}

}  // namespace

void register_task(const std::string& name, EnvFactory factory, const std::string& summary) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry()[name] = {std::move(factory), summary};
}

bool has_task(const std::string& name) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  return registry().count(name) > 0;
}

std::vector<std::pair<std::string, std::string>> list_tasks() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, e] : registry()) out.emplace_back(name, e.summary);
  return out;
}

std::unique_ptr<VecEnvBase> make_env(const std::string& task, int num_envs, const std::string& device,
                                     uint64_t seed) {
  EnvFactory factory;
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    auto it = registry().find(task);
    if (it == registry().end()) {
      std::string known;
      for (const auto& [name, e] : registry()) known += (known.empty() ? "" : ", ") + name;
      std::string hint;
      if (task.find("walk") != std::string::npos)
        hint = " (locomotion tasks are registered by the locomotion library, sim/tasks; this "
               "program was built without it)";
      throw std::invalid_argument("unknown task '" + task + "'" + hint + "; known tasks: " + known);
    }
    factory = it->second.factory;
  }
  if (num_envs < 1) throw std::invalid_argument("num_envs must be >= 1, got " + std::to_string(num_envs));
  return factory(num_envs, device, seed);
}

}  // namespace stampede::rl
