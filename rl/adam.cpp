// rl/adam.cpp
#include "rl/adam.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace stampede::rl {

void Adam::step(float* params, const float* grads) {
  ++t_;
  const float b1 = static_cast<float>(beta1_), b2 = static_cast<float>(beta2_);
  const double bc1 = 1.0 - std::pow(beta1_, static_cast<double>(t_));
  const double bc2 = 1.0 - std::pow(beta2_, static_cast<double>(t_));
  const float step_size = static_cast<float>(lr_ / bc1);
  const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
  const float eps = static_cast<float>(eps_);
  const std::size_t n = m_.size();
  for (std::size_t i = 0; i < n; ++i) {
    m_[i] = b1 * m_[i] + (1.f - b1) * grads[i];
    v_[i] = b2 * v_[i] + (1.f - b2) * grads[i] * grads[i];
    params[i] -= step_size * m_[i] / (std::sqrt(v_[i]) * inv_sqrt_bc2 + eps);
  }
}

void Adam::set_state(std::vector<float> m, std::vector<float> v, int64_t t, double lr) {
  if (m.size() != m_.size() || v.size() != v_.size())
    throw std::invalid_argument("Adam state: expected " + std::to_string(m_.size()) +
                                " parameters, got " + std::to_string(m.size()));
  m_ = std::move(m);
  v_ = std::move(v);
  t_ = t;
  lr_ = lr;
}

double clip_grad_norm(float* grads, std::size_t n, double max_norm) {
  double sq = 0;
  for (std::size_t i = 0; i < n; ++i) sq += static_cast<double>(grads[i]) * grads[i];
  const double norm = std::sqrt(sq);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1.0) {
    const float c = static_cast<float>(coef);
    for (std::size_t i = 0; i < n; ++i) grads[i] *= c;
  }
  return norm;
}

}  // namespace stampede::rl
