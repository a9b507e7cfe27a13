// tests/rl/test_crash_resume.cpp — crash-safe training, proven by SIGKILL: `stampede train` on
// the point-reach task is killed at 20 seeded random moments (during startup, in the middle of
// an iteration, and while a checkpoint is being written), each time resumed with `--resume`.
// After every kill: the latest checkpoint loads, config.yaml parses, metrics.csv holds whole
// rows 1..n (at most a torn last line), every TensorBoard event file is a run of valid TFRecords
// (at most a torn last one), and `--resume` continues from the checkpoint's iteration, leaving
// exactly one metrics row per iteration. Only kills that hit a live process count, and all 20
// must.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "rl/checkpoint.h"
#include "rl/config.h"
#include "rl/tfevents.h"

namespace fs = std::filesystem;
using namespace stampede::rl;
using Clock = std::chrono::steady_clock;

namespace {

const std::vector<std::string> kTrainArgs = {"--num-envs",  "64",  "--checkpoint-every", "2",
                                             "--set",       "actor_hidden=[64,64]",
                                             "--set",       "critic_hidden=[64,64]",
                                             "--set",       "num_threads=1",
                                             "--quiet"};

// fork + exec `stampede args...`, stdout and stderr to `log`
pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> all = {STAMPEDE_BIN};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    if (!std::freopen(log.c_str(), "w", stdout)) _exit(126);
    dup2(fileno(stdout), fileno(stderr));
    execv(STAMPEDE_BIN, argv.data());
    _exit(127);
  }
  return pid;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// the iteration column of metrics.csv's whole rows (a torn last line is allowed and skipped)
std::vector<long long> metrics_iterations(const fs::path& run) {
  const std::string text = slurp(run / "metrics.csv");
  std::vector<long long> its;
  std::vector<std::string> lines;
  for (std::size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1)
    lines.push_back(text.substr(at, nl - at));
  if (lines.empty()) return its;
  REQUIRE(lines[0].rfind("iteration,samples,", 0) == 0);
  const auto ncol = std::count(lines[0].begin(), lines[0].end(), ',');
  for (std::size_t r = 1; r < lines.size(); ++r) {
    INFO("metrics.csv row " << r << ": " << lines[r]);
    REQUIRE(std::count(lines[r].begin(), lines[r].end(), ',') == ncol);
    its.push_back(std::stoll(lines[r].substr(0, lines[r].find(','))));
  }
  return its;
}

// checks an event file's TFRecord framing; returns the number of whole records. A torn last
// record (the file ends inside it) is allowed, a bad CRC on a whole one is not
int check_event_file(const fs::path& p, bool* torn) {
  const std::string d = slurp(p);
  std::size_t at = 0;
  int records = 0;
  *torn = false;
  while (at < d.size()) {
    if (d.size() - at < 12) {
      *torn = true;
      break;
    }
    uint64_t len = 0;
    uint32_t len_crc = 0;
    std::memcpy(&len, d.data() + at, 8);
    std::memcpy(&len_crc, d.data() + at + 8, 4);
    INFO(p << " record " << records << " at byte " << at);
    REQUIRE(len_crc == masked_crc32c(d.data() + at, 8));
    if (d.size() - at - 12 < len + 4) {
      *torn = true;
      break;
    }
    uint32_t crc = 0;
    std::memcpy(&crc, d.data() + at + 12 + len, 4);
    REQUIRE(crc == masked_crc32c(d.data() + at + 12, len));
    at += 12 + len + 4;
    ++records;
  }
  return records;
}

std::vector<fs::path> tmp_files(const fs::path& run) {
  std::vector<fs::path> out;
  for (const fs::path& dir : {run, run / "checkpoints"}) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".tmp") out.push_back(e.path());
  }
  return out;
}

bool alive(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, WNOHANG) == 0;
}

}  // namespace

TEST_CASE("SIGKILL at 20 random moments: the checkpoint loads and --resume continues", "[rl][cli][crash]") {
  const fs::path dir = fs::temp_directory_path() / ("stampede_crash_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path run = dir / "run";
  const fs::path log = dir / "log.txt";
  // the moments come from a fixed seed; STAMPEDE_CRASH_SEED=n draws another set
  const char* seed_env = std::getenv("STAMPEDE_CRASH_SEED");
  std::mt19937 rng(seed_env ? static_cast<unsigned>(std::strtoul(seed_env, nullptr, 10)) : 20240612u);
  constexpr int kKills = 20;
  int kills = 0, had_checkpoint = 0, in_checkpoint_write = 0, at_startup = 0, mid_run = 0, torn_csv = 0,
      torn_events = 0;
  int64_t verified = 0;  // iteration the last --resume check finished at
  const auto t0 = Clock::now();

  for (int k = 0; k < kKills; ++k) {
    // the process to kill: a fresh run the first time, then --resume with an endless budget
    std::vector<std::string> args = {"train"};
    if (k == 0)
      args.insert(args.end(), {"--task", "point-reach", "--seed", "3", "--run-dir", run.string()});
    else
      args.insert(args.end(), {"--resume", run.string()});
    args.insert(args.end(), {"--iterations", "1000000"});
    args.insert(args.end(), kTrainArgs.begin(), kTrainArgs.end());
    const std::size_t rows_before = k == 0 ? 0 : metrics_iterations(run).size();
    const pid_t pid = spawn(args, log);
    REQUIRE(pid > 0);

    // when: the moment is drawn from the seeded stream, one of three kinds in turn
    const int mode = k % 3;
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    if (mode == 0) {
      // startup: anywhere from fork through exec, MuJoCo and HDF5 loading, to the first steps
      std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 60000)(rng)));
    } else if (mode == 1) {
      // mid-run: after this process finished an iteration, a random fraction of the next ones
      while (alive(pid) && Clock::now() < deadline && fs::exists(run / "metrics.csv") &&
             metrics_iterations(run).size() <= rows_before)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 40000)(rng)));
    } else {
      // checkpoint writing: as soon as a model_*.h5.tmp appears, after a random few microseconds
      while (alive(pid) && Clock::now() < deadline && tmp_files(run).empty())
        std::this_thread::sleep_for(std::chrono::microseconds(20));
      std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 300)(rng)));
    }
    // the kill counts only if it hits the live process (a run that died by itself fails here)
    REQUIRE(kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    INFO("kill " << k + 1 << " (mode " << mode << "), process output:\n" << slurp(log));
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
    ++kills;

    // where it landed, by what it left behind
    const bool tmp_left = !tmp_files(run).empty();
    const std::size_t rows_after = fs::exists(run / "metrics.csv") ? metrics_iterations(run).size() : 0;
    if (tmp_left) ++in_checkpoint_write;
    else if (rows_after <= rows_before && (k == 0 || mode == 0)) ++at_startup;
    else ++mid_run;

    // the files as the kill left them: whole checkpoint, config, metrics rows, event records
    const std::string ck_path = latest_checkpoint(run.string());
    int64_t ck_iteration = 0;
    if (!ck_path.empty()) {
      ++had_checkpoint;
      const Checkpoint ck = load_checkpoint(ck_path);
      ck_iteration = ck.iteration;
      CHECK(ck.task == "point-reach");
      CHECK(ck.learner.params.size() > 0);
      CHECK(ck.iteration >= verified);  // never behind what a finished process saved
      CHECK(load_config((run / "config.yaml").string()).runner.task == "point-reach");
    } else {
      CHECK(verified == 0);
    }
    if (fs::exists(run / "metrics.csv")) {
      const std::string text = slurp(run / "metrics.csv");
      if (!text.empty() && text.back() != '\n') ++torn_csv;
      metrics_iterations(run);  // whole rows parse
    }
    int records = 0;
    std::error_code ec;  // a kill before the run directory existed leaves none
    for (const auto& e : fs::directory_iterator(run, ec)) {
      if (e.path().filename().string().rfind("events.out.tfevents.", 0) != 0) continue;
      bool torn = false;
      records += check_event_file(e.path(), &torn);
      torn_events += torn;
    }
    if (verified > 0) CHECK(records >= verified);

    // --resume works: one more iteration from the checkpoint, then exactly rows 1..n
    std::vector<std::string> resume = {"train"};
    if (ck_path.empty())  // killed before the first checkpoint: start the run again
      resume.insert(resume.end(), {"--task", "point-reach", "--seed", "3", "--run-dir", run.string()});
    else
      resume.insert(resume.end(), {"--resume", run.string()});
    resume.insert(resume.end(), {"--iterations", std::to_string(ck_iteration + 1)});
    resume.insert(resume.end(), kTrainArgs.begin(), kTrainArgs.end());
    const pid_t rp = spawn(resume, log);
    REQUIRE(rp > 0);
    REQUIRE(waitpid(rp, &status, 0) == rp);
    const std::string out = slurp(log);
    INFO("resume after kill " << k + 1 << ":\n" << out);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    if (!ck_path.empty())
      CHECK(out.find("from " + ck_path + " (iteration " + std::to_string(ck_iteration) + ")") != std::string::npos);
    const Checkpoint after = load_checkpoint(latest_checkpoint(run.string()));
    REQUIRE(after.iteration == ck_iteration + 1);
    const auto its = metrics_iterations(run);
    REQUIRE(its.size() == static_cast<std::size_t>(ck_iteration + 1));
    for (std::size_t i = 0; i < its.size(); ++i) REQUIRE(its[i] == static_cast<long long>(i + 1));
    CHECK(slurp(run / "metrics.csv").back() == '\n');
    CHECK(tmp_files(run).empty());
    verified = after.iteration;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  WARN("SIGKILL: " << kills << " of " << kKills << " kills hit a live process and were survived ("
                   << at_startup << " at startup, " << mid_run << " mid-run, " << in_checkpoint_write
                   << " while a checkpoint was being written; " << had_checkpoint
                   << " left a checkpoint to resume; torn metrics.csv tails " << torn_csv
                   << ", torn event-file tails " << torn_events << "); run reached iteration " << verified
                   << " in " << seconds << " s");
  CHECK(kills == kKills);
  CHECK(in_checkpoint_write >= 1);
  fs::remove_all(dir);
}

TEST_CASE("resume repairs what a kill can leave: torn metrics row, torn event record, unfinished checkpoint",
          "[rl][cli][crash]") {
  const fs::path dir = fs::temp_directory_path() / ("stampede_torn_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const fs::path run = dir / "run";
  const fs::path log = dir / "log.txt";
  fs::create_directories(dir);
  auto train = [&](std::vector<std::string> args) {
    args.insert(args.end(), kTrainArgs.begin(), kTrainArgs.end());
    const pid_t pid = spawn(args, log);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    INFO(slurp(log));
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return slurp(log);
  };
  train({"train", "--task", "point-reach", "--run-dir", run.string(), "--iterations", "4"});
  REQUIRE(metrics_iterations(run).size() == 4);
  // what a process killed in iteration 6, after writing row 5 and while checkpointing 6, leaves
  const std::string csv = slurp(run / "metrics.csv");
  const std::string row4 = csv.substr(csv.rfind('\n', csv.size() - 2) + 1);
  std::ofstream(run / "metrics.csv", std::ios::app) << "5" << row4.substr(1) << "6,9216,0.0";
  fs::path events;
  for (const auto& e : fs::directory_iterator(run))
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) events = e.path();
  const std::string rec = tfrecord(encode_scalars_event(0.0, 5, {{"Loss/kl", 0.5f}}));
  std::ofstream(events, std::ios::app | std::ios::binary) << rec.substr(0, rec.size() / 2);  // half a record
  std::ofstream(run / "checkpoints" / "model_000006.h5.tmp") << "unfinished";
  bool torn = false;
  const int records = check_event_file(events, &torn);
  CHECK(torn);
  CHECK(records == 5);  // file version + 4 iterations

  const std::string out = train({"train", "--resume", run.string(), "--iterations", "6"});
  CHECK(out.find("(iteration 4)") != std::string::npos);
  CHECK(out.find("metrics.csv: dropped 1 row(s) after iteration 4") != std::string::npos);
  const auto its = metrics_iterations(run);
  REQUIRE(its.size() == 6);
  for (std::size_t i = 0; i < its.size(); ++i) CHECK(its[i] == static_cast<long long>(i + 1));
  CHECK(slurp(run / "metrics.csv").back() == '\n');
  CHECK(tmp_files(run).empty());
  CHECK(load_checkpoint(latest_checkpoint(run.string())).iteration == 6);
  // the resumed process wrote an event file of its own, whole; the torn one stays readable
  int files = 0, total = 0;
  for (const auto& e : fs::directory_iterator(run)) {
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) != 0) continue;
    ++files;
    bool t = false;
    total += check_event_file(e.path(), &t);
    CHECK(t == (e.path() == events));
  }
  CHECK(files == 2);
  CHECK(total == 5 + 3);
  fs::remove_all(dir);
}
