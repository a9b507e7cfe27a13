// rl/runner.cpp — the training loop, logging and checkpointing.
#include "rl/runner.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "rl/tfevents.h"

namespace stampede::rl {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double mean_of(const std::deque<double>& d) {
  if (d.empty()) return std::numeric_limits<double>::quiet_NaN();
  double s = 0;
  for (double x : d) s += x;
  return s / static_cast<double>(d.size());
}

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--:--";
  const long long t = static_cast<long long>(s + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", t / 3600, (t / 60) % 60, t % 60);
  return buf;
}

std::string format_number(double v) {
  if (!std::isfinite(v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

// the metrics of one iteration by column name
std::map<std::string, double> metric_values(const IterationStats& s) {
  std::map<std::string, double> m = {
      {"iteration", static_cast<double>(s.iteration)},
      {"samples", static_cast<double>(s.total_samples)},
      {"wall_time", s.wall_time},
      {"mean_reward", s.mean_episode_return},
      {"mean_episode_length", s.mean_episode_length},
      {"mean_step_reward", s.mean_step_reward},
      {"surrogate_loss", s.update.surrogate_loss},
      {"value_loss", s.update.value_loss},
      {"entropy", s.update.entropy},
      {"kl", s.update.kl},
      {"learning_rate", s.update.learning_rate},
      {"action_std", s.update.action_std},
      {"grad_norm", s.update.grad_norm},
      {"steps_per_s", s.steps_per_second},
      {"time_env", s.time_env},
      {"time_inference", s.time_inference},
      {"time_update", s.time_update},
      {"nonfinite_worlds", static_cast<double>(s.nonfinite_worlds)},
  };
  for (const auto& [k, v] : s.step_stats) m["env/" + k] = v;
  return m;
}

const std::vector<std::string> kLeadingColumns = {"iteration", "samples", "wall_time", "mean_reward",
                                                  "mean_episode_length", "mean_step_reward"};
const std::vector<std::string> kTrailingColumns = {"surrogate_loss", "value_loss", "entropy", "kl",
                                                   "learning_rate", "action_std", "grad_norm",
                                                   "steps_per_s", "time_env", "time_inference", "time_update",
                                                   "nonfinite_worlds"};

// fsync a file or directory by path (errors ignored: a log is best effort, checkpoints check theirs)
void fsync_path(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// writes `text` to path atomically: path.tmp, fsync, rename over path, fsync the directory
void write_file_atomic(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw std::runtime_error("cannot write '" + tmp.string() + "'");
  }
  fsync_path(tmp, false);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw std::runtime_error("cannot rename '" + tmp.string() + "' to '" + path.string() + "': " + ec.message());
  fsync_path(path.has_parent_path() ? path.parent_path() : fs::path("."), true);
}

// the whole of a file ("" when missing)
std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// one write(2) of the whole record (retried on a short write)
void append_record(int fd, const std::string& rec) {
  std::size_t done = 0;
  while (done < rec.size()) {
    const ssize_t n = ::write(fd, rec.data() + done, rec.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("appending to metrics.csv failed: ") + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

// NaN containment: the env outputs the learner reads (every obs row and reward; final_obs only
// on truncated, not terminated rows, the ones bootstrapped) must be finite. A world with a NaN or
// Inf there gets zeros instead and its episode ends as a fall (terminated: no bootstrap through
// the bad values), as the locomotion env treats a world its backend had to reset. terminated and
// truncated may be null (the observation of reset()). Returns the number of such worlds.
int contain_nonfinite(int num_envs, int obs_dim, float* obs, float* reward, unsigned char* terminated,
                      const unsigned char* truncated, float* final_obs) {
  auto clean = [](float* v, int n) {
    bool bad = false;
    for (int k = 0; k < n; ++k)
      if (!std::isfinite(v[k])) {
        v[k] = 0.0f;
        bad = true;
      }
    return bad;
  };
  int count = 0;
  for (int i = 0; i < num_envs; ++i) {
    const std::size_t row = static_cast<std::size_t>(i) * obs_dim;
    bool bad = clean(obs + row, obs_dim);
    if (reward) bad |= clean(reward + i, 1);
    if (final_obs && truncated && truncated[i] && !terminated[i]) bad |= clean(final_obs + row, obs_dim);
    if (bad) {
      ++count;
      if (terminated) terminated[i] = 1;
    }
  }
  return count;
}

}  // namespace

namespace {

extern "C" void stop_after_iteration(int) { OnPolicyRunner::stop_requested().store(true); }

extern "C" void stop_then_abort(int) {
  OnPolicyRunner::stop_requested().store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C aborts
}

}  // namespace

bool OnPolicyRunner::learn_until_interrupted(bool second_aborts) {
  stop_requested().store(false);
  const auto previous = std::signal(SIGINT, second_aborts ? stop_then_abort : stop_after_iteration);
  try {
    learn();
  } catch (...) {
    std::signal(SIGINT, previous);
    throw;
  }
  std::signal(SIGINT, previous);
  return stop_requested().load();
}

std::atomic<bool>& OnPolicyRunner::stop_requested() {
  static std::atomic<bool> flag{false};
  return flag;
}

std::string default_run_name(const std::string& task) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y%m%d-%H%M%S", &tm);
  std::string name = task;
  for (char& c : name)
    if (c == '/' || c == ' ') c = '_';
  return name + "-" + buf;
}

OnPolicyRunner::OnPolicyRunner(const PpoConfig& cfg, std::unique_ptr<VecEnvBase> env, std::string run_dir,
                               dist::Communicator* comm, std::unique_ptr<PpoLearner> learner)
    : cfg_(cfg), comm_(comm), env_(std::move(env)), learner_(std::move(learner)), run_dir_(std::move(run_dir)) {
  if (comm_) ranks_ = comm_->size();
  if (comm_ && !comm_->is_root()) run_dir_.clear();  // rank 0 writes the run
  validate_config(cfg_);
  const int N = env_->num_envs(), O = env_->obs_dim(), A = env_->act_dim();
  cfg_.runner.num_envs = N;
  // the thread count shapes float sums: record the one used, so a resumed run repeats it
  if (cfg_.runner.num_threads == 0)
    cfg_.runner.num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (!learner_) learner_ = make_learner(cfg_, N, O, A);
  if (comm_) learner_->set_communicator(comm_);
  const char* learner_space = learner_->array_space();
  const char* env_space = env_->array_space();
  device_loop_ = learner_space && env_space && std::strcmp(learner_space, env_space) == 0;
  device_mean_return_ = device_mean_length_ = std::numeric_limits<double>::quiet_NaN();
  obs_.resize(static_cast<std::size_t>(N) * O);
  final_obs_.resize(obs_.size());
  actions_.resize(static_cast<std::size_t>(N) * A);
  rewards_.resize(N);
  terminated_.resize(N);
  truncated_.resize(N);
  ep_return_.assign(N, 0.0);
  ep_length_.assign(N, 0);
  if (device_loop_) {
    env_->reset_device();  // non-finite observations: the learner zeroes and counts them
  } else {
    env_->reset(obs_.data());
    nonfinite_pending_ = contain_nonfinite(N, O, obs_.data(), nullptr, nullptr, nullptr, nullptr);
  }
  tty_ = isatty(fileno(stdout));
  if (!run_dir_.empty()) {
    fs::create_directories(run_dir_);
    // temporary files a killed process left behind (an unfinished checkpoint is never loaded)
    for (const fs::path& dir : {fs::path(run_dir_), fs::path(run_dir_) / "checkpoints"}) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().extension() == ".tmp") fs::remove(e.path(), ec);
    }
    write_file_atomic(fs::path(run_dir_) / "config.yaml", config_to_yaml(cfg_));
    events_ = std::make_unique<EventWriter>(run_dir_);
  }
}

OnPolicyRunner::~OnPolicyRunner() {
  if (metrics_fd_ >= 0) ::close(metrics_fd_);
}

void OnPolicyRunner::load(const std::string& path) {
  const Checkpoint ck = load_checkpoint(path);
  if (ck.obs_dim != env_->obs_dim() || ck.act_dim != env_->act_dim())
    throw std::runtime_error("checkpoint '" + path + "' is for obs_dim " + std::to_string(ck.obs_dim) +
                             ", act_dim " + std::to_string(ck.act_dim) + "; the env has " +
                             std::to_string(env_->obs_dim()) + ", " + std::to_string(env_->act_dim()));
  if (!ck.contract_hash.empty() && ck.contract_hash != env_->contract_hash())
    throw std::runtime_error("checkpoint '" + path + "' was trained with robot contract " + ck.contract_hash +
                             ", the env's contract is '" + env_->contract_hash() + "'");
  learner_->load_state(ck.learner);
  iteration_ = ck.iteration;
  total_samples_ = ck.total_samples;
  total_time_ = ck.total_time;
}

IterationStats OnPolicyRunner::iteration() {
  const auto t_start = Clock::now();
  const int N = env_->num_envs(), T = cfg_.runner.num_steps_per_env;
  IterationStats s;
  s.nonfinite_worlds = nonfinite_pending_;
  nonfinite_pending_ = 0;
  double reward_sum = 0;
  if (device_loop_) {
    // the rollout on the device API: obs, actions, rewards and dones stay in the space
    for (int t = 0; t < T; ++t) {
      auto t0 = Clock::now();
      const float* actions = learner_->act_device(env_->device_outputs().obs);
      s.time_inference += seconds_since(t0);
      t0 = Clock::now();
      env_->step_device(actions);
      s.time_env += seconds_since(t0);
      t0 = Clock::now();
      const VecEnvBase::DeviceOutputs o = env_->device_outputs();
      learner_->process_env_step_device(o.reward, o.terminated, o.truncated, o.final_obs);
      s.time_inference += seconds_since(t0);
      for (const auto& [k, v] : env_->step_stats()) s.step_stats[k] += v / T;
    }
    auto t0 = Clock::now();
    learner_->compute_returns_device(env_->device_outputs().obs);
    s.update = learner_->update();
    s.time_update = seconds_since(t0);
    // the episodes that ended during the iteration, on every rank
    const PpoLearner::EpisodeSums e = learner_->take_episode_sums();
    double sums[5] = {e.return_sum, e.length_sum, e.count, e.reward_sum, e.nonfinite};
    if (dist::is_distributed(comm_)) comm_->allreduce_sum(sums, 5);
    if (sums[2] > 0) {
      device_mean_return_ = sums[0] / sums[2];
      device_mean_length_ = sums[1] / sums[2];
    }
    const double samples = static_cast<double>(N) * T * ranks_;
    count_iteration(s, samples, seconds_since(t_start));
    s.nonfinite_worlds = static_cast<int64_t>(sums[4]);
    s.mean_episode_return = device_mean_return_;
    s.mean_episode_length = device_mean_length_;
    s.mean_step_reward = sums[3] / samples;
    return s;
  }
  // rollout: act -> env.step -> process_env_step
  for (int t = 0; t < T; ++t) {
    auto t0 = Clock::now();
    learner_->act(obs_.data(), actions_.data());
    s.time_inference += seconds_since(t0);
    t0 = Clock::now();
    env_->step(actions_.data(), obs_.data(), rewards_.data(), terminated_.data(), truncated_.data(),
               final_obs_.data());
    s.nonfinite_worlds += contain_nonfinite(N, env_->obs_dim(), obs_.data(), rewards_.data(), terminated_.data(),
                                            truncated_.data(), final_obs_.data());
    s.time_env += seconds_since(t0);
    t0 = Clock::now();
    learner_->process_env_step(rewards_.data(), terminated_.data(), truncated_.data(), final_obs_.data());
    s.time_inference += seconds_since(t0);
    // episode bookkeeping on the env's own rewards
    for (int i = 0; i < N; ++i) {
      ep_return_[i] += rewards_[i];
      ++ep_length_[i];
      reward_sum += rewards_[i];
      if (terminated_[i] || truncated_[i]) {
        recent_returns_.push_back(ep_return_[i]);
        recent_lengths_.push_back(ep_length_[i]);
        if (recent_returns_.size() > 100) {
          recent_returns_.pop_front();
          recent_lengths_.pop_front();
        }
        ep_return_[i] = 0;
        ep_length_[i] = 0;
      }
    }
    for (const auto& [k, v] : env_->step_stats()) s.step_stats[k] += v / T;
  }
  // learning: returns, then PPO epochs
  auto t0 = Clock::now();
  learner_->compute_returns(obs_.data());
  s.update = learner_->update();
  s.time_update = seconds_since(t0);

  // episode statistics over all ranks: each rank's last 100 episodes, and every reward
  double sums[5] = {0.0, static_cast<double>(recent_returns_.size()), 0.0, reward_sum,
                    static_cast<double>(s.nonfinite_worlds)};
  for (double r : recent_returns_) sums[0] += r;
  for (double l : recent_lengths_) sums[2] += l;
  if (dist::is_distributed(comm_)) comm_->allreduce_sum(sums, 5);
  s.nonfinite_worlds = static_cast<int64_t>(sums[4]);
  const double samples = static_cast<double>(N) * T * ranks_;
  count_iteration(s, samples, seconds_since(t_start));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const bool multi = dist::is_distributed(comm_);
  s.mean_episode_return = multi ? (sums[1] > 0 ? sums[0] / sums[1] : nan) : mean_of(recent_returns_);
  s.mean_episode_length = multi ? (sums[1] > 0 ? sums[2] / sums[1] : nan) : mean_of(recent_lengths_);
  s.mean_step_reward = sums[3] / samples;
  return s;
}

void OnPolicyRunner::count_iteration(IterationStats& s, double samples, double seconds) {
  ++iteration_;
  total_samples_ += static_cast<int64_t>(samples);
  total_time_ += seconds;
  s.iteration = iteration_;
  s.total_samples = total_samples_;
  s.wall_time = total_time_;
  s.steps_per_second = samples / seconds;
}

void OnPolicyRunner::learn() {
  start_iteration_ = iteration_;
  const auto t0 = Clock::now();
  int64_t last_saved = -1;
  while (iteration_ < cfg_.runner.max_iterations && !stop_requested().load()) {
    const IterationStats s = iteration();
    // a stop requested on any rank stops every rank after this iteration
    if (dist::is_distributed(comm_)) {
      double stop = stop_requested().load() ? 1.0 : 0.0;
      comm_->allreduce_sum(&stop, 1);
      if (stop > 0) stop_requested().store(true);
    }
    write_metrics(s);
    if (s.nonfinite_worlds > 0 && (!comm_ || comm_->is_root()))
      std::fprintf(stderr, "%swarning: iteration %lld: %lld non-finite worlds (NaN/Inf observation or reward; "
                   "zeroed, episode ended as a fall)\n", tty_ ? "\r\033[K" : "",
                   static_cast<long long>(s.iteration), static_cast<long long>(s.nonfinite_worlds));
    elapsed_ = seconds_since(t0);
    if (on_iteration)
      on_iteration(s);
    else
      print_progress(s);
    if (!run_dir_.empty() && iteration_ % cfg_.runner.save_interval == 0) {
      save();
      last_saved = iteration_;
    }
  }
  if (tty_ && !on_iteration && iteration_ > start_iteration_) std::printf("\n");
  if (!run_dir_.empty() && last_saved != iteration_) save();
  if (stop_requested().load() && !run_dir_.empty())
    std::printf("stopped at iteration %lld; checkpoint in %s\n", static_cast<long long>(iteration_),
                latest_checkpoint(run_dir_).c_str());
  std::fflush(stdout);
}

std::string OnPolicyRunner::save() {
  if (run_dir_.empty()) throw std::logic_error("OnPolicyRunner::save: no run directory");
  Checkpoint ck;
  ck.iteration = iteration_;
  ck.total_samples = total_samples_;
  ck.total_time = total_time_;
  ck.task = cfg_.runner.task;
  ck.contract_hash = env_->contract_hash();
  ck.config_yaml = config_to_yaml(cfg_);
  ck.obs_dim = env_->obs_dim();
  ck.act_dim = env_->act_dim();
  ck.learner = learner_->state();
  const std::string path = checkpoint_path(run_dir_, iteration_);
  sync_logs();  // the logs reach the disk at least as far as the checkpoint does
  save_checkpoint(path, ck);
  return path;
}

// metrics.csv for this process: the columns of an existing file (resumed run) or fixed ones
// around the env's terms; rows after the iteration this process started from (written by a
// process that was killed before its next checkpoint) and a torn last line are dropped, so the
// file holds exactly one row per iteration 1..n
void OnPolicyRunner::open_metrics(const IterationStats& s) {
  const fs::path csv = fs::path(run_dir_) / "metrics.csv";
  const std::string old = read_file(csv);
  std::vector<std::string> lines;
  for (std::size_t at = 0, nl; (nl = old.find('\n', at)) != std::string::npos; at = nl + 1)
    lines.push_back(old.substr(at, nl - at));  // complete lines only: a torn tail has no newline
  std::string text;
  std::size_t dropped = 0;
  if (!lines.empty() && !lines[0].empty()) {
    std::stringstream ss(lines[0]);
    for (std::string c; std::getline(ss, c, ',');) csv_columns_.push_back(c);
    const auto col = std::find(csv_columns_.begin(), csv_columns_.end(), "iteration") - csv_columns_.begin();
    text = lines[0] + "\n";
    for (std::size_t r = 1; r < lines.size(); ++r) {
      std::stringstream ls(lines[r]);
      std::string cell;
      for (long c = 0; c <= col && std::getline(ls, cell, ','); ++c) {
      }
      char* end = nullptr;
      const long long it = std::strtoll(cell.c_str(), &end, 10);
      if (!cell.empty() && !*end && it < s.iteration)
        text += lines[r] + "\n";
      else
        ++dropped;
    }
  } else {
    csv_columns_ = kLeadingColumns;
    for (const auto& [k, v] : s.step_stats) csv_columns_.push_back("env/" + k);
    csv_columns_.insert(csv_columns_.end(), kTrailingColumns.begin(), kTrailingColumns.end());
    for (std::size_t i = 0; i < csv_columns_.size(); ++i) text += (i ? "," : "") + csv_columns_[i];
    text += "\n";
  }
  if (text != old) write_file_atomic(csv, text);
  if (dropped || (!old.empty() && old.back() != '\n'))
    std::printf("metrics.csv: dropped %zu row(s) after iteration %lld (written after the last checkpoint "
                "or torn by a crash)\n", dropped, static_cast<long long>(s.iteration - 1));
  metrics_fd_ = ::open(csv.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (metrics_fd_ < 0) throw std::runtime_error("cannot open '" + csv.string() + "' for appending");
}

void OnPolicyRunner::sync_logs() {
  if (metrics_fd_ >= 0) ::fdatasync(metrics_fd_);
  if (events_) events_->sync();
}

void OnPolicyRunner::write_metrics(const IterationStats& s) {
  if (run_dir_.empty()) return;
  const auto values = metric_values(s);
  if (metrics_fd_ < 0) open_metrics(s);
  std::string row;
  for (std::size_t i = 0; i < csv_columns_.size(); ++i) {
    auto it = values.find(csv_columns_[i]);
    row += (i ? "," : "") + (it == values.end() ? std::string() : format_number(it->second));
  }
  append_record(metrics_fd_, row + "\n");
  // TensorBoard: the same numbers under rsl_rl's tags
  std::map<std::string, float> tb = {
      {"Loss/surrogate", static_cast<float>(s.update.surrogate_loss)},
      {"Loss/value_function", static_cast<float>(s.update.value_loss)},
      {"Loss/entropy", static_cast<float>(s.update.entropy)},
      {"Loss/kl", static_cast<float>(s.update.kl)},
      {"Loss/learning_rate", static_cast<float>(s.update.learning_rate)},
      {"Policy/mean_noise_std", static_cast<float>(s.update.action_std)},
      {"Perf/total_fps", static_cast<float>(s.steps_per_second)},
      {"Perf/collection_time", static_cast<float>(s.time_env + s.time_inference)},
      {"Perf/learning_time", static_cast<float>(s.time_update)},
      {"Train/mean_step_reward", static_cast<float>(s.mean_step_reward)},
      {"Env/nonfinite_worlds", static_cast<float>(s.nonfinite_worlds)},
  };
  if (std::isfinite(s.mean_episode_return)) {
    tb["Train/mean_reward"] = static_cast<float>(s.mean_episode_return);
    tb["Train/mean_episode_length"] = static_cast<float>(s.mean_episode_length);
  }
  for (const auto& [k, v] : s.step_stats) tb["Episode/" + k] = static_cast<float>(v);
  events_->add_scalars(s.iteration, tb);
  events_->flush();
}

void OnPolicyRunner::print_progress(const IterationStats& s) {
  const int64_t total = cfg_.runner.max_iterations;
  const bool last = s.iteration >= total;
  if (!tty_ && !(s.iteration % cfg_.runner.log_interval == 0 || s.iteration == start_iteration_ + 1 || last)) return;
  const double per_iter = elapsed_ / static_cast<double>(s.iteration - start_iteration_);
  const double eta = per_iter * static_cast<double>(total - s.iteration);
  char reward[32] = "n/a", length[32] = "n/a";
  if (std::isfinite(s.mean_episode_return)) {
    std::snprintf(reward, sizeof(reward), "%.3f", s.mean_episode_return);
    std::snprintf(length, sizeof(length), "%.1f", s.mean_episode_length);
  }
  char ranks[32] = "", nonfinite[48] = "";
  if (ranks_ > 1) std::snprintf(ranks, sizeof(ranks), " (%d ranks)", ranks_);
  if (s.nonfinite_worlds > 0)
    std::snprintf(nonfinite, sizeof(nonfinite), " | non-finite worlds %lld", static_cast<long long>(s.nonfinite_worlds));
  char line[320];
  std::snprintf(line, sizeof(line),
                "iteration %lld/%lld | %.0f steps/s%s | mean reward %s | episode length %s%s | ETA %s",
                static_cast<long long>(s.iteration), static_cast<long long>(total), s.steps_per_second,
                ranks, reward, length, nonfinite, format_duration(eta).c_str());
  if (tty_)
    std::printf("\r\033[K%s", line);
  else
    std::printf("%s\n", line);
  std::fflush(stdout);
}

}  // namespace stampede::rl
