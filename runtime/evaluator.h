// runtime/evaluator.h — a small CPU evaluator for the ONNX op set the exporter writes (Sub, Add,
// Mul, Div, Clip, Gemm, MatMul, Elu, Relu, Tanh, Identity, Constant) over 2-D activations
// [batch, width] and constant operands. The graph is compiled once into a list of steps with
// preallocated buffers: run() allocates nothing, so it can sit inside the control loop.
// A graph using anything else is refused at load, naming the node and what is unsupported.
#pragma once

#include <string>
#include <vector>

#include "runtime/onnx_model.h"

namespace stampede::runtime {

class Evaluator {
 public:
  // compiles `model` from graph input `input` to graph output `output`; throws OnnxError
  Evaluator(const OnnxModel& model, const std::string& source, const std::string& input = "obs",
            const std::string& output = "actions");

  int input_dim() const { return input_dim_; }
  int output_dim() const { return output_dim_; }

  // one observation -> one action; no allocation
  void run(const float* input, float* output);
  // `batch` rows; may allocate the first time a larger batch is seen
  void run_batch(const float* input, float* output, int batch);

 private:
  enum class Op { kAdd, kSub, kMul, kDiv, kClip, kLinear, kElu, kRelu, kTanh, kCopy };

  // a value: an activation [batch, width] (buffer reused per run) or a constant
  struct Value {
    std::string name;
    bool is_const = false;
    int width = 0;                 // activations: columns; constants: number of values
    std::vector<int64_t> dims;     // constants: their ONNX shape
    std::vector<float> data;       // constants: values; activations: batch x width buffer
  };

  // one compiled node; value indices into values_
  struct Step {
    Op op;
    int a = -1, b = -1;            // operands (b: constant or activation, or -1)
    int out = -1;
    bool const_first = false;      // binary op with the constant as the left operand
    float lo = 0, hi = 0;          // Clip bounds
    float alpha = 1;               // Elu alpha
    std::vector<float> weight;     // kLinear: alpha * W packed (in, out) row-major
    std::vector<float> bias;       // kLinear: beta * C broadcast to out (may be empty)
    std::string node;              // for messages
  };

  int value_index(const std::string& name) const;
  int add_value(Value v);
  void compile_node(const OnnxNode& n, int index, int opset);
  void ensure_batch(int batch);
  void exec(const Step& s, int batch);

  std::string source_;
  std::vector<Value> values_;
  std::vector<Step> steps_;
  int input_ = -1, output_ = -1;
  int input_dim_ = 0, output_dim_ = 0;
  int capacity_ = 0;               // rows every activation buffer holds
};

}  // namespace stampede::runtime
