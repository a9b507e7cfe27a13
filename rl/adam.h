// rl/adam.h — Adam over the flat parameter vector (PyTorch's update rule, bias-corrected), and
// global gradient-norm clipping.
#pragma once

#include <cstdint>
#include <vector>

namespace stampede::rl {

class Adam {
 public:
  Adam() = default;
  Adam(std::size_t n, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
      : m_(n, 0.f), v_(n, 0.f), lr_(lr), beta1_(beta1), beta2_(beta2), eps_(eps) {}

  // one step: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
  //           p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
  void step(float* params, const float* grads);

  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  int64_t step_count() const { return t_; }
  const std::vector<float>& exp_avg() const { return m_; }
  const std::vector<float>& exp_avg_sq() const { return v_; }
  void set_state(std::vector<float> m, std::vector<float> v, int64_t t, double lr);

 private:
  std::vector<float> m_, v_;  // first and second moment estimates, per parameter
  int64_t t_ = 0;             // steps taken
  double lr_ = 1e-3, beta1_ = 0.9, beta2_ = 0.999, eps_ = 1e-8;
};

// scales grads so their global L2 norm is at most max_norm (PyTorch's clip_grad_norm_);
// returns the norm before clipping
double clip_grad_norm(float* grads, std::size_t n, double max_norm);

}  // namespace stampede::rl
