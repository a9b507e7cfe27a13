// tests/runtime/test_evaluator.cpp — the CPU evaluator against a double-precision reference.
#include <catch2/catch.hpp>

#include "runtime/evaluator.h"
#include "tests/runtime/runtime_test_util.h"

using namespace stampede;

namespace {

std::vector<float> random_obs(int n, std::mt19937& rng, float spread) {
  std::uniform_real_distribution<float> u(-spread, spread);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

}  // namespace

TEST_CASE("evaluator matches the reference MLP (normalizer + Gemm + activation)") {
  for (const char* act : {"Elu", "Tanh", "Relu"}) {
    const test::TestMlp p = test::random_mlp({20, 64, 32, 7}, 11, act);
    runtime::Evaluator ev(runtime::parse_onnx(test::mlp_model(p).serialize(), "mem"), "mem");
    REQUIRE(ev.input_dim() == 20);
    REQUIRE(ev.output_dim() == 7);
    std::mt19937 rng(5);
    for (int trial = 0; trial < 50; ++trial) {
      // spread 8: some inputs hit the +-5 normalizer clip
      const std::vector<float> obs = random_obs(20, rng, 8.0f);
      const std::vector<double> ref = test::reference_forward(p, obs);
      std::vector<float> out(7);
      ev.run(obs.data(), out.data());
      for (int k = 0; k < 7; ++k) {
        // float accumulation over <= 64 terms of magnitude ~1: a few ulp of the sums
        CHECK(out[k] == Approx(ref[k]).margin(2e-5).epsilon(1e-5));
      }
    }
  }
}

TEST_CASE("evaluator: a batch gives the same rows as one-by-one evaluation") {
  const test::TestMlp p = test::random_mlp({10, 16, 4}, 12);
  runtime::Evaluator ev(runtime::parse_onnx(test::mlp_model(p).serialize(), "mem"), "mem");
  std::mt19937 rng(6);
  const int batch = 9;
  std::vector<float> obs = random_obs(10 * batch, rng, 3.0f), out(4 * batch), one(4);
  ev.run_batch(obs.data(), out.data(), batch);
  for (int r = 0; r < batch; ++r) {
    ev.run(obs.data() + 10 * r, one.data());
    for (int k = 0; k < 4; ++k) CHECK(out[4 * r + k] == one[k]);  // same arithmetic, same order
  }
}

TEST_CASE("evaluator: NaN input propagates (the safety layer must see it)") {
  const test::TestMlp p = test::random_mlp({3, 4, 2}, 13);
  runtime::Evaluator ev(runtime::parse_onnx(test::mlp_model(p).serialize(), "mem"), "mem");
  std::vector<float> obs{0.1f, NAN, 0.2f}, out(2);
  ev.run(obs.data(), out.data());
  CHECK((std::isnan(out[0]) || std::isnan(out[1])));
}

TEST_CASE("evaluator refuses graphs it cannot run, naming the node") {
  test::TestModel m;
  m.in_width = 3;
  m.out_width = 3;
  SECTION("unsupported op") {
    m.nodes.push_back({"Softmax", {"obs"}, "actions", {}});
    REQUIRE_THROWS_WITH(runtime::Evaluator(runtime::parse_onnx(m.serialize(), "m.onnx"), "m.onnx"),
                        Catch::Contains("graph.node[0] (Softmax") && Catch::Contains("not supported"));
  }
  SECTION("shape mismatch") {
    m.initializers.push_back(test::tensor("w", {4, 3}, std::vector<float>(12, 0.5f)));
    m.nodes.push_back({"Gemm", {"obs", "w"}, "actions", {}});
    REQUIRE_THROWS_WITH(runtime::Evaluator(runtime::parse_onnx(m.serialize(), "m.onnx"), "m.onnx"),
                        Catch::Contains("expects 4 inputs"));
  }
  SECTION("input produced by nothing") {
    m.nodes.push_back({"Relu", {"nowhere"}, "actions", {}});
    REQUIRE_THROWS_WITH(runtime::Evaluator(runtime::parse_onnx(m.serialize(), "m.onnx"), "m.onnx"),
                        Catch::Contains("'nowhere'"));
  }
  SECTION("a required input left out") {
    m.nodes.push_back({"Add", {"obs", ""}, "actions", {}});
    REQUIRE_THROWS_WITH(runtime::Evaluator(runtime::parse_onnx(m.serialize(), "m.onnx"), "m.onnx"),
                        Catch::Contains("input 1 is missing"));
  }
  SECTION("an oversized input width") {
    m.in_width = int64_t{1} << 40;
    m.nodes.push_back({"Relu", {"obs"}, "actions", {}});
    REQUIRE_THROWS_AS(runtime::Evaluator(runtime::parse_onnx(m.serialize(), "m.onnx"), "m.onnx"), runtime::OnnxError);
  }
  SECTION("missing output") {
    m.nodes.push_back({"Relu", {"obs"}, "other", {}});
    REQUIRE_THROWS_WITH(runtime::Evaluator(runtime::parse_onnx(m.serialize(), "m.onnx"), "m.onnx"),
                        Catch::Contains("output 'actions'"));
  }
}

TEST_CASE("evaluator: MatMul + Add and Gemm alpha/beta/no-transpose") {
  test::TestModel m;
  m.in_width = 2;
  m.out_width = 3;
  // W (2, 3) without transpose: y = 2 * x W + 0.5 * c
  m.initializers.push_back(test::tensor("w", {2, 3}, {1, 2, 3, 4, 5, 6}));
  m.initializers.push_back(test::tensor("c", {3}, {1, 1, 1}));
  m.nodes.push_back({"Gemm", {"obs", "w", "c"}, "g", {test::attr_float("alpha", 2.0f), test::attr_float("beta", 0.5f)}});
  m.initializers.push_back(test::tensor("one", {}, {1.0f}));
  m.nodes.push_back({"MatMul", {"g", "eye"}, "mm", {}});
  m.initializers.push_back(test::tensor("eye", {3, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1}));
  m.nodes.push_back({"Add", {"one", "mm"}, "actions", {}});
  runtime::Evaluator ev(runtime::parse_onnx(m.serialize(), "mem"), "mem");
  const float x[2] = {1, -1};
  float y[3];
  ev.run(x, y);
  // x W = (1-4, 2-5, 3-6) = (-3, -3, -3); 2 * that + 0.5 = -5.5; + 1 = -4.5
  CHECK(y[0] == -4.5f);
  CHECK(y[1] == -4.5f);
  CHECK(y[2] == -4.5f);
}
