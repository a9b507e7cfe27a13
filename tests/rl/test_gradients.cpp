// tests/rl/test_gradients.cpp — every hand-written derivative against central finite
// differences, in double: linear layer, activations, the Gaussian head, each PPO loss term and
// the whole actor-critic loss.
#include <catch2/catch.hpp>

#include <functional>

#include "rl/actor_critic.h"

using namespace stampede::rl;
using Md = MatR<double>;
using Vd = VecX<double>;

namespace {

Md random_mat(Rng& rng, int r, int c, double scale = 1.0) {
  Md m(r, c);
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < c; ++j) m(i, j) = rng.uniform(-scale, scale);
  return m;
}
Vd random_vec(Rng& rng, int n, double scale = 1.0) {
  Vd v(n);
  for (int i = 0; i < n; ++i) v[i] = rng.uniform(-scale, scale);
  return v;
}

// central differences of f with respect to every entry of x (x is restored)
template <class Dense>
Dense numeric_grad(Dense& x, const std::function<double()>& f, double h = 1e-6) {
  Dense g = Dense::Zero(x.rows(), x.cols());
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double x0 = x.data()[i];
    x.data()[i] = x0 + h;
    const double fp = f();
    x.data()[i] = x0 - h;
    const double fm = f();
    x.data()[i] = x0;
    g.data()[i] = (fp - fm) / (2 * h);
  }
  return g;
}

// analytic vs numeric, entry by entry: central differences in double are good to ~1e-8 here
template <class A, class B>
void require_close(const A& analytic, const B& numeric, double tol = 1e-6) {
  REQUIRE(analytic.size() == numeric.size());
  for (Eigen::Index i = 0; i < analytic.size(); ++i) {
    INFO("entry " << i << ": analytic " << analytic.data()[i] << ", numeric " << numeric.data()[i]);
    REQUIRE(std::abs(analytic.data()[i] - numeric.data()[i]) <= tol * (1.0 + std::abs(numeric.data()[i])));
  }
}

}  // namespace

TEST_CASE("linear layer gradients match finite differences", "[rl][gradients]") {
  Rng rng(1);
  const int B = 5, in = 4, out = 3;
  LinearLayout l{in, out, 0, static_cast<std::size_t>(in * out)};
  Vd params = random_vec(rng, in * out + out);
  Md x = random_mat(rng, B, in);
  const Md R = random_mat(rng, B, out);  // loss = sum(y .* R)
  auto loss = [&] {
    Md y;
    linear_forward(l, params.data(), x, y);
    return (y.array() * R.array()).sum();
  };
  Vd grads = Vd::Zero(params.size());
  Md dx;
  linear_backward(l, params.data(), x, R, grads.data(), &dx);
  require_close(grads, numeric_grad(params, loss));
  require_close(dx, numeric_grad(x, loss));
}

TEST_CASE("activation gradients match finite differences", "[rl][gradients]") {
  for (Activation a : {Activation::elu, Activation::tanh, Activation::relu}) {
    Rng rng(2);
    Md x = random_mat(rng, 4, 6, 2.0);  // both signs; no entry within h of the kink at 0
    const Md R = random_mat(rng, 4, 6);
    auto loss = [&] {
      Md y;
      activation_forward(a, x, y);
      return (y.array() * R.array()).sum();
    };
    Md y;
    activation_forward(a, x, y);
    Md g = R;
    activation_backward(a, x, y, g);
    require_close(g, numeric_grad(x, loss));
  }
}

TEST_CASE("ELU is the identity above zero and exp(x) - 1 below", "[rl][gradients]") {
  Md x(1, 3);
  x << -1.0, 0.5, 2.0;
  Md y;
  activation_forward(Activation::elu, x, y);
  REQUIRE(y(0, 0) == Approx(std::exp(-1.0) - 1.0));
  REQUIRE(y(0, 1) == 0.5);
  REQUIRE(y(0, 2) == 2.0);
}

TEST_CASE("MLP backward matches finite differences", "[rl][gradients]") {
  Rng rng(3);
  MlpLayout m(3, {5, 4}, 2, Activation::elu, 7);  // offset 7: layers sit anywhere in the buffer
  Vd params = random_vec(rng, static_cast<int>(m.end()));
  Md x = random_mat(rng, 6, 3);
  const Md R = random_mat(rng, 6, 2);
  MlpCache<double> cache;
  auto loss = [&] {
    mlp_forward(m, params.data(), x, cache);
    return (cache.output().array() * R.array()).sum();
  };
  loss();
  Vd grads = Vd::Zero(params.size());
  Md dx;
  mlp_backward(m, params.data(), cache, R, grads.data(), &dx);
  require_close(grads, numeric_grad(params, loss));
  require_close(dx, numeric_grad(x, loss));
  // nothing written outside the network's range
  REQUIRE(grads.head(7).isZero(0));
}

TEST_CASE("Gaussian log-prob, entropy and their gradients", "[rl][gradients]") {
  Rng rng(4);
  const int B = 5, A = 3;
  Md mu = random_mat(rng, B, A);
  Vd log_std = random_vec(rng, A, 0.5);
  const Md actions = random_mat(rng, B, A, 2.0);
  const Vd w = random_vec(rng, B);  // loss = sum_i w_i logp_i

  SECTION("log-prob against the closed form of one sample") {
    const Vd lp = gaussian_log_prob(mu, log_std, actions);
    double expect = 0;
    for (int j = 0; j < A; ++j) {
      const double s = std::exp(log_std[j]), z = (actions(0, j) - mu(0, j)) / s;
      expect += -0.5 * z * z - std::log(s * std::sqrt(2 * M_PI));
    }
    REQUIRE(lp[0] == Approx(expect).epsilon(1e-12));
  }
  SECTION("log-prob gradient") {
    auto loss = [&] { return gaussian_log_prob(mu, log_std, actions).dot(w); };
    Md dmu;
    Vd dls = Vd::Zero(A);
    gaussian_log_prob_backward(mu, log_std, actions, w, dmu, dls);
    require_close(dmu, numeric_grad(mu, loss));
    require_close(dls, numeric_grad(log_std, loss));
  }
  SECTION("entropy: closed form and gradient 1 per log-std") {
    double expect = 0;
    for (int j = 0; j < A; ++j) expect += 0.5 * std::log(2 * M_PI * M_E * std::exp(2 * log_std[j]));
    REQUIRE(gaussian_entropy(log_std) == Approx(expect).epsilon(1e-12));
    require_close(Vd(Vd::Ones(A)), numeric_grad(log_std, [&] { return gaussian_entropy(log_std); }));
  }
  SECTION("KL is zero against itself and positive otherwise") {
    const Md sigma = log_std.array().exp().matrix().transpose().replicate(B, 1);
    REQUIRE(gaussian_kl(mu, sigma, mu, log_std).cwiseAbs().maxCoeff() < 1e-12);
    Vd other = log_std.array() + 0.3;
    REQUIRE(gaussian_kl(mu, sigma, mu, other).minCoeff() > 0);
  }
}

namespace {

// a batch with ratios both inside and outside the clip range, values both inside and outside
struct LossFixture {
  int B = 24, A = 3;
  PpoBatch<double> b;
  Md mu;
  Vd log_std, values;
  explicit LossFixture(uint64_t seed) {
    Rng rng(seed);
    mu = random_mat(rng, B, A);
    log_std = random_vec(rng, A, 0.3);
    values = random_vec(rng, B);
    b.obs = Md::Zero(B, 1);
    b.actions = random_mat(rng, B, A, 1.5);
    b.old_mu = mu + random_mat(rng, B, A, 0.4);
    b.old_sigma = Md::Constant(B, A, 0.9);
    b.old_log_prob = gaussian_log_prob(b.old_mu, Vd(Vd::Constant(A, std::log(0.9))), b.actions);
    b.old_values = values + random_vec(rng, B, 0.5);
    b.advantages = random_vec(rng, B, 2.0);
    b.returns = values + random_vec(rng, B, 1.0);
  }
};

void check_loss_gradient(const PpoLossCoefs& c, uint64_t seed) {
  LossFixture f(seed);
  auto loss = [&] {
    Md dmu;
    Vd dls, dv;
    return ppo_loss(c, f.b, f.mu, f.log_std, f.values, dmu, dls, dv).total;
  };
  Md dmu;
  Vd dls, dv;
  ppo_loss(c, f.b, f.mu, f.log_std, f.values, dmu, dls, dv);
  require_close(dmu, numeric_grad(f.mu, loss));
  require_close(dls, numeric_grad(f.log_std, loss));
  require_close(dv, numeric_grad(f.values, loss));
}

}  // namespace

TEST_CASE("each PPO loss term's gradient matches finite differences", "[rl][gradients]") {
  for (uint64_t seed : {5, 6, 7}) {
    PpoLossCoefs c;
    SECTION("clipped surrogate alone") {
      c.value_loss_coef = 0;
      c.entropy_coef = 0;
      check_loss_gradient(c, seed);
    }
    SECTION("clipped value loss alone") {
      c.value_loss_coef = 1.0;
      c.entropy_coef = 0;
      LossFixture f(seed);
      f.b.advantages.setZero();  // surrogate contributes nothing
      Md dmu;
      Vd dls, dv;
      auto loss = [&] { Md a; Vd b, v; return ppo_loss(c, f.b, f.mu, f.log_std, f.values, a, b, v).total; };
      ppo_loss(c, f.b, f.mu, f.log_std, f.values, dmu, dls, dv);
      require_close(dv, numeric_grad(f.values, loss));
    }
    SECTION("unclipped value loss") {
      c.use_clipped_value_loss = false;
      check_loss_gradient(c, seed);
    }
    SECTION("entropy bonus alone") {
      c.value_loss_coef = 0;
      c.entropy_coef = 0.5;
      LossFixture f(seed);
      f.b.advantages.setZero();
      Md dmu;
      Vd dls, dv;
      ppo_loss(c, f.b, f.mu, f.log_std, f.values, dmu, dls, dv);
      require_close(dls, Vd(Vd::Constant(f.A, -0.5)));
    }
    SECTION("all terms together") { check_loss_gradient(c, seed); }
  }
}

TEST_CASE("the surrogate clips: no gradient where the clip binds", "[rl][gradients]") {
  PpoLossCoefs c;
  c.value_loss_coef = 0;
  c.entropy_coef = 0;
  PpoBatch<double> b;
  const int A = 1;
  b.obs = Md::Zero(2, 1);
  b.actions = Md::Zero(2, A);
  b.old_mu = Md::Zero(2, A);
  b.old_sigma = Md::Ones(2, A);
  Md mu = Md::Zero(2, A);
  Vd log_std = Vd::Zero(A);
  // ratio = exp(0.5) > 1.2 for both samples
  b.old_log_prob = gaussian_log_prob(mu, log_std, b.actions).array() - 0.5;
  b.advantages = Vd(2);
  b.advantages << 1.0, -1.0;  // positive A: clipped (no gradient); negative A: unclipped
  b.old_values = Vd::Zero(2);
  b.returns = Vd::Zero(2);
  Vd values = Vd::Zero(2);
  Md dmu;
  Vd dls, dv;
  const auto t = ppo_loss(c, b, mu, log_std, values, dmu, dls, dv);
  REQUIRE(t.surrogate == Approx(0.5 * (-1.2 + std::exp(0.5))));
  b.actions(0, 0) = 0.3;  // move the samples off the mean so dlogp/dmu != 0
  b.actions(1, 0) = 0.3;
  b.old_log_prob = gaussian_log_prob(mu, log_std, b.actions).array() - 0.5;
  ppo_loss(c, b, mu, log_std, values, dmu, dls, dv);
  REQUIRE(dmu(0, 0) == 0.0);
  REQUIRE(dmu(1, 0) != 0.0);
}

TEST_CASE("whole actor-critic loss gradient matches finite differences", "[rl][gradients]") {
  PolicyConfig p;
  p.actor_hidden = {6, 5};
  p.critic_hidden = {7};
  p.init_noise_std = 0.8;
  const int obs_dim = 4, A = 2, B = 16;
  ActorCriticLayout L(obs_dim, A, p);
  REQUIRE(L.num_params() == (4 * 6 + 6) + (6 * 5 + 5) + (5 * 2 + 2) + (4 * 7 + 7) + (7 + 1) + 2);
  Rng rng(8);
  Vd params(L.num_params());
  init_params(L, p.init_noise_std, rng, params.data());
  PpoBatch<double> b;
  b.obs = random_mat(rng, B, obs_dim);
  b.actions = random_mat(rng, B, A);
  b.old_mu = random_mat(rng, B, A, 0.3);
  b.old_sigma = Md::Constant(B, A, 0.8);
  b.old_log_prob = gaussian_log_prob(b.old_mu, Vd(Vd::Constant(A, std::log(0.8))), b.actions);
  b.old_values = random_vec(rng, B, 0.3);
  b.advantages = random_vec(rng, B);
  b.returns = random_vec(rng, B);
  PpoLossCoefs c;
  ActorCriticWork<double> w;
  Vd grads(L.num_params());
  auto loss = [&] {
    Vd g(L.num_params());
    return loss_and_gradient(L, c, params.data(), b, g.data(), w).total;
  };
  loss_and_gradient(L, c, params.data(), b, grads.data(), w);
  require_close(grads, numeric_grad(params, loss));
  REQUIRE(grads.norm() > 0);
}
