// tests/rl/test_checkpoint.cpp — HDF5 checkpoints: exact round trip, crash-safe writing, errors.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "rl/checkpoint.h"

using namespace stampede::rl;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("stampede_test_ck_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

Checkpoint sample_checkpoint() {
  PpoConfig cfg;
  cfg.policy.actor_hidden = {5, 4};
  cfg.policy.critic_hidden = {6};
  cfg.runner.seed = 11;
  auto learner = make_learner(cfg, 2, 3, 2);
  Checkpoint ck;
  ck.iteration = 42;
  ck.total_samples = 4242;
  ck.total_time = 12.5;
  ck.task = "point-reach";
  ck.contract_hash = "abc123";
  ck.config_yaml = config_to_yaml(cfg);
  ck.obs_dim = 3;
  ck.act_dim = 2;
  ck.learner = learner->state();
  for (std::size_t i = 0; i < ck.learner.adam_exp_avg.size(); ++i) {
    ck.learner.adam_exp_avg[i] = 0.001f * static_cast<float>(i);
    ck.learner.adam_exp_avg_sq[i] = 1e-7f * static_cast<float>(i);
  }
  ck.learner.adam_step = 77;
  ck.learner.learning_rate = 0.00123;
  ck.learner.obs_mean = {0.1, -0.2, 0.3};
  ck.learner.obs_var = {1.5, 2.5, 0.25};
  ck.learner.obs_count = 1234;
  ck.learner.rng = {1ull, 2ull, 0xffffffffffffffffull, 4ull};
  return ck;
}

}  // namespace

TEST_CASE("a checkpoint round-trips exactly", "[rl][checkpoint]") {
  const fs::path dir = temp_dir("roundtrip");
  const Checkpoint ck = sample_checkpoint();
  const std::string path = checkpoint_path(dir.string(), ck.iteration);
  save_checkpoint(path, ck);
  REQUIRE(fs::exists(path));
  CHECK_FALSE(fs::exists(path + ".tmp"));
  const Checkpoint back = load_checkpoint(path);
  CHECK(back.iteration == 42);
  CHECK(back.total_samples == 4242);
  CHECK(back.total_time == 12.5);
  CHECK(back.task == "point-reach");
  CHECK(back.contract_hash == "abc123");
  CHECK(back.config_yaml == ck.config_yaml);
  CHECK(back.learner.params == ck.learner.params);
  CHECK(back.learner.adam_exp_avg == ck.learner.adam_exp_avg);
  CHECK(back.learner.adam_exp_avg_sq == ck.learner.adam_exp_avg_sq);
  CHECK(back.learner.adam_step == 77);
  CHECK(back.learner.learning_rate == 0.00123);
  CHECK(back.learner.obs_mean == ck.learner.obs_mean);
  CHECK(back.learner.obs_var == ck.learner.obs_var);
  CHECK(back.learner.obs_count == 1234);
  CHECK(back.learner.obs_eps == 1e-2);
  CHECK(back.learner.rng == ck.learner.rng);
  REQUIRE(back.learner.tensors.size() == ck.learner.tensors.size());
  for (std::size_t i = 0; i < back.learner.tensors.size(); ++i) {
    CHECK(back.learner.tensors[i].name == ck.learner.tensors[i].name);
    CHECK(back.learner.tensors[i].shape == ck.learner.tensors[i].shape);
    CHECK(back.learner.tensors[i].offset == ck.learner.tensors[i].offset);
  }
  CHECK(back.learner.tensors.front().name == "actor.0.weight");
  CHECK(back.learner.tensors.front().shape == std::vector<int>{5, 3});
  CHECK(back.learner.tensors.back().name == "log_std");
  fs::remove_all(dir);
}

TEST_CASE("latest_checkpoint picks the highest iteration and ignores partial files", "[rl][checkpoint]") {
  const fs::path dir = temp_dir("latest");
  CHECK(latest_checkpoint(dir.string()).empty());
  Checkpoint ck = sample_checkpoint();
  for (int64_t it : {5, 120, 30}) {
    ck.iteration = it;
    save_checkpoint(checkpoint_path(dir.string(), it), ck);
  }
  // a crash mid-write leaves only a .tmp beside the good files
  std::ofstream(checkpoint_path(dir.string(), 999) + ".tmp") << "partial";
  CHECK(latest_checkpoint(dir.string()) == checkpoint_path(dir.string(), 120));
  CHECK(load_checkpoint(latest_checkpoint(dir.string())).iteration == 120);
  // overwriting a checkpoint replaces it whole
  ck.iteration = 120;
  ck.total_samples = 7;
  save_checkpoint(checkpoint_path(dir.string(), 120), ck);
  CHECK(load_checkpoint(checkpoint_path(dir.string(), 120)).total_samples == 7);
  fs::remove_all(dir);
}

TEST_CASE("loading a bad file says which file and what is wrong", "[rl][checkpoint]") {
  const fs::path dir = temp_dir("bad");
  const std::string missing = (dir / "nope.h5").string();
  CHECK_THROWS_WITH(load_checkpoint(missing), Catch::Contains("nope.h5"));
  const std::string junk = (dir / "junk.h5").string();
  std::ofstream(junk) << "not hdf5";
  CHECK_THROWS_WITH(load_checkpoint(junk), Catch::Contains("junk.h5"));
  fs::remove_all(dir);
}
