// rl/export/policy_export.h — the hand-off between a training checkpoint and the deployed policy,
// and the ONNX export of it. An ExportedPolicy holds exactly what the deployment runtime needs:
// the observation normalizer, the actor MLP (deterministic head = mean of the Gaussian), and the
// robot contract the policy was trained with. export_policy_onnx writes it as one ONNX graph
//   obs [batch, obs_dim] -> Sub(mean) -> Mul(1/std) -> Clip(+-obs_clip) -> (Gemm -> act)* -> Gemm
//   -> actions [batch, act_dim]
// with the contract (canonical text + readable keys), its hash and the provenance in
// metadata_props. Depends on sim/robot and libonnx (protobuf), never on the learner.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace stampede::robot {
struct RobotSpec;
}

namespace stampede::rl {

// what a checkpoint holds that the deployed policy needs
struct ExportedPolicy {
  std::vector<float> obs_mean, obs_var;            // normalizer statistics (obs_dim each)
  float obs_eps = 1e-8f;                           // obs_n = (obs - mean) / sqrt(var + eps), or
  bool obs_eps_on_std = false;                     //   (obs - mean) / (sqrt(var) + eps) when true
                                                   //   (rsl_rl EmpiricalNormalization, rl/normalizer.h)
  float obs_clip = 0;                              // |obs_n| clip (<= 0: none)
  std::vector<int> layer_sizes;                    // {obs_dim, h1, ..., act_dim}
  std::vector<std::vector<float>> weights;         // per layer, row-major (out, in)
  std::vector<std::vector<float>> biases;          // per layer (out)
  std::string activation = "elu";                  // hidden activation: elu, tanh or relu
  std::string contract_canonical, contract_hash;   // robot::canonical_contract / contract_hash
  std::map<std::string, std::string> provenance;   // run, iteration, git, date, seed, ...
  double gait_period = 0;                          // s, the task's gait clock behind the gait_phase
                                                   // term (phase = t / period mod 1); 0: none
};

// a policy that cannot be exported (sizes disagree, unknown activation, contract mismatch, ...):
// the message names the field and what was expected
class ExportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// metadata_props keys written by the exporter and read by the runtime (runtime/policy.h)
inline constexpr const char* kMetaContract = "stampede.contract";          // canonical text
inline constexpr const char* kMetaContractHash = "stampede.contract_hash";  // SHA-256 hex
inline constexpr const char* kMetaFormat = "stampede.format";              // kPolicyFormat
inline constexpr const char* kPolicyFormat = "stampede-policy-1";
inline constexpr const char* kMetaProvenancePrefix = "provenance.";       // + provenance key
inline constexpr const char* kMetaContractPrefix = "contract.";           // readable contract keys
inline constexpr const char* kMetaGaitPeriod = "task.gait_period";        // s, when gait_period > 0
inline constexpr int kExportOpset = 17;

// checks sizes, finiteness, activation and that contract_hash is the SHA-256 of
// contract_canonical and agrees with its observation size and joint count; throws ExportError
void validate_exported_policy(const ExportedPolicy& p);

// the serialized ONNX ModelProto (validated, and checked by onnx::checker::check_model)
std::string export_policy_onnx_bytes(const ExportedPolicy& p);

// writes the model to `path` atomically: a temporary file beside it, fsync, rename
void export_policy_onnx(const ExportedPolicy& p, const std::string& path);

// a policy for `spec` with random weights (Xavier-uniform), random normalizer statistics and
// the spec's contract: for tests and for smoke-testing the deployment pipeline, never for a robot
ExportedPolicy random_policy(const robot::RobotSpec& spec, const std::vector<int>& hidden,
                             std::uint64_t seed, const std::string& activation = "elu");

}  // namespace stampede::rl
