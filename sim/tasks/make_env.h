// sim/tasks/make_env.h — build a locomotion VecEnv by task name and device.
//
//   auto env = make_locomotion_env("h1-walk", 4096, "mujoco", /*seed=*/0);
//
// A task is configs/tasks/<task>.yaml under the data directory (or a path to such a YAML); its
// `robot:` names assets/<robot>/robot.yaml. The device picks the backend: "mujoco" (MuJoCo's
// batched CPU engine, double), "cpu" or "cuda" (our kernel backends, float).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rl/env.h"
#include "sim/tasks/locomotion_vec_env.h"
#include "sim/tasks/task_config.h"

namespace stampede::sim::tasks {

// the folder holding assets/ and configs/: set_data_dir(), else $STAMPEDE_DATA_DIR, else the
// source tree this library was built from
std::string data_dir();
void set_data_dir(const std::string& dir);

// task names with a configs/tasks/<name>.yaml under data_dir()
std::vector<std::string> locomotion_task_names();
// the config of a task name or YAML path; throws std::invalid_argument for an unknown task
TaskConfig find_task_config(const std::string& task);
// devices this build can run ("mujoco", and "cpu"/"cuda" when their backends are built)
std::vector<std::string> available_devices();

// throws std::invalid_argument for an unknown task or device, num_envs < 1, or a device this
// build or machine cannot run (e.g. "cuda" without a GPU), with a message saying which.
// cfg overrides the task's YAML; nthread 0: every CPU.
std::unique_ptr<LocomotionVecEnv> make_locomotion_vec_env(const std::string& task, int num_envs,
                                                          const std::string& device, uint64_t seed,
                                                          const TaskConfig* cfg = nullptr,
                                                          int nthread = 0);
// the same, as the learner's interface
std::unique_ptr<rl::VecEnvBase> make_locomotion_env(const std::string& task, int num_envs,
                                                    const std::string& device, uint64_t seed,
                                                    const TaskConfig* cfg = nullptr, int nthread = 0);

}  // namespace stampede::sim::tasks
