// rl/normalizer.cpp
#include "rl/normalizer.h"

#include <cmath>
#include <stdexcept>

namespace stampede::rl {

double merge_batch_over_ranks(dist::Communicator& comm, double n, std::vector<double>& mean,
                              std::vector<double>& var) {
  // gather every rank's (n, mean, var) (a sum of slots that are zero but one's, which is exact)
  // and merge them in rank order into the batch of all ranks
  const int d = static_cast<int>(mean.size());
  const int K = comm.size(), stride = 1 + 2 * d;
  std::vector<double> slots(static_cast<std::size_t>(K) * stride, 0.0);
  double* mine = slots.data() + static_cast<std::size_t>(comm.rank()) * stride;
  mine[0] = n;
  for (int j = 0; j < d; ++j) {
    mine[1 + j] = mean[j];
    mine[1 + d + j] = var[j];
  }
  comm.allreduce_sum(slots.data(), slots.size());
  double bn = 0;
  for (int r = 0; r < K; ++r) {
    const double* s = slots.data() + static_cast<std::size_t>(r) * stride;
    if (s[0] <= 0) continue;
    const double total = bn + s[0], w = s[0] / total;
    for (int j = 0; j < d; ++j) {
      const double delta = s[1 + j] - mean[j];
      const double m = bn == 0 ? s[1 + j] : mean[j] + delta * w;
      var[j] = bn == 0 ? s[1 + d + j] : (var[j] * bn + s[1 + d + j] * s[0] + delta * delta * bn * w) / total;
      mean[j] = m;
    }
    bn = total;
  }
  return bn;
}

void ObsNormalizer::update(const float* x, int n, dist::Communicator* comm) {
  const int d = dim();
  std::vector<double> bmean(d, 0.0), bvar(d, 0.0);
  // batch mean and population variance
  if (n > 0) {
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < d; ++j) bmean[j] += x[static_cast<std::size_t>(i) * d + j];
    for (int j = 0; j < d; ++j) bmean[j] /= n;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < d; ++j) {
        const double e = x[static_cast<std::size_t>(i) * d + j] - bmean[j];
        bvar[j] += e * e;
      }
    for (int j = 0; j < d; ++j) bvar[j] /= n;
  }
  const double bn = dist::is_distributed(comm) ? merge_batch_over_ranks(*comm, n, bmean, bvar) : n;
  if (bn <= 0) return;
  // merge with the running statistics (Chan et al.): weights count/total and n/total
  const double total = count_ + bn;
  const double wb = bn / total;
  for (int j = 0; j < d; ++j) {
    const double delta = bmean[j] - mean_[j];
    mean_[j] += delta * wb;
    var_[j] = count_ == 0 ? bvar[j]
                          : (var_[j] * count_ + bvar[j] * bn + delta * delta * count_ * wb) / total;
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
