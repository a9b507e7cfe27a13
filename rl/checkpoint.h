// rl/checkpoint.h — training checkpoints in HDF5, written crash-safe (temp file, fsync, rename).
//
// File layout (all under /):
//   attributes  format = "stampede-checkpoint", format_version = 1, iteration, total_samples,
//               total_time (s), task, contract_hash, config (the resolved YAML), obs_dim, act_dim
//   /model/<name>            float, the parameter tensors by rsl_rl-style names (actor.0.weight
//                            (out, in), actor.0.bias (out), ..., critic.*, log_std (act_dim));
//                            attribute `order` on /model lists them in flat-vector order
//   /optimizer/exp_avg       float (num_params) Adam first moment, flat-vector order
//   /optimizer/exp_avg_sq    float (num_params) Adam second moment
//   /optimizer               attributes step (int64), learning_rate (double)
//   /normalizer/mean, /var   double (obs_dim); attributes count (double) and eps (double):
//                            y = (x - mean) / (sqrt(var) + eps) when
//                            config algorithm.normalize_observations is true, else y = x
//   /rng/state               uint64 (4) xoshiro256++ state of the learner
#pragma once

#include <cstdint>
#include <string>

#include "rl/learner.h"

namespace stampede::rl {

struct Checkpoint {
  int64_t iteration = 0;       // iterations completed
  int64_t total_samples = 0;   // env steps collected so far
  double total_time = 0;       // training wall time so far (s)
  std::string task;            // task name
  std::string contract_hash;   // robot contract hash of the env ("" for tasks without a robot)
  std::string config_yaml;     // resolved PpoConfig
  int obs_dim = 0, act_dim = 0;
  LearnerState learner;
};

// writes `path` atomically: path.tmp, fsync, rename over path, fsync the directory
void save_checkpoint(const std::string& path, const Checkpoint& ck);
// throws std::runtime_error naming the file and the missing or malformed field
Checkpoint load_checkpoint(const std::string& path);
// file name of iteration i inside a run directory: checkpoints/model_000123.h5
std::string checkpoint_path(const std::string& run_dir, int64_t iteration);
// the checkpoint with the highest iteration in run_dir/checkpoints ("" when none)
std::string latest_checkpoint(const std::string& run_dir);

}  // namespace stampede::rl
