// rl/export/checkpoint_export.cpp — Checkpoint -> ExportedPolicy.
#include "rl/export/checkpoint_export.h"

#include "rl/config.h"

namespace stampede::rl {
namespace {

const ParamTensor& find_tensor(const Checkpoint& ck, const std::string& name, const std::string& source) {
  for (const auto& t : ck.learner.tensors) {
    if (t.name == name) return t;
  }
  throw ExportError(source + ": /model/" + name + " is missing; expected the actor's layers");
}

}  // namespace

ExportedPolicy exported_policy_from_checkpoint(const Checkpoint& ck, const robot::RobotSpec& spec,
                                               double gait_period, const std::string& source) {
  if (ck.contract_hash.empty()) {
    throw ExportError(source + ": task '" + ck.task + "' has no robot contract; only robot policies can be deployed");
  }
  if (robot::contract_hash(spec) != ck.contract_hash) {
    throw ExportError(source + ": trained with robot contract " + ck.contract_hash + ", but " + spec.path +
                      " has contract " + robot::contract_hash(spec) +
                      ": the robot description changed since training (the checkpoint stores only the hash, so "
                      "the differing field cannot be named)");
  }
  const PpoConfig cfg = config_from_yaml(ck.config_yaml, source + "@config");
  ExportedPolicy p;
  p.activation = cfg.policy.activation;
  p.layer_sizes.push_back(ck.obs_dim);
  for (int h : cfg.policy.actor_hidden) p.layer_sizes.push_back(h);
  p.layer_sizes.push_back(ck.act_dim);
  const std::vector<float>& params = ck.learner.params;
  for (std::size_t l = 0; l + 1 < p.layer_sizes.size(); ++l) {
    const std::string prefix = "actor." + std::to_string(2 * l);  // Linear, activation, Linear, ...
    const ParamTensor& w = find_tensor(ck, prefix + ".weight", source);
    const ParamTensor& b = find_tensor(ck, prefix + ".bias", source);
    if (w.shape != std::vector<int>{p.layer_sizes[l + 1], p.layer_sizes[l]} ||
        b.shape != std::vector<int>{p.layer_sizes[l + 1]}) {
      throw ExportError(source + ": " + prefix + " does not have the shape the config's actor_hidden implies");
    }
    if (w.offset + w.size() > params.size() || b.offset + b.size() > params.size()) {
      throw ExportError(source + ": " + prefix + " lies outside the parameter vector");
    }
    p.weights.emplace_back(params.begin() + static_cast<long>(w.offset), params.begin() + static_cast<long>(w.offset + w.size()));
    p.biases.emplace_back(params.begin() + static_cast<long>(b.offset), params.begin() + static_cast<long>(b.offset + b.size()));
  }
  if (cfg.algorithm.normalize_observations) {
    if (ck.learner.obs_mean.size() != static_cast<std::size_t>(ck.obs_dim) ||
        ck.learner.obs_var.size() != static_cast<std::size_t>(ck.obs_dim)) {
      throw ExportError(source + ": /normalizer/mean and /var must hold obs_dim (" + std::to_string(ck.obs_dim) + ") values");
    }
    p.obs_mean.assign(ck.learner.obs_mean.begin(), ck.learner.obs_mean.end());
    p.obs_var.assign(ck.learner.obs_var.begin(), ck.learner.obs_var.end());
    p.obs_eps = kLearnerObsEps;
  } else {
    p.obs_mean.assign(ck.obs_dim, 0.0f);
    p.obs_var.assign(ck.obs_dim, 1.0f);
    p.obs_eps = 0.0f;
  }
  p.obs_eps_on_std = true;
  p.obs_clip = 0;  // the learner's normalizer does not clip
  p.contract_canonical = robot::canonical_contract(spec);
  p.contract_hash = ck.contract_hash;
  if (spec.obs_offset("gait_phase") >= 0) p.gait_period = gait_period;
  p.provenance = {{"checkpoint", source},
                  {"task", ck.task},
                  {"iteration", std::to_string(ck.iteration)},
                  {"total_samples", std::to_string(ck.total_samples)},
                  {"seed", std::to_string(cfg.runner.seed)},
                  {"robot", spec.name}};
  validate_exported_policy(p);
  return p;
}

}  // namespace stampede::rl
