// tests/rl/test_nan_containment.cpp — NaN containment in training: NaN is injected into one
// world of the real locomotion env (H1 on MuJoCo's engine) during a short training run — into
// its state (qvel), its ctrl (through the action), and into the env's own outputs (observation,
// reward). PPO never sees a NaN: every tensor of the rollout storage is finite after every
// iteration, and so are the learner's parameters, optimizer moments and normalizer after each
// update. The backend's nan_reset counter and the runner's non-finite world count
// (metrics.csv nonfinite_worlds, TensorBoard Env/nonfinite_worlds) record what happened. And the
// other worlds' results stay bit-identical to a run without the bad world.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <mujoco/mujoco.h>

#include "rl/runner.h"
#include "rl/storage.h"
#include "sim/tasks/locomotion_env.h"
#include "sim/tasks/make_env.h"

namespace fs = std::filesystem;
using namespace stampede;
using rl::VecEnvBase;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// MuJoCo's warnings (its bad-qvel check) are counted here instead of going to MUJOCO_LOG.TXT
int mujoco_warnings = 0;
void count_warning(const char*) { ++mujoco_warnings; }
struct WarningHook {
  void (*previous)(const char*) = mju_user_warning;
  WarningHook() { mju_user_warning = count_warning; }
  ~WarningHook() { mju_user_warning = previous; }
};

sim::tasks::LocomotionEnv<double>* as_mujoco(sim::tasks::LocomotionVecEnv* env) {
  auto* e = dynamic_cast<sim::tasks::LocomotionEnv<double>*>(env);
  REQUIRE(e != nullptr);
  return e;
}

// the H1 locomotion env on MuJoCo, one world of which is poisoned at chosen steps
class PoisonedEnv final : public VecEnvBase {
 public:
  enum class Where { qvel, ctrl, output };
  PoisonedEnv(int num_envs, uint64_t seed, int world, std::set<int> steps, Where where)
      : inner_(sim::tasks::make_locomotion_vec_env("h1-walk", num_envs, "mujoco", seed, nullptr, 1)),
        loco_(as_mujoco(inner_.get())), world_(world), steps_(std::move(steps)), where_(where) {}
  int num_envs() const override { return inner_->num_envs(); }
  int obs_dim() const override { return inner_->obs_dim(); }
  int act_dim() const override { return inner_->act_dim(); }
  int max_episode_steps() const override { return inner_->max_episode_steps(); }
  void reset(float* obs) override { inner_->reset(obs); }
  std::map<std::string, double> step_stats() const override { return inner_->step_stats(); }
  std::string contract_hash() const override { return inner_->contract_hash(); }

  void step(const float* actions, float* obs, float* reward, unsigned char* terminated, unsigned char* truncated,
            float* final_obs) override {
    const bool poison = steps_.count(step_++) > 0;
    std::vector<float> a(actions, actions + static_cast<std::size_t>(num_envs()) * act_dim());
    if (poison && where_ == Where::qvel) loco_->backend().qvel()[world_ * loco_->backend().mj_model()->nv + 7] = kNaN;
    if (poison && where_ == Where::ctrl) a[static_cast<std::size_t>(world_) * act_dim() + 2] = static_cast<float>(kNaN);
    inner_->step(a.data(), obs, reward, terminated, truncated, final_obs);
    if (poison && where_ == Where::output) {
      obs[static_cast<std::size_t>(world_) * obs_dim() + 5] = std::numeric_limits<float>::infinity();
      reward[world_] = static_cast<float>(kNaN);
    }
    poisoned_ += poison;
  }

  int nan_resets() const { return loco_->backend().warnings()[world_].nan_reset; }
  int poisoned() const { return poisoned_; }
  sim::tasks::LocomotionEnv<double>& loco() { return *loco_; }

 private:
  std::unique_ptr<sim::tasks::LocomotionVecEnv> inner_;
  sim::tasks::LocomotionEnv<double>* loco_;
  int world_;
  std::set<int> steps_;
  Where where_;
  int step_ = 0, poisoned_ = 0;
};

template <class V>
bool all_finite(const V& v) {
  for (const auto& x : v)
    if (!std::isfinite(x)) return false;
  return true;
}

// column `name` of metrics.csv, one value per row
std::vector<double> metrics_column(const fs::path& run, const std::string& name) {
  std::ifstream in(run / "metrics.csv");
  std::string line;
  REQUIRE(std::getline(in, line));
  std::vector<std::string> cols;
  std::stringstream hs(line);
  for (std::string c; std::getline(hs, c, ',');) cols.push_back(c);
  const auto at = std::find(cols.begin(), cols.end(), name) - cols.begin();
  REQUIRE(at < static_cast<long>(cols.size()));
  std::vector<double> out;
  while (std::getline(in, line)) {
    std::stringstream ls(line);
    std::string v;
    for (long i = 0; i <= at; ++i) std::getline(ls, v, ',');
    out.push_back(std::stod(v));
  }
  return out;
}

}  // namespace

TEST_CASE("NaN in one world of the locomotion env never reaches PPO; training counts it", "[rl][nan]") {
  const auto where = GENERATE(PoisonedEnv::Where::qvel, PoisonedEnv::Where::ctrl, PoisonedEnv::Where::output);
  const char* name = where == PoisonedEnv::Where::qvel ? "qvel" : where == PoisonedEnv::Where::ctrl ? "ctrl" : "output";
  INFO("NaN in " << name);
  WarningHook hook;
  const fs::path run = fs::temp_directory_path() / ("stampede_nan_" + std::string(name) + "_" + std::to_string(::getpid()));
  fs::remove_all(run);

  rl::PpoConfig cfg;
  cfg.runner.task = "h1-walk";
  cfg.runner.num_steps_per_env = 12;
  cfg.runner.max_iterations = 2;
  cfg.runner.save_interval = 100;
  cfg.runner.num_threads = 1;
  cfg.policy.actor_hidden = {32, 32};
  cfg.policy.critic_hidden = {32, 32};
  cfg.algorithm.num_learning_epochs = 2;
  cfg.algorithm.num_mini_batches = 2;
  constexpr int kEnvs = 4, kSick = 2;
  // one poisoned step in each iteration's rollout
  auto env = std::make_unique<PoisonedEnv>(kEnvs, 5, kSick, std::set<int>{3, 12 + 7}, where);
  PoisonedEnv* penv = env.get();
  rl::OnPolicyRunner runner(cfg, std::move(env), run.string());

  std::vector<rl::IterationStats> stats;
  runner.on_iteration = [&](const rl::IterationStats& s) {
    stats.push_back(s);
    // the rollout the update just learned from, and the learner after it
    const rl::RolloutStorage* st = runner.learner().host_storage();
    REQUIRE(st != nullptr);
    CHECK(all_finite(st->obs));
    CHECK(all_finite(st->actions));
    CHECK(all_finite(st->mu));
    CHECK(all_finite(st->sigma));
    CHECK(all_finite(st->log_prob));
    CHECK(all_finite(st->values));
    CHECK(all_finite(st->rewards));
    CHECK(all_finite(st->returns));
    CHECK(all_finite(st->advantages));
    const rl::LearnerState ls = runner.learner().state();
    CHECK(all_finite(ls.params));
    CHECK(all_finite(ls.adam_exp_avg));
    CHECK(all_finite(ls.adam_exp_avg_sq));
    CHECK(all_finite(ls.obs_mean));
    CHECK(all_finite(ls.obs_var));
    CHECK(std::isfinite(s.update.surrogate_loss));
    CHECK(std::isfinite(s.update.value_loss));
    CHECK(std::isfinite(s.mean_step_reward));
  };
  runner.learn();
  REQUIRE(stats.size() == 2);
  REQUIRE(penv->poisoned() == 2);

  // the count, in the stats, metrics.csv and the event file
  int64_t counted = 0;
  for (const auto& s : stats) counted += s.nonfinite_worlds;
  const auto csv = metrics_column(run, "nonfinite_worlds");
  REQUIRE(csv.size() == 2);
  CHECK(csv[0] + csv[1] == static_cast<double>(counted));
  bool tag = false;
  for (const auto& e : fs::directory_iterator(run)) {
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) != 0) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    tag |= ss.str().find("Env/nonfinite_worlds") != std::string::npos;
  }
  CHECK(tag);
  WARN("NaN in " << name << ": backend nan_reset " << penv->nan_resets() << ", runner nonfinite_worlds " << counted
                 << " over 2 iterations");
  if (where == PoisonedEnv::Where::output) {
    CHECK(counted == 2);  // the runner caught both poisoned steps, zeroed them and counted them
    CHECK(penv->nan_resets() == 0);
  } else if (where == PoisonedEnv::Where::qvel) {
    CHECK(penv->nan_resets() == 2);  // the engine reset the world each time; the env ended it as a fall
    // and training logs the engine's cumulative count (the env's step_stats, a metrics.csv
    // column the runner averages over the iteration's steps): zero before the first reset,
    // then between the counts at the iteration's start and end
    const auto resets = metrics_column(run, "env/warnings/nan_resets");
    REQUIRE(resets.size() == 2);
    CHECK(resets[1] > 0.0);
    CHECK(resets[1] <= 2.0);
  } else {
    CHECK(penv->nan_resets() == 0);  // the env turns a NaN action into no action before it reaches ctrl
  }
  // training goes on: the checkpoint written at the end holds finite numbers
  const rl::Checkpoint ck = rl::load_checkpoint(rl::latest_checkpoint(run.string()));
  CHECK(ck.iteration == 2);
  CHECK(all_finite(ck.learner.params));
  fs::remove_all(run);
}

TEST_CASE("NaN in one world's state or ctrl leaves the other worlds of the env bit-identical", "[rl][nan]") {
  // two H1 envs, same seed, same actions; in one, world kSick's qvel (or its action, so its ctrl)
  // turns NaN twice
  const auto where = GENERATE(PoisonedEnv::Where::qvel, PoisonedEnv::Where::ctrl);
  INFO((where == PoisonedEnv::Where::qvel ? "NaN in qvel" : "NaN in ctrl"));
  WarningHook hook;
  constexpr int kEnvs = 4, kSick = 1, kSteps = 40;
  PoisonedEnv clean(kEnvs, 11, kSick, {}, where);
  PoisonedEnv sick(kEnvs, 11, kSick, {10, 25}, where);
  const int O = clean.obs_dim(), A = clean.act_dim();
  std::vector<float> obs_a(kEnvs * O), obs_b(kEnvs * O), fin_a(kEnvs * O), fin_b(kEnvs * O), rew_a(kEnvs),
      rew_b(kEnvs), act(kEnvs * A);
  std::vector<unsigned char> term_a(kEnvs), term_b(kEnvs), trunc_a(kEnvs), trunc_b(kEnvs);
  clean.reset(obs_a.data());
  sick.reset(obs_b.data());
  REQUIRE(obs_a == obs_b);
  int sick_terminated = 0;
  for (int t = 0; t < kSteps; ++t) {
    for (int i = 0; i < kEnvs * A; ++i) act[i] = 0.5f * std::sin(0.3f * t + 0.7f * i);
    clean.step(act.data(), obs_a.data(), rew_a.data(), term_a.data(), trunc_a.data(), fin_a.data());
    sick.step(act.data(), obs_b.data(), rew_b.data(), term_b.data(), trunc_b.data(), fin_b.data());
    if (t == 10 || t == 25) sick_terminated += term_b[kSick] != 0;
    CHECK(all_finite(obs_b));
    CHECK(all_finite(rew_b));
    for (int w = 0; w < kEnvs; ++w) {
      if (w == kSick) continue;
      INFO("step " << t << " world " << w);
      REQUIRE(std::memcmp(obs_a.data() + w * O, obs_b.data() + w * O, sizeof(float) * O) == 0);
      REQUIRE(std::memcmp(&rew_a[w], &rew_b[w], sizeof(float)) == 0);
      REQUIRE(term_a[w] == term_b[w]);
      REQUIRE(trunc_a[w] == trunc_b[w]);
    }
    auto& ba = clean.loco().backend();
    auto& bb = sick.loco().backend();
    const int nq = ba.mj_model()->nq, nv = ba.mj_model()->nv;
    for (int w = 0; w < kEnvs; ++w) {
      if (w == kSick) continue;
      REQUIRE(std::memcmp(ba.qpos() + w * nq, bb.qpos() + w * nq, sizeof(double) * nq) == 0);
      REQUIRE(std::memcmp(ba.qvel() + w * nv, bb.qvel() + w * nv, sizeof(double) * nv) == 0);
    }
  }
  CHECK(clean.nan_resets() == 0);
  if (where == PoisonedEnv::Where::qvel) {
    CHECK(sick.nan_resets() == 2);
    CHECK(sick_terminated == 2);  // the bad world ended its episode as a fall, both times
  } else {
    CHECK(sick.nan_resets() == 0);
  }
}
