// cli/cmd_train.cpp — `stampede train`: PPO on a registered task, into a run directory.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "command.h"
#include "rl/checkpoint.h"
#include "rl/config.h"
#include "rl/dist/dist.h"
#include "rl/runner.h"
#include "rl/tasks.h"

#if __has_include("sim/tasks/make_env.h")
#include "sim/tasks/make_env.h"
#define STAMPEDE_HAS_LOCOMOTION 1
#endif

namespace stampede::cli {

// the locomotion tasks of sim/tasks, added to rl's task registry (rl itself never depends on
// sim/tasks). Their physics runs on a sim backend: the learner's device when the build has that
// backend, else MuJoCo's reference engine; `--env-device` picks one explicitly.
#ifdef STAMPEDE_HAS_LOCOMOTION
// registers locomotion task `name` (a configs/tasks name or a task YAML path) in rl's registry
void register_locomotion(const std::string& name, const char* summary) {
  rl::register_task(
      name,
      [name](int num_envs, const std::string& device, uint64_t seed) {
        std::string sim_device = device;
        const auto devices = sim::tasks::available_devices();
        if (std::find(devices.begin(), devices.end(), device) == devices.end()) sim_device = "mujoco";
        return sim::tasks::make_locomotion_env(name, num_envs, sim_device, seed);
      },
      summary);
}
#endif

void register_locomotion_task_file(const std::string& task) {
#ifdef STAMPEDE_HAS_LOCOMOTION
  // a task YAML given by path (configs/tasks/*.yaml's format): registered under that path
  std::error_code ec;
  if (task.size() <= 5 || task.compare(task.size() - 5, 5, ".yaml") != 0 || rl::has_task(task)) return;
  if (!std::filesystem::is_regular_file(task, ec))
    throw std::invalid_argument("task file '" + task + "' does not exist");
  register_locomotion(task, "locomotion task from a YAML file");
#else
  (void)task;
#endif
}

void register_locomotion_tasks() {
#ifdef STAMPEDE_HAS_LOCOMOTION
  static bool done = false;
  if (done) return;
  done = true;
  std::vector<std::string> names;
  try {
    names = sim::tasks::locomotion_task_names();
  } catch (const std::exception&) {
  }
  for (const char* n : {"h1-walk", "humanoid-walk"})
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  for (const auto& name : names) register_locomotion(name, "locomotion task (sim/tasks)");
#endif
}

namespace {

const char* kTrainHelp = R"(usage: stampede train --task NAME [options]

Trains a policy with PPO and writes a run directory (resolved config.yaml, metrics.csv,
TensorBoard event files, checkpoints/model_<iteration>.h5).

options:
  --task NAME            task to train (see the list below)
  --num-envs N           parallel worlds (default 4096, or the config's runner.num_envs)
  --device cpu|cuda      learner device (default cpu)
  --env-device D         device/backend of the env when it differs from --device
                         (locomotion: mujoco, cpu or cuda)
  --iterations K         total iterations of the run (a resumed run continues up to K)
  --seed S               seed of the learner and the env (default 1)
  --config FILE          YAML config (sections policy, algorithm, runner); without it, a
                         task with a CPU preset (configs/train/<task>-cpu.yaml, e.g. h1-walk)
                         trained on --device cpu starts from that preset
  --set key=value        override one config value, e.g. --set algorithm.learning_rate=3e-4
                         or --set actor_hidden=[256,128]; repeatable; applied after --config
  --resume RUN           continue the run directory RUN from its latest checkpoint
  --run-dir DIR          where to write the run (default runs/<task>-<date>-<time>)
  --checkpoint-every K   checkpoint every K iterations (default 50); always at exit and on Ctrl-C
  --quiet                no progress output
  --dist auto|local|mpi|nccl
                         data-parallel transport (default auto: mpi when started by mpirun with
                         several processes, else local); see docs/DISTRIBUTED.md
  --dist-timeout S       a collective that waits longer than S seconds ends the whole job with an
                         error naming the rank(s) that did not arrive (default 120)
  -h, --help             this help

Ctrl-C stops after the current iteration and writes a checkpoint; a second Ctrl-C aborts.

Data-parallel: `mpirun -np K stampede train ...` trains one policy with K ranks, each stepping
--num-envs worlds of its own (seed + rank); gradients, KL, advantage and observation statistics
are averaged over ranks; rank 0 writes the run. --resume works with another rank count.
)";

extern "C" void on_sigint(int) {
  rl::OnPolicyRunner::stop_requested().store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C aborts
}

// RUN as given, or runs/RUN
std::string resolve_run(const std::string& run) {
  namespace fs = std::filesystem;
  if (fs::is_directory(run)) return run;
  if (fs::is_directory(fs::path("runs") / run)) return (fs::path("runs") / run).string();
  throw std::invalid_argument("run directory '" + run + "' not found (nor runs/" + run + ")");
}

// the command line of `stampede train`
struct TrainArgs {
  std::string task, device, env_device, config_file, resume, run_dir, dist = "auto";
  std::string preset;  // the CPU preset the config came from ("" if none)
  std::vector<std::string> sets;
  long long num_envs = -1, iterations = -1, seed = -1, checkpoint_every = -1;
  double dist_timeout = 120;
  bool quiet = false, help = false;
};

TrainArgs parse_train_args(const std::vector<std::string>& args) {
  TrainArgs t;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
      return args[++i];
    };
    auto integer = [&](long long lo) {
      const std::string v = value();
      char* end = nullptr;
      const long long x = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end || x < lo)
        throw std::invalid_argument(a + ": expected an integer >= " + std::to_string(lo) + ", got '" + v + "'");
      return x;
    };
    if (a == "-h" || a == "--help") t.help = true;
    else if (a == "--task") t.task = value();
    else if (a == "--num-envs") t.num_envs = integer(1);
    else if (a == "--device") t.device = value();
    else if (a == "--env-device") t.env_device = value();
    else if (a == "--iterations") t.iterations = integer(0);
    else if (a == "--seed") t.seed = integer(0);
    else if (a == "--config") t.config_file = value();
    else if (a == "--set") t.sets.push_back(value());
    else if (a == "--resume") t.resume = value();
    else if (a == "--run-dir") t.run_dir = value();
    else if (a == "--checkpoint-every") t.checkpoint_every = integer(1);
    else if (a == "--quiet") t.quiet = true;
    else if (a == "--dist") t.dist = value();
    else if (a == "--dist-timeout") {
      const std::string v = value();
      char* end = nullptr;
      t.dist_timeout = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || !(t.dist_timeout > 0))
        throw std::invalid_argument("--dist-timeout: expected seconds > 0, got '" + v + "'");
    }
    else throw std::invalid_argument("unknown option '" + a + "' (stampede train --help)");
  }
  return t;
}

// the task's CPU preset (configs/train/<task>-cpu.yaml under the data folder), or ""
std::string cpu_preset(const std::string& task) {
#ifdef STAMPEDE_HAS_LOCOMOTION
  std::error_code ec;
  const auto path = std::filesystem::path(sim::tasks::data_dir()) / "configs" / "train" / (task + "-cpu.yaml");
  if (!task.empty() && task.find('/') == std::string::npos && std::filesystem::is_regular_file(path, ec))
    return path.string();
#else
  (void)task;
#endif
  return "";
}

// the run's config: the checkpoint's (resume) or --config or, on the CPU, the task's CPU preset,
// or defaults; then --set, then the explicit flags; t.run_dir and *checkpoint are filled for a
// resumed run, t.preset when the CPU preset was used
rl::PpoConfig resolve_config(TrainArgs& t, std::string* checkpoint) {
  rl::PpoConfig cfg;
  if (!t.resume.empty()) {
    if (!t.config_file.empty()) throw std::invalid_argument("--resume uses the run's own config; drop --config");
    t.run_dir = resolve_run(t.resume);
    *checkpoint = rl::latest_checkpoint(t.run_dir);
    if (checkpoint->empty()) throw std::runtime_error("run '" + t.run_dir + "' has no checkpoint to resume from");
    cfg = rl::config_from_yaml(rl::load_checkpoint(*checkpoint).config_yaml, *checkpoint + "@config");
    if (!t.task.empty() && t.task != cfg.runner.task)
      throw std::invalid_argument("--task " + t.task + " differs from the resumed run's task " + cfg.runner.task);
  } else if (!t.config_file.empty()) {
    cfg = rl::load_config(t.config_file);
  } else if ((t.device.empty() || t.device == "cpu") && !(t.preset = cpu_preset(t.task)).empty()) {
    cfg = rl::load_config(t.preset);
  }
  for (const auto& s : t.sets) rl::apply_override(cfg, s);
  if (!t.task.empty()) cfg.runner.task = t.task;
  if (t.num_envs > 0) cfg.runner.num_envs = static_cast<int>(t.num_envs);
  if (!t.device.empty()) cfg.runner.device = t.device;
  if (t.iterations >= 0) cfg.runner.max_iterations = static_cast<int>(t.iterations);
  if (t.seed >= 0) cfg.runner.seed = static_cast<uint64_t>(t.seed);
  if (t.checkpoint_every > 0) cfg.runner.save_interval = static_cast<int>(t.checkpoint_every);
  if (cfg.runner.task.empty()) throw std::invalid_argument("--task is required (stampede train --help lists the tasks)");
  rl::validate_config(cfg);
  if (cfg.runner.device == "cuda") {
    std::string why;
    if (!rl::cuda_available(&why)) throw std::runtime_error("--device cuda: " + why + "; use --device cpu");
  }
  if (t.run_dir.empty()) t.run_dir = (std::filesystem::path("runs") / rl::default_run_name(cfg.runner.task)).string();
  return cfg;
}

// training on this rank of comm's ranks
int train(TrainArgs& t, rl::dist::Communicator* comm) {
  const int rank = comm->rank(), ranks = comm->size();
  const bool root = rank == 0;
  std::string checkpoint;
  rl::PpoConfig cfg = resolve_config(t, &checkpoint);
  // rank 0 names the run (a default name carries the time of day)
  if (ranks > 1) {
    uint64_t len = t.run_dir.size();
    comm->broadcast(&len, 1, 0);
    t.run_dir.resize(len);
    comm->broadcast(t.run_dir.data(), len, 0);
    rl::dist::set_failure_note(*comm, "the last checkpoint in " + t.run_dir +
                                          "/checkpoints stays usable (stampede train --resume " + t.run_dir + ")");
  }
  // ranks on one machine share its cores
  const int local_ranks = rl::dist::launch_info().local_size;
  if (cfg.runner.num_threads == 0 && ranks > 1 && local_ranks > 1)
    cfg.runner.num_threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / local_ranks);
  const std::string& run_dir = t.run_dir;
  const std::string& env_device = t.env_device;
  const bool quiet = t.quiet || !root;

  // the env: a resumed run starts new episodes, with a seed of its own so it does not replay the
  // first ones; every rank steps its own worlds (seed + rank)
  uint64_t env_seed = cfg.runner.seed + static_cast<uint64_t>(rank);
  if (!checkpoint.empty()) env_seed += 1000003ull * static_cast<uint64_t>(rl::load_checkpoint(checkpoint).iteration);
  register_locomotion_task_file(cfg.runner.task);
  auto env = rl::make_env(cfg.runner.task, cfg.runner.num_envs, env_device.empty() ? cfg.runner.device : env_device,
                          env_seed);
  rl::OnPolicyRunner runner(cfg, std::move(env), run_dir, comm);
  if (!checkpoint.empty()) {
    runner.load(checkpoint);
    if (root)
      std::printf("resuming %s from %s (iteration %lld)\n", run_dir.c_str(), checkpoint.c_str(),
                  static_cast<long long>(runner.iterations_done()));
  }
  if (quiet) runner.on_iteration = [](const rl::IterationStats&) {};
  if (root) {
    std::printf("training %s: %d envs x %d steps per iteration, %d iterations, device %s, run %s\n",
                cfg.runner.task.c_str(), cfg.runner.num_envs, cfg.runner.num_steps_per_env,
                cfg.runner.max_iterations, cfg.runner.device.c_str(), run_dir.c_str());
    if (!t.preset.empty()) std::printf("config: %s (the task's CPU preset; --config FILE replaces it)\n", t.preset.c_str());
    if (ranks > 1)
      std::printf("data-parallel: %d ranks over %s, %d envs per rank (%d in all), %d learner threads per rank\n",
                  ranks, comm->name().c_str(), cfg.runner.num_envs, cfg.runner.num_envs * ranks,
                  cfg.runner.num_threads);
  }
  std::fflush(stdout);
  rl::OnPolicyRunner::stop_requested().store(false);
  auto previous = std::signal(SIGINT, on_sigint);
  try {
    runner.learn();
  } catch (...) {
    std::signal(SIGINT, previous);
    throw;
  }
  std::signal(SIGINT, previous);
  if (root)
    std::printf("done: %lld iterations; latest checkpoint %s\n", static_cast<long long>(runner.iterations_done()),
                rl::latest_checkpoint(run_dir).c_str());
  return rl::OnPolicyRunner::stop_requested().load() ? 130 : 0;
}

int run_train(const std::vector<std::string>& args) {
  register_locomotion_tasks();
  TrainArgs t = parse_train_args(args);
  if (t.help) {
    std::printf("%s\ntasks:\n", kTrainHelp);
    for (const auto& [name, summary] : rl::list_tasks()) std::printf("  %-16s %s\n", name.c_str(), summary.c_str());
    return 0;
  }
  // the ranks of a data-parallel run (one process: a local communicator that does nothing)
  rl::dist::CommOptions copt;
  copt.backend = t.dist;
  copt.timeout_s = t.dist_timeout;
  const auto comm = rl::dist::make_communicator(copt);
  try {
    return train(t, comm.get());
  } catch (const std::exception& e) {
    // an error on one rank must not leave the others waiting in a collective
    if (comm->size() > 1) rl::dist::abort_job(*comm, std::string("stampede train: error: ") + e.what());
    throw;
  }
}

Registrar reg("train", "train a policy with PPO (run directory with checkpoints, metrics, TensorBoard)", run_train);

}  // namespace
}  // namespace stampede::cli
