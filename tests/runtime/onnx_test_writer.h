// tests/runtime/onnx_test_writer.h — a minimal protobuf wire-format writer for ONNX models, so the
// runtime core's tests can build policies without libonnx/protobuf (they also run cross-compiled
// under qemu). Independent of rl/export on purpose: it exercises encodings the exporter does not
// use (float_data instead of raw_data, unpacked repeated fields, Constant nodes).
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace stampede::test {

class Pb {
 public:
  Pb& varint(int field, uint64_t v) { key(field, 0); put_varint(v); return *this; }
  Pb& bytes(int field, const std::string& s) { key(field, 2); put_varint(s.size()); out_ += s; return *this; }
  Pb& msg(int field, const Pb& m) { return bytes(field, m.str()); }
  Pb& f32(int field, float f) { key(field, 5); put_fixed32(f); return *this; }
  Pb& packed_f32(int field, const std::vector<float>& v) {
    std::string s;
    for (float f : v) { uint32_t b; std::memcpy(&b, &f, 4); for (int k = 0; k < 4; ++k) s += static_cast<char>(b >> (8 * k)); }
    return bytes(field, s);
  }
  const std::string& str() const { return out_; }

 private:
  void key(int field, int wire) { put_varint((static_cast<uint64_t>(field) << 3) | wire); }
  void put_varint(uint64_t v) { while (v >= 0x80) { out_ += static_cast<char>((v & 0x7f) | 0x80); v >>= 7; } out_ += static_cast<char>(v); }
  void put_fixed32(float f) { uint32_t b; std::memcpy(&b, &f, 4); for (int k = 0; k < 4; ++k) out_ += static_cast<char>(b >> (8 * k)); }
  std::string out_;
};

// TensorProto (float) with dims unpacked and values as packed float_data (or raw_data)
inline Pb tensor(const std::string& name, const std::vector<int64_t>& dims, const std::vector<float>& v, bool raw = false) {
  Pb t;
  for (int64_t d : dims) t.varint(1, static_cast<uint64_t>(d));
  t.varint(2, 1);
  if (raw) {
    std::string s(v.size() * 4, '\0');
    std::memcpy(s.data(), v.data(), s.size());  // little-endian hosts (x86-64, aarch64)
    t.bytes(9, s);
  } else {
    t.packed_f32(4, v);
  }
  t.bytes(8, name);
  return t;
}

inline Pb value_info(const std::string& name, int64_t width) {
  Pb dim_batch, dim_w, shape, tensor_type, type, vi;
  dim_batch.bytes(2, "batch");
  dim_w.varint(1, static_cast<uint64_t>(width));
  shape.msg(1, dim_batch).msg(1, dim_w);
  tensor_type.varint(1, 1).msg(2, shape);
  type.msg(1, tensor_type);
  vi.bytes(1, name).msg(2, type);
  return vi;
}

struct TestNode {
  std::string op;
  std::vector<std::string> inputs;
  std::string output;
  std::vector<Pb> attributes;
};

inline Pb attr_int(const std::string& name, int64_t v) { Pb a; a.bytes(1, name).varint(20, 2).varint(3, static_cast<uint64_t>(v)); return a; }
inline Pb attr_float(const std::string& name, float v) { Pb a; a.bytes(1, name).varint(20, 1).f32(2, v); return a; }
inline Pb attr_tensor(const std::string& name, const Pb& t) { Pb a; a.bytes(1, name).varint(20, 4).msg(5, t); return a; }

struct TestModel {
  int opset = 17;
  std::vector<TestNode> nodes;
  std::vector<Pb> initializers;
  std::string input = "obs", output = "actions";
  int64_t in_width = 0, out_width = 0;
  std::map<std::string, std::string> metadata;

  std::string serialize() const {
    Pb graph;
    for (const auto& n : nodes) {
      Pb np;
      for (const auto& i : n.inputs) np.bytes(1, i);
      np.bytes(2, n.output).bytes(3, n.output).bytes(4, n.op);
      for (const auto& a : n.attributes) np.msg(5, a);
      graph.msg(1, np);
    }
    graph.bytes(2, "test");
    for (const auto& t : initializers) graph.msg(5, t);
    graph.msg(11, value_info(input, in_width)).msg(12, value_info(output, out_width));
    Pb model, opset_id;
    opset_id.bytes(1, "").varint(2, static_cast<uint64_t>(opset));
    model.varint(1, 8).bytes(2, "test_writer").msg(7, graph).msg(8, opset_id);
    for (const auto& [k, v] : metadata) { Pb e; e.bytes(1, k).bytes(2, v); model.msg(14, e); }
    return model.str();
  }
};

// an MLP in the exporter's layout: normalizer (Sub, Div, Clip) then Gemm(transB=1) layers with
// `activation` between them. weights[l] is (out, in) row-major.
struct TestMlp {
  std::vector<int> sizes;
  std::vector<std::vector<float>> weights, biases;
  std::vector<float> mean, std_dev;
  float clip = 5.0f;
  std::string activation = "Elu";
};

inline TestModel mlp_model(const TestMlp& p) {
  TestModel m;
  m.in_width = p.sizes.front();
  m.out_width = p.sizes.back();
  m.initializers.push_back(tensor("mean", {p.sizes[0]}, p.mean));
  m.initializers.push_back(tensor("std", {1, p.sizes[0]}, p.std_dev, true));
  m.nodes.push_back({"Sub", {"obs", "mean"}, "centered", {}});
  m.nodes.push_back({"Div", {"centered", "std"}, "scaled", {}});
  // clip bounds as Constant nodes (the exporter uses initializers)
  m.nodes.push_back({"Constant", {}, "lo", {attr_tensor("value", tensor("lo", {}, {-p.clip}))}});
  m.nodes.push_back({"Constant", {}, "hi", {attr_tensor("value", tensor("hi", {}, {p.clip}))}});
  m.nodes.push_back({"Clip", {"scaled", "lo", "hi"}, "x0", {}});
  std::string x = "x0";
  for (std::size_t l = 0; l + 1 < p.sizes.size(); ++l) {
    const std::string w = "w" + std::to_string(l), b = "b" + std::to_string(l);
    m.initializers.push_back(tensor(w, {p.sizes[l + 1], p.sizes[l]}, p.weights[l]));
    m.initializers.push_back(tensor(b, {p.sizes[l + 1]}, p.biases[l]));
    const bool last = l + 2 == p.sizes.size();
    const std::string y = last ? "actions" : "y" + std::to_string(l);
    m.nodes.push_back({"Gemm", {x, w, b}, y, {attr_int("transB", 1)}});
    if (last) break;
    const std::string h = "h" + std::to_string(l);
    std::vector<Pb> attrs;
    if (p.activation == "Elu") attrs.push_back(attr_float("alpha", 1.0f));
    m.nodes.push_back({p.activation, {y}, h, attrs});
    x = h;
  }
  return m;
}

}  // namespace stampede::test
