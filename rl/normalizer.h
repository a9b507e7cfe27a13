// rl/normalizer.h — running observation normalization (mean and variance with a sample count,
// merged batch by batch), as rsl_rl's EmpiricalNormalization: y = (x - mean) / (std + eps).
#pragma once

#include <cstdint>
#include <vector>

#include "rl/dist/communicator.h"

namespace stampede::rl {

// data-parallel: every rank's batch statistics (n samples, mean, population var) merged in rank
// order (Chan et al.) into those of the union of the batches; returns its size and leaves its
// mean and var in mean, var on every rank (collective)
double merge_batch_over_ranks(dist::Communicator& comm, double n, std::vector<double>& mean,
                              std::vector<double>& var);

class ObsNormalizer {
 public:
  ObsNormalizer() = default;
  explicit ObsNormalizer(int dim, double eps = 1e-2) : mean_(dim, 0.0), var_(dim, 1.0), eps_(eps) {}

  int dim() const { return static_cast<int>(mean_.size()); }
  // merge a batch x (n, dim) into the running statistics. With a communicator of several ranks
  // the batch is the union of every rank's x: each rank's (count, mean, M2) is gathered and
  // merged in rank order (Chan et al.), so every rank ends with the same statistics (collective)
  void update(const float* x, int n, dist::Communicator* comm = nullptr);
  // y (n, dim) = (x - mean) / (sqrt(var) + eps); y may alias x
  void normalize(const float* x, float* y, int n) const;

  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& var() const { return var_; }
  double count() const { return count_; }
  double eps() const { return eps_; }
  void set_state(std::vector<double> mean, std::vector<double> var, double count, double eps);

 private:
  std::vector<double> mean_;  // (dim) running mean
  std::vector<double> var_;   // (dim) running (population) variance
  double count_ = 0;          // samples merged so far
  double eps_ = 1e-2;         // added to the std
};

}  // namespace stampede::rl
