// runtime/onnx_model.cpp — a small protobuf wire-format reader for the ONNX ModelProto subset the
// runtime uses. Unknown fields are skipped, as protobuf does; what the evaluator would need but
// this reader cannot represent (external data, unsupported tensor types) fails with a message.
#include "runtime/onnx_model.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace stampede::runtime {
namespace {

// wire types
constexpr int kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5;

// TensorProto.DataType values we convert to float
constexpr int kFloat = 1, kInt32 = 6, kInt64 = 7, kDouble = 11;

// one length-delimited message being read; `path` names it for errors ("graph.node[3]")
class Reader {
 public:
  Reader(const char* begin, const char* end, const std::string& source, std::string path)
      : p_(begin), end_(end), source_(source), path_(std::move(path)) {}

  bool done() const { return p_ >= end_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw OnnxError(source_ + ": " + (path_.empty() ? "ModelProto" : path_) + ": " + what);
  }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) fail("truncated varint");
      const auto b = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("varint longer than 10 bytes");
  }

  // next field: returns false at the end of the message
  bool next(int& field, int& wire) {
    if (done()) return false;
    const uint64_t key = varint();
    field = static_cast<int>(key >> 3);
    wire = static_cast<int>(key & 7);
    if (field == 0) fail("field number 0");
    return true;
  }

  Reader sub(const std::string& child_path) {
    const uint64_t n = varint();
    if (n > static_cast<uint64_t>(end_ - p_)) fail("length-delimited field runs past the end of the message");
    Reader r(p_, p_ + n, source_, child_path);
    p_ += n;
    return r;
  }

  std::string bytes() {
    Reader r = sub(path_);
    return std::string(r.p_, r.end_);
  }

  uint32_t fixed32() {
    if (end_ - p_ < 4) fail("truncated fixed32");
    uint32_t v = 0;
    for (int b = 0; b < 4; ++b) v |= static_cast<uint32_t>(static_cast<uint8_t>(p_[b])) << (8 * b);
    p_ += 4;
    return v;
  }

  uint64_t fixed64() {
    const uint64_t lo = fixed32();
    const uint64_t hi = fixed32();
    return lo | (hi << 32);
  }

  float float32() {
    const uint32_t bits = fixed32();
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }

  void skip(int wire) {
    switch (wire) {
      case kVarint: varint(); break;
      case kFixed64: fixed64(); break;
      case kLen: sub(path_); break;
      case kFixed32: fixed32(); break;
      default: fail("unsupported wire type " + std::to_string(wire) + " (groups are not used by ONNX)");
    }
  }

  // repeated scalar fields may come packed (one length-delimited run) or one value per key
  void ints(int wire, std::vector<int64_t>& out) {
    if (wire == kLen) {
      Reader r = sub(path_);
      while (!r.done()) out.push_back(static_cast<int64_t>(r.varint()));
    } else {
      expect(wire, kVarint);
      out.push_back(static_cast<int64_t>(varint()));
    }
  }
  void floats(int wire, std::vector<float>& out) {
    if (wire == kLen) {
      Reader r = sub(path_);
      while (!r.done()) out.push_back(r.float32());
    } else {
      expect(wire, kFixed32);
      out.push_back(float32());
    }
  }
  void doubles(int wire, std::vector<double>& out) {
    auto one = [](Reader& r) {
      const uint64_t bits = r.fixed64();
      double d;
      std::memcpy(&d, &bits, 8);
      return d;
    };
    if (wire == kLen) {
      Reader r = sub(path_);
      while (!r.done()) out.push_back(one(r));
    } else {
      expect(wire, kFixed64);
      out.push_back(one(*this));
    }
  }

  void expect(int wire, int want) const {
    if (wire != want) fail("wire type " + std::to_string(wire) + " where " + std::to_string(want) + " was expected");
  }

  const std::string& path() const { return path_; }

 private:
  const char* p_;
  const char* end_;
  const std::string& source_;
  std::string path_;
};

std::string indexed(const std::string& path, const std::string& field, std::size_t i) {
  return (path.empty() ? "" : path + ".") + field + "[" + std::to_string(i) + "]";
}

// TensorProto -> float tensor
OnnxTensor read_tensor(Reader r) {
  OnnxTensor t;
  int data_type = 0, field, wire;
  std::string raw;
  std::vector<float> float_data;
  std::vector<int64_t> int_data;  // int32_data and int64_data
  std::vector<double> double_data;
  bool external = false;
  while (r.next(field, wire)) {
    switch (field) {
      case 1: r.ints(wire, t.dims); break;
      case 2: r.expect(wire, kVarint); data_type = static_cast<int>(r.varint()); break;
      case 4: r.floats(wire, float_data); break;
      case 5: case 7: r.ints(wire, int_data); break;
      case 8: r.expect(wire, kLen); t.name = r.bytes(); break;
      case 9: r.expect(wire, kLen); raw = r.bytes(); break;
      case 10: r.doubles(wire, double_data); break;
      case 13: external = true; r.skip(wire); break;
      case 14: r.expect(wire, kVarint); if (r.varint() == 1) external = true; break;
      default: r.skip(wire);
    }
  }
  const std::string who = "tensor '" + t.name + "'";
  if (external) r.fail(who + " stores its data externally; export the policy with embedded weights");
  // element count, bounded by what the file can hold (no overflow, no allocation bomb)
  const int64_t max_count = static_cast<int64_t>(raw.size() + 8 * (float_data.size() + int_data.size() + double_data.size()) + 1);
  int64_t count = 1;
  for (int64_t d : t.dims) {
    if (d < 0) r.fail(who + " has a negative dimension");
    if (d > 0 && count > max_count / d) r.fail(who + " has a shape larger than the data the file holds");
    count *= d;
  }
  if (!raw.empty()) {
    const std::size_t width = data_type == kFloat || data_type == kInt32 ? 4 : data_type == kInt64 || data_type == kDouble ? 8 : 0;
    if (width == 0) r.fail(who + " has data type " + std::to_string(data_type) + "; expected float, double, int32 or int64");
    if (raw.size() != static_cast<std::size_t>(count) * width) {
      r.fail(who + " raw_data holds " + std::to_string(raw.size()) + " bytes, expected " + std::to_string(count * width));
    }
    for (int64_t i = 0; i < count; ++i) {
      uint64_t bits = 0;
      for (std::size_t b = 0; b < width; ++b) bits |= static_cast<uint64_t>(static_cast<uint8_t>(raw[i * width + b])) << (8 * b);
      if (data_type == kFloat) {
        const auto u = static_cast<uint32_t>(bits);
        float f;
        std::memcpy(&f, &u, 4);
        t.data.push_back(f);
      } else if (data_type == kDouble) {
        double d;
        std::memcpy(&d, &bits, 8);
        t.data.push_back(static_cast<float>(d));
      } else if (data_type == kInt32) {
        t.data.push_back(static_cast<float>(static_cast<int32_t>(static_cast<uint32_t>(bits))));
      } else {
        t.data.push_back(static_cast<float>(static_cast<int64_t>(bits)));
      }
    }
  } else if (data_type == kFloat) {
    t.data = std::move(float_data);
  } else if (data_type == kDouble) {
    for (double d : double_data) t.data.push_back(static_cast<float>(d));
  } else if (data_type == kInt32 || data_type == kInt64) {
    for (int64_t v : int_data) t.data.push_back(static_cast<float>(v));
  } else {
    r.fail(who + " has data type " + std::to_string(data_type) + "; expected float, double, int32 or int64");
  }
  if (static_cast<int64_t>(t.data.size()) != count) {
    r.fail(who + " holds " + std::to_string(t.data.size()) + " values, its shape needs " + std::to_string(count));
  }
  return t;
}

OnnxAttribute read_attribute(Reader r) {
  OnnxAttribute a;
  int field, wire;
  while (r.next(field, wire)) {
    switch (field) {
      case 1: r.expect(wire, kLen); a.name = r.bytes(); break;
      case 20: r.expect(wire, kVarint); a.type = static_cast<int>(r.varint()); break;
      case 2: r.expect(wire, kFixed32); a.f = r.float32(); break;
      case 3: r.expect(wire, kVarint); a.i = static_cast<int64_t>(r.varint()); break;
      case 4: r.expect(wire, kLen); a.s = r.bytes(); break;
      case 5: r.expect(wire, kLen); a.t = read_tensor(r.sub(r.path() + ".t")); break;
      case 7: r.floats(wire, a.floats); break;
      case 8: r.ints(wire, a.ints); break;
      default: r.skip(wire);
    }
  }
  return a;
}

OnnxNode read_node(Reader r) {
  OnnxNode n;
  int field, wire;
  while (r.next(field, wire)) {
    switch (field) {
      case 1: r.expect(wire, kLen); n.inputs.push_back(r.bytes()); break;
      case 2: r.expect(wire, kLen); n.outputs.push_back(r.bytes()); break;
      case 3: r.expect(wire, kLen); n.name = r.bytes(); break;
      case 4: r.expect(wire, kLen); n.op_type = r.bytes(); break;
      case 5: r.expect(wire, kLen); n.attributes.push_back(read_attribute(r.sub(indexed(r.path(), "attribute", n.attributes.size())))); break;
      case 7: r.expect(wire, kLen); n.domain = r.bytes(); break;
      default: r.skip(wire);
    }
  }
  return n;
}

// TensorShapeProto.Dimension: dim_value (1) or dim_param (2)
int64_t read_dim(Reader r) {
  int64_t v = -1;
  int field, wire;
  while (r.next(field, wire)) {
    if (field == 1 && wire == kVarint) v = static_cast<int64_t>(r.varint());
    else r.skip(wire);
  }
  return v;
}

OnnxValueInfo read_value_info(Reader r) {
  OnnxValueInfo v;
  int field, wire;
  while (r.next(field, wire)) {
    if (field == 1 && wire == kLen) {
      v.name = r.bytes();
    } else if (field == 2 && wire == kLen) {  // TypeProto
      Reader type = r.sub(r.path() + ".type");
      while (type.next(field, wire)) {
        if (field != 1 || wire != kLen) { type.skip(wire); continue; }
        Reader tensor = type.sub(r.path() + ".type.tensor_type");
        while (tensor.next(field, wire)) {
          if (field == 1 && wire == kVarint) {
            v.elem_type = static_cast<int>(tensor.varint());
          } else if (field == 2 && wire == kLen) {
            Reader shape = tensor.sub(r.path() + ".type.tensor_type.shape");
            while (shape.next(field, wire)) {
              if (field == 1 && wire == kLen) v.shape.push_back(read_dim(shape.sub(shape.path() + ".dim")));
              else shape.skip(wire);
            }
          } else {
            tensor.skip(wire);
          }
        }
      }
    } else {
      r.skip(wire);
    }
  }
  return v;
}

void read_graph(Reader r, OnnxModel& m) {
  int field, wire;
  while (r.next(field, wire)) {
    switch (field) {
      case 1: r.expect(wire, kLen); m.nodes.push_back(read_node(r.sub(indexed("graph", "node", m.nodes.size())))); break;
      case 5: r.expect(wire, kLen); m.initializers.push_back(read_tensor(r.sub(indexed("graph", "initializer", m.initializers.size())))); break;
      case 11: r.expect(wire, kLen); m.inputs.push_back(read_value_info(r.sub(indexed("graph", "input", m.inputs.size())))); break;
      case 12: r.expect(wire, kLen); m.outputs.push_back(read_value_info(r.sub(indexed("graph", "output", m.outputs.size())))); break;
      case 15: r.fail("sparse initializers are not supported");
      default: r.skip(wire);
    }
  }
}

}  // namespace

const OnnxAttribute* OnnxNode::attribute(const std::string& attr_name) const {
  for (const auto& a : attributes) {
    if (a.name == attr_name) return &a;
  }
  return nullptr;
}

OnnxModel parse_onnx(const std::string& bytes, const std::string& source) {
  OnnxModel m;
  Reader r(bytes.data(), bytes.data() + bytes.size(), source, "");
  int field, wire;
  bool has_graph = false;
  while (r.next(field, wire)) {
    switch (field) {
      case 1: r.expect(wire, kVarint); m.ir_version = static_cast<int64_t>(r.varint()); break;
      case 2: r.expect(wire, kLen); m.producer_name = r.bytes(); break;
      case 7: r.expect(wire, kLen); read_graph(r.sub("graph"), m); has_graph = true; break;
      case 8: {  // OperatorSetIdProto
        r.expect(wire, kLen);
        Reader o = r.sub("opset_import");
        std::string domain;
        int64_t version = 0;
        while (o.next(field, wire)) {
          if (field == 1 && wire == kLen) domain = o.bytes();
          else if (field == 2 && wire == kVarint) version = static_cast<int64_t>(o.varint());
          else o.skip(wire);
        }
        m.opsets[domain == "ai.onnx" ? "" : domain] = version;
        break;
      }
      case 14: {  // StringStringEntryProto
        r.expect(wire, kLen);
        Reader e = r.sub("metadata_props");
        std::string key, value;
        while (e.next(field, wire)) {
          if (field == 1 && wire == kLen) key = e.bytes();
          else if (field == 2 && wire == kLen) value = e.bytes();
          else e.skip(wire);
        }
        m.metadata[key] = value;
        break;
      }
      default: r.skip(wire);
    }
  }
  if (!has_graph) r.fail("no graph (is this an ONNX model file?)");
  if (m.ir_version <= 0) r.fail("ir_version missing (is this an ONNX model file?)");
  return m;
}

OnnxModel load_onnx(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw OnnxError(path + ": cannot open policy file");
  std::ostringstream s;
  s << in.rdbuf();
  return parse_onnx(s.str(), path);
}

}  // namespace stampede::runtime
