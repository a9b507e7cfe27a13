// cli/cmd_play.cpp — `stampede play`: run a trained policy deterministically and report returns.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "command.h"
#include "rl/checkpoint.h"
#include "rl/config.h"
#include "rl/learner.h"
#include "rl/tasks.h"

namespace stampede::cli {

void register_locomotion_tasks();  // cli/cmd_train.cpp
void register_locomotion_task_file(const std::string& task);  // cli/cmd_train.cpp

namespace {

const char* kPlayHelp = R"(usage: stampede play --run RUN [options]

Loads the latest checkpoint of a run, runs the deterministic policy (the mean action) for N
episodes (one per world, each world's first episode) and prints each episode's return and length.

options:
  --run RUN            run directory (or its name under runs/)
  --checkpoint FILE    a specific checkpoint instead of the run's latest
  --episodes N         episodes to run (default 10)
  --seed S             env seed (default: the run's seed + 7919, episodes it did not train on)
  --env-device D       device/backend of the env (default: the run's device)
  --video FILE.mp4     record a video (needs an OpenGL renderer; see below)
  -h, --help           this help
)";

std::string resolve_run(const std::string& run) {
  namespace fs = std::filesystem;
  if (fs::is_directory(run)) return run;
  if (fs::is_directory(fs::path("runs") / run)) return (fs::path("runs") / run).string();
  throw std::invalid_argument("run directory '" + run + "' not found (nor runs/" + run + ")");
}

int run_play(const std::vector<std::string>& args) {
  register_locomotion_tasks();
  std::string run, checkpoint, video, env_device;
  long long episodes = 10, seed = -1;
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
    if (a == "-h" || a == "--help") {
      std::printf("%s", kPlayHelp);
      return 0;
    } else if (a == "--run") run = value();
    else if (a == "--checkpoint") checkpoint = value();
    else if (a == "--episodes") episodes = integer(1);
    else if (a == "--seed") seed = integer(0);
    else if (a == "--env-device") env_device = value();
    else if (a == "--video") video = value();
    else throw std::invalid_argument("unknown option '" + a + "' (stampede play --help)");
  }
  if (!video.empty())
    throw std::runtime_error(
        "--video " + video + ": video recording is not available in this build: MuJoCo's offscreen "
        "renderer needs an OpenGL context (EGL or OSMesa) and the frames need an mp4 encoder "
        "(ffmpeg); stampede links neither yet. Run without --video to get the returns.");
  if (run.empty() && checkpoint.empty()) throw std::invalid_argument("--run is required (stampede play --help)");
  if (checkpoint.empty()) {
    const std::string dir = resolve_run(run);
    checkpoint = rl::latest_checkpoint(dir);
    if (checkpoint.empty()) throw std::runtime_error("run '" + dir + "' has no checkpoint");
  }
  const rl::Checkpoint ck = rl::load_checkpoint(checkpoint);
  rl::PpoConfig cfg = rl::config_from_yaml(ck.config_yaml, checkpoint + "@config");
  const int n = static_cast<int>(episodes);
  cfg.runner.num_envs = n;
  cfg.runner.device = "cpu";  // inference runs on the CPU learner
  register_locomotion_task_file(cfg.runner.task);
  auto env = rl::make_env(cfg.runner.task, n, env_device.empty() ? "cpu" : env_device,
                          seed >= 0 ? static_cast<uint64_t>(seed) : cfg.runner.seed + 7919);
  if (env->obs_dim() != ck.obs_dim || env->act_dim() != ck.act_dim)
    throw std::runtime_error("checkpoint '" + checkpoint + "' does not fit task " + cfg.runner.task + "'s sizes");
  auto learner = rl::make_learner(cfg, n, ck.obs_dim, ck.act_dim);
  learner->load_state(ck.learner);

  // every world plays its first episode to the end
  const int O = env->obs_dim(), A = env->act_dim();
  std::vector<float> obs(static_cast<std::size_t>(n) * O), final_obs(obs.size()), act(static_cast<std::size_t>(n) * A),
      reward(n);
  std::vector<unsigned char> term(n), trunc(n), finished(n, 0);
  std::vector<double> ret(n, 0.0);
  std::vector<int> len(n, 0);
  env->reset(obs.data());
  int remaining = n;
  const int max_steps = env->max_episode_steps() > 0 ? env->max_episode_steps() : 100000;
  for (int t = 0; t < max_steps + 1 && remaining > 0; ++t) {
    learner->act_inference(obs.data(), act.data(), n);
    env->step(act.data(), obs.data(), reward.data(), term.data(), trunc.data(), final_obs.data());
    for (int i = 0; i < n; ++i) {
      if (finished[i]) continue;
      ret[i] += reward[i];
      ++len[i];
      if (term[i] || trunc[i]) {
        finished[i] = 1;
        --remaining;
      }
    }
  }
  std::printf("%s, iteration %lld, task %s, deterministic policy\n", checkpoint.c_str(),
              static_cast<long long>(ck.iteration), cfg.runner.task.c_str());
  double sum_r = 0, sum_l = 0;
  for (int i = 0; i < n; ++i) {
    std::printf("episode %d: return %.4f, length %d%s\n", i + 1, ret[i], len[i],
                finished[i] ? "" : " (did not end)");
    sum_r += ret[i];
    sum_l += len[i];
  }
  std::printf("mean return %.4f, mean length %.1f over %d episodes\n", sum_r / n, sum_l / n, n);
  return 0;
}

Registrar reg("play", "run a trained policy deterministically and report per-episode returns", run_play);

}  // namespace
}  // namespace stampede::cli
