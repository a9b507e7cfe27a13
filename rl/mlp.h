// rl/mlp.h — multilayer perceptrons over a flat parameter buffer, forward and hand-written
// backward, templated on the scalar (float for training, double for the finite-difference
// checks in tests/rl/test_gradients.cpp). A minibatch is a row-major (batch, features) matrix:
// every layer is one GEMM plus an elementwise activation, no per-sample loops.
//
// Parameters live in one flat array (weights row-major (out, in), then bias (out), per layer) so
// that the optimizer, gradient clipping, checkpoints and a device backend treat the whole model
// as one vector.
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "rl/gemm.h"

namespace stampede::rl {

template <class S>
using MatR = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class S>
using VecX = Eigen::Matrix<S, Eigen::Dynamic, 1>;
template <class S>
using RowVecX = Eigen::Matrix<S, 1, Eigen::Dynamic>;

enum class Activation { elu, tanh, relu };

inline Activation parse_activation(const std::string& name) {
  if (name == "elu") return Activation::elu;
  if (name == "tanh") return Activation::tanh;
  if (name == "relu") return Activation::relu;
  throw std::invalid_argument("unknown activation '" + name + "' (expected elu, tanh or relu)");
}

// y = act(x), elementwise (ELU with alpha = 1). ELU as max(x, 0) + (exp(min(x, 0)) - 1), the
// same values as the select of the definition: Eigen 3.4 does not vectorize select(), and its
// per-element libm expf was a tenth of a CPU training run
template <class S>
void activation_forward(Activation a, const MatR<S>& x, MatR<S>& y) {
  switch (a) {
    case Activation::elu: y = x.array().max(S(0)) + (x.array().min(S(0)).exp() - S(1)); break;
    case Activation::tanh: y = x.array().tanh(); break;
    case Activation::relu: y = x.array().max(S(0)); break;
  }
}

// grad *= act'(x), elementwise; y = act(x) is passed so ELU and tanh reuse it
template <class S>
void activation_backward(Activation a, const MatR<S>& x, const MatR<S>& y, MatR<S>& grad) {
  switch (a) {
    // ELU' = 1 for x > 0, exp(x) = y + 1 otherwise: min(y, 0) + 1 (y > 0 exactly where x > 0)
    case Activation::elu: grad.array() *= y.array().min(S(0)) + S(1); break;
    // tanh' = 1 - tanh^2
    case Activation::tanh: grad.array() *= S(1) - y.array().square(); break;
    // ReLU' = 1 for x > 0, else 0
    case Activation::relu: grad.array() *= (x.array() > S(0)).template cast<S>(); break;
  }
}

// one affine layer inside a flat parameter buffer: weight (out, in) row-major, then bias (out)
struct LinearLayout {
  int in = 0, out = 0;
  std::size_t weight_offset = 0;  // index of weight[0][0] in the flat buffer
  std::size_t bias_offset = 0;    // index of bias[0]
};

// y (batch, out) = x (batch, in) W^T + b
template <class S>
void linear_forward(const LinearLayout& l, const S* params, const MatR<S>& x, MatR<S>& y) {
  Eigen::Map<const MatR<S>> w(params + l.weight_offset, l.out, l.in);
  Eigen::Map<const RowVecX<S>> b(params + l.bias_offset, l.out);
  y.resize(x.rows(), l.out);
  if constexpr (std::is_same_v<S, float>) {
    gemm(false, true, static_cast<int>(x.rows()), l.out, l.in, 1.f, x.data(), l.in, w.data(), l.in, 0.f, y.data(),
         l.out);
  } else {
    y.noalias() = x * w.transpose();
  }
  y.rowwise() += b;
}

// dW += dy^T x, db += column sums of dy, and (if dx) dx = dy W
template <class S>
void linear_backward(const LinearLayout& l, const S* params, const MatR<S>& x, const MatR<S>& dy,
                     S* grads, MatR<S>* dx) {
  Eigen::Map<MatR<S>> dw(grads + l.weight_offset, l.out, l.in);
  Eigen::Map<RowVecX<S>> db(grads + l.bias_offset, l.out);
  const int batch = static_cast<int>(dy.rows());
  if constexpr (std::is_same_v<S, float>) {
    gemm(true, false, l.out, l.in, batch, 1.f, dy.data(), l.out, x.data(), l.in, 1.f, dw.data(), l.in);
  } else {
    dw.noalias() += dy.transpose() * x;
  }
  db += dy.colwise().sum();
  if (dx) {
    Eigen::Map<const MatR<S>> w(params + l.weight_offset, l.out, l.in);
    dx->resize(batch, l.in);
    if constexpr (std::is_same_v<S, float>) {
      gemm(false, false, batch, l.in, l.out, 1.f, dy.data(), l.out, w.data(), l.in, 0.f, dx->data(), l.in);
    } else {
      dx->noalias() = dy * w;
    }
  }
}

// activations of one forward pass, kept for the backward pass
template <class S>
struct MlpCache {
  std::vector<MatR<S>> pre;   // pre[l]: input of activation l (pre[0] unused)
  std::vector<MatR<S>> post;  // post[0]: the network input; post[l]: output of layer l
  const MatR<S>& output() const { return post.back(); }
};

// an MLP: sizes in -> hidden... -> out, activation after every layer but the last
class MlpLayout {
 public:
  MlpLayout() = default;
  // places the layers in a flat buffer starting at `offset`
  MlpLayout(int in, const std::vector<int>& hidden, int out, Activation act, std::size_t offset)
      : activation_(act), offset_(offset) {
    std::size_t at = offset;
    int prev = in;
    std::vector<int> widths = hidden;
    widths.push_back(out);
    for (int w : widths) {
      LinearLayout l{prev, w, at, at + static_cast<std::size_t>(prev) * w};
      at = l.bias_offset + w;
      layers_.push_back(l);
      prev = w;
    }
    end_ = at;
  }
  const std::vector<LinearLayout>& layers() const { return layers_; }
  Activation activation() const { return activation_; }
  int in() const { return layers_.front().in; }
  int out() const { return layers_.back().out; }
  std::size_t offset() const { return offset_; }  // first parameter
  std::size_t end() const { return end_; }        // one past the last parameter
  std::size_t num_params() const { return end_ - offset_; }

 private:
  std::vector<LinearLayout> layers_;
  Activation activation_ = Activation::elu;
  std::size_t offset_ = 0, end_ = 0;
};

// forward pass of x (batch, in); the output is cache.output() (batch, out)
template <class S>
void mlp_forward(const MlpLayout& m, const S* params, const MatR<S>& x, MlpCache<S>& cache) {
  const auto& layers = m.layers();
  const std::size_t n = layers.size();
  cache.pre.resize(n + 1);
  cache.post.resize(n + 1);
  cache.post[0] = x;
  for (std::size_t l = 0; l < n; ++l) {
    if (l + 1 < n) {
      linear_forward(layers[l], params, cache.post[l], cache.pre[l + 1]);
      activation_forward(m.activation(), cache.pre[l + 1], cache.post[l + 1]);
    } else {
      linear_forward(layers[l], params, cache.post[l], cache.post[l + 1]);
    }
  }
}

// backward pass: accumulates parameter gradients into grads (same layout as params) given
// dout = dLoss/doutput (batch, out); writes dLoss/dx into dx when asked
template <class S>
void mlp_backward(const MlpLayout& m, const S* params, const MlpCache<S>& cache, const MatR<S>& dout,
                  S* grads, MatR<S>* dx = nullptr) {
  const auto& layers = m.layers();
  MatR<S> dpre = dout, dpost;
  for (std::size_t l = layers.size(); l-- > 0;) {
    const bool need_dx = l > 0 || dx != nullptr;
    linear_backward(layers[l], params, cache.post[l], dpre, grads, need_dx ? &dpost : nullptr);
    if (l == 0) {
      if (dx) *dx = dpost;
      break;
    }
    activation_backward(m.activation(), cache.pre[l], cache.post[l], dpost);
    dpre.swap(dpost);
  }
}

}  // namespace stampede::rl
