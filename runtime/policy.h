// runtime/policy.h — an exported policy as the runtime sees it: the ONNX graph (run by our own
// evaluator) and the robot contract from its metadata. check_contract refuses a policy trained
// for a different robot contract, naming every field that differs.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/evaluator.h"
#include "sim/robot/robot.h"

namespace stampede::runtime {

// the policy's contract differs from the robot's; fields() lists "field: policy vs robot" lines
class ContractMismatch : public std::runtime_error {
 public:
  ContractMismatch(const std::string& what, std::vector<std::string> fields)
      : std::runtime_error(what), fields_(std::move(fields)) {}
  const std::vector<std::string>& fields() const { return fields_; }

 private:
  std::vector<std::string> fields_;
};

class Policy {
 public:
  static Policy load(const std::string& path);                        // throws OnnxError
  static Policy from_bytes(const std::string& bytes, const std::string& source);

  const std::string& source() const { return source_; }
  const std::string& contract() const { return contract_; }            // canonical text
  const std::string& contract_hash() const { return contract_hash_; }  // as stated in metadata
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  double gait_period() const { return gait_period_; }                  // s; 0 when not stated
  int obs_dim() const { return evaluator_->input_dim(); }
  int act_dim() const { return evaluator_->output_dim(); }

  void act(const float* obs, float* action) { evaluator_->run(obs, action); }
  Evaluator& evaluator() { return *evaluator_; }

 private:
  std::string source_, contract_, contract_hash_;
  std::map<std::string, std::string> metadata_;
  double gait_period_ = 0;
  std::unique_ptr<Evaluator> evaluator_;
};

// throws ContractMismatch unless the policy's contract equals the robot's, field by field, its
// stated hash is the hash of its contract text, and its input/output sizes fit the robot
void check_contract(const Policy& policy, const robot::RobotSpec& spec);

}  // namespace stampede::runtime
