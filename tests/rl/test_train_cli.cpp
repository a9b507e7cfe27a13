// tests/rl/test_train_cli.cpp — the learning test, through the `stampede` binary itself:
// `stampede train` on the MuJoCo point-reach task must pass a return threshold within a CI-sized
// budget with a fixed seed, `stampede play` must reproduce it with the deterministic policy, and
// resume, Ctrl-C and the device errors behave as documented.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "rl/checkpoint.h"
#include "rl/config.h"
#include "rl/learner.h"

namespace fs = std::filesystem;
using namespace stampede::rl;

namespace {

struct Result {
  int code = -1;
  std::string out;
};

Result run_command(const std::string& command) {
  const std::string cmd = command + " 2>&1";
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  while (std::fgets(buf, sizeof(buf), p)) r.out += buf;
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

Result run(const std::string& args) { return run_command(std::string(STAMPEDE_BIN) + " " + args); }

// metrics.csv as rows of column -> text
std::vector<std::map<std::string, std::string>> read_metrics(const fs::path& run_dir) {
  std::ifstream in(run_dir / "metrics.csv");
  std::string line;
  std::vector<std::string> cols;
  std::vector<std::map<std::string, std::string>> rows;
  if (!std::getline(in, line)) return rows;
  std::stringstream hs(line);
  for (std::string c; std::getline(hs, c, ',');) cols.push_back(c);
  while (std::getline(in, line)) {
    std::stringstream ls(line);
    std::map<std::string, std::string> row;
    std::string v;
    for (std::size_t i = 0; i < cols.size() && std::getline(ls, v, ','); ++i) row[cols[i]] = v;
    rows.push_back(row);
  }
  return rows;
}

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("stampede_cli_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

const std::string kSmallNet = " --set actor_hidden=[64,64] --set critic_hidden=[64,64] --set num_threads=2";

}  // namespace

TEST_CASE("stampede train learns point-reach; play reproduces it; resume continues", "[rl][cli][learning]") {
  // budget: 150 iterations x 64 envs x 24 steps (230k env steps), about 10 s on two shared cores.
  // A random policy returns about 47 (of at most 100); trained ones about 86 with this seed.
  const fs::path dir = temp_dir("train");
  const fs::path run_dir = dir / "run";
  const auto t0 = std::chrono::steady_clock::now();
  const Result r = run("train --task point-reach --num-envs 64 --iterations 150 --seed 1" + kSmallNet +
                       " --run-dir " + run_dir.string() + " --checkpoint-every 50");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(r.out);
  REQUIRE(r.code == 0);
  const auto rows = read_metrics(run_dir);
  REQUIRE(rows.size() == 150);
  const double first = std::stod(rows[9].at("mean_reward"));
  const double last = std::stod(rows.back().at("mean_reward"));
  WARN("point-reach: mean return " << first << " at iteration 10, " << last << " at 150, " << seconds << " s");
  CHECK(first < 60);
  CHECK(last > 80);
  CHECK(rows.back().at("samples") == std::to_string(150 * 64 * 24));
  for (const char* col : {"env/reward/closeness", "env/reward/control", "kl", "learning_rate", "action_std", "steps_per_s"})
    CHECK(rows.back().count(col) == 1);
  // the run directory: resolved config, events, checkpoints every 50 iterations
  const PpoConfig cfg = load_config((run_dir / "config.yaml").string());
  CHECK(cfg.policy.actor_hidden == std::vector<int>{64, 64});
  CHECK(cfg.runner.task == "point-reach");
  CHECK(cfg.runner.seed == 1);
  for (int it : {50, 100, 150}) CHECK(fs::exists(checkpoint_path(run_dir.string(), it)));
  bool has_events = false;
  for (const auto& e : fs::directory_iterator(run_dir))
    has_events |= e.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
  CHECK(has_events);

  // play: the deterministic policy on episodes it did not train on
  const Result p = run("play --run " + run_dir.string() + " --episodes 16");
  INFO(p.out);
  REQUIRE(p.code == 0);
  const auto at = p.out.find("mean return ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stod(p.out.substr(at + 12)) > 80);
  CHECK(p.out.find("episode 16: return") != std::string::npos);

  // play --video: world 0's episode (100 control steps at 25 Hz), rendered and encoded by ffmpeg
  const fs::path video = dir / "play.mp4";
  const Result v = run("play --run " + run_dir.string() + " --episodes 2 --video " + video.string() +
                       " --video-size 160x120");
  INFO(v.out);
  REQUIRE(v.code == 0);
  CHECK(v.out.find("100 frames of 160x120 at 25 fps") != std::string::npos);
  const Result probe = run_command("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                                   "stream=nb_read_frames,width,height -of csv=p=0 " + video.string());
  CHECK(probe.out == "160,120,100\n");

  // resume: continues from iteration 150 up to 160, appending to metrics.csv
  const Result re = run("train --resume " + run_dir.string() + " --iterations 160 --quiet");
  INFO(re.out);
  REQUIRE(re.code == 0);
  const auto rows2 = read_metrics(run_dir);
  REQUIRE(rows2.size() == 160);
  CHECK(rows2[150].at("iteration") == "151");
  CHECK(load_checkpoint(latest_checkpoint(run_dir.string())).iteration == 160);
  fs::remove_all(dir);
}

TEST_CASE("Ctrl-C stops training with a usable checkpoint", "[rl][cli]") {
  const fs::path dir = temp_dir("sigint");
  const fs::path run_dir = dir / "run";
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::string log = (dir / "log.txt").string();
    freopen(log.c_str(), "w", stdout);
    execl(STAMPEDE_BIN, STAMPEDE_BIN, "train", "--task", "point-reach", "--num-envs", "16", "--iterations",
          "100000", "--checkpoint-every", "100000", "--set", "actor_hidden=[16]", "--set", "critic_hidden=[16]",
          "--run-dir", run_dir.c_str(), "--quiet", static_cast<char*>(nullptr));
    _exit(127);
  }
  // wait for a few iterations, then interrupt
  for (int i = 0; i < 600 && read_metrics(run_dir).size() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(read_metrics(run_dir).size() >= 3);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  const std::string ck = latest_checkpoint(run_dir.string());
  REQUIRE_FALSE(ck.empty());
  const Checkpoint c = load_checkpoint(ck);
  CHECK(c.iteration == static_cast<int64_t>(read_metrics(run_dir).size()));
  CHECK(c.learner.adam_step == c.iteration * 5 * 4);  // epochs x minibatches per iteration
  fs::remove_all(dir);
}

TEST_CASE("train and play refuse what they cannot do, with a reason", "[rl][cli]") {
  const fs::path dir = temp_dir("errors");
  Result r = run("train --task point-reach --device cuda --iterations 1 --run-dir " + (dir / "a").string());
  std::string why;
  if (cuda_available(&why)) {
    // a GPU: the CUDA learner; point-reach's worlds run on the CPU only, and say so
    CHECK(r.code == 1);
    CHECK(r.out.find("runs on the CPU only") != std::string::npos);
    r = run("train --task point-reach --device cuda --env-device cpu --iterations 1 --run-dir " + (dir / "c").string());
    CHECK(r.code == 0);
  } else {
    CHECK(r.code == 1);
    CHECK(r.out.find("--device cuda") != std::string::npos);
    CHECK(r.out.find("use --device cpu") != std::string::npos);
  }
  r = run("train --task no-such-task --iterations 1 --run-dir " + (dir / "b").string());
  CHECK(r.code == 1);
  CHECK(r.out.find("unknown task 'no-such-task'") != std::string::npos);
  CHECK(r.out.find("point-reach") != std::string::npos);
  r = run("train --task target --set algorithm.gama=0.9 --iterations 1");
  CHECK(r.code == 1);
  CHECK(r.out.find("algorithm.gama") != std::string::npos);
  r = run("train --help");
  CHECK(r.code == 0);
  CHECK(r.out.find("--resume RUN") != std::string::npos);
  r = run("train --task target --num-envs 8 --iterations 1 --set actor_hidden=[8] --set critic_hidden=[8] --quiet --run-dir " +
          (dir / "c").string());
  REQUIRE(r.code == 0);
  // the target task has no MuJoCo model: nothing to render
  r = run("play --run " + (dir / "c").string() + " --video out.mp4");
  CHECK(r.code == 1);
  CHECK(r.out.find("no MuJoCo model to render") != std::string::npos);
  CHECK_FALSE(fs::exists("out.mp4"));
  r = run("play --run " + (dir / "c").string() + " --video out.mp4 --video-size 640x");
  CHECK(r.code == 1);
  CHECK(r.out.find("--video-size: expected WxH") != std::string::npos);
  fs::remove_all(dir);
}
