// cli/cmd_train.cpp — `stampede train`: PPO on a registered task, into a run directory.
#include <algorithm>
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
#include "rl/train_job.h"

#if __has_include("sim/tasks/rl_tasks.h")
#include "sim/tasks/make_env.h"
#include "sim/tasks/rl_tasks.h"
#define STAMPEDE_HAS_LOCOMOTION 1
#endif

namespace stampede::cli {

// the locomotion tasks of sim/tasks in rl's task registry (sim/tasks/rl_tasks.h); `--env-device`
// picks their backend explicitly
void register_locomotion_task_file(const std::string& task) {
#ifdef STAMPEDE_HAS_LOCOMOTION
  sim::tasks::register_rl_task_file(task);
#else
  (void)task;
#endif
}

void register_locomotion_tasks() {
#ifdef STAMPEDE_HAS_LOCOMOTION
  sim::tasks::register_rl_tasks();
#endif
}

namespace {

const char* kTrainHelp = R"(usage: stampede train --task NAME [options]

Trains a policy with PPO and writes a run directory (resolved config.yaml, metrics.csv,
TensorBoard event files, checkpoints/model_<iteration>.h5).

options:
  --task NAME            task to train (see the list below)
  --num-envs N           parallel worlds (default 4096, or the config's runner.num_envs)
  --device cpu|cuda      learner device (default cpu). cuda: the CUDA learner (cuBLAS); with
                         the env on cuda too (the default), the rollout stays on the GPU
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

// the command line of `stampede train`
struct TrainArgs {
  rl::TrainOptions job;  // what resolves the run's config
  std::string env_device, dist = "auto";
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
    else if (a == "--task") t.job.task = value();
    else if (a == "--num-envs") t.job.num_envs = integer(1);
    else if (a == "--device") t.job.device = value();
    else if (a == "--env-device") t.env_device = value();
    else if (a == "--iterations") t.job.iterations = integer(0);
    else if (a == "--seed") t.job.seed = integer(0);
    else if (a == "--config") t.job.config_file = value();
    else if (a == "--set") t.job.sets.push_back(value());
    else if (a == "--resume") t.job.resume = value();
    else if (a == "--run-dir") t.job.run_dir = value();
    else if (a == "--checkpoint-every") t.job.checkpoint_every = integer(1);
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

// training on this rank of comm's ranks
int train(TrainArgs& t, rl::dist::Communicator* comm) {
  const int rank = comm->rank(), ranks = comm->size();
  const bool root = rank == 0;
#ifdef STAMPEDE_HAS_LOCOMOTION
  t.job.preset_folder = (std::filesystem::path(sim::tasks::data_dir()) / "configs" / "train").string();
#endif
  rl::TrainJob job = rl::resolve_train_job(t.job);
  rl::PpoConfig& cfg = job.cfg;
  const std::string& checkpoint = job.checkpoint;
  std::string& run_dir_name = job.run_dir;
  // rank 0 names the run (a default name carries the time of day)
  if (ranks > 1) {
    uint64_t len = run_dir_name.size();
    comm->broadcast(&len, 1, 0);
    run_dir_name.resize(len);
    comm->broadcast(run_dir_name.data(), len, 0);
    rl::dist::set_failure_note(*comm, "the last checkpoint in " + run_dir_name +
                                          "/checkpoints stays usable (stampede train --resume " + run_dir_name + ")");
  }
  // ranks on one machine share its cores
  const int local_ranks = rl::dist::launch_info().local_size;
  if (cfg.runner.num_threads == 0 && ranks > 1 && local_ranks > 1)
    cfg.runner.num_threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / local_ranks);
  const std::string& run_dir = run_dir_name;
  const std::string& env_device = t.env_device;
  const bool quiet = t.quiet || !root;
  // ranks on one machine share its GPUs: one each (--dist mpi as well as nccl), not all on GPU 0
  int gpu = -1;
  if (cfg.runner.device == "cuda" || env_device == "cuda")
    gpu = rl::select_cuda_device(rl::dist::launch_info().local_rank);

  // the env: a resumed run starts new episodes, with a seed of its own so it does not replay the
  // first ones; every rank steps its own worlds (seed + rank)
  const uint64_t env_seed = job.env_seed + static_cast<uint64_t>(rank);
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
    if (!job.preset.empty()) std::printf("config: %s (the task's CPU preset; --config FILE replaces it)\n", job.preset.c_str());
    if (ranks > 1)
      std::printf("data-parallel: %d ranks over %s, %d envs per rank (%d in all), %d learner threads per rank%s\n",
                  ranks, comm->name().c_str(), cfg.runner.num_envs, cfg.runner.num_envs * ranks,
                  cfg.runner.num_threads, gpu >= 0 ? ", one GPU per rank on each machine (local rank % GPUs)" : "");
  }
  std::fflush(stdout);
  const bool interrupted = runner.learn_until_interrupted(/*second_aborts=*/true);
  if (root)
    std::printf("done: %lld iterations; latest checkpoint %s\n", static_cast<long long>(runner.iterations_done()),
                rl::latest_checkpoint(run_dir).c_str());
  return interrupted ? 130 : 0;
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
