// tests/runtime/test_export.cpp — rl/export's ONNX graph, read back by the runtime: the contract
// travels in the metadata, and the runtime's evaluator reproduces the ExportedPolicy's network.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>

#include <unistd.h>

#include "rl/export/policy_export.h"
#include "runtime/policy.h"
#include "sim/robot/robot.h"

using namespace stampede;

namespace {

robot::RobotSpec h1() { return robot::load_robot(std::string(STAMPEDE_ASSETS_DIR) + "/h1/robot.yaml"); }

// the ExportedPolicy's network in double precision, straight from its definition
std::vector<double> reference(const rl::ExportedPolicy& p, const std::vector<float>& obs) {
  std::vector<double> x(obs.size());
  for (std::size_t i = 0; i < obs.size(); ++i) {
    const double var = p.obs_var[i], eps = p.obs_eps;
    double v = (obs[i] - static_cast<double>(p.obs_mean[i])) / (p.obs_eps_on_std ? std::sqrt(var) + eps : std::sqrt(var + eps));
    if (p.obs_clip > 0) v = std::fmin(std::fmax(v, -p.obs_clip), p.obs_clip);
    x[i] = v;
  }
  for (std::size_t l = 0; l < p.weights.size(); ++l) {
    const int in = p.layer_sizes[l], out = p.layer_sizes[l + 1];
    std::vector<double> y(out);
    for (int o = 0; o < out; ++o) {
      double s = p.biases[l][o];
      for (int i = 0; i < in; ++i) s += static_cast<double>(p.weights[l][static_cast<std::size_t>(o) * in + i]) * x[i];
      if (l + 1 < p.weights.size()) {
        if (p.activation == "elu") s = s > 0 ? s : std::expm1(s);
        else if (p.activation == "tanh") s = std::tanh(s);
        else s = s > 0 ? s : 0;
      }
      y[o] = s;
    }
    x = y;
  }
  return x;
}

}  // namespace

TEST_CASE("export -> runtime: the evaluator reproduces the exported network (default 512-256-128)") {
  const robot::RobotSpec spec = h1();
  for (const char* act : {"elu", "tanh", "relu"}) {
    INFO(act);
    rl::ExportedPolicy p = rl::random_policy(spec, {512, 256, 128}, 42, act);
    // both normalizer conventions; the learner's (rl/normalizer.h) has eps on the std, no clip
    if (std::string(act) == "tanh") {
      p.obs_eps_on_std = true;
      p.obs_eps = 1e-2f;
      p.obs_clip = 0;
    }
    runtime::Policy policy = runtime::Policy::from_bytes(rl::export_policy_onnx_bytes(p), "h1.onnx");
    REQUIRE_NOTHROW(runtime::check_contract(policy, spec));
    REQUIRE(policy.obs_dim() == spec.obs_size());
    REQUIRE(policy.act_dim() == spec.num_joints());
    std::mt19937 rng(1);
    std::normal_distribution<float> n(0.0f, 2.0f);
    std::vector<float> obs(spec.obs_size()), act_out(spec.num_joints());
    for (int trial = 0; trial < 20; ++trial) {
      for (auto& v : obs) v = n(rng);
      policy.act(obs.data(), act_out.data());
      const std::vector<double> ref = reference(p, obs);
      for (int k = 0; k < spec.num_joints(); ++k) {
        // float sums over 512 terms of magnitude ~1 vs double: ~1e-6 relative
        CHECK(act_out[k] == Approx(ref[k]).margin(2e-5).epsilon(2e-5));
      }
    }
  }
}

TEST_CASE("export: metadata carries the contract, its hash, readable keys and provenance") {
  const robot::RobotSpec spec = h1();
  rl::ExportedPolicy p = rl::random_policy(spec, {64, 32}, 7);
  p.provenance["run"] = "runs/test";
  p.provenance["iteration"] = "1500";
  const runtime::OnnxModel m = runtime::parse_onnx(rl::export_policy_onnx_bytes(p), "mem");
  CHECK(m.opsets.at("") == rl::kExportOpset);
  CHECK(m.metadata.at("stampede.format") == "stampede-policy-1");
  CHECK(m.metadata.at("stampede.contract") == robot::canonical_contract(spec));
  CHECK(m.metadata.at("stampede.contract_hash") == robot::contract_hash(spec));
  CHECK(m.metadata.at("provenance.run") == "runs/test");
  CHECK(m.metadata.at("provenance.iteration") == "1500");
  std::string names, kp;
  for (const auto& j : spec.joints) {
    names += (names.empty() ? "" : ",") + j.name;
    std::ostringstream s;
    s << j.kp;
    kp += (kp.empty() ? "" : ",") + s.str();
  }
  CHECK(m.metadata.at("contract.joint_names") == names);
  CHECK(m.metadata.at("contract.kp") == kp);
  std::ostringstream period;
  period.precision(17);
  period << spec.control_period;
  CHECK(m.metadata.at("contract.control.period") == period.str());
  CHECK_THAT(m.metadata.at("contract.observation.layout"), Catch::StartsWith(spec.observation[0].term + " size=" + std::to_string(spec.observation[0].size)));
  CHECK(m.metadata.at("policy.layer_sizes") == std::to_string(spec.obs_size()) + ",64,32," + std::to_string(spec.num_joints()));
  CHECK(m.metadata.at("task.gait_period") == "0.80000000000000004");
  // graph: obs -> Sub -> Mul -> Clip -> Gemm, Elu, Gemm, Elu, Gemm -> actions
  std::vector<std::string> ops;
  for (const auto& n : m.nodes) ops.push_back(n.op_type);
  CHECK(ops == std::vector<std::string>{"Sub", "Mul", "Clip", "Gemm", "Elu", "Gemm", "Elu", "Gemm"});
}

TEST_CASE("export refuses inconsistent policies, naming the field") {
  const robot::RobotSpec spec = h1();
  const rl::ExportedPolicy good = rl::random_policy(spec, {16}, 3);
  rl::ExportedPolicy p = good;
  SECTION("weights of the wrong size") {
    p.weights[1].pop_back();
    REQUIRE_THROWS_WITH(rl::export_policy_onnx_bytes(p), Catch::Contains("weights[1]"));
  }
  SECTION("a non-finite weight") {
    p.weights[0][5] = NAN;
    REQUIRE_THROWS_WITH(rl::export_policy_onnx_bytes(p), Catch::Contains("weights[0][5]"));
  }
  SECTION("the hash is not the contract's") {
    p.contract_hash = robot::contract_hash(spec).replace(0, 1, "x");
    REQUIRE_THROWS_WITH(rl::export_policy_onnx_bytes(p), Catch::Contains("contract_hash"));
  }
  SECTION("network sizes disagree with the contract") {
    const robot::RobotSpec other = robot::parse_robot("name: x\nmjcf: x.xml\njoints:\n  - {name: a, default: 0, kp: 1, kd: 0, torque_limit: 1}\n"
                                                      "action: {scale: 1, clip: 1}\ncontrol: {period: 0.02, decimation: 4}\n"
                                                      "observation:\n  - {term: joint_pos}\nframes: {base: b, imu: i, feet: [f]}\n",
                                                      "x.yaml");
    p.contract_canonical = robot::canonical_contract(other);
    p.contract_hash = robot::contract_hash(other);
    REQUIRE_THROWS_WITH(rl::export_policy_onnx_bytes(p), Catch::Contains("layer_sizes[0]") && Catch::Contains("observation.size"));
  }
  SECTION("no gait period although the layout has gait_phase") {
    p.gait_period = 0;
    REQUIRE_THROWS_WITH(rl::export_policy_onnx_bytes(p), Catch::Contains("gait_period"));
  }
  SECTION("unknown activation") {
    p.activation = "gelu";
    REQUIRE_THROWS_WITH(rl::export_policy_onnx_bytes(p), Catch::Contains("activation"));
  }
}

TEST_CASE("export writes the file atomically and the runtime loads it") {
  namespace fs = std::filesystem;
  const robot::RobotSpec spec = h1();
  const fs::path dir = fs::temp_directory_path() / ("stampede_export_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "policy.onnx").string();
  rl::export_policy_onnx(rl::random_policy(spec, {32}, 5), path);
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  CHECK(files == 1);  // no temporary left behind
  runtime::Policy policy = runtime::Policy::load(path);
  CHECK_NOTHROW(runtime::check_contract(policy, spec));
  REQUIRE_THROWS_AS(rl::export_policy_onnx(rl::random_policy(spec, {32}, 5), (dir / "missing" / "p.onnx").string()), rl::ExportError);
  fs::remove_all(dir);
}
