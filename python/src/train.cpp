// python/src/train.cpp — stampede._core._train: `stampede train` for Python. The same config
// resolution (rl/train_job.h) and runner as the command; the GIL is released while it trains,
// and Ctrl-C stops it after the current iteration with a checkpoint, as on the command line.
// python/stampede/__init__.py wraps it as stampede.train (run path and metrics).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "rl/runner.h"
#include "rl/tasks.h"
#include "rl/train_job.h"
#include "sim/tasks/make_env.h"
#include "sim/tasks/rl_tasks.h"

namespace py = pybind11;

namespace {

// returns (run directory, stopped by Ctrl-C)
std::pair<std::string, bool> train(const std::string& task, std::optional<long long> num_envs,
                                   const std::string& device, std::optional<std::string> env_device,
                                   std::optional<long long> iterations, std::optional<long long> seed,
                                   std::optional<std::string> config, const std::vector<std::string>& sets,
                                   std::optional<std::string> run_dir, std::optional<std::string> resume,
                                   std::optional<long long> checkpoint_every, bool quiet) {
  namespace rl = stampede::rl;
  namespace tasks = stampede::sim::tasks;
  auto positive = [](const char* name, const std::optional<long long>& v, long long lo) {
    if (v && *v < lo) throw py::value_error(std::string(name) + " must be >= " + std::to_string(lo));
    return v ? *v : -1;
  };
  tasks::register_rl_tasks();
  rl::TrainOptions o;
  o.task = task;
  o.device = device;
  o.num_envs = positive("num_envs", num_envs, 1);
  o.iterations = positive("iterations", iterations, 0);
  o.seed = positive("seed", seed, 0);
  o.checkpoint_every = positive("checkpoint_every", checkpoint_every, 1);
  o.config_file = config.value_or("");
  o.resume = resume.value_or("");
  o.run_dir = run_dir.value_or("");
  o.sets = sets;
  o.preset_folder = (std::filesystem::path(tasks::data_dir()) / "configs" / "train").string();
  rl::TrainJob job = rl::resolve_train_job(o);
  const rl::PpoConfig& cfg = job.cfg;
  tasks::register_rl_task_file(cfg.runner.task);
  if (!rl::has_task(cfg.runner.task)) {
    std::string known;
    for (const auto& [name, summary] : rl::list_tasks()) known += (known.empty() ? "" : ", ") + name;
    throw py::value_error("unknown task '" + cfg.runner.task + "' (known: " + known + ")");
  }
  auto env = rl::make_env(cfg.runner.task, cfg.runner.num_envs, env_device.value_or(cfg.runner.device), job.env_seed);
  rl::OnPolicyRunner runner(cfg, std::move(env), job.run_dir);
  if (!job.checkpoint.empty()) runner.load(job.checkpoint);
  if (quiet) runner.on_iteration = [](const rl::IterationStats&) {};
  bool interrupted = false;
  {
    py::gil_scoped_release release;
    interrupted = runner.learn_until_interrupted(/*second_aborts=*/false);
  }
  return {job.run_dir, interrupted};
}

}  // namespace

void bind_train(py::module_& m) {
  m.def("_train", &train, py::arg("task"), py::arg("num_envs") = py::none(), py::arg("device") = "cpu",
        py::arg("env_device") = py::none(), py::arg("iterations") = py::none(), py::arg("seed") = py::none(),
        py::arg("config") = py::none(), py::arg("sets") = std::vector<std::string>{},
        py::arg("run_dir") = py::none(), py::arg("resume") = py::none(), py::arg("checkpoint_every") = py::none(),
        py::arg("quiet") = false,
        "Train with PPO like `stampede train`; returns (run directory, stopped by Ctrl-C). "
        "Use stampede.train, which also reads the run's metrics.");
}
