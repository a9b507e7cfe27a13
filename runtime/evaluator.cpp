// runtime/evaluator.cpp — compile the exported graph into steps; run them over float buffers.
#include "runtime/evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace stampede::runtime {
namespace {

// widest activation or weight dimension the evaluator accepts (a policy is far smaller)
constexpr int64_t kMaxWidth = 1 << 20;

int64_t numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

float attr_f(const OnnxNode& n, const char* name, float fallback) {
  const OnnxAttribute* a = n.attribute(name);
  return a ? a->f : fallback;
}

int64_t attr_i(const OnnxNode& n, const char* name, int64_t fallback) {
  const OnnxAttribute* a = n.attribute(name);
  return a ? a->i : fallback;
}

}  // namespace

int Evaluator::value_index(const std::string& name) const {
  for (std::size_t i = 0; i < values_.size(); ++i) {
    if (values_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int Evaluator::add_value(Value v) {
  values_.push_back(std::move(v));
  return static_cast<int>(values_.size()) - 1;
}

Evaluator::Evaluator(const OnnxModel& model, const std::string& source, const std::string& input,
                     const std::string& output)
    : source_(source) {
  const auto opset_it = model.opsets.find("");
  if (opset_it == model.opsets.end()) throw OnnxError(source + ": opset_import: no default-domain (ai.onnx) opset");
  const int opset = static_cast<int>(opset_it->second);
  if (opset < 6) throw OnnxError(source + ": opset_import: ai.onnx opset " + std::to_string(opset) + " is older than the evaluator supports (>= 6)");

  for (const auto& t : model.initializers) {
    Value v;
    v.name = t.name;
    v.is_const = true;
    v.dims = t.dims;
    v.data = t.data;
    v.width = static_cast<int>(t.data.size());
    add_value(std::move(v));
  }
  // the graph input: [batch, width] float
  const OnnxValueInfo* in = nullptr;
  for (const auto& i : model.inputs) {
    if (i.name == input) in = &i;
  }
  if (!in) throw OnnxError(source + ": graph has no input named '" + input + "'");
  if (in->elem_type != 1) throw OnnxError(source + ": input '" + input + "' is not float");
  if (in->shape.size() != 2 || in->shape[1] <= 0 || in->shape[1] > kMaxWidth) {
    throw OnnxError(source + ": input '" + input + "' must have shape [batch, obs_dim] with a fixed obs_dim");
  }
  if (value_index(input) >= 0) throw OnnxError(source + ": input '" + input + "' is also an initializer");
  Value x;
  x.name = input;
  x.width = static_cast<int>(in->shape[1]);
  input_ = add_value(std::move(x));
  input_dim_ = values_[input_].width;

  for (std::size_t k = 0; k < model.nodes.size(); ++k) compile_node(model.nodes[k], static_cast<int>(k), opset);

  bool declared = false;
  for (const auto& o : model.outputs) declared = declared || o.name == output;
  if (!declared) throw OnnxError(source + ": graph has no output named '" + output + "'");
  output_ = value_index(output);
  if (output_ < 0 || values_[output_].is_const) throw OnnxError(source + ": output '" + output + "' is not computed from the input");
  output_dim_ = values_[output_].width;
  ensure_batch(1);
}

void Evaluator::compile_node(const OnnxNode& n, int index, int opset) {
  const std::string where = source_ + ": graph.node[" + std::to_string(index) + "] (" + n.op_type +
                            (n.name.empty() ? "" : " '" + n.name + "'") + ")";
  auto fail = [&](const std::string& what) -> void { throw OnnxError(where + ": " + what); };
  if (!n.domain.empty() && n.domain != "ai.onnx") fail("domain '" + n.domain + "' is not supported");
  if (n.outputs.size() != 1) fail("expected one output");
  if (value_index(n.outputs[0]) >= 0) fail("output '" + n.outputs[0] + "' is produced twice");
  auto operand = [&](std::size_t i) {
    if (i >= n.inputs.size() || n.inputs[i].empty()) return -1;
    const int v = value_index(n.inputs[i]);
    if (v < 0) fail("input '" + n.inputs[i] + "' is not produced by an earlier node, an initializer or the graph input");
    return v;
  };
  auto required = [&](std::size_t i) {
    const int v = operand(i);
    if (v < 0) fail("input " + std::to_string(i) + " is missing");
    return v;
  };
  auto activation_out = [&](int width) {
    Value v;
    v.name = n.outputs[0];
    v.width = width;
    return add_value(std::move(v));
  };

  Step s;
  s.node = where;
  const std::string& op = n.op_type;
  if (op == "Constant") {
    const OnnxAttribute* value = n.attribute("value");
    if (!value || value->type != 4) fail("only the tensor 'value' attribute is supported");
    Value v;
    v.name = n.outputs[0];
    v.is_const = true;
    v.dims = value->t.dims;
    v.data = value->t.data;
    // a TENSOR attribute that holds no data (or whose data disagrees with its dims) is refused:
    // executing it would read through an empty buffer
    int64_t declared = 1;
    for (int64_t d : v.dims) declared = (d < 0 || (d > 0 && declared > INT64_MAX / d)) ? -1 : declared * d;
    if (v.data.empty() || declared != static_cast<int64_t>(v.data.size()))
      fail("constant 'value' tensor holds " + std::to_string(v.data.size()) +
           " values, its dims declare " + (declared < 0 ? std::string("an invalid size") : std::to_string(declared)));
    v.width = static_cast<int>(v.data.size());
    add_value(std::move(v));
    return;
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    if (n.inputs.size() != 2) fail("expected two inputs");
    int a = required(0), b = required(1);
    s.op = op == "Add" ? Op::kAdd : op == "Sub" ? Op::kSub : op == "Mul" ? Op::kMul : Op::kDiv;
    if (values_[a].is_const && values_[b].is_const) fail("both operands are constants (fold them at export)");
    if (values_[a].is_const) {
      std::swap(a, b);
      s.const_first = true;
    }
    const Value& va = values_[a];
    const Value& vb = values_[b];
    if (vb.is_const) {
      // a constant broadcast along the batch: shape [], [1], [w] or [1, w]
      const int64_t w = numel(vb.dims);
      const bool row = vb.dims.empty() || (vb.dims.size() == 1) || (vb.dims.size() == 2 && vb.dims[0] == 1);
      if (!row || (w != 1 && w != va.width)) fail("constant operand '" + vb.name + "' does not broadcast to [batch, " + std::to_string(va.width) + "]");
    } else if (vb.width != va.width) {
      fail("operands have widths " + std::to_string(va.width) + " and " + std::to_string(vb.width));
    }
    s.a = a;
    s.b = b;
    s.out = activation_out(va.width);
  } else if (op == "Clip") {
    s.op = Op::kClip;
    s.a = required(0);
    if (values_[s.a].is_const) fail("input is a constant");
    s.lo = -INFINITY;
    s.hi = INFINITY;
    if (opset < 11) {
      s.lo = attr_f(n, "min", s.lo);
      s.hi = attr_f(n, "max", s.hi);
    } else {
      for (std::size_t i = 1; i <= 2; ++i) {
        const int v = operand(i);
        if (v < 0) continue;
        if (!values_[v].is_const || values_[v].data.size() != 1) fail("min/max must be constant scalars");
        (i == 1 ? s.lo : s.hi) = values_[v].data[0];
      }
    }
    s.out = activation_out(values_[s.a].width);
  } else if (op == "Gemm" || op == "MatMul") {
    s.op = Op::kLinear;
    s.a = required(0);
    const int w = operand(1);
    if (values_[s.a].is_const) fail("the left operand must be the activation");
    if (w < 0 || !values_[w].is_const || values_[w].dims.size() != 2) fail("the right operand must be a constant matrix");
    const bool trans_b = op == "Gemm" && attr_i(n, "transB", 0) != 0;
    if (op == "Gemm" && attr_i(n, "transA", 0) != 0) fail("transA=1 is not supported");
    const float alpha = op == "Gemm" ? attr_f(n, "alpha", 1.0f) : 1.0f;
    const float beta = op == "Gemm" ? attr_f(n, "beta", 1.0f) : 1.0f;
    const auto& wd = values_[w].dims;
    if (wd[0] <= 0 || wd[1] <= 0 || wd[0] > kMaxWidth || wd[1] > kMaxWidth) fail("weight '" + values_[w].name + "' has an empty or oversized dimension");
    const int in = static_cast<int>(trans_b ? wd[1] : wd[0]);
    const int out = static_cast<int>(trans_b ? wd[0] : wd[1]);
    if (in != values_[s.a].width) fail("weight '" + values_[w].name + "' expects " + std::to_string(in) + " inputs, the activation has " + std::to_string(values_[s.a].width));
    // pack alpha * W as (in, out): the inner loop then runs over contiguous outputs
    const std::vector<float>& src = values_[w].data;
    s.weight.resize(static_cast<std::size_t>(in) * out);
    for (int i = 0; i < in; ++i) {
      for (int o = 0; o < out; ++o) {
        s.weight[static_cast<std::size_t>(i) * out + o] = alpha * (trans_b ? src[static_cast<std::size_t>(o) * in + i] : src[static_cast<std::size_t>(i) * out + o]);
      }
    }
    const int c = op == "Gemm" ? operand(2) : -1;
    if (c >= 0) {
      const Value& vc = values_[c];
      const bool row = vc.dims.size() <= 1 || (vc.dims.size() == 2 && vc.dims[0] == 1);
      if (!vc.is_const || !row || (vc.data.size() != 1 && static_cast<int>(vc.data.size()) != out)) {
        fail("bias '" + vc.name + "' must be a constant broadcastable to [" + std::to_string(out) + "]");
      }
      s.bias.resize(out);
      for (int o = 0; o < out; ++o) s.bias[o] = beta * vc.data[vc.data.size() == 1 ? 0 : o];
    }
    s.out = activation_out(out);
  } else if (op == "Elu" || op == "Relu" || op == "Tanh" || op == "Identity") {
    s.op = op == "Elu" ? Op::kElu : op == "Relu" ? Op::kRelu : op == "Tanh" ? Op::kTanh : Op::kCopy;
    s.a = required(0);
    if (values_[s.a].is_const) fail("input is a constant");
    s.alpha = attr_f(n, "alpha", 1.0f);
    s.out = activation_out(values_[s.a].width);
  } else {
    fail("op '" + op + "' is not supported by the runtime's evaluator (supported: Sub, Add, Mul, Div, Clip, Gemm, MatMul, Elu, Relu, Tanh, Identity, Constant)");
  }
  steps_.push_back(std::move(s));
}

void Evaluator::ensure_batch(int batch) {
  if (batch <= capacity_) return;
  for (auto& v : values_) {
    if (!v.is_const) v.data.assign(static_cast<std::size_t>(batch) * v.width, 0.0f);
  }
  capacity_ = batch;
}

void Evaluator::exec(const Step& s, int batch) {
  const Value& va = values_[s.a];
  Value& vo = values_[s.out];
  const int w = vo.width;
  const float* x = va.data.data();
  float* y = vo.data.data();
  switch (s.op) {
    case Op::kAdd: case Op::kSub: case Op::kMul: case Op::kDiv: {
      const Value& vb = values_[s.b];
      const float* z = vb.data.data();
      // constants broadcast over rows (and over columns when scalar); activations match rows
      const std::size_t row_stride = vb.is_const ? 0 : static_cast<std::size_t>(w);
      const bool scalar = vb.is_const && vb.data.size() == 1;
      for (int r = 0; r < batch; ++r) {
        const float* xr = x + static_cast<std::size_t>(r) * w;
        const float* zr = z + r * row_stride;
        float* yr = y + static_cast<std::size_t>(r) * w;
        for (int k = 0; k < w; ++k) {
          float p = xr[k], q = zr[scalar ? 0 : k];
          if (s.const_first) std::swap(p, q);
          yr[k] = s.op == Op::kAdd ? p + q : s.op == Op::kSub ? p - q : s.op == Op::kMul ? p * q : p / q;
        }
      }
      break;
    }
    case Op::kClip:
      for (std::size_t k = 0; k < static_cast<std::size_t>(batch) * w; ++k) {
        // NaN passes through, as in ONNX; the runtime's safety layer catches it
        y[k] = x[k] < s.lo ? s.lo : x[k] > s.hi ? s.hi : x[k];
      }
      break;
    case Op::kLinear: {
      const int in = va.width;
      for (int r = 0; r < batch; ++r) {
        const float* xr = x + static_cast<std::size_t>(r) * in;
        float* yr = y + static_cast<std::size_t>(r) * w;
        if (s.bias.empty()) std::fill(yr, yr + w, 0.0f);
        else std::copy(s.bias.begin(), s.bias.end(), yr);
        for (int i = 0; i < in; ++i) {
          const float xi = xr[i];
          const float* wi = s.weight.data() + static_cast<std::size_t>(i) * w;
          for (int o = 0; o < w; ++o) yr[o] += xi * wi[o];
        }
      }
      break;
    }
    case Op::kElu:
      for (std::size_t k = 0; k < static_cast<std::size_t>(batch) * w; ++k) y[k] = x[k] > 0 ? x[k] : s.alpha * (std::exp(x[k]) - 1.0f);
      break;
    case Op::kRelu:
      for (std::size_t k = 0; k < static_cast<std::size_t>(batch) * w; ++k) y[k] = x[k] > 0 ? x[k] : 0.0f;
      break;
    case Op::kTanh:
      for (std::size_t k = 0; k < static_cast<std::size_t>(batch) * w; ++k) y[k] = std::tanh(x[k]);
      break;
    case Op::kCopy:
      std::copy(x, x + static_cast<std::size_t>(batch) * w, y);
      break;
  }
}

void Evaluator::run(const float* input, float* output) { run_batch(input, output, 1); }

void Evaluator::run_batch(const float* input, float* output, int batch) {
  if (batch <= 0) return;
  ensure_batch(batch);
  std::copy(input, input + static_cast<std::size_t>(batch) * input_dim_, values_[input_].data.begin());
  for (const Step& s : steps_) exec(s, batch);
  const float* y = values_[output_].data.data();
  std::copy(y, y + static_cast<std::size_t>(batch) * output_dim_, output);
}

}  // namespace stampede::runtime
