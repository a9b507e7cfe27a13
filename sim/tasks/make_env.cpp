// sim/tasks/make_env.cpp — task name + device -> LocomotionEnv on the matching backend.
#include "sim/tasks/make_env.h"

#include <mujoco/mujoco.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "sim/mujoco_backend.h"
#include "sim/robot/robot.h"
#include "sim/robot_check.h"
#include "sim/tasks/locomotion_device_env.h"
#include "sim/tasks/locomotion_env.h"

#if defined(STAMPEDE_TASKS_KERNEL_BACKENDS)
#include "sim/make_backend.h"
#define STAMPEDE_TASKS_HAVE_KERNEL_BACKENDS 1
#else
#define STAMPEDE_TASKS_HAVE_KERNEL_BACKENDS 0
#endif

#ifndef STAMPEDE_SOURCE_DIR
#define STAMPEDE_SOURCE_DIR "."
#endif

namespace fs = std::filesystem;

namespace stampede::sim::tasks {
namespace {

std::mutex g_dir_mutex;
std::string g_data_dir;

std::string join(const std::vector<std::string>& v) {
  std::ostringstream s;
  for (size_t i = 0; i < v.size(); ++i) s << (i ? ", " : "") << v[i];
  return s.str();
}

// the env keeps the compiled model alive for backends that borrow it
struct ModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};

template <class Real>
std::unique_ptr<LocomotionVecEnv> make_env_on(std::unique_ptr<Backend<Real>> backend,
                                            const robot::RobotSpec& spec, const TaskConfig& cfg,
                                            uint64_t seed, int nthread, std::shared_ptr<mjModel> model) {
  auto env = std::make_unique<LocomotionEnv<Real>>(std::move(backend), spec, cfg, seed, nthread);
  env->hold(std::move(model));
  return env;
}

// MuJoCo compiles the MJCF (as sim/compile.h's load_mjcf, without linking the kernel library)
std::shared_ptr<mjModel> compile_mjcf(const std::string& path) {
  char err[1000] = "";
  mjModel* m = mj_loadXML(path.c_str(), nullptr, err, sizeof(err));
  if (!m) throw std::invalid_argument(path + ": MuJoCo could not compile the MJCF: " + err);
  return std::shared_ptr<mjModel>(m, ModelDeleter());
}

}  // namespace

std::string data_dir() {
  {
    std::lock_guard<std::mutex> lock(g_dir_mutex);
    if (!g_data_dir.empty()) return g_data_dir;
  }
  if (const char* env = std::getenv("STAMPEDE_DATA_DIR"); env && *env) return env;
  return STAMPEDE_SOURCE_DIR;
}

void set_data_dir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(g_dir_mutex);
  g_data_dir = dir;
}

std::vector<std::string> locomotion_task_names() {
  std::vector<std::string> names;
  std::error_code ec;
  const fs::path dir = fs::path(data_dir()) / "configs" / "tasks";
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

TaskConfig find_task_config(const std::string& task) {
  std::error_code ec;
  if (task.size() > 5 && task.substr(task.size() - 5) == ".yaml" && fs::is_regular_file(task, ec))
    return load_task_config(task);
  const fs::path path = fs::path(data_dir()) / "configs" / "tasks" / (task + ".yaml");
  if (task.empty() || task.find('/') != std::string::npos || !fs::is_regular_file(path, ec)) {
    const auto names = locomotion_task_names();
    throw std::invalid_argument("unknown task '" + task + "'; known tasks: " +
                                (names.empty() ? "none (no configs/tasks/*.yaml under " + data_dir() + ")"
                                               : join(names)));
  }
  return load_task_config(path.string());
}

std::vector<std::string> available_devices() {
  std::vector<std::string> d = {"mujoco"};
#if STAMPEDE_TASKS_HAVE_KERNEL_BACKENDS
  d.push_back("cpu");
#if defined(STAMPEDE_WITH_CUDA)
  d.push_back("cuda");
#endif
#endif
  return d;
}

std::unique_ptr<rl::VecEnvBase> make_locomotion_env(const std::string& task, int num_envs,
                                                    const std::string& device, uint64_t seed,
                                                    const TaskConfig* cfg, int nthread) {
  return make_locomotion_vec_env(task, num_envs, device, seed, cfg, nthread);
}

std::unique_ptr<LocomotionVecEnv> make_locomotion_vec_env(const std::string& task, int num_envs,
                                                          const std::string& device, uint64_t seed,
                                                          const TaskConfig* cfg_in, int nthread) {
  if (num_envs < 1) throw std::invalid_argument("num_envs must be >= 1, got " + std::to_string(num_envs));
  if (device != "mujoco" && device != "cpu" && device != "cuda")
    throw std::invalid_argument("unknown device '" + device + "'; expected mujoco, cpu or cuda");
  const TaskConfig cfg = cfg_in ? *cfg_in : find_task_config(task);
  const std::string robot_path =
      robot::resolve_robot_path(cfg.robot, (fs::path(data_dir()) / "assets").string());
  const robot::RobotSpec spec = robot::load_robot(robot_path);
  std::shared_ptr<mjModel> model = compile_mjcf(spec.mjcf);
  check_robot_against_model(spec, model.get());

  if (device == "mujoco")
    return make_env_on<double>(make_mujoco_backend(model.get(), num_envs, nthread), spec, cfg, seed,
                               nthread, model);
#if STAMPEDE_TASKS_HAVE_KERNEL_BACKENDS
#if !defined(STAMPEDE_WITH_CUDA)
  if (device == "cuda")
    throw std::invalid_argument("device 'cuda': this build of stampede has no CUDA backend "
                                "(built with STAMPEDE_WITH_CUDA=OFF or without nvcc)");
#endif
#if defined(STAMPEDE_WITH_CUDA)
  // the task's state and every per-world stage on the GPU (locomotion_device_env.h)
  if (device == "cuda") {
    auto env = make_cuda_locomotion_env(model.get(), num_envs, spec, cfg, seed);
    return env;
  }
#endif
  return make_env_on<float>(make_backend<float>(device, model.get(), num_envs, nthread), spec, cfg,
                            seed, nthread, model);
#else
  throw std::invalid_argument("device '" + device + "': the " + device +
                              " kernel backend is not part of this build yet; use device 'mujoco'");
#endif
}

}  // namespace stampede::sim::tasks
