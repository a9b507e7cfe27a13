// fuzz/tools/make_policy_seeds.cpp — writes the seed corpus of the policy fuzz target:
//   make_policy_seeds <out dir>
// Small policies in the exporter's layout, with the humanoid's contract in their metadata (so
// mutations reach check_contract), and graphs using every op and encoding the evaluator reads.
#include <fstream>
#include <iostream>
#include <string>

#include "sim/robot/robot.h"
#include "sim/robot/sha256.h"
#include "tests/runtime/onnx_test_writer.h"

namespace {

using namespace stampede::test;

std::vector<float> ramp(std::size_t n, float step) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = step * static_cast<float>(static_cast<int>(i % 7) - 3);
  return v;
}

TestMlp mlp(int in, int hidden, int out, const std::string& activation) {
  TestMlp p;
  p.sizes = {in, hidden, out};
  p.weights = {ramp(static_cast<std::size_t>(hidden) * in, 0.01f), ramp(static_cast<std::size_t>(out) * hidden, 0.02f)};
  p.biases = {ramp(hidden, 0.1f), ramp(out, 0.1f)};
  p.mean = ramp(in, 0.5f);
  p.std_dev = std::vector<float>(in, 2.0f);
  p.activation = activation;
  return p;
}

void stamp(TestModel& m, const std::string& contract) {
  m.metadata["stampede.format"] = "stampede-policy-1";
  m.metadata["stampede.contract"] = contract;
  m.metadata["stampede.contract_hash"] = stampede::robot::sha256_hex(contract);
}

void write(const std::string& dir, const std::string& name, const TestModel& m) {
  std::ofstream(dir + "/" + name, std::ios::binary) << m.serialize();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_policy_seeds <out dir>\n";
    return 2;
  }
  const std::string dir = argv[1];
  const auto spec = stampede::robot::load_robot(std::string(STAMPEDE_ASSETS_DIR) + "/humanoid/robot.yaml");
  const std::string contract = stampede::robot::canonical_contract(spec);

  // the humanoid's policy, as exported (passes check_contract)
  TestModel elu = mlp_model(mlp(spec.obs_size(), 4, spec.num_joints(), "Elu"));
  stamp(elu, contract);
  write(dir, "humanoid_elu.onnx", elu);

  // another contract (one gain changed): refused by check_contract, naming the field
  auto other = spec;
  other.joints[0].kp += 1;
  TestModel mismatch = mlp_model(mlp(spec.obs_size(), 4, spec.num_joints(), "Relu"));
  stamp(mismatch, stampede::robot::canonical_contract(other));
  write(dir, "humanoid_other_contract.onnx", mismatch);

  // small graphs over the rest of the op set: MatMul + Add, Mul, Tanh, Identity, Clip (opset 10
  // attributes), raw_data weights; without stampede metadata (refused by Policy, run by Evaluator)
  TestModel small;
  small.opset = 10;
  small.in_width = 3;
  small.out_width = 2;
  small.initializers.push_back(tensor("w", {3, 2}, {0.5f, -1.0f, 0.25f, 2.0f, -0.75f, 1.0f}, true));
  small.initializers.push_back(tensor("b", {1, 2}, {0.1f, -0.2f}));
  small.initializers.push_back(tensor("k", {}, {3.0f}));
  small.nodes.push_back({"MatMul", {"obs", "w"}, "xw", {}});
  small.nodes.push_back({"Add", {"xw", "b"}, "xb", {}});
  small.nodes.push_back({"Mul", {"k", "xb"}, "xk", {}});
  small.nodes.push_back({"Tanh", {"xk"}, "t", {}});
  small.nodes.push_back({"Identity", {"t"}, "ti", {}});
  small.nodes.push_back({"Clip", {"ti"}, "actions", {attr_float("min", -0.5f), attr_float("max", 0.5f)}});
  write(dir, "small_ops_opset10.onnx", small);

  TestModel tiny = mlp_model(mlp(2, 3, 1, "Tanh"));
  stamp(tiny, contract);
  write(dir, "tiny_tanh.onnx", tiny);
  std::cout << "wrote 4 seeds to " << dir << "\n";
  return 0;
}
