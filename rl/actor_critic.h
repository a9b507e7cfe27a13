// rl/actor_critic.h — the policy: an actor MLP (observation -> action mean), a critic MLP
// (observation -> value) and a state-independent log-std, all in one flat parameter vector.
// Forward passes and the full loss gradient are templated on the scalar.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "rl/config.h"
#include "rl/ppo_loss.h"
#include "rl/rng.h"

namespace stampede::rl {

// one named tensor of the flat parameter vector (names follow rsl_rl's state dict:
// actor.0.weight, actor.0.bias, actor.2.weight, ..., critic.*, log_std)
struct ParamTensor {
  std::string name;
  std::vector<int> shape;   // (out, in) for weights, (n) for vectors
  std::size_t offset = 0;   // first element in the flat vector
  std::size_t size() const {
    std::size_t n = 1;
    for (int d : shape) n *= static_cast<std::size_t>(d);
    return n;
  }
};

class ActorCriticLayout {
 public:
  ActorCriticLayout() = default;
  ActorCriticLayout(int obs_dim, int act_dim, const PolicyConfig& p) {
    const Activation act = parse_activation(p.activation);
    actor_ = MlpLayout(obs_dim, p.actor_hidden, act_dim, act, 0);
    critic_ = MlpLayout(obs_dim, p.critic_hidden, 1, act, actor_.end());
    log_std_offset_ = critic_.end();
    num_params_ = log_std_offset_ + act_dim;
    auto add = [&](const std::string& prefix, const MlpLayout& m) {
      for (std::size_t l = 0; l < m.layers().size(); ++l) {
        const auto& L = m.layers()[l];
        const std::string idx = prefix + "." + std::to_string(2 * l);  // Linear, act, Linear, ...
        tensors_.push_back({idx + ".weight", {L.out, L.in}, L.weight_offset});
        tensors_.push_back({idx + ".bias", {L.out}, L.bias_offset});
      }
    };
    add("actor", actor_);
    add("critic", critic_);
    tensors_.push_back({"log_std", {act_dim}, log_std_offset_});
  }
  const MlpLayout& actor() const { return actor_; }
  const MlpLayout& critic() const { return critic_; }
  std::size_t log_std_offset() const { return log_std_offset_; }
  std::size_t num_params() const { return num_params_; }
  int obs_dim() const { return actor_.in(); }
  int act_dim() const { return actor_.out(); }
  const std::vector<ParamTensor>& tensors() const { return tensors_; }

 private:
  MlpLayout actor_, critic_;
  std::size_t log_std_offset_ = 0, num_params_ = 0;
  std::vector<ParamTensor> tensors_;
};

// PyTorch's default Linear initialization (uniform in +-1/sqrt(fan_in) for weights and biases),
// log_std = log(init_noise_std)
template <class S>
void init_params(const ActorCriticLayout& L, double init_noise_std, Rng& rng, S* params) {
  for (const MlpLayout* m : {&L.actor(), &L.critic()})
    for (const auto& l : m->layers()) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(l.in));
      for (std::size_t i = 0; i < static_cast<std::size_t>(l.in) * l.out; ++i)
        params[l.weight_offset + i] = static_cast<S>(rng.uniform(-bound, bound));
      for (int i = 0; i < l.out; ++i) params[l.bias_offset + i] = static_cast<S>(rng.uniform(-bound, bound));
    }
  for (int j = 0; j < L.act_dim(); ++j) params[L.log_std_offset() + j] = static_cast<S>(std::log(init_noise_std));
}

// scratch of the training forward/backward passes
template <class S>
struct ActorCriticWork {
  MlpCache<S> actor, critic;
  MatR<S> dmu, dvalue;
  VecX<S> dvalues, dlog_std;
};

// PPO loss of a minibatch and its gradient: grads (num_params, zeroed here) = dLoss/dparams
template <class S>
PpoLossTerms loss_and_gradient(const ActorCriticLayout& L, const PpoLossCoefs& c, const S* params,
                               const PpoBatch<S>& b, S* grads, ActorCriticWork<S>& w) {
  std::fill(grads, grads + L.num_params(), S(0));
  mlp_forward(L.actor(), params, b.obs, w.actor);
  mlp_forward(L.critic(), params, b.obs, w.critic);
  const MatR<S>& mu = w.actor.output();
  const VecX<S> values = Eigen::Map<const VecX<S>>(w.critic.output().data(), b.size());
  const VecX<S> log_std = Eigen::Map<const VecX<S>>(params + L.log_std_offset(), L.act_dim());
  const PpoLossTerms t = ppo_loss(c, b, mu, log_std, values, w.dmu, w.dlog_std, w.dvalues);
  mlp_backward(L.actor(), params, w.actor, w.dmu, grads);
  w.dvalue = Eigen::Map<const MatR<S>>(w.dvalues.data(), b.size(), 1);
  mlp_backward(L.critic(), params, w.critic, w.dvalue, grads);
  Eigen::Map<VecX<S>>(grads + L.log_std_offset(), L.act_dim()) += w.dlog_std;
  return t;
}

}  // namespace stampede::rl
