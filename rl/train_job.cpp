// rl/train_job.cpp — see train_job.h.
#include "rl/train_job.h"

#include <filesystem>
#include <stdexcept>

#include "rl/checkpoint.h"
#include "rl/learner.h"
#include "rl/runner.h"

namespace stampede::rl {

std::string resolve_run_dir(const std::string& run) {
  namespace fs = std::filesystem;
  if (fs::is_directory(run)) return run;
  if (fs::is_directory(fs::path("runs") / run)) return (fs::path("runs") / run).string();
  throw std::invalid_argument("run directory '" + run + "' not found (nor runs/" + run + ")");
}

namespace {

// the task's CPU preset (<preset_folder>/<task>-cpu.yaml), or ""
std::string cpu_preset(const std::string& folder, const std::string& task) {
  if (folder.empty() || task.empty() || task.find('/') != std::string::npos) return "";
  std::error_code ec;
  const auto path = std::filesystem::path(folder) / (task + "-cpu.yaml");
  return std::filesystem::is_regular_file(path, ec) ? path.string() : "";
}

}  // namespace

TrainJob resolve_train_job(const TrainOptions& t) {
  TrainJob job;
  job.run_dir = t.run_dir;
  PpoConfig& cfg = job.cfg;
  if (!t.resume.empty()) {
    if (!t.config_file.empty()) throw std::invalid_argument("--resume uses the run's own config; drop --config");
    job.run_dir = resolve_run_dir(t.resume);
    job.checkpoint = latest_checkpoint(job.run_dir);
    if (job.checkpoint.empty())
      throw std::runtime_error("run '" + job.run_dir + "' has no checkpoint to resume from");
    cfg = config_from_yaml(load_checkpoint(job.checkpoint).config_yaml, job.checkpoint + "@config");
    if (!t.task.empty() && t.task != cfg.runner.task)
      throw std::invalid_argument("--task " + t.task + " differs from the resumed run's task " + cfg.runner.task);
  } else if (!t.config_file.empty()) {
    cfg = load_config(t.config_file);
  } else if ((t.device.empty() || t.device == "cpu") && !(job.preset = cpu_preset(t.preset_folder, t.task)).empty()) {
    cfg = load_config(job.preset);
  }
  for (const auto& s : t.sets) apply_override(cfg, s);
  if (!t.task.empty()) cfg.runner.task = t.task;
  if (t.num_envs > 0) cfg.runner.num_envs = static_cast<int>(t.num_envs);
  if (!t.device.empty()) cfg.runner.device = t.device;
  if (t.iterations >= 0) cfg.runner.max_iterations = static_cast<int>(t.iterations);
  if (t.seed >= 0) cfg.runner.seed = static_cast<uint64_t>(t.seed);
  if (t.checkpoint_every > 0) cfg.runner.save_interval = static_cast<int>(t.checkpoint_every);
  if (cfg.runner.task.empty()) throw std::invalid_argument("--task is required (stampede train --help lists the tasks)");
  validate_config(cfg);
  if (cfg.runner.device == "cuda") {
    std::string why;
    if (!cuda_available(&why)) throw std::runtime_error("--device cuda: " + why + "; use --device cpu");
  }
  job.env_seed = cfg.runner.seed;
  if (!job.checkpoint.empty())
    job.env_seed += 1000003ull * static_cast<uint64_t>(load_checkpoint(job.checkpoint).iteration);
  if (job.run_dir.empty())
    job.run_dir = (std::filesystem::path("runs") / default_run_name(cfg.runner.task)).string();
  return job;
}

}  // namespace stampede::rl
