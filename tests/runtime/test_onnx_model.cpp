// tests/runtime/test_onnx_model.cpp — the wire-format reader against hand-encoded models.
#include <catch2/catch.hpp>

#include "runtime/onnx_model.h"
#include "tests/runtime/runtime_test_util.h"

using namespace stampede;
using runtime::OnnxError;

TEST_CASE("onnx reader: graph, initializers, attributes and metadata round-trip") {
  const test::TestMlp p = test::random_mlp({4, 3, 2}, 1);
  test::TestModel m = test::mlp_model(p);
  m.metadata["k1"] = "v1";
  m.metadata["stampede.contract"] = "a=1\nb=2\n";
  const runtime::OnnxModel model = runtime::parse_onnx(m.serialize(), "mem");
  CHECK(model.ir_version == 8);
  CHECK(model.opsets.at("") == 17);
  CHECK(model.metadata.at("k1") == "v1");
  CHECK(model.metadata.at("stampede.contract") == "a=1\nb=2\n");
  REQUIRE(model.inputs.size() == 1);
  CHECK(model.inputs[0].name == "obs");
  CHECK(model.inputs[0].shape == std::vector<int64_t>{-1, 4});
  CHECK(model.outputs[0].shape == std::vector<int64_t>{-1, 2});
  // initializers: mean (packed float_data), std (raw_data), w0, b0, w1, b1
  REQUIRE(model.initializers.size() == 6);
  CHECK(model.initializers[0].name == "mean");
  CHECK(model.initializers[0].data == p.mean);
  CHECK(model.initializers[1].dims == std::vector<int64_t>{1, 4});
  CHECK(model.initializers[1].data == p.std_dev);
  CHECK(model.initializers[2].dims == std::vector<int64_t>{3, 4});
  CHECK(model.initializers[2].data == p.weights[0]);
  // nodes in order, with attributes
  REQUIRE(model.nodes.size() == 8);
  CHECK(model.nodes[0].op_type == "Sub");
  CHECK(model.nodes[0].inputs == std::vector<std::string>{"obs", "mean"});
  CHECK(model.nodes[2].op_type == "Constant");
  REQUIRE(model.nodes[2].attribute("value"));
  CHECK(model.nodes[2].attribute("value")->t.data == std::vector<float>{-5.0f});
  CHECK(model.nodes[2].attribute("value")->t.dims.empty());
  CHECK(model.nodes[5].attribute("transB")->i == 1);
  CHECK(model.nodes[6].attribute("alpha")->f == 1.0f);
  CHECK(model.nodes[5].attribute("transA") == nullptr);
}

TEST_CASE("onnx reader: malformed or unsupported files are refused with the field named") {
  const std::string good = test::mlp_model(test::random_mlp({4, 3, 2}, 2)).serialize();
  SECTION("truncated") {
    REQUIRE_THROWS_AS(runtime::parse_onnx(good.substr(0, good.size() / 2), "cut.onnx"), OnnxError);
    REQUIRE_THROWS_WITH(runtime::parse_onnx(good.substr(0, good.size() / 2), "cut.onnx"), Catch::Contains("cut.onnx"));
  }
  SECTION("not an ONNX model") {
    REQUIRE_THROWS_WITH(runtime::parse_onnx("hello world, not protobuf", "t.txt"), Catch::Contains("t.txt"));
    REQUIRE_THROWS_WITH(runtime::parse_onnx("", "empty.onnx"), Catch::Contains("no graph"));
  }
  SECTION("external tensor data") {
    test::TestModel m;
    m.in_width = 2;
    m.out_width = 2;
    test::Pb t = test::tensor("w", {2, 2}, {1, 2, 3, 4});
    test::Pb loc;
    loc.bytes(1, "location").bytes(2, "weights.bin");
    t.msg(13, loc).varint(14, 1);
    m.initializers.push_back(t);
    m.nodes.push_back({"MatMul", {"obs", "w"}, "actions", {}});
    REQUIRE_THROWS_WITH(runtime::parse_onnx(m.serialize(), "ext.onnx"), Catch::Contains("tensor 'w'") && Catch::Contains("externally"));
  }
  SECTION("tensor whose data does not fill its shape") {
    test::TestModel m;
    m.in_width = 2;
    m.out_width = 2;
    m.initializers.push_back(test::tensor("w", {2, 2}, {1, 2, 3}));
    m.nodes.push_back({"MatMul", {"obs", "w"}, "actions", {}});
    REQUIRE_THROWS_WITH(runtime::parse_onnx(m.serialize(), "short.onnx"), Catch::Contains("tensor 'w'") && Catch::Contains("shape needs 4"));
  }
}

TEST_CASE("onnx reader: unknown fields are skipped, as protobuf does") {
  test::TestModel m = test::mlp_model(test::random_mlp({3, 2}, 3));
  std::string bytes = m.serialize();
  test::Pb extra;
  extra.varint(99, 12345).f32(98, 1.5f).bytes(97, "future field");
  bytes += extra.str();
  const runtime::OnnxModel model = runtime::parse_onnx(bytes, "mem");
  CHECK(model.nodes.size() == 6);
}
