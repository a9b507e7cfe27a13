// rl/config.h — everything a training run is made of, in one struct: the policy network, the PPO
// algorithm, and the runner (task, envs, iterations, logging). Loaded from YAML, overridden with
// `--set section.key=value` (or `--set key=value` when the key is unique), and written back out
// as the resolved config of a run. Defaults follow rsl_rl's legged-locomotion settings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stampede::rl {

struct PolicyConfig {
  std::vector<int> actor_hidden{512, 256, 128};   // hidden layer widths of the actor MLP
  std::vector<int> critic_hidden{512, 256, 128};  // hidden layer widths of the critic MLP
  std::string activation = "elu";                 // hidden activation: elu, tanh or relu
  double init_noise_std = 1.0;                    // initial action std (log-std parameter = log of it)
};

struct AlgorithmConfig {
  int num_learning_epochs = 5;          // passes over the rollout per update
  int num_mini_batches = 4;             // minibatches per pass
  double clip_param = 0.2;              // PPO ratio clip and value clip (epsilon)
  double gamma = 0.99;                  // discount
  double lam = 0.95;                    // GAE lambda
  double value_loss_coef = 1.0;         // weight of the value loss
  double entropy_coef = 0.01;           // weight of the entropy bonus
  double learning_rate = 1e-3;          // Adam step size (start value under the adaptive schedule)
  std::string schedule = "adaptive";    // adaptive (KL-driven learning rate) or fixed
  double desired_kl = 0.01;             // KL target of the adaptive schedule
  double min_learning_rate = 1e-5;      // adaptive schedule bounds
  double max_learning_rate = 1e-2;
  double max_grad_norm = 1.0;           // global gradient-norm clip
  bool use_clipped_value_loss = true;   // clip the value update like the policy ratio
  bool normalize_observations = true;   // running mean/var observation normalization
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
};

struct RunnerConfig {
  std::string task = "";                // task name in the registry (rl/tasks.h)
  int num_envs = 4096;                  // parallel worlds
  std::string device = "cpu";           // cpu or cuda
  uint64_t seed = 1;                    // seeds the learner (init, sampling, minibatches) and the env
  int num_steps_per_env = 24;           // rollout length per env per iteration
  int max_iterations = 1500;            // total iterations of the run (resume continues up to it)
  int save_interval = 50;               // checkpoint every this many iterations (also at exit)
  int log_interval = 10;                // without a TTY: one progress line per this many iterations
  int num_threads = 0;                  // learner threads (rows split over them); 0: all hardware threads
};

struct PpoConfig {
  PolicyConfig policy;
  AlgorithmConfig algorithm;
  RunnerConfig runner;
};

// YAML text -> config (missing keys keep their defaults). Unknown keys and ill-typed values
// throw std::invalid_argument naming `source` (a file name) and the key.
PpoConfig config_from_yaml(const std::string& yaml_text, const std::string& source = "<yaml>");
PpoConfig load_config(const std::string& path);
// apply one `key=value` override; key is `section.name` or a unique `name`; value is YAML
void apply_override(PpoConfig& cfg, const std::string& assignment);
// the resolved config as YAML (round-trips through config_from_yaml)
std::string config_to_yaml(const PpoConfig& cfg);
// throws std::invalid_argument when a value is out of range (e.g. zero minibatches)
void validate_config(const PpoConfig& cfg);

}  // namespace stampede::rl
