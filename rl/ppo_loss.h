// rl/ppo_loss.h — the PPO loss of one minibatch and its gradient with respect to the policy mean,
// the log-std and the value, templated on the scalar. Backprop into the networks is in
// rl/actor_critic.h.
//   loss = surrogate + value_loss_coef * value_loss - entropy_coef * entropy
#pragma once

#include <algorithm>

#include "rl/gaussian.h"

namespace stampede::rl {

// one minibatch of the rollout (rows are samples); obs are already normalized
template <class S>
struct PpoBatch {
  MatR<S> obs;           // (batch, obs_dim)
  MatR<S> actions;       // (batch, act_dim) sampled actions
  MatR<S> old_mu;        // (batch, act_dim) policy mean when the action was sampled
  MatR<S> old_sigma;     // (batch, act_dim) policy std when the action was sampled
  VecX<S> old_log_prob;  // (batch) log pi_old(a | s)
  VecX<S> old_values;    // (batch) V_old(s)
  VecX<S> advantages;    // (batch) normalized GAE advantages
  VecX<S> returns;       // (batch) value targets
  int size() const { return static_cast<int>(obs.rows()); }
};

struct PpoLossCoefs {
  double clip_param = 0.2;
  double value_loss_coef = 1.0;
  double entropy_coef = 0.01;
  bool use_clipped_value_loss = true;
};

// loss terms of one minibatch (means over the batch)
struct PpoLossTerms {
  double surrogate = 0;  // clipped surrogate loss
  double value = 0;      // (clipped) value loss
  double entropy = 0;    // mean policy entropy
  double total = 0;      // surrogate + c_v value - c_e entropy
};

// loss and its gradient w.r.t. mu (batch, act_dim), log_std (act_dim) and values (batch)
template <class S>
PpoLossTerms ppo_loss(const PpoLossCoefs& c, const PpoBatch<S>& b, const MatR<S>& mu,
                      const VecX<S>& log_std, const VecX<S>& values, MatR<S>& dmu,
                      VecX<S>& dlog_std, VecX<S>& dvalues) {
  const S inv_n = S(1) / S(b.size());
  const S eps = S(c.clip_param);
  PpoLossTerms t;

  // surrogate: mean over samples of max(-A r, -A clip(r, 1-eps, 1+eps)), r = exp(logp - logp_old)
  const VecX<S> log_prob = gaussian_log_prob(mu, log_std, b.actions);
  const VecX<S> ratio = (log_prob - b.old_log_prob).array().exp().matrix();
  const VecX<S> surr = (-b.advantages.array() * ratio.array()).matrix();
  const VecX<S> surr_clipped =
      (-b.advantages.array() * ratio.array().max(S(1) - eps).min(S(1) + eps)).matrix();
  t.surrogate = static_cast<double>(surr.cwiseMax(surr_clipped).sum() * inv_n);
  // d/dlogp: where the unclipped term is the max, -A r / n; where the clipped one is (ratio
  // outside the clip range and the clip binding), 0
  const VecX<S> dlogp =
      (surr.array() >= surr_clipped.array()).select(surr.array() * inv_n, S(0)).matrix();

  // value loss: mean of max((V - R)^2, (V_clipped - R)^2), V_clipped = V_old + clip(V - V_old, -eps, eps)
  const VecX<S> dv = values - b.old_values;
  const VecX<S> err = values - b.returns;
  if (c.use_clipped_value_loss) {
    const VecX<S> err_clipped = (b.old_values + dv.cwiseMax(-eps).cwiseMin(eps)) - b.returns;
    const VecX<S> sq = err.array().square();
    const VecX<S> sq_clipped = err_clipped.array().square();
    t.value = static_cast<double>(sq.cwiseMax(sq_clipped).sum() * inv_n);
    // d/dV: 2 (V - R) / n where the unclipped error is larger; 2 (V_clipped - R) / n where the
    // clipped one is and V - V_old is inside the clip range; 0 where the clip binds
    const auto inside = (dv.array().abs() < eps).template cast<S>();
    dvalues = (sq.array() >= sq_clipped.array())
                  .select(S(2) * err.array(), S(2) * err_clipped.array() * inside)
                  .matrix() * inv_n;
  } else {
    t.value = static_cast<double>(err.squaredNorm() * inv_n);
    dvalues = err * (S(2) * inv_n);
  }
  dvalues *= S(c.value_loss_coef);

  // entropy bonus: the same for every sample; d entropy / d log_std_j = 1
  const S entropy = gaussian_entropy(log_std);
  t.entropy = static_cast<double>(entropy);
  t.total = t.surrogate + c.value_loss_coef * t.value - c.entropy_coef * t.entropy;

  // chain rule through the Gaussian head
  dlog_std = VecX<S>::Constant(log_std.size(), S(-c.entropy_coef));
  gaussian_log_prob_backward(mu, log_std, b.actions, dlogp, dmu, dlog_std);
  return t;
}

}  // namespace stampede::rl
