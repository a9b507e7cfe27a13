// rl/runner.h — the training loop around a learner and a VecEnv (rsl_rl's OnPolicyRunner):
// rollouts, updates, episode statistics, the run directory (config.yaml, metrics.csv,
// TensorBoard events, checkpoints/), the progress line, and stopping cleanly on request
// (SIGINT) with a checkpoint.
//
// Crash safety (SIGKILL at any moment leaves a run that `--resume` continues): config.yaml and
// checkpoints are written to a temporary file, fsynced and renamed; metrics.csv and the event
// file are append-only, one whole record per write, fsynced before each checkpoint. A resumed
// process drops metrics rows after the iteration it resumed from and a torn last line, and
// writes a new event file (TensorBoard reads a torn last record as the end of that file).
//
// NaN containment: observations, rewards and bootstrapped final observations are checked before
// the learner sees them; a world with a NaN/Inf value is zeroed, its episode ends as a fall, and
// it is counted (IterationStats::nonfinite_worlds, logged).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rl/checkpoint.h"
#include "rl/config.h"
#include "rl/dist/communicator.h"
#include "rl/env.h"
#include "rl/learner.h"

namespace stampede::rl {

// what one iteration measured (also a metrics.csv row)
struct IterationStats {
  int64_t iteration = 0;         // 1-based: iterations completed after this one
  int64_t total_samples = 0;
  double wall_time = 0;          // training time so far (s)
  double mean_episode_return = 0;   // over the last 100 finished episodes (NaN before the first)
  double mean_episode_length = 0;
  double mean_step_reward = 0;   // mean env reward per step in this rollout
  std::map<std::string, double> step_stats;  // env's step_stats, averaged over the rollout
  UpdateStats update;
  double steps_per_second = 0;
  double time_env = 0;           // s in env.step this iteration
  double time_inference = 0;     // s in learner.act + process_env_step
  double time_update = 0;        // s in compute_returns + update
  // NaN containment: world-steps of this rollout (over all ranks) whose observation, reward or
  // bootstrapped final observation was NaN/Inf; the runner zeroed them and ended those episodes
  // as falls, so the learner never saw them (metrics.csv nonfinite_worlds, Env/nonfinite_worlds)
  int64_t nonfinite_worlds = 0;
};

class OnPolicyRunner {
 public:
  // run_dir "" keeps nothing on disk (tests). comm: data-parallel training over its ranks (each
  // with its own env; rl/dist); only rank 0 writes run_dir, the others ignore it; sample counts,
  // steps/s and episode statistics are over all ranks. nullptr: single process
  // learner: the learner to train (tests); nullptr makes the one cfg.runner.device names.
  // When the learner and the env share a memory space (PpoLearner::array_space and
  // VecEnvBase::array_space: the CUDA learner on a device "cuda" env) the rollout runs on their
  // device API and never leaves the device; the episode statistics are then those of the
  // episodes that ended during the iteration (the last iteration that ended any), summed in the
  // space, instead of the last 100 episodes
  OnPolicyRunner(const PpoConfig& cfg, std::unique_ptr<VecEnvBase> env, std::string run_dir,
                 dist::Communicator* comm = nullptr, std::unique_ptr<PpoLearner> learner = nullptr);
  ~OnPolicyRunner();

  // restore learner and counters from a checkpoint (the config is the runner's own)
  void load(const std::string& checkpoint_path);
  // train until cfg.runner.max_iterations iterations are done or stop is requested; writes a
  // checkpoint every save_interval iterations and at the end
  void learn();
  // learn() with Ctrl-C (SIGINT) stopping it after the current iteration, with a checkpoint; with
  // second_aborts, a second Ctrl-C ends the process. The previous handler is restored on return
  // or exception. Returns true when Ctrl-C stopped it.
  bool learn_until_interrupted(bool second_aborts);
  // one iteration (rollout + update); returns its statistics
  IterationStats iteration();
  std::string save();  // checkpoint of the current state; returns its path

  // set from a signal handler: finish the current iteration, checkpoint, return from learn()
  static std::atomic<bool>& stop_requested();

  PpoLearner& learner() { return *learner_; }
  VecEnvBase& env() { return *env_; }
  // whether the rollout runs on the device API of the learner and the env
  bool device_loop() const { return device_loop_; }
  int64_t iterations_done() const { return iteration_; }
  const std::string& run_dir() const { return run_dir_; }
  // called after every iteration (progress output); default: the progress line on stdout
  std::function<void(const IterationStats&)> on_iteration;

 private:
  // one more iteration of `samples` samples that took `seconds`: the run's counters, and s's
  void count_iteration(IterationStats& s, double samples, double seconds);
  void write_metrics(const IterationStats& s);
  void open_metrics(const IterationStats& s);
  void sync_logs();
  void print_progress(const IterationStats& s);

  PpoConfig cfg_;
  dist::Communicator* comm_ = nullptr;
  int ranks_ = 1;
  std::unique_ptr<VecEnvBase> env_;
  std::unique_ptr<PpoLearner> learner_;
  std::string run_dir_;
  int64_t iteration_ = 0, total_samples_ = 0;
  double total_time_ = 0;
  int64_t start_iteration_ = 0;  // iteration this process started from (for the ETA)
  double elapsed_ = 0;           // s spent in learn() so far (for the ETA)
  // env buffers
  std::vector<float> obs_, actions_, rewards_, final_obs_;
  std::vector<unsigned char> terminated_, truncated_;
  // episode bookkeeping
  std::vector<double> ep_return_;
  std::vector<int> ep_length_;
  std::deque<double> recent_returns_, recent_lengths_;  // last 100 finished episodes
  bool device_loop_ = false;
  double device_mean_return_, device_mean_length_;  // device loop: the last iteration's episodes
  int64_t nonfinite_pending_ = 0;  // non-finite worlds seen by reset(), counted with the next iteration
  // logging: metrics.csv is appended one whole row per write(2) (a kill leaves at most a torn
  // last line, which the next process drops together with the rows after its checkpoint)
  int metrics_fd_ = -1;
  std::vector<std::string> csv_columns_;
  std::unique_ptr<class EventWriter> events_;
  bool tty_ = false;
};

// the run directory name for a new run: <task>-<YYYYmmdd>-<HHMMSS>
std::string default_run_name(const std::string& task);

}  // namespace stampede::rl
