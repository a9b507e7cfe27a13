// rl/gaussian.h — the diagonal Gaussian policy head with a state-independent log-std:
// log-probability, entropy and KL, and their gradients, templated on the scalar.
//   mu: (batch, act_dim) actor output; log_std: (act_dim) learned parameter; sigma = exp(log_std)
#pragma once

#include "rl/mlp.h"

namespace stampede::rl {

constexpr double kHalfLog2Pi = 0.91893853320467274178;  // 0.5 * log(2 pi)

// log pi(a | s) = sum_j [ -0.5 ((a_j - mu_j) / sigma_j)^2 - log sigma_j - 0.5 log(2 pi) ]   (batch)
template <class S>
VecX<S> gaussian_log_prob(const MatR<S>& mu, const VecX<S>& log_std, const MatR<S>& actions) {
  const RowVecX<S> inv_sigma = (-log_std.array()).exp().matrix().transpose();
  const MatR<S> z = (actions - mu).array().rowwise() * inv_sigma.array();
  const S norm = log_std.sum() + S(kHalfLog2Pi) * S(log_std.size());
  return (S(-0.5) * z.array().square().rowwise().sum() - norm).matrix();
}

// given dL/dlogp (batch): dL/dmu (batch, act_dim) and dL/dlog_std (act_dim, accumulated)
//   dlogp/dmu_j      = (a_j - mu_j) / sigma_j^2
//   dlogp/dlog_std_j = ((a_j - mu_j) / sigma_j)^2 - 1
template <class S>
void gaussian_log_prob_backward(const MatR<S>& mu, const VecX<S>& log_std, const MatR<S>& actions,
                                const VecX<S>& dlogp, MatR<S>& dmu, VecX<S>& dlog_std) {
  const RowVecX<S> inv_sigma = (-log_std.array()).exp().matrix().transpose();
  const MatR<S> z = (actions - mu).array().rowwise() * inv_sigma.array();
  dmu = (z.array().rowwise() * inv_sigma.array()).colwise() * dlogp.array();
  dlog_std += ((z.array().square() - S(1)).colwise() * dlogp.array()).colwise().sum().matrix().transpose();
}

// entropy of the diagonal Gaussian, the same for every state: sum_j (0.5 + 0.5 log(2 pi) + log sigma_j);
// d entropy / d log_std_j = 1
template <class S>
S gaussian_entropy(const VecX<S>& log_std) {
  return (log_std.array() + S(0.5 + kHalfLog2Pi)).sum();
}

// KL(old || new) per sample (batch), as rsl_rl's adaptive schedule measures it:
//   sum_j [ log(sigma_j / old_sigma_j) + (old_sigma_j^2 + (old_mu_j - mu_j)^2) / (2 sigma_j^2) - 0.5 ]
template <class S>
VecX<S> gaussian_kl(const MatR<S>& old_mu, const MatR<S>& old_sigma, const MatR<S>& mu,
                    const VecX<S>& log_std) {
  const RowVecX<S> sigma = log_std.array().exp().matrix().transpose();
  const RowVecX<S> inv_two_var = (S(0.5) / sigma.array().square()).matrix();
  const MatR<S> log_ratio = (-old_sigma.array().log()).rowwise() + log_std.transpose().array();
  const MatR<S> quad = (old_sigma.array().square() + (old_mu - mu).array().square()).rowwise() *
                       inv_two_var.array();
  return (log_ratio.array() + quad.array() - S(0.5)).rowwise().sum().matrix();
}

}  // namespace stampede::rl
