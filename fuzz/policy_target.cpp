// fuzz/policy_target.cpp — (c) the runtime's policy loader and ONNX evaluator on arbitrary bytes.
//
// The bytes go through each layer a policy file meets on the robot: parse_onnx (wire format),
// Evaluator (graph compile, then run), Policy::from_bytes (metadata), check_contract (against
// the humanoid's robot.yaml). Refusals are OnnxError or ContractMismatch. What the evaluator
// accepts must run: one row, and a batch whose rows match the one-row result bit for bit.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz/fuzz_targets.h"
#include "runtime/evaluator.h"
#include "runtime/onnx_model.h"
#include "runtime/policy.h"
#include "sim/robot/robot.h"

namespace stampede::fuzz {
namespace {

const char* const kSource = "fuzz.onnx";

void expect(bool ok, const std::string& what) {
  if (!ok) throw FuzzInvariant("policy: " + what);
}

const robot::RobotSpec& humanoid() {
  static const robot::RobotSpec spec =
      robot::load_robot(std::string(STAMPEDE_ASSETS_DIR) + "/humanoid/robot.yaml");
  return spec;
}

bool same_bits(const float* a, const float* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return false;
  }
  return true;
}

// an observation row with ordinary and extreme values
void fill_row(float* row, int n, int r) {
  const float pattern[] = {0.0f, 1.0f, -0.5f, 3.0f, -1e3f, 0.25f, 1e-3f, -7.0f};
  for (int k = 0; k < n; ++k) row[k] = pattern[(k + 3 * r) % 8];
}

void run_evaluator(const runtime::OnnxModel& model) {
  runtime::Evaluator ev(model, kSource);
  const int in = ev.input_dim(), out = ev.output_dim();
  expect(in > 0 && out > 0, "an accepted graph has positive input and output widths");
  constexpr int kBatch = 3;
  std::vector<float> x(static_cast<std::size_t>(kBatch) * in), y(static_cast<std::size_t>(kBatch) * out);
  std::vector<float> one(static_cast<std::size_t>(kBatch) * out);
  for (int r = 0; r < kBatch; ++r) {
    fill_row(x.data() + static_cast<std::size_t>(r) * in, in, r);
    ev.run(x.data() + static_cast<std::size_t>(r) * in, one.data() + static_cast<std::size_t>(r) * out);
  }
  ev.run_batch(x.data(), y.data(), kBatch);
  expect(same_bits(y.data(), one.data(), y.size()), "run_batch rows equal run() on each row");
  std::vector<float> again(out);
  ev.run(x.data(), again.data());
  expect(same_bits(again.data(), one.data(), out), "run() after run_batch() gives the same row");
}

}  // namespace

int policy(const uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  runtime::OnnxModel model;
  try {
    model = runtime::parse_onnx(bytes, kSource);
  } catch (const runtime::OnnxError& e) {
    expect(std::string(e.what()).rfind(kSource, 0) == 0, "OnnxError names the file: " + std::string(e.what()));
    return 0;
  }
  try {
    run_evaluator(model);
  } catch (const runtime::OnnxError& e) {
    expect(std::string(e.what()).rfind(kSource, 0) == 0, "OnnxError names the file: " + std::string(e.what()));
  }
  try {
    runtime::Policy p = runtime::Policy::from_bytes(bytes, kSource);
    runtime::check_contract(p, humanoid());
    expect(p.obs_dim() == humanoid().obs_size() && p.act_dim() == humanoid().num_joints(),
           "check_contract passed a policy whose sizes do not fit the robot");
  } catch (const runtime::OnnxError&) {
  } catch (const runtime::ContractMismatch& e) {
    expect(!e.fields().empty(), "ContractMismatch names at least one field");
  }
  return 0;
}

}  // namespace stampede::fuzz
