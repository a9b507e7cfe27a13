// runtime/policy.cpp — load an exported policy and compare its contract with the robot's.
#include "runtime/policy.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "sim/robot/sha256.h"

namespace stampede::runtime {
namespace {

// metadata keys written by rl/export/policy_export.h (kept in sync by tests/runtime)
constexpr const char* kMetaFormat = "stampede.format";
constexpr const char* kPolicyFormat = "stampede-policy-1";
constexpr const char* kMetaContract = "stampede.contract";
constexpr const char* kMetaContractHash = "stampede.contract_hash";
constexpr const char* kMetaGaitPeriod = "task.gait_period";

}  // namespace

Policy Policy::from_bytes(const std::string& bytes, const std::string& source) {
  const OnnxModel model = parse_onnx(bytes, source);
  Policy p;
  p.source_ = source;
  p.metadata_ = model.metadata;
  const auto format = model.metadata.find(kMetaFormat);
  if (format == model.metadata.end() || format->second != kPolicyFormat) {
    throw OnnxError(source + ": metadata_props: '" + kMetaFormat + "' is " +
                    (format == model.metadata.end() ? "missing" : "'" + format->second + "'") + ", expected '" +
                    kPolicyFormat + "' (export the policy with `stampede export`)");
  }
  const auto contract = model.metadata.find(kMetaContract);
  const auto hash = model.metadata.find(kMetaContractHash);
  if (contract == model.metadata.end() || contract->second.empty()) {
    throw OnnxError(source + ": metadata_props: '" + kMetaContract + "' is missing: the policy carries no robot contract");
  }
  if (hash == model.metadata.end()) throw OnnxError(source + ": metadata_props: '" + kMetaContractHash + "' is missing");
  p.contract_ = contract->second;
  p.contract_hash_ = hash->second;
  const auto gait = model.metadata.find(kMetaGaitPeriod);
  if (gait != model.metadata.end()) {
    char* end = nullptr;
    p.gait_period_ = std::strtod(gait->second.c_str(), &end);
    if (end == gait->second.c_str() || *end != '\0' || !(p.gait_period_ > 0)) {
      throw OnnxError(source + ": metadata_props: '" + kMetaGaitPeriod + "' is '" + gait->second + "', expected seconds > 0");
    }
  }
  p.evaluator_ = std::make_unique<Evaluator>(model, source, "obs", "actions");
  return p;
}

Policy Policy::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw OnnxError(path + ": cannot open policy file");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return from_bytes(bytes.str(), path);
}

void check_contract(const Policy& policy, const robot::RobotSpec& spec) {
  const std::string who = "policy " + policy.source() + " vs robot " + spec.path;
  const std::string actual_hash = robot::sha256_hex(policy.contract());
  if (actual_hash != policy.contract_hash()) {
    throw ContractMismatch(who + ": the policy's stated contract hash " + policy.contract_hash() +
                               " is not the hash of its contract text (" + actual_hash + "): the file is corrupted",
                           {"stampede.contract_hash"});
  }
  const std::vector<std::string> diff = robot::contract_diff(policy.contract(), robot::canonical_contract(spec));
  if (!diff.empty()) {
    std::string msg = who + ": robot contract mismatch in " + std::to_string(diff.size()) +
                      " field(s) (policy vs robot):";
    for (const auto& d : diff) msg += "\n  " + d;
    throw ContractMismatch(msg, diff);
  }
  if (policy.obs_dim() != spec.obs_size() || policy.act_dim() != spec.num_joints()) {
    throw ContractMismatch(who + ": the graph maps " + std::to_string(policy.obs_dim()) + " observations to " +
                               std::to_string(policy.act_dim()) + " actions; the robot needs " +
                               std::to_string(spec.obs_size()) + " -> " + std::to_string(spec.num_joints()),
                           {"graph.input/output"});
  }
}

}  // namespace stampede::runtime
