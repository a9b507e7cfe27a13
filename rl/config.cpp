// rl/config.cpp — PpoConfig <-> YAML, `--set` overrides and validation.
#include "rl/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace stampede::rl {
namespace {

// call f(section, key, field) for every field; one list serves parsing, overriding and writing
template <class Cfg, class F>
void visit_fields(Cfg& c, F&& f) {
  f("policy", "actor_hidden", c.policy.actor_hidden);
  f("policy", "critic_hidden", c.policy.critic_hidden);
  f("policy", "activation", c.policy.activation);
  f("policy", "init_noise_std", c.policy.init_noise_std);
  f("algorithm", "num_learning_epochs", c.algorithm.num_learning_epochs);
  f("algorithm", "num_mini_batches", c.algorithm.num_mini_batches);
  f("algorithm", "clip_param", c.algorithm.clip_param);
  f("algorithm", "gamma", c.algorithm.gamma);
  f("algorithm", "lam", c.algorithm.lam);
  f("algorithm", "value_loss_coef", c.algorithm.value_loss_coef);
  f("algorithm", "entropy_coef", c.algorithm.entropy_coef);
  f("algorithm", "learning_rate", c.algorithm.learning_rate);
  f("algorithm", "schedule", c.algorithm.schedule);
  f("algorithm", "desired_kl", c.algorithm.desired_kl);
  f("algorithm", "min_learning_rate", c.algorithm.min_learning_rate);
  f("algorithm", "max_learning_rate", c.algorithm.max_learning_rate);
  f("algorithm", "max_grad_norm", c.algorithm.max_grad_norm);
  f("algorithm", "use_clipped_value_loss", c.algorithm.use_clipped_value_loss);
  f("algorithm", "normalize_observations", c.algorithm.normalize_observations);
  f("algorithm", "adam_beta1", c.algorithm.adam_beta1);
  f("algorithm", "adam_beta2", c.algorithm.adam_beta2);
  f("algorithm", "adam_eps", c.algorithm.adam_eps);
  f("runner", "task", c.runner.task);
  f("runner", "num_envs", c.runner.num_envs);
  f("runner", "device", c.runner.device);
  f("runner", "seed", c.runner.seed);
  f("runner", "num_steps_per_env", c.runner.num_steps_per_env);
  f("runner", "max_iterations", c.runner.max_iterations);
  f("runner", "save_interval", c.runner.save_interval);
  f("runner", "log_interval", c.runner.log_interval);
  f("runner", "num_threads", c.runner.num_threads);
}

template <class T>
const char* type_name() {
  if constexpr (std::is_same_v<T, bool>) return "a boolean";
  else if constexpr (std::is_integral_v<T>) return "an integer";
  else if constexpr (std::is_floating_point_v<T>) return "a number";
  else if constexpr (std::is_same_v<T, std::string>) return "a string";
  else return "a list of integers";
}

template <class T>
void read_value(const YAML::Node& node, T& out, const std::string& where) {
  try {
    out = node.as<T>();
  } catch (const YAML::Exception&) {
    throw std::invalid_argument(where + ": expected " + type_name<T>() + ", got '" +
                                YAML::Dump(node) + "'");
  }
}

void apply_node(PpoConfig& cfg, const YAML::Node& root, const std::string& source) {
  if (!root || root.IsNull()) return;
  if (!root.IsMap()) throw std::invalid_argument(source + ": expected a mapping of sections");
  for (const auto& sec : root) {
    const std::string section = sec.first.as<std::string>();
    if (section != "policy" && section != "algorithm" && section != "runner")
      throw std::invalid_argument(source + ": unknown section '" + section +
                                  "' (expected policy, algorithm or runner)");
    if (!sec.second.IsMap()) throw std::invalid_argument(source + ": section '" + section + "' must be a mapping");
    for (const auto& kv : sec.second) {
      const std::string key = kv.first.as<std::string>();
      bool found = false;
      visit_fields(cfg, [&](const char* s, const char* k, auto& field) {
        if (section == s && key == k) {
          read_value(kv.second, field, source + ": " + section + "." + key);
          found = true;
        }
      });
      if (!found) throw std::invalid_argument(source + ": unknown key '" + section + "." + key + "'");
    }
  }
}

}  // namespace

PpoConfig config_from_yaml(const std::string& yaml_text, const std::string& source) {
  PpoConfig cfg;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument(source + ": not valid YAML: " + e.what());
  }
  apply_node(cfg, root, source);
  return cfg;
}

PpoConfig load_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read config file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return config_from_yaml(ss.str(), path);
}

void apply_override(PpoConfig& cfg, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw std::invalid_argument("--set '" + assignment + "': expected key=value");
  const std::string key = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);
  const auto dot = key.find('.');
  const std::string section = dot == std::string::npos ? "" : key.substr(0, dot);
  const std::string name = dot == std::string::npos ? key : key.substr(dot + 1);
  int matches = 0;
  std::string matched;
  visit_fields(cfg, [&](const char* s, const char* k, auto&) {
    if (name == k && (section.empty() || section == s)) {
      ++matches;
      matched = std::string(s) + "." + k;
    }
  });
  if (matches == 0) throw std::invalid_argument("--set: unknown key '" + key + "'");
  if (matches > 1) throw std::invalid_argument("--set: key '" + key + "' is ambiguous, name its section");
  YAML::Node node;
  try {
    node = YAML::Load(value);
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument("--set " + matched + ": value '" + value + "' is not valid YAML");
  }
  visit_fields(cfg, [&](const char* s, const char* k, auto& field) {
    if (matched == std::string(s) + "." + k) read_value(node, field, "--set " + matched);
  });
}

std::string config_to_yaml(const PpoConfig& cfg) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  std::string open;
  visit_fields(cfg, [&](const char* s, const char* k, const auto& field) {
    if (open != s) {
      if (!open.empty()) out << YAML::EndMap;
      out << YAML::Key << s << YAML::Value << YAML::BeginMap;
      open = s;
    }
    out << YAML::Key << k << YAML::Value;
    using T = std::decay_t<decltype(field)>;
    if constexpr (std::is_same_v<T, std::vector<int>>) {
      out << YAML::Flow << field;
    } else if constexpr (std::is_floating_point_v<T>) {
      // the shortest text that reads back to the same double (0.2, not 0.20000000000000001)
      char buf[64];
      const auto res = std::to_chars(buf, buf + sizeof(buf), field);
      out << std::string(buf, res.ptr);
    } else {
      out << field;
    }
  });
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

void validate_config(const PpoConfig& c) {
  auto bad = [](const std::string& what) { throw std::invalid_argument("config: " + what); };
  for (const auto* layers : {&c.policy.actor_hidden, &c.policy.critic_hidden})
    for (int w : *layers)
      if (w <= 0) bad("hidden layer widths must be positive");
  if (c.policy.activation != "elu" && c.policy.activation != "tanh" && c.policy.activation != "relu")
    bad("policy.activation must be elu, tanh or relu, got '" + c.policy.activation + "'");
  if (!(c.policy.init_noise_std > 0)) bad("policy.init_noise_std must be > 0");
  const auto& a = c.algorithm;
  if (a.num_learning_epochs < 1) bad("algorithm.num_learning_epochs must be >= 1");
  if (a.num_mini_batches < 1) bad("algorithm.num_mini_batches must be >= 1");
  if (!(a.gamma >= 0 && a.gamma <= 1)) bad("algorithm.gamma must be in [0, 1]");
  if (!(a.lam >= 0 && a.lam <= 1)) bad("algorithm.lam must be in [0, 1]");
  if (!(a.learning_rate > 0)) bad("algorithm.learning_rate must be > 0");
  if (a.schedule != "adaptive" && a.schedule != "fixed")
    bad("algorithm.schedule must be adaptive or fixed, got '" + a.schedule + "'");
  if (!(a.min_learning_rate > 0 && a.min_learning_rate <= a.max_learning_rate))
    bad("algorithm.min_learning_rate must be in (0, max_learning_rate]");
  const auto& r = c.runner;
  if (r.num_envs < 1) bad("runner.num_envs must be >= 1");
  if (r.device != "cpu" && r.device != "cuda") bad("runner.device must be cpu or cuda, got '" + r.device + "'");
  if (r.num_steps_per_env < 1) bad("runner.num_steps_per_env must be >= 1");
  if (r.num_envs * r.num_steps_per_env < a.num_mini_batches)
    bad("runner.num_envs * runner.num_steps_per_env must be >= algorithm.num_mini_batches");
  if (r.max_iterations < 0) bad("runner.max_iterations must be >= 0");
  if (r.save_interval < 1) bad("runner.save_interval must be >= 1");
  if (r.log_interval < 1) bad("runner.log_interval must be >= 1");
  if (r.num_threads < 0) bad("runner.num_threads must be >= 0");
}

}  // namespace stampede::rl
