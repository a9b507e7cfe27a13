// tests/rl/dist/test_train_mpi.cpp — `mpirun -np 2 stampede train` end to end (ctest label
// `mpi`): one run directory written by rank 0 with global sample counts, resume with another
// rank count, and failure: a rank killed (SIGKILL) or hung (SIGSTOP) mid-training ends the job
// with an error within a bounded time, and the last checkpoint loads.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "rl/checkpoint.h"

namespace fs = std::filesystem;
using namespace stampede::rl;
using Clock = std::chrono::steady_clock;

namespace {

// Open MPI refuses root and more ranks than cores unless told; MPICH ignores these
void allow_mpirun_here() {
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", 1);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// a command run to its end: exit code and output
struct Result {
  int code = -1;
  std::string out;
};

Result run(const std::string& cmd) {
  Result r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (std::fgets(buf, sizeof(buf), p)) r.out += buf;
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string mpirun(int ranks) { return std::string(MPIEXEC) + " -np " + std::to_string(ranks) + " "; }

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("stampede_dist_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::size_t metric_rows(const fs::path& run_dir) {
  std::ifstream in(run_dir / "metrics.csv");
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n > 0 ? n - 1 : 0;
}

// the value of column `col` in the last row of metrics.csv
std::string last_metric(const fs::path& run_dir, const std::string& col) {
  std::ifstream in(run_dir / "metrics.csv");
  std::string header, line, last;
  std::getline(in, header);
  while (std::getline(in, line)) last = line;
  std::stringstream hs(header), ls(last);
  for (std::string c, v; std::getline(hs, c, ',') && std::getline(ls, v, ',');)
    if (c == col) return v;
  return "";
}

// the pid of the process whose command line mentions `marker` and whose MPI rank is `rank` (0: none)
pid_t find_rank(const std::string& marker, int rank) {
  const std::string want = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = slurp(e.path() / "cmdline"), environ = slurp(e.path() / "environ");
    for (char& ch : cmdline)
      if (ch == '\0') ch = ' ';
    if (cmdline.find("stampede") == std::string::npos || cmdline.find(marker) == std::string::npos) continue;
    std::stringstream es(environ);
    for (std::string var; std::getline(es, var, '\0');)
      if (var == want) return static_cast<pid_t>(std::stol(name));
  }
  return 0;
}

// mpirun started in the background with its output in a file
struct Job {
  pid_t pid = 0;
  fs::path log;
  Job(const std::string& cmd, const fs::path& log_path) : log(log_path) {
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      setpgid(0, 0);
      execl("/bin/sh", "sh", "-c", (cmd + " >" + log.string() + " 2>&1").c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  // waits up to `seconds`; the exit code, or -1 when it is still running (then it is killed)
  int wait_for(double seconds) {
    const auto t0 = Clock::now();
    int status = 0;
    while (std::chrono::duration<double>(Clock::now() - t0).count() < seconds) {
      if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
};

const std::string kSmall =
    " --task point-reach --num-envs 32 --set actor_hidden=[32,32] --set critic_hidden=[32,32] --set num_threads=1";

}  // namespace

TEST_CASE("mpirun -np 2 stampede train: one run written by rank 0; resume with another rank count", "[rl][dist][mpi]") {
  allow_mpirun_here();
  const fs::path dir = temp_dir("train");
  const fs::path run_dir = dir / "run";
  // a working directory of its own: a rank that wrote a default run folder would show up in it
  const std::string cd = "cd " + dir.string() + " && ";
  Result r = run(cd + mpirun(2) + STAMPEDE_BIN " train" + kSmall + " --iterations 4 --checkpoint-every 2 --run-dir " +
                 run_dir.string());
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("data-parallel: 2 ranks over mpi") != std::string::npos);
  CHECK(r.out.find("steps/s (2 ranks)") != std::string::npos);
  // one rank printed: one "training" line, one "done" line
  CHECK(r.out.find("training point-reach") == r.out.rfind("training point-reach"));
  CHECK(r.out.find("done: 4 iterations") == r.out.rfind("done: 4 iterations"));
  // one run folder, with samples of both ranks: 4 iterations x 2 ranks x 32 envs x 24 steps
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(dir)) entries.push_back(e.path().filename().string());
  CHECK(entries == std::vector<std::string>{"run"});
  int event_files = 0;
  for (const auto& e : fs::directory_iterator(run_dir))
    event_files += e.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
  CHECK(event_files == 1);
  CHECK(metric_rows(run_dir) == 4);
  CHECK(last_metric(run_dir, "samples") == std::to_string(4 * 2 * 32 * 24));
  Checkpoint ck = load_checkpoint(latest_checkpoint(run_dir.string()));
  CHECK(ck.iteration == 4);
  CHECK(ck.total_samples == 4 * 2 * 32 * 24);
  CHECK(ck.learner.adam_step == 4 * 5 * 4);

  // resume on one process, then on two again: counts continue from the checkpoint
  r = run(cd + STAMPEDE_BIN " train --resume " + run_dir.string() + " --iterations 6 --quiet");
  INFO(r.out);
  REQUIRE(r.code == 0);
  ck = load_checkpoint(latest_checkpoint(run_dir.string()));
  CHECK(ck.iteration == 6);
  CHECK(ck.total_samples == (4 * 2 + 2 * 1) * 32 * 24);
  r = run(cd + mpirun(2) + STAMPEDE_BIN " train --resume " + run_dir.string() + " --iterations 8 --quiet");
  INFO(r.out);
  REQUIRE(r.code == 0);
  ck = load_checkpoint(latest_checkpoint(run_dir.string()));
  CHECK(ck.iteration == 8);
  CHECK(ck.total_samples == (4 * 2 + 2 * 1 + 2 * 2) * 32 * 24);
  CHECK(ck.learner.adam_step == 8 * 5 * 4);
  CHECK(metric_rows(run_dir) == 8);
  fs::remove_all(dir);
}

TEST_CASE("a rank killed mid-training ends the job with an error; the last checkpoint loads", "[rl][dist][mpi]") {
  allow_mpirun_here();
  const fs::path dir = temp_dir("kill");
  const fs::path run_dir = dir / "run";
  Job job(mpirun(2) + STAMPEDE_BIN " train" + kSmall + " --iterations 100000 --checkpoint-every 2 --quiet --run-dir " +
              run_dir.string(),
          dir / "log.txt");
  // wait for a checkpoint, then kill rank 1
  const auto t0 = Clock::now();
  while (latest_checkpoint(run_dir.string()).empty() && std::chrono::duration<double>(Clock::now() - t0).count() < 120)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE_FALSE(latest_checkpoint(run_dir.string()).empty());
  const pid_t rank1 = find_rank(run_dir.string(), 1);
  REQUIRE(rank1 > 0);
  const auto t_kill = Clock::now();
  kill(rank1, SIGKILL);
  const int code = job.wait_for(60);
  const double took = std::chrono::duration<double>(Clock::now() - t_kill).count();
  const std::string log = slurp(job.log);
  INFO(log);
  WARN("job ended " << took << " s after rank 1 was killed, exit code " << code);
  REQUIRE(code != -1);  // ended by itself within the bound
  CHECK(code != 0);
  CHECK(log.find("rank 1") != std::string::npos);
  // the checkpoint of a completed iteration loads and continues
  const Checkpoint ck = load_checkpoint(latest_checkpoint(run_dir.string()));
  CHECK(ck.iteration >= 2);
  CHECK(ck.total_samples == ck.iteration * 2 * 32 * 24);
  const Result r = run(std::string(STAMPEDE_BIN) + " train --resume " + run_dir.string() + " --iterations " +
                       std::to_string(ck.iteration + 1) + " --quiet");
  INFO(r.out);
  CHECK(r.code == 0);
  fs::remove_all(dir);
}

TEST_CASE("a hung rank ends the job at the deadline, naming it", "[rl][dist][mpi]") {
  allow_mpirun_here();
  const fs::path dir = temp_dir("hang");
  const fs::path run_dir = dir / "run";
  Job job(mpirun(2) + STAMPEDE_BIN " train" + kSmall +
              " --iterations 100000 --checkpoint-every 2 --quiet --dist-timeout 3 --run-dir " + run_dir.string(),
          dir / "log.txt");
  const auto t0 = Clock::now();
  while (latest_checkpoint(run_dir.string()).empty() && std::chrono::duration<double>(Clock::now() - t0).count() < 120)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE_FALSE(latest_checkpoint(run_dir.string()).empty());
  const pid_t rank1 = find_rank(run_dir.string(), 1);
  REQUIRE(rank1 > 0);
  const auto t_stop = Clock::now();
  kill(rank1, SIGSTOP);  // alive but not progressing: only the deadline can notice
  const int code = job.wait_for(60);
  const double took = std::chrono::duration<double>(Clock::now() - t_stop).count();
  kill(rank1, SIGKILL);  // in case the launcher left it stopped
  const std::string log = slurp(job.log);
  INFO(log);
  WARN("job ended " << took << " s after rank 1 was stopped (deadline 3 s), exit code " << code);
  REQUIRE(code != -1);
  CHECK(code != 0);
  // stopped outside a collective it "did not arrive"; inside one it "arrived and then stopped
  // responding": either way rank 1 is named
  CHECK(log.find("rank(s) 1 ") != std::string::npos);
  CHECK(log.find("(dead or hung)") != std::string::npos);
  CHECK(log.find("stays usable (stampede train --resume " + run_dir.string() + ")") != std::string::npos);
  const Checkpoint ck = load_checkpoint(latest_checkpoint(run_dir.string()));
  CHECK(ck.iteration >= 2);
  fs::remove_all(dir);
}
