// rl/train_job.h — what `stampede train` and Python's stampede.train share: a run's config
// resolved from its sources in order (a resumed run's checkpoint, --config, the task's CPU
// preset, defaults; then key=value overrides; then the explicit options), and run-name lookup.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rl/config.h"

namespace stampede::rl {

struct TrainOptions {
  std::string task, device, config_file, resume, run_dir;
  std::vector<std::string> sets;  // key=value overrides (rl/config.h's apply_override)
  long long num_envs = -1, iterations = -1, seed = -1, checkpoint_every = -1;  // -1: unset
  std::string preset_folder;  // folder of the CPU presets <task>-cpu.yaml ("" for none)
};

struct TrainJob {
  PpoConfig cfg;
  std::string run_dir;     // the run to write (or resume)
  std::string checkpoint;  // the checkpoint a resumed run starts from ("" for a new run)
  std::string preset;      // the CPU preset the config came from ("" if none)
  // the env's seed (data-parallel rank r adds r): the run's seed; a resumed run starts new
  // episodes with a seed of its own, so it does not replay the first ones
  uint64_t env_seed = 0;
};

// throws std::invalid_argument / std::runtime_error naming the option at fault; checks that a
// cuda device is there
TrainJob resolve_train_job(const TrainOptions& options);

// RUN as given when it is a folder, else runs/RUN; throws when neither exists
std::string resolve_run_dir(const std::string& run);

}  // namespace stampede::rl
