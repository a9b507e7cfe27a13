// tests/cli/test_bench_walk.cpp — `stampede bench walk`: the evaluation holds the conditions it
// promises (forward command 1.0 m/s, zero lateral and yaw command, no randomization, noise,
// pushes or latency, the same worlds at every evaluation), and a run with a tiny budget writes
// walk.json, evals.csv and the run folder with sane values.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench_walk.h"
#include "rl/learner.h"
#include "sim/tasks/locomotion_env.h"
#include "sim/tasks/make_env.h"

namespace fs = std::filesystem;
namespace st = stampede::sim::tasks;
using namespace stampede;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// the text after `"key": ` up to the next comma, brace or bracket at the top of that value
std::string json_field(const std::string& json, const std::string& key) {
  const std::string k = "\"" + key + "\": ";
  const auto at = json.find(k);
  if (at == std::string::npos) return "";
  const auto from = at + k.size();
  const auto to = json.find_first_of(",}\n", from);
  return json.substr(from, to - from);
}

double json_double(const std::string& json, const std::string& key) {
  const std::string v = json_field(json, key);
  REQUIRE_FALSE(v.empty());
  return std::stod(v);
}

rl::PpoConfig small_config() {
  rl::PpoConfig cfg;
  cfg.policy.actor_hidden = {32, 32};
  cfg.policy.critic_hidden = {32, 32};
  cfg.runner.num_threads = 1;
  return cfg;
}

}  // namespace

TEST_CASE("the evaluation config holds a forward command and turns randomization off") {
  const st::TaskConfig task = st::find_task_config("h1-walk");
  REQUIRE(task.domain_rand.enabled);  // the training task randomizes: the evaluation must not
  cli::WalkCriteria c;
  const st::TaskConfig e = cli::walk_eval_task_config(task, c);
  CHECK_FALSE(e.commands.heading_command);
  CHECK(e.commands.lin_vel_x[0] == 1.0);
  CHECK(e.commands.lin_vel_x[1] == 1.0);
  CHECK(e.commands.lin_vel_y[0] == 0.0);
  CHECK(e.commands.lin_vel_y[1] == 0.0);
  CHECK(e.commands.ang_vel_yaw[0] == 0.0);
  CHECK(e.commands.ang_vel_yaw[1] == 0.0);
  CHECK_FALSE(e.domain_rand.enabled);
  CHECK(e.domain_rand.observation_noise_level == 0.0);
  CHECK(e.domain_rand.push_interval == 0.0);
  CHECK(e.domain_rand.max_action_latency == 0);
  CHECK(e.episode_length == task.episode_length);  // one full episode of the task's time limit
}

TEST_CASE("evaluate_walk runs one episode per world under the 1.0 m/s command, reproducibly") {
  const st::TaskConfig task = cli::walk_eval_task_config(st::find_task_config("h1-walk"), cli::WalkCriteria{});
  auto env = st::make_locomotion_vec_env("h1-walk", 4, "mujoco", 3, &task, 1);
  auto* le = dynamic_cast<st::LocomotionEnv<double>*>(env.get());
  REQUIRE(le != nullptr);
  // the env really runs without randomization, noise or pushes
  CHECK(le->params().randomize == 0);
  CHECK(le->params().obs_noise_level == 0.0);
  CHECK(le->params().heading_command == 0);
  auto learner = rl::make_cpu_learner(small_config(), 4, env->obs_dim(), env->act_dim());

  const cli::WalkEval a = cli::evaluate_walk(*learner, *env, 11, cli::WalkCriteria{});
  CHECK(a.worlds == 4);
  // the command the env held at every alive step, read from the env's own buffers
  CHECK(a.command_vx_mean == 1.0);
  CHECK(a.command_max_deviation == 0.0);
  for (int w = 0; w < 4; ++w) {
    CHECK(le->data().commands[4 * w + 0] == 1.0);
    CHECK(le->data().commands[4 * w + 1] == 0.0);
    CHECK(le->data().commands[4 * w + 2] == 0.0);
  }
  CHECK(a.survival > 0.0);
  CHECK(a.survival <= 1.0);
  CHECK(std::isfinite(a.vx_error));
  CHECK(a.vx_error >= 0.0);
  // an untrained policy does not walk 1 m/s: |v_x - 1| is at least 1 - |v_x| on average
  CHECK(a.vx_error >= 1.0 - std::fabs(a.vx_mean) - 1e-9);
  CHECK_FALSE(a.walked);

  // the same seed gives the same worlds and the same numbers (evaluations are comparable)
  const cli::WalkEval b = cli::evaluate_walk(*learner, *env, 11, cli::WalkCriteria{});
  CHECK(b.vx_error == a.vx_error);
  CHECK(b.survival == a.survival);
  CHECK(b.episode_return == a.episode_return);
}

TEST_CASE("the walking criteria are the ones documented") {
  const cli::WalkCriteria c;
  CHECK(c.command_vx == 1.0);
  CHECK(c.max_vx_error == 0.2);
  CHECK(c.min_survival == 0.9);
}

TEST_CASE("bench walk with a tiny budget writes walk.json, evals.csv and the run") {
  const fs::path dir = fs::temp_directory_path() / ("stampede_bench_walk_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const int code = cli::run_bench_walk({"--task", "h1-walk", "--device", "cpu", "--backend", "mujoco",
                                        "--max-minutes", "0.03", "--eval-every-minutes", "0.01", "--seed", "5",
                                        "--num-envs", "16", "--eval-worlds", "4", "--threads", "1", "--set",
                                        "actor_hidden=[32,32]", "--set", "critic_hidden=[32,32]", "--no-plot",
                                        "-o", dir.string()});
  CHECK(code == 3);  // did not walk in two seconds of training
  const std::string json = slurp(dir / "walk.json");
  REQUIRE_FALSE(json.empty());
  CHECK(json_field(json, "walked") == "false");
  CHECK(json_double(json, "seed") == 5);
  const double minutes = json_double(json, "minutes");
  CHECK(minutes >= 0.03);
  const double samples = json_double(json, "samples");
  CHECK(samples > 0);
  CHECK(std::fmod(samples, 16.0 * 24.0) == 0.0);  // whole iterations of 16 envs x 24 steps
  CHECK(json_double(json, "vx_error") >= 0);
  const double survival = json_double(json, "survival");
  CHECK(survival > 0);
  CHECK(survival <= 1);
  CHECK(json_double(json, "num_envs") == 16);
  CHECK(json_double(json, "threads") == 1);
  CHECK(json_double(json, "command_vx") == 1.0);
  CHECK(json_double(json, "max_vx_error") == 0.2);
  CHECK(json_double(json, "min_survival") == 0.9);
  CHECK(json_double(json, "episode_steps") == 1000);  // 20 s at 0.02 s
  CHECK(json_double(json, "command_vx_mean") == 1.0);
  CHECK(json_double(json, "command_max_deviation") == 0.0);
  CHECK(json_field(json, "plot") == "null");
  // the run folder holds the checkpoint the JSON names
  const std::string run = json_field(json, "run");
  CHECK(run == "\"" + fs::absolute(dir / "run").lexically_normal().string() + "\"");
  CHECK(fs::is_regular_file(dir / "run" / "metrics.csv"));
  const std::string checkpoint = json_field(json, "checkpoint");
  REQUIRE(checkpoint.size() > 2);
  CHECK(fs::is_regular_file(checkpoint.substr(1, checkpoint.size() - 2)));
  // one CSV row per evaluation (at least the one at the limit; more when iterations are short)
  std::ifstream csv(dir / "evals.csv");
  int rows = 0;
  for (std::string line; std::getline(csv, line);) ++rows;
  CHECK(rows >= 1 + 1);
  CHECK(rows - 1 == static_cast<int>(std::count(json.begin(), json.end(), '{')) - 2);  // top level, criteria
  // a second run into the same folder is refused rather than appended to the first
  CHECK_THROWS_AS(cli::run_bench_walk({"--max-minutes", "0.01", "--num-envs", "16", "--threads", "1", "-o",
                                       dir.string()}),
                  std::invalid_argument);
  fs::remove_all(dir);
}

TEST_CASE("bench walk rejects bad arguments with a message") {
  CHECK_THROWS_AS(cli::run_bench_walk({"--max-minutes", "1"}), std::invalid_argument);  // no -o
  CHECK_THROWS_AS(cli::run_bench_walk({"-o", "x", "--backend", "bullet"}), std::invalid_argument);
  CHECK_THROWS_AS(cli::run_bench_walk({"-o", "x", "--device", "tpu"}), std::invalid_argument);
  std::string why;
  if (!stampede::rl::cuda_available(&why))  // --device cuda needs a GPU; it says so
    CHECK_THROWS_WITH(cli::run_bench_walk({"-o", "x", "--device", "cuda"}), Catch::Contains("use --device cpu"));
  CHECK_THROWS_AS(cli::run_bench_walk({"-o", "x", "--max-minutes", "soon"}), std::invalid_argument);
  CHECK(cli::run_bench_walk({"--help"}) == 0);
}
