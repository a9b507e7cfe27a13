// cli/cmd_bench_walk.cpp — `stampede bench walk`: how long the CPU takes to train a walking
// policy (issue #9). Trains with the task's CPU preset (configs/train/<task>-cpu.yaml) through
// the ordinary OnPolicyRunner, in this process; every --eval-every-minutes of training
// wall-clock it evaluates the deterministic policy (bench_walk.h says how) and stops at the first
// evaluation that walks, or at --max-minutes. `stampede bench` (cmd_bench.cpp) dispatches "walk"
// here. Writes DIR/walk.json, DIR/evals.csv, the run folder
// DIR/run (config, metrics.csv, checkpoints) and DIR/walk.png (scripts/plot_walk.py).
//
// Minutes are training wall-clock (the runner's own iteration time); the evaluations are the
// benchmark's measurement and are reported apart (eval_seconds), not charged to training.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_walk.h"
#include "python_script.h"
#include "rl/config.h"
#include "rl/learner.h"
#include "rl/runner.h"
#include "sim/tasks/locomotion_env.h"
#include "sim/tasks/make_env.h"

namespace stampede::cli {
namespace {

namespace fs = std::filesystem;
namespace st = stampede::sim::tasks;
using Clock = std::chrono::steady_clock;

const char* kHelp = R"(usage: stampede bench walk -o DIR [options]

Trains a walking policy and measures how long it takes (issue #9; --device cuda on a GPU): PPO with the
task's CPU preset (configs/train/<task>-cpu.yaml), evaluated every few minutes of training
wall-clock on fresh worlds: deterministic policy, forward command 1.0 m/s, zero lateral and yaw
command, no domain randomization, no observation noise, no pushes, one episode of the time limit.
It walks when mean |v_x - 1.0| <= 0.2 m/s and mean episode length >= 90% of the time limit.
Stops at the first evaluation that walks, or at --max-minutes.

options:
  -o, --out DIR              output folder: walk.json, evals.csv, walk.png, run/ (required)
  --task NAME                locomotion task (default h1-walk)
  --device cpu|cuda          learner device (default cpu). cuda: the CUDA learner on the GPU env
                             (as stampede train --device cuda), from the default config
                             (4096 worlds) rather than the CPU preset; evaluation stays on --backend
  --backend cpu|mujoco       physics of the evaluation worlds, and of the training worlds on
                             --device cpu: our CPU kernels (default, as stampede train --device
                             cpu) or MuJoCo's engine
  --max-minutes M            training wall-clock limit (default 60)
  --eval-every-minutes M     evaluation period in training wall-clock (default 5)
  --eval-worlds N            worlds per evaluation (default 32)
  --seed S                   seed of the learner and the env (default 1)
  --threads T                threads for the learner and the env (default 0: every hardware thread)
  --num-envs N               training worlds (default: the preset's)
  --config FILE              training config instead of the preset
  --set key=value            override one training config value (repeatable; see stampede train)
  --no-plot                  do not call scripts/plot_walk.py
  -h, --help                 this help

exit code: 0 walked, 3 did not walk within the limit, 130 stopped by Ctrl-C.
)";

struct WalkArgs {
  std::string out, task = "h1-walk", device = "cpu", backend = "cpu", config_file;
  std::vector<std::string> sets;
  double max_minutes = 60, eval_every = 5;
  int eval_worlds = 32, threads = 0, num_envs = -1;
  uint64_t seed = 1;
  bool plot = true, help = false;
};

double parse_double(const std::string& flag, const std::string& v, double lo) {
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !std::isfinite(x) || x < lo)
    throw std::invalid_argument(flag + ": expected a number >= " + std::to_string(lo) + ", got '" + v + "'");
  return x;
}

long long parse_integer(const std::string& flag, const std::string& v, long long lo) {
  char* end = nullptr;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || x < lo)
    throw std::invalid_argument(flag + ": expected an integer >= " + std::to_string(lo) + ", got '" + v + "'");
  return x;
}

WalkArgs parse_walk_args(const std::vector<std::string>& args) {
  WalkArgs w;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
      return args[++i];
    };
    if (a == "-h" || a == "--help") w.help = true;
    else if (a == "-o" || a == "--out") w.out = value();
    else if (a == "--task") w.task = value();
    else if (a == "--device") w.device = value();
    else if (a == "--backend") w.backend = value();
    else if (a == "--max-minutes") w.max_minutes = parse_double(a, value(), 0);
    else if (a == "--eval-every-minutes") w.eval_every = parse_double(a, value(), 0);
    else if (a == "--eval-worlds") w.eval_worlds = static_cast<int>(parse_integer(a, value(), 1));
    else if (a == "--seed") w.seed = static_cast<uint64_t>(parse_integer(a, value(), 0));
    else if (a == "--threads") w.threads = static_cast<int>(parse_integer(a, value(), 0));
    else if (a == "--num-envs") w.num_envs = static_cast<int>(parse_integer(a, value(), 1));
    else if (a == "--config") w.config_file = value();
    else if (a == "--set") w.sets.push_back(value());
    else if (a == "--no-plot") w.plot = false;
    else throw std::invalid_argument("unknown option '" + a + "' (stampede bench walk --help)");
  }
  if (w.help) return w;
  if (w.out.empty()) throw std::invalid_argument("-o DIR is required (stampede bench walk --help)");
  if (w.device != "cpu" && w.device != "cuda")
    throw std::invalid_argument("--device " + w.device + ": expected cpu or cuda");
  if (w.device == "cuda") {
    std::string why;
    if (!rl::cuda_available(&why)) throw std::invalid_argument("--device cuda: " + why + "; use --device cpu");
  }
  if (w.backend != "mujoco" && w.backend != "cpu")
    throw std::invalid_argument("--backend " + w.backend + ": expected mujoco or cpu");
  if (!(w.eval_every > 0)) throw std::invalid_argument("--eval-every-minutes must be > 0");
  return w;
}

// the env's base velocity (base frame) and command of every world, whatever its precision
struct WorldProbe {
  std::vector<double> vx, cmd;  // (nworld), (nworld, 3)
};

template <class Real>
bool probe_as(st::LocomotionVecEnv& env, WorldProbe& p) {
  auto* e = dynamic_cast<st::LocomotionEnv<Real>*>(&env);
  if (!e) return false;
  const int n = e->num_envs();
  const auto& d = e->data();
  p.vx.resize(n);
  p.cmd.resize(3 * static_cast<std::size_t>(n));
  for (int w = 0; w < n; ++w) {
    p.vx[w] = static_cast<double>(d.base[st::kBaseStride * w + st::kBLinVel]);
    for (int k = 0; k < 3; ++k) p.cmd[3 * w + k] = static_cast<double>(d.commands[4 * w + k]);
  }
  return true;
}

void probe(st::LocomotionVecEnv& env, WorldProbe& p) {
  if (!probe_as<double>(env, p) && !probe_as<float>(env, p))
    throw std::logic_error("bench walk: the evaluation env is not a LocomotionEnv");
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    o += c;
  }
  return o + "\"";
}

std::string eval_json(const WalkEval& e) {
  std::ostringstream o;
  o << "{\"minutes\": " << json_number(e.minutes) << ", \"iteration\": " << e.iteration
    << ", \"samples\": " << e.samples << ", \"train_return\": " << json_number(e.train_return)
    << ", \"train_episode_length\": " << json_number(e.train_episode_length) << ", \"worlds\": " << e.worlds
    << ", \"vx_error\": " << json_number(e.vx_error) << ", \"vx_mean\": " << json_number(e.vx_mean)
    << ", \"survival\": " << json_number(e.survival) << ", \"episode_return\": " << json_number(e.episode_return)
    << ", \"command_vx_mean\": " << json_number(e.command_vx_mean)
    << ", \"command_max_deviation\": " << json_number(e.command_max_deviation)
    << ", \"seconds\": " << json_number(e.seconds) << ", \"walked\": " << (e.walked ? "true" : "false") << "}";
  return o.str();
}

void write_evals_csv(const fs::path& path, const std::vector<WalkEval>& evals) {
  std::ofstream out(path);
  out << "minutes,iteration,samples,train_return,train_episode_length,vx_error,vx_mean,survival,"
         "episode_return,command_vx_mean,command_max_deviation,eval_seconds,walked\n";
  for (const auto& e : evals)
    out << json_number(e.minutes) << "," << e.iteration << "," << e.samples << "," << json_number(e.train_return)
        << "," << json_number(e.train_episode_length) << "," << json_number(e.vx_error) << ","
        << json_number(e.vx_mean) << "," << json_number(e.survival) << "," << json_number(e.episode_return) << ","
        << json_number(e.command_vx_mean) << "," << json_number(e.command_max_deviation) << ","
        << json_number(e.seconds) << "," << (e.walked ? 1 : 0) << "\n";
}

// everything walk.json says
struct WalkReport {
  WalkArgs args;
  WalkCriteria criteria;
  rl::PpoConfig cfg;
  std::string config_source, run_dir, checkpoint, plot, plot_error;
  std::string error;  // why training stopped early ("" if it did not fail)
  std::vector<WalkEval> evals;
  double train_seconds = 0, eval_seconds = 0, cpu_seconds = 0;
  int64_t iterations = 0, samples = 0;
  int max_episode_steps = 0;
  bool interrupted = false;
};

void write_walk_json(const fs::path& path, const WalkReport& r) {
  const WalkEval* best = nullptr;  // the walking evaluation, else the last one
  for (const auto& e : r.evals)
    if (e.walked) {
      best = &e;
      break;
    }
  if (!best && !r.evals.empty()) best = &r.evals.back();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::ostringstream o;
  o << "{\n  \"walked\": " << (best && best->walked ? "true" : "false")
    << ",\n  \"minutes\": " << json_number(best ? best->minutes : nan)
    << ",\n  \"samples\": " << (best ? best->samples : 0)
    << ",\n  \"iteration\": " << (best ? best->iteration : 0)
    << ",\n  \"vx_error\": " << json_number(best ? best->vx_error : nan)
    << ",\n  \"survival\": " << json_number(best ? best->survival : nan) << ",\n  \"seed\": " << r.args.seed
    << ",\n  \"run\": " << json_string(r.run_dir) << ",\n  \"checkpoint\": " << json_string(r.checkpoint)
    << ",\n  \"task\": " << json_string(r.args.task) << ",\n  \"device\": " << json_string(r.args.device)
    << ",\n  \"device\": " << json_string(r.args.device)
    << ",\n  \"backend\": " << json_string(r.args.backend) << ",\n  \"config\": " << json_string(r.config_source)
    << ",\n  \"num_envs\": " << r.cfg.runner.num_envs << ",\n  \"threads\": " << r.cfg.runner.num_threads
    << ",\n  \"hardware_threads\": " << std::thread::hardware_concurrency()
    << ",\n  \"max_minutes\": " << json_number(r.args.max_minutes)
    << ",\n  \"eval_every_minutes\": " << json_number(r.args.eval_every)
    << ",\n  \"train_minutes\": " << json_number(r.train_seconds / 60)
    << ",\n  \"train_iterations\": " << r.iterations << ",\n  \"train_samples\": " << r.samples
    << ",\n  \"samples_per_s\": " << json_number(r.train_seconds > 0 ? r.samples / r.train_seconds : nan)
    << ",\n  \"iterations_per_min\": " << json_number(r.train_seconds > 0 ? 60.0 * r.iterations / r.train_seconds : nan)
    << ",\n  \"cpu_seconds\": " << json_number(r.cpu_seconds)
    << ",\n  \"samples_per_cpu_s\": " << json_number(r.cpu_seconds > 0 ? r.samples / r.cpu_seconds : nan)
    << ",\n  \"eval_seconds\": " << json_number(r.eval_seconds) << ",\n  \"interrupted\": "
    << (r.interrupted ? "true" : "false") << ",\n  \"criteria\": {\"command_vx\": " << json_number(r.criteria.command_vx)
    << ", \"command_vy\": 0, \"command_yaw_rate\": 0, \"max_vx_error\": " << json_number(r.criteria.max_vx_error)
    << ", \"min_survival\": " << json_number(r.criteria.min_survival)
    << ", \"episode_steps\": " << r.max_episode_steps << ", \"worlds\": " << r.args.eval_worlds
    << ", \"policy\": \"deterministic\", \"domain_randomization\": false, \"observation_noise\": 0"
    << ", \"pushes\": false, \"action_latency\": 0}"
    << ",\n  \"plot\": " << (r.plot.empty() ? "null" : json_string(r.plot));
  if (!r.plot_error.empty()) o << ",\n  \"plot_error\": " << json_string(r.plot_error);
  if (!r.error.empty()) o << ",\n  \"error\": " << json_string(r.error);
  o << ",\n  \"evaluations\": [";
  for (std::size_t i = 0; i < r.evals.size(); ++i) o << (i ? ",\n    " : "\n    ") << eval_json(r.evals[i]);
  o << "\n  ]\n}\n";
  const fs::path tmp = path.string() + ".tmp";
  std::ofstream(tmp) << o.str();
  fs::rename(tmp, path);
}

// scripts/plot_walk.py DIR -> DIR/walk.png; "" on success, else why not
std::string plot_walk(const fs::path& out) {
  const fs::path script = fs::path(st::data_dir()) / "scripts" / "plot_walk.py";
  if (!fs::is_regular_file(script)) return "no " + script.string();
  return run_python_script(script, {out.string()}, out / "walk.png");
}

std::atomic<bool> g_interrupted{false};
extern "C" void on_walk_sigint(int) {
  g_interrupted.store(true);
  rl::OnPolicyRunner::stop_requested().store(true);
  std::signal(SIGINT, SIG_DFL);
}

// the training config: --config, else (on the CPU) the task's CPU preset, else the defaults;
// then --set
rl::PpoConfig resolve_walk_config(const WalkArgs& a, std::string* source) {
  rl::PpoConfig cfg;
  if (!a.config_file.empty()) {
    cfg = rl::load_config(a.config_file);
    *source = a.config_file;
  } else if (a.device == "cuda") {
    *source = "defaults (device cuda)";
  } else {
    const fs::path preset = fs::path(st::data_dir()) / "configs" / "train" / (a.task + "-cpu.yaml");
    if (fs::is_regular_file(preset)) {
      cfg = rl::load_config(preset.string());
      *source = preset.string();
    } else {
      *source = "defaults (no " + preset.string() + ")";
    }
  }
  for (const auto& s : a.sets) rl::apply_override(cfg, s);
  cfg.runner.task = a.task;
  cfg.runner.device = a.device;
  cfg.runner.seed = a.seed;
  if (a.num_envs > 0) cfg.runner.num_envs = a.num_envs;
  if (a.threads > 0 || cfg.runner.num_threads == 0)
    cfg.runner.num_threads = a.threads > 0 ? a.threads
                                           : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cfg.runner.max_iterations = std::numeric_limits<int>::max();  // the clock stops the run
  rl::validate_config(cfg);
  return cfg;
}

int bench_walk(const WalkArgs& a) {
  WalkReport r;
  r.args = a;
  r.cfg = resolve_walk_config(a, &r.config_source);
  const fs::path out = a.out;
  const fs::path run_dir = out / "run";
  if (fs::exists(run_dir))
    throw std::invalid_argument(run_dir.string() + " already exists; give bench walk a new -o folder");
  fs::create_directories(out);
  r.run_dir = fs::absolute(run_dir).lexically_normal().string();
  const int threads = r.cfg.runner.num_threads;

  // training worlds (the task as configured) and evaluation worlds (walk_eval_task_config)
  const st::TaskConfig task = st::find_task_config(a.task);
  const st::TaskConfig eval_task = walk_eval_task_config(task, r.criteria);
  const std::string train_backend = a.device == "cuda" ? "cuda" : a.backend;
  auto env = st::make_locomotion_env(a.task, r.cfg.runner.num_envs, train_backend, a.seed, &task, threads);
  auto eval_env = st::make_locomotion_vec_env(a.task, a.eval_worlds, a.backend, a.seed, &eval_task, threads);
  r.max_episode_steps = eval_env->max_episode_steps();
  const uint64_t eval_seed = a.seed * 1000003ull + 99991ull;  // the same initial states at every evaluation

  rl::OnPolicyRunner runner(r.cfg, std::move(env), r.run_dir);
  std::printf("bench walk: %s on %s physics, %d envs x %d steps per iteration, %d threads, config %s\n",
              a.task.c_str(), train_backend.c_str(), r.cfg.runner.num_envs, r.cfg.runner.num_steps_per_env, threads,
              r.config_source.c_str());
  std::printf("            evaluates every %g min (%d worlds, %d steps, vx command %.2f m/s) up to %g min; run %s\n",
              a.eval_every, a.eval_worlds, r.max_episode_steps, r.criteria.command_vx, a.max_minutes,
              r.run_dir.c_str());
  std::fflush(stdout);

  const double cpu0 = cpu_seconds();
  double next_eval = a.eval_every, last_line = -1e9;
  const auto t0 = Clock::now();
  runner.on_iteration = [&](const rl::IterationStats& s) {
    r.iterations = s.iteration;
    r.samples = s.total_samples;
    r.train_seconds = s.wall_time;
    const double minutes = s.wall_time / 60.0;
    const bool out_of_time = minutes >= a.max_minutes;
    const double now = std::chrono::duration<double>(Clock::now() - t0).count();
    if (now - last_line >= 15 || out_of_time || minutes >= next_eval) {
      last_line = now;
      std::printf("[%6.2f/%g min] iteration %lld | %lld samples | %.0f samples/s | return %.3f | episode length %.1f\n",
                  minutes, a.max_minutes, static_cast<long long>(s.iteration), static_cast<long long>(s.total_samples),
                  s.steps_per_second, s.mean_episode_return, s.mean_episode_length);
    }
    if (minutes >= next_eval || out_of_time) {
      while (next_eval <= minutes) next_eval += a.eval_every;
      WalkEval e = evaluate_walk(runner.learner(), *eval_env, eval_seed, r.criteria);
      e.minutes = minutes;
      e.iteration = s.iteration;
      e.samples = s.total_samples;
      e.train_return = s.mean_episode_return;
      e.train_episode_length = s.mean_episode_length;
      r.eval_seconds += e.seconds;
      r.evals.push_back(e);
      std::printf("  evaluation at %.2f min: vx error %.3f m/s (<= %.2f), survival %.3f (>= %.2f), mean vx %.3f m/s -> %s\n",
                  minutes, e.vx_error, r.criteria.max_vx_error, e.survival, r.criteria.min_survival, e.vx_mean,
                  e.walked ? "WALKS" : "not yet");
      write_evals_csv(out / "evals.csv", r.evals);
      if (e.walked || out_of_time) rl::OnPolicyRunner::stop_requested().store(true);
    }
    std::fflush(stdout);
  };

  g_interrupted.store(false);
  rl::OnPolicyRunner::stop_requested().store(false);
  auto previous = std::signal(SIGINT, on_walk_sigint);
  try {
    runner.learn();
  } catch (const std::exception& ex) {
    // keep what was measured: walk.json with the evaluations so far and the error
    std::signal(SIGINT, previous);
    rl::OnPolicyRunner::stop_requested().store(false);
    r.error = ex.what();
    r.cpu_seconds = cpu_seconds() - cpu0;
    r.checkpoint = rl::latest_checkpoint(r.run_dir);
    write_evals_csv(out / "evals.csv", r.evals);
    write_walk_json(out / "walk.json", r);
    throw;
  }
  std::signal(SIGINT, previous);
  rl::OnPolicyRunner::stop_requested().store(false);
  r.interrupted = g_interrupted.load();
  r.cpu_seconds = cpu_seconds() - cpu0;
  r.checkpoint = rl::latest_checkpoint(r.run_dir);

  write_evals_csv(out / "evals.csv", r.evals);
  write_walk_json(out / "walk.json", r);
  if (a.plot) {
    r.plot_error = plot_walk(out);
    if (r.plot_error.empty()) r.plot = (out / "walk.png").string();
    else std::fprintf(stderr, "bench walk: no plot (%s); walk.json and evals.csv are written\n", r.plot_error.c_str());
    write_walk_json(out / "walk.json", r);
  }
  const bool walked = !r.evals.empty() && std::any_of(r.evals.begin(), r.evals.end(), [](const WalkEval& e) { return e.walked; });
  std::printf("%s after %.2f min of training (%lld iterations, %lld samples, %.0f samples/s); %s\n",
              walked ? "WALKS" : "does not walk", r.train_seconds / 60, static_cast<long long>(r.iterations),
              static_cast<long long>(r.samples), r.train_seconds > 0 ? r.samples / r.train_seconds : 0.0,
              (out / "walk.json").c_str());
  std::fflush(stdout);
  if (r.interrupted) return 130;
  return walked ? 0 : 3;
}

}  // namespace

st::TaskConfig walk_eval_task_config(st::TaskConfig t, const WalkCriteria& c) {
  t.commands.heading_command = false;
  t.commands.lin_vel_x = {c.command_vx, c.command_vx};
  t.commands.lin_vel_y = {0.0, 0.0};
  t.commands.ang_vel_yaw = {0.0, 0.0};
  t.commands.heading = {0.0, 0.0};
  t.commands.min_lin_vel = 0.0;
  t.commands.resampling_time = t.episode_length;  // a resample draws the same command again
  t.domain_rand.enabled = false;
  t.domain_rand.observation_noise_level = 0.0;
  t.domain_rand.push_interval = 0.0;
  t.domain_rand.max_action_latency = 0;
  return t;
}

WalkEval evaluate_walk(rl::PpoLearner& learner, st::LocomotionVecEnv& env, uint64_t seed, const WalkCriteria& c) {
  const auto t0 = Clock::now();
  const int n = env.num_envs(), od = env.obs_dim(), ad = env.act_dim(), limit = env.max_episode_steps();
  std::vector<float> obs(static_cast<std::size_t>(n) * od), final_obs(obs.size()),
      act(static_cast<std::size_t>(n) * ad), reward(n);
  std::vector<unsigned char> terminated(n), truncated(n), done(n, 0);
  std::vector<int> length(n, 0);
  std::vector<double> ret(n, 0.0);
  double err_sum = 0, vx_sum = 0, cmd_sum = 0, cmd_dev = 0;
  long alive_steps = 0;
  WorldProbe p;
  auto record = [&](int w) {
    err_sum += std::fabs(p.vx[w] - c.command_vx);
    vx_sum += p.vx[w];
    ++alive_steps;
  };
  auto check_command = [&](int w) {
    cmd_sum += p.cmd[3 * w];
    cmd_dev = std::max({cmd_dev, std::fabs(p.cmd[3 * w] - c.command_vx), std::fabs(p.cmd[3 * w + 1]),
                        std::fabs(p.cmd[3 * w + 2])});
  };
  env.seed(seed);
  env.reset(obs.data());
  probe(env, p);
  long cmd_count = 0;
  for (int w = 0; w < n; ++w, ++cmd_count) check_command(w);
  int remaining = n;
  // every world's first episode (the env resets the ones that end; those are ignored)
  for (int step = 0; remaining > 0 && step <= limit; ++step) {
    learner.act_inference(obs.data(), act.data(), n);
    env.step(act.data(), obs.data(), reward.data(), terminated.data(), truncated.data(), final_obs.data());
    probe(env, p);
    for (int w = 0; w < n; ++w) {
      if (done[w]) continue;
      ++length[w];
      ret[w] += reward[w];
      if (terminated[w] || truncated[w]) {
        done[w] = 1;
        --remaining;
        continue;  // the state now is the next episode's
      }
      record(w);
      check_command(w);
      ++cmd_count;
    }
  }
  WalkEval e;
  e.worlds = n;
  double len_sum = 0, ret_sum = 0;
  for (int w = 0; w < n; ++w) {
    len_sum += length[w];
    ret_sum += ret[w];
  }
  e.survival = len_sum / (static_cast<double>(n) * limit);
  e.episode_return = ret_sum / n;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  e.vx_error = alive_steps > 0 ? err_sum / static_cast<double>(alive_steps) : nan;
  e.vx_mean = alive_steps > 0 ? vx_sum / static_cast<double>(alive_steps) : nan;
  e.command_vx_mean = cmd_sum / static_cast<double>(cmd_count);
  e.command_max_deviation = cmd_dev;
  e.walked = alive_steps > 0 && e.vx_error <= c.max_vx_error && e.survival >= c.min_survival;
  e.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return e;
}

int run_bench_walk(const std::vector<std::string>& args) {
  const WalkArgs a = parse_walk_args(args);
  if (a.help) {
    std::printf("%s", kHelp);
    return 0;
  }
  return bench_walk(a);
}

}  // namespace stampede::cli
