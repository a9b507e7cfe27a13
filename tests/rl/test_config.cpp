// tests/rl/test_config.cpp — PpoConfig from YAML, --set overrides, round trip, errors.
#include <catch2/catch.hpp>

#include "rl/config.h"

using namespace stampede::rl;

TEST_CASE("defaults are rsl_rl's locomotion settings", "[rl][config]") {
  const PpoConfig c;
  CHECK(c.policy.actor_hidden == std::vector<int>{512, 256, 128});
  CHECK(c.policy.activation == "elu");
  CHECK(c.algorithm.num_learning_epochs == 5);
  CHECK(c.algorithm.num_mini_batches == 4);
  CHECK(c.algorithm.clip_param == 0.2);
  CHECK(c.algorithm.gamma == 0.99);
  CHECK(c.algorithm.lam == 0.95);
  CHECK(c.algorithm.learning_rate == 1e-3);
  CHECK(c.algorithm.desired_kl == 0.01);
  CHECK(c.algorithm.max_grad_norm == 1.0);
  CHECK(c.runner.num_steps_per_env == 24);
}

TEST_CASE("YAML load, overrides and round trip", "[rl][config]") {
  PpoConfig c = config_from_yaml(
      "policy:\n  actor_hidden: [64, 32]\n  activation: tanh\nalgorithm:\n  entropy_coef: 0.005\n"
      "runner:\n  task: point-reach\n  num_envs: 128\n");
  CHECK(c.policy.actor_hidden == std::vector<int>{64, 32});
  CHECK(c.policy.critic_hidden == std::vector<int>{512, 256, 128});
  CHECK(c.policy.activation == "tanh");
  CHECK(c.algorithm.entropy_coef == 0.005);
  CHECK(c.runner.num_envs == 128);

  apply_override(c, "algorithm.learning_rate=3e-4");
  apply_override(c, "critic_hidden=[16]");  // unique key without its section
  apply_override(c, "schedule=fixed");
  apply_override(c, "use_clipped_value_loss=false");
  CHECK(c.algorithm.learning_rate == 3e-4);
  CHECK(c.policy.critic_hidden == std::vector<int>{16});
  CHECK(c.algorithm.schedule == "fixed");
  CHECK_FALSE(c.algorithm.use_clipped_value_loss);

  const PpoConfig back = config_from_yaml(config_to_yaml(c));
  CHECK(config_to_yaml(back) == config_to_yaml(c));
  CHECK(back.algorithm.learning_rate == 3e-4);  // doubles survive the text exactly
  CHECK(back.policy.critic_hidden == std::vector<int>{16});
}

TEST_CASE("config errors name the key", "[rl][config]") {
  PpoConfig c;
  CHECK_THROWS_WITH(config_from_yaml("algorithm:\n  gama: 0.9\n", "my.yaml"),
                    Catch::Contains("my.yaml") && Catch::Contains("algorithm.gama"));
  CHECK_THROWS_WITH(config_from_yaml("algorithm:\n  gamma: fast\n", "my.yaml"),
                    Catch::Contains("algorithm.gamma") && Catch::Contains("number"));
  CHECK_THROWS_WITH(config_from_yaml("optimizer:\n  lr: 1\n"), Catch::Contains("unknown section 'optimizer'"));
  CHECK_THROWS_WITH(apply_override(c, "nope=1"), Catch::Contains("unknown key 'nope'"));
  CHECK_THROWS_WITH(apply_override(c, "learning_rate"), Catch::Contains("key=value"));
  c.algorithm.num_mini_batches = 0;
  CHECK_THROWS_WITH(validate_config(c), Catch::Contains("num_mini_batches"));
  c = PpoConfig{};
  c.policy.activation = "gelu";
  CHECK_THROWS_WITH(validate_config(c), Catch::Contains("activation"));
}
