// rl/normalizer.cpp
#include "rl/normalizer.h"

#include <cmath>
#include <stdexcept>

namespace stampede::rl {

void ObsNormalizer::update(const float* x, int n) {
  if (n <= 0) return;
  const int d = dim();
  std::vector<double> bmean(d, 0.0), bvar(d, 0.0);
  // batch mean and population variance
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) bmean[j] += x[static_cast<std::size_t>(i) * d + j];
  for (int j = 0; j < d; ++j) bmean[j] /= n;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) {
      const double e = x[static_cast<std::size_t>(i) * d + j] - bmean[j];
      bvar[j] += e * e;
    }
  // merge with the running statistics (Chan et al.): weights count/total and n/total
  const double total = count_ + n;
  const double wb = n / total;
  for (int j = 0; j < d; ++j) {
    bvar[j] /= n;
    const double delta = bmean[j] - mean_[j];
    mean_[j] += delta * wb;
    var_[j] = count_ == 0 ? bvar[j]
                          : (var_[j] * count_ + bvar[j] * n + delta * delta * count_ * wb) / total;
  }
  count_ = total;
}

void ObsNormalizer::normalize(const float* x, float* y, int n) const {
  const int d = dim();
  std::vector<float> m(d), s(d);
  for (int j = 0; j < d; ++j) {
    m[j] = static_cast<float>(mean_[j]);
    s[j] = static_cast<float>(1.0 / (std::sqrt(var_[j]) + eps_));
  }
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) {
      const std::size_t k = static_cast<std::size_t>(i) * d + j;
      y[k] = (x[k] - m[j]) * s[j];
    }
}

void ObsNormalizer::set_state(std::vector<double> mean, std::vector<double> var, double count, double eps) {
  if (mean.size() != mean_.size() || var.size() != var_.size())
    throw std::invalid_argument("normalizer state: expected dimension " + std::to_string(dim()) +
                                ", got " + std::to_string(mean.size()));
  mean_ = std::move(mean);
  var_ = std::move(var);
  count_ = count;
  eps_ = eps;
}

}  // namespace stampede::rl
