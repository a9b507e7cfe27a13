// tests/runtime/test_export_learner.cpp — the exported ONNX graph, run by the runtime's evaluator,
// against the learner's own deterministic forward pass (act_inference) on the same checkpoint.
#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include <unistd.h>

#include "rl/checkpoint.h"
#include "rl/export/checkpoint_export.h"
#include "rl/learner.h"
#include "runtime/policy.h"

using namespace stampede;

TEST_CASE("exported policy == learner's act_inference on the same checkpoint (h1, 512-256-128 ELU)") {
  const robot::RobotSpec spec = robot::load_robot(std::string(STAMPEDE_ASSETS_DIR) + "/h1/robot.yaml");
  const int obs_dim = spec.obs_size(), act_dim = spec.num_joints(), num_envs = 16;
  rl::PpoConfig cfg;
  cfg.runner.num_threads = 1;
  auto learner = rl::make_cpu_learner(cfg, num_envs, obs_dim, act_dim);
  // move the normalizer away from (0, 1): a few rollout steps on skewed observations
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> obs(static_cast<std::size_t>(num_envs) * obs_dim), act(static_cast<std::size_t>(num_envs) * act_dim);
  for (int step = 0; step < 3; ++step) {
    for (std::size_t i = 0; i < obs.size(); ++i) obs[i] = 0.5f + 2.0f * n(rng) * static_cast<float>(1 + i % 3);
    learner->act(obs.data(), act.data());
  }
  rl::Checkpoint ck;
  ck.iteration = 3;
  ck.task = "h1-walk";
  ck.contract_hash = robot::contract_hash(spec);
  ck.config_yaml = rl::config_to_yaml(cfg);
  ck.obs_dim = obs_dim;
  ck.act_dim = act_dim;
  ck.learner = learner->state();
  REQUIRE(ck.learner.obs_count > 0);
  // through the checkpoint file, as `stampede export` reads it
  const std::string path = (std::filesystem::temp_directory_path() / ("stampede_ck_" + std::to_string(::getpid()) + ".h5")).string();
  rl::save_checkpoint(path, ck);
  const rl::Checkpoint loaded = rl::load_checkpoint(path);
  std::filesystem::remove(path);
  const rl::ExportedPolicy p = rl::exported_policy_from_checkpoint(loaded, spec, 0.8, path);
  runtime::Policy policy = runtime::Policy::from_bytes(rl::export_policy_onnx_bytes(p), "learner.onnx");
  REQUIRE_NOTHROW(runtime::check_contract(policy, spec));

  std::vector<float> ours(static_cast<std::size_t>(num_envs) * act_dim), theirs(ours.size());
  for (std::size_t i = 0; i < obs.size(); ++i) obs[i] = 3.0f * n(rng);
  learner->act_inference(obs.data(), theirs.data(), num_envs);
  policy.evaluator().run_batch(obs.data(), ours.data(), num_envs);
  double max_abs = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    // float32 both sides, different summation order (Eigen GEMM vs axpy): ~1e-6
    CHECK(ours[i] == Approx(theirs[i]).margin(1e-5));
    max_abs = std::max(max_abs, static_cast<double>(std::fabs(theirs[i])));
  }
  CHECK(max_abs > 1e-3);  // not comparing zeros
}

TEST_CASE("a checkpoint trained for another contract is refused") {
  const robot::RobotSpec spec = robot::load_robot(std::string(STAMPEDE_ASSETS_DIR) + "/h1/robot.yaml");
  rl::Checkpoint ck;
  ck.contract_hash = std::string(64, '0');
  ck.task = "h1-walk";
  REQUIRE_THROWS_WITH(rl::exported_policy_from_checkpoint(ck, spec, 0.8, "ck.h5"), Catch::Contains("changed since training"));
  ck.contract_hash.clear();
  REQUIRE_THROWS_WITH(rl::exported_policy_from_checkpoint(ck, spec, 0.8, "ck.h5"), Catch::Contains("no robot contract"));
}
