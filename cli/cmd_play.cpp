// cli/cmd_play.cpp — `stampede play`: run a trained policy deterministically and report returns.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "command.h"
#ifdef STAMPEDE_HAS_RENDER
#include <mujoco/mujoco.h>

#include "sim/render/offscreen.h"
#endif
#include "rl/checkpoint.h"
#include "rl/train_job.h"
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
  --video FILE.mp4     record the first episode (world 0) as a video: MuJoCo's renderer in a
                       headless EGL context, encoded by ffmpeg (the extension picks the format)
  --video-size WxH     frame size (default 640x480)
  --video-fps F        frames per second (default: the control rate, at most 30; frames are
                       every k-th control step, so the video plays in real time)
  -h, --help           this help

The camera follows the robot's base. Rendering needs EGL (Mesa renders in software where there
is no GPU, about 0.1 s per 640x480 frame on one core) and ffmpeg on PATH; scripts/install.sh
installs both.
)";

struct VideoOptions {
  std::string path;
  int width = 640, height = 480;
  double fps = 0;
};

void parse_size(const std::string& v, VideoOptions* o) {
  int w = 0, h = 0;
  char tail = 0;
  if (std::sscanf(v.c_str(), "%dx%d%c", &w, &h, &tail) != 2 || w < 16 || h < 16 || w > 4096 || h > 4096)
    throw std::invalid_argument("--video-size: expected WxH between 16x16 and 4096x4096, got '" + v + "'");
  o->width = w;
  o->height = h;
}

#ifdef STAMPEDE_HAS_RENDER
// records world 0's first episode: one frame every `stride` env steps
class Recorder {
 public:
  Recorder(const VideoOptions& o, rl::VecEnvBase& env) : env_(env) {
    const mjModel* m = env.render_model();
    if (!m) throw std::runtime_error("--video: this task has no MuJoCo model to render");
    const double period = env.step_period() > 0 ? env.step_period() : 0.02;
    const double rate = 1.0 / period;
    const double fps = o.fps > 0 ? o.fps : std::min(rate, 30.0);
    stride_ = std::max(1, static_cast<int>(std::lround(rate / fps)));
    fps_ = rate / stride_;  // real time
    qpos_.resize(m->nq);
    rgb_.resize(static_cast<std::size_t>(o.width) * o.height * 3);
    renderer_ = std::make_unique<render::OffscreenRenderer>(m, o.width, o.height);
    writer_ = std::make_unique<render::VideoWriter>(o.path, o.width, o.height, fps_);
    path_ = o.path;
    max_frames_ = env.max_episode_steps() > 0 ? env.max_episode_steps() / stride_ + 1 : 0;
  }
  // after reset (t = 0) and after each env step t that world 0's episode survived
  void frame(int t) {
    if (done_ || t % stride_ != 0) return;
    if (!env_.render_qpos(0, qpos_.data())) throw std::runtime_error("--video: the env gave no state for world 0");
    renderer_->render(qpos_.data(), rgb_.data());
    writer_->write(rgb_.data());
    if (isatty(fileno(stderr)) && writer_->frames() % 10 == 0) {
      std::fprintf(stderr, "\rvideo: frame %d%s", writer_->frames(),
                   max_frames_ ? (" of at most " + std::to_string(max_frames_)).c_str() : "");
      std::fflush(stderr);
    }
  }
  // world 0's episode ended: no more frames
  void stop() { done_ = true; }
  void finish() {
    writer_->close();
    if (isatty(fileno(stderr))) std::fprintf(stderr, "\r");
    std::printf("video: %s, %d frames of %dx%d at %.4g fps (%.2f s)\n", path_.c_str(), writer_->frames(),
                renderer_->width(), renderer_->height(), fps_, writer_->frames() / fps_);
  }

 private:
  rl::VecEnvBase& env_;
  std::unique_ptr<render::OffscreenRenderer> renderer_;
  std::unique_ptr<render::VideoWriter> writer_;
  std::vector<double> qpos_;
  std::vector<unsigned char> rgb_;
  std::string path_;
  int stride_ = 1, max_frames_ = 0;
  double fps_ = 30;
  bool done_ = false;
};
#endif

int run_play(const std::vector<std::string>& args) {
  register_locomotion_tasks();
  std::string run, checkpoint, env_device;
  VideoOptions video;
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
    else if (a == "--video") video.path = value();
    else if (a == "--video-size") parse_size(value(), &video);
    else if (a == "--video-fps") {
      const std::string v = value();
      char* end = nullptr;
      video.fps = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || !(video.fps > 0 && video.fps <= 240))
        throw std::invalid_argument("--video-fps: expected a rate in (0, 240], got '" + v + "'");
    }
    else throw std::invalid_argument("unknown option '" + a + "' (stampede play --help)");
  }
#ifndef STAMPEDE_HAS_RENDER
  if (!video.path.empty())
    throw std::runtime_error("--video " + video.path + ": this build has no offscreen renderer (CMake found no EGL; "
                             "apt-get install libegl-dev and rebuild). Run without --video to get the returns.");
#endif
  if (run.empty() && checkpoint.empty()) throw std::invalid_argument("--run is required (stampede play --help)");
  if (checkpoint.empty()) {
    const std::string dir = rl::resolve_run_dir(run);
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
#ifdef STAMPEDE_HAS_RENDER
  std::unique_ptr<Recorder> recorder;
  if (!video.path.empty()) {
    recorder = std::make_unique<Recorder>(video, *env);
    recorder->frame(0);
  }
#endif
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
#ifdef STAMPEDE_HAS_RENDER
    if (recorder) {
      if (finished[0]) recorder->stop();  // world 0 was reset: its episode is over
      recorder->frame(t + 1);
    }
#endif
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
#ifdef STAMPEDE_HAS_RENDER
  if (recorder) recorder->finish();
#endif
  return 0;
}

Registrar reg("play", "run a trained policy deterministically and report per-episode returns", run_play);

}  // namespace
}  // namespace stampede::cli
