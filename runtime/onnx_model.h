// runtime/onnx_model.h — the part of an ONNX ModelProto the runtime needs, read straight from the
// protobuf wire format (no libprotobuf, no libonnx), so the runtime core cross-compiles for the
// robot's computer with nothing but the C++ standard library. Field numbers follow onnx.proto3.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace stampede::runtime {

// a malformed or unsupported ONNX file; the message names the file and the field
class OnnxError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// a constant tensor (initializer or Constant node value), converted to float
struct OnnxTensor {
  std::string name;
  std::vector<int64_t> dims;  // empty: a scalar
  std::vector<float> data;    // row-major, product(dims) values
};

struct OnnxAttribute {
  std::string name;
  int type = 0;                 // AttributeProto.AttributeType (1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, ...)
  float f = 0;
  int64_t i = 0;
  std::string s;
  OnnxTensor t;
  std::vector<float> floats;
  std::vector<int64_t> ints;
};

struct OnnxNode {
  std::string op_type;          // "Gemm", "Elu", ...
  std::string domain;           // "" for the default ONNX domain
  std::string name;
  std::vector<std::string> inputs, outputs;  // "" marks an omitted optional input
  std::vector<OnnxAttribute> attributes;
  const OnnxAttribute* attribute(const std::string& name) const;  // nullptr when absent
};

// a graph input or output: name, element type, shape (-1 for a symbolic dimension)
struct OnnxValueInfo {
  std::string name;
  int elem_type = 0;            // TensorProto.DataType (1 FLOAT)
  std::vector<int64_t> shape;
};

struct OnnxModel {
  int64_t ir_version = 0;
  std::map<std::string, int64_t> opsets;        // domain -> version ("" is ai.onnx)
  std::string producer_name;
  std::vector<OnnxNode> nodes;                  // topologically sorted, as the file stores them
  std::vector<OnnxTensor> initializers;
  std::vector<OnnxValueInfo> inputs, outputs;   // inputs include initializers some exporters list
  std::map<std::string, std::string> metadata;  // metadata_props
};

// parse a serialized ModelProto; `source` names it in error messages
OnnxModel parse_onnx(const std::string& bytes, const std::string& source);
OnnxModel load_onnx(const std::string& path);  // reads the file, then parse_onnx

}  // namespace stampede::runtime
