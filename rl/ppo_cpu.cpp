// rl/ppo_cpu.cpp — the CPU backend of the PPO learner: Eigen (float, row-major minibatch GEMMs),
// rows split over threads (rl/parallel.h), one flat parameter vector, Adam, running observation
// normalization.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <thread>

#include "rl/adam.h"
#include "rl/learner.h"
#include "rl/normalizer.h"
#include "rl/parallel.h"
#include "rl/storage.h"

namespace stampede::rl {
namespace {

using Mat = MatR<float>;
using Vec = VecX<float>;

class CpuPpoLearner final : public PpoLearner {
 public:
  CpuPpoLearner(const PpoConfig& cfg, int num_envs, int obs_dim, int act_dim)
      : cfg_(cfg),
        layout_(obs_dim, act_dim, cfg.policy),
        params_(layout_.num_params()),
        grads_(layout_.num_params()),
        adam_(layout_.num_params(), cfg.algorithm.learning_rate, cfg.algorithm.adam_beta1,
              cfg.algorithm.adam_beta2, cfg.algorithm.adam_eps),
        normalizer_(obs_dim),
        storage_(cfg.runner.num_steps_per_env, num_envs, obs_dim, act_dim),
        rng_(cfg.runner.seed) {
    validate_config(cfg);
    threads_ = cfg.runner.num_threads;
    if (threads_ == 0) threads_ = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    Eigen::setNbThreads(1);  // parallelism is ours: rows over threads
    batches_.resize(threads_);
    works_.resize(threads_);
    chunk_grads_.assign(threads_, AlignedVector<float>(layout_.num_params()));
    init_params(layout_, cfg.policy.init_noise_std, rng_, params_.data());
    coefs_.clip_param = cfg.algorithm.clip_param;
    coefs_.value_loss_coef = cfg.algorithm.value_loss_coef;
    coefs_.entropy_coef = cfg.algorithm.entropy_coef;
    coefs_.use_clipped_value_loss = cfg.algorithm.use_clipped_value_loss;
  }

  std::string device() const override { return "cpu"; }
  int num_envs() const override { return storage_.num_envs; }
  int obs_dim() const override { return layout_.obs_dim(); }
  int act_dim() const override { return layout_.act_dim(); }
  const ActorCriticLayout& layout() const override { return layout_; }

  void act(const float* obs, float* actions) override {
    auto& s = storage_;
    if (s.step >= s.num_steps) throw std::logic_error("PpoLearner::act: rollout storage is full; call update()");
    const int N = s.num_envs, O = s.obs_dim, A = s.act_dim;
    const std::size_t row = static_cast<std::size_t>(s.step) * N;
    // normalize (after merging this batch into the running statistics) straight into storage
    if (cfg_.algorithm.normalize_observations) normalizer_.update(obs, N, comm_);
    float* nobs = s.obs.data() + row * O;
    normalize(obs, nobs, N);
    // policy mean and value, rows over threads
    float* mu_rows = s.mu.data() + row * A;
    forward(nobs, N, mu_rows, s.values.data() + row);
    const Eigen::Map<const Mat> mu(mu_rows, N, A);
    const Vec log_std = Eigen::Map<const Vec>(params_.data() + layout_.log_std_offset(), A);
    const Eigen::RowVectorXf sigma = log_std.array().exp().matrix().transpose();
    // sample a = mu + sigma * eps, eps ~ N(0, I), in row order (one RNG stream)
    Eigen::Map<Mat> act(s.actions.data() + row * A, N, A);
    for (int i = 0; i < N; ++i)
      for (int j = 0; j < A; ++j) act(i, j) = mu(i, j) + sigma[j] * static_cast<float>(rng_.normal());
    Eigen::Map<Mat>(s.sigma.data() + row * A, N, A) = sigma.replicate(N, 1);
    Eigen::Map<Vec>(s.log_prob.data() + row, N) = gaussian_log_prob<float>(Mat(mu), log_std, Mat(act));
    std::memcpy(actions, act.data(), sizeof(float) * N * A);
  }

  void process_env_step(const float* rewards, const unsigned char* terminated,
                        const unsigned char* truncated, const float* final_obs) override {
    auto& s = storage_;
    const int N = s.num_envs, O = s.obs_dim;
    const std::size_t row = static_cast<std::size_t>(s.step) * N;
    // rewards, and done = terminated or truncated
    for (int i = 0; i < N; ++i) {
      s.rewards[row + i] = rewards[i];
      s.dones[row + i] = (terminated[i] || truncated[i]) ? 1 : 0;
    }
    // time-outs: the episode did not end in a terminal state, so bootstrap reward += gamma V(final_obs)
    std::vector<int> cut;
    for (int i = 0; i < N; ++i)
      if (truncated[i] && !terminated[i]) cut.push_back(i);
    if (!cut.empty()) {
      AlignedVector<float> rows(cut.size() * O), v(cut.size());
      for (std::size_t k = 0; k < cut.size(); ++k)
        std::memcpy(rows.data() + k * O, final_obs + static_cast<std::size_t>(cut[k]) * O, sizeof(float) * O);
      evaluate(rows.data(), v.data(), static_cast<int>(cut.size()));
      for (std::size_t k = 0; k < cut.size(); ++k)
        s.rewards[row + cut[k]] += static_cast<float>(cfg_.algorithm.gamma) * v[k];
    }
    ++s.step;
  }

  void compute_returns(const float* last_obs) override {
    auto& s = storage_;
    if (s.step != s.num_steps) throw std::logic_error("PpoLearner::compute_returns: rollout is not complete");
    AlignedVector<float> last_values(s.num_envs);
    evaluate(last_obs, last_values.data(), s.num_envs);
    compute_gae(s.num_steps, s.num_envs, s.rewards.data(), s.dones.data(), s.values.data(),
                last_values.data(), cfg_.algorithm.gamma, cfg_.algorithm.lam, s.advantages.data(),
                s.returns.data());
    if (dist::is_distributed(comm_))
      normalize_advantages_over_ranks(s.advantages.data(), s.size());
    else
      normalize_advantages(s.advantages.data(), s.size());
    returns_ready_ = true;
  }

  UpdateStats update() override {
    if (!returns_ready_) throw std::logic_error("PpoLearner::update: call compute_returns first");
    const auto& a = cfg_.algorithm;
    const std::size_t total = storage_.size();
    const std::size_t mb_size = total / a.num_mini_batches;  // leftover samples sit out, as in rsl_rl
    std::vector<std::size_t> perm(total);
    UpdateStats st;
    int count = 0;
    for (int epoch = 0; epoch < a.num_learning_epochs; ++epoch) {
      // a fresh shuffle per epoch (Fisher-Yates)
      std::iota(perm.begin(), perm.end(), std::size_t{0});
      for (std::size_t i = total - 1; i > 0; --i) std::swap(perm[i], perm[rng_.below(i + 1)]);
      for (int m = 0; m < a.num_mini_batches; ++m) {
        double kl = 0;
        PpoLossTerms t = minibatch_gradient(perm.data() + m * mb_size, mb_size, &kl);
        if (dist::is_distributed(comm_)) average_over_ranks(t, kl);
        // learning rate for this step from the KL of the current policy against the sampling one
        adam_.set_lr(scheduled_learning_rate(a, adam_.lr(), kl));
        st.grad_norm += clip_grad_norm(grads_.data(), grads_.size(), a.max_grad_norm);
        adam_.step(params_.data(), grads_.data());
        st.surrogate_loss += t.surrogate;
        st.value_loss += t.value;
        st.entropy += t.entropy;
        st.kl += kl;
        ++count;
      }
    }
    st.surrogate_loss /= count;
    st.value_loss /= count;
    st.entropy /= count;
    st.kl /= count;
    st.grad_norm /= count;
    st.learning_rate = adam_.lr();
    st.action_std = Eigen::Map<const Vec>(params_.data() + layout_.log_std_offset(), act_dim())
                        .array().exp().mean();
    storage_.clear();
    returns_ready_ = false;
    return st;
  }

  void act_inference(const float* obs, float* actions, int n) override {
    AlignedVector<float> x(static_cast<std::size_t>(n) * obs_dim());
    normalize(obs, x.data(), n);
    forward(x.data(), n, actions, nullptr);
  }

  void evaluate(const float* obs, float* values, int n) override {
    AlignedVector<float> x(static_cast<std::size_t>(n) * obs_dim());
    normalize(obs, x.data(), n);
    forward(x.data(), n, nullptr, values);
  }

  LearnerState state() const override {
    LearnerState s;
    s.tensors = layout_.tensors();
    s.params.assign(params_.begin(), params_.end());
    s.adam_exp_avg = adam_.exp_avg();
    s.adam_exp_avg_sq = adam_.exp_avg_sq();
    s.adam_step = adam_.step_count();
    s.learning_rate = adam_.lr();
    s.obs_mean = normalizer_.mean();
    s.obs_var = normalizer_.var();
    s.obs_count = normalizer_.count();
    s.obs_eps = normalizer_.eps();
    s.rng = rng_.state();
    return s;
  }

  void load_state(const LearnerState& s) override {
    apply_state(s);
    if (dist::is_distributed(comm_)) sync_from_root();
  }

  void set_communicator(dist::Communicator* comm) override {
    comm_ = comm;
    if (dist::is_distributed(comm_)) sync_from_root();
  }

  const RolloutStorage* host_storage() const override { return &storage_; }

 private:
  void apply_state(const LearnerState& s) {
    if (s.params.size() != params_.size())
      throw std::invalid_argument("learner state has " + std::to_string(s.params.size()) +
                                  " parameters, this network has " + std::to_string(params_.size()) +
                                  " (different obs/act sizes or hidden layers?)");
    params_.assign(s.params.begin(), s.params.end());
    adam_.set_state(s.adam_exp_avg, s.adam_exp_avg_sq, s.adam_step, s.learning_rate);
    normalizer_.set_state(s.obs_mean, s.obs_var, s.obs_count, s.obs_eps);
    rng_.set_state(s.rng);
    storage_.clear();
    returns_ready_ = false;
  }

  // data-parallel: every rank takes rank 0's state (state_from_root, rl/learner.h)
  void sync_from_root() {
    const auto& a = cfg_.algorithm;
    apply_state(state_from_root(*comm_, state(),
                                {static_cast<double>(params_.size()), static_cast<double>(storage_.num_envs),
                                 static_cast<double>(storage_.num_steps), static_cast<double>(a.num_mini_batches),
                                 static_cast<double>(a.num_learning_epochs), a.normalize_observations ? 1.0 : 0.0}));
  }

  // grads_ and the minibatch's KL and loss terms: the means over ranks (each rank's minibatch
  // is its share, all of one size, so the mean of the rank means is the global minibatch mean)
  void average_over_ranks(PpoLossTerms& t, double& kl) {
    const double inv = 1.0 / comm_->size();
    comm_->allreduce_sum(grads_.data(), grads_.size());
    Eigen::Map<Vec>(grads_.data(), grads_.size()) *= static_cast<float>(inv);
    double terms[] = {kl, t.surrogate, t.value, t.entropy, t.total};
    comm_->allreduce_sum(terms, 5);
    kl = terms[0] * inv;
    t.surrogate = terms[1] * inv;
    t.value = terms[2] * inv;
    t.entropy = terms[3] * inv;
    t.total = terms[4] * inv;
  }

  // normalize_advantages (rl/storage.h) over the advantages of every rank: the global mean and
  // (Bessel) std, two passes as there
  void normalize_advantages_over_ranks(float* adv, std::size_t n) {
    double sums[2] = {0.0, static_cast<double>(n)};
    for (std::size_t i = 0; i < n; ++i) sums[0] += adv[i];
    comm_->allreduce_sum(sums, 2);
    const double total = sums[1];
    const double mean = sums[0] / total;
    double sq = 0;
    for (std::size_t i = 0; i < n; ++i) sq += (adv[i] - mean) * (adv[i] - mean);
    comm_->allreduce_sum(&sq, 1);
    const double var = sq / (total > 1 ? total - 1 : 1.0);
    const double inv = 1.0 / (std::sqrt(var) + 1e-8);
    for (std::size_t i = 0; i < n; ++i) adv[i] = static_cast<float>((adv[i] - mean) * inv);
  }

  // y = normalized x (identity when normalization is off)
  void normalize(const float* x, float* y, int n) const {
    if (cfg_.algorithm.normalize_observations)
      normalizer_.normalize(x, y, n);
    else if (x != y)
      std::memcpy(y, x, sizeof(float) * n * obs_dim());
  }

  // actor means mu (n, act_dim) and/or critic values (n) of normalized observations x (n, obs_dim)
  void forward(const float* x, int n, float* mu, float* values) {
    const int K = chunk_count(n, threads_);
    parallel_chunks(K, [&](int k) {
      const auto [lo, hi] = chunk_range(n, K, k);
      auto& w = works_[k];
      w.input = Eigen::Map<const Mat>(x + lo * obs_dim(), hi - lo, obs_dim());
      if (mu) {
        mlp_forward(layout_.actor(), params_.data(), w.input, w.actor);
        Eigen::Map<Mat>(mu + lo * act_dim(), hi - lo, act_dim()) = w.actor.output();
      }
      if (values) {
        mlp_forward(layout_.critic(), params_.data(), w.input, w.critic);
        std::memcpy(values + lo, w.critic.output().data(), sizeof(float) * (hi - lo));
      }
    });
  }

  // loss gradient of the minibatch rows idx[0..n) into grads_: each thread takes a contiguous
  // range, computes its mean-loss gradient, and the ranges are combined weighted by their size
  // (in a fixed order). *kl: mean KL(old || current) over the minibatch
  PpoLossTerms minibatch_gradient(const std::size_t* idx, std::size_t n, double* kl) {
    const int K = chunk_count(static_cast<long>(n), threads_);
    std::vector<PpoLossTerms> terms(K);
    std::vector<double> kl_sum(K, 0.0);
    const Vec log_std = Eigen::Map<const Vec>(params_.data() + layout_.log_std_offset(), act_dim());
    parallel_chunks(K, [&](int k) {
      const auto [lo, hi] = chunk_range(static_cast<long>(n), K, k);
      gather(idx + lo, static_cast<std::size_t>(hi - lo), batches_[k]);
      terms[k] = loss_and_gradient(layout_, coefs_, params_.data(), batches_[k], chunk_grads_[k].data(), works_[k].ac);
      kl_sum[k] = static_cast<double>(
          gaussian_kl<float>(batches_[k].old_mu, batches_[k].old_sigma, works_[k].ac.actor.output(), log_std).sum());
    });
    PpoLossTerms t;
    Eigen::Map<Vec> g(grads_.data(), grads_.size());
    g.setZero();
    *kl = 0;
    for (int k = 0; k < K; ++k) {
      const auto [lo, hi] = chunk_range(static_cast<long>(n), K, k);
      const double w = static_cast<double>(hi - lo) / static_cast<double>(n);
      g += static_cast<float>(w) * Eigen::Map<const Vec>(chunk_grads_[k].data(), grads_.size());
      t.surrogate += w * terms[k].surrogate;
      t.value += w * terms[k].value;
      t.entropy += w * terms[k].entropy;
      t.total += w * terms[k].total;
      *kl += kl_sum[k];
    }
    *kl /= static_cast<double>(n);
    return t;
  }

  // copy the rows idx[0..n) of the rollout into b
  void gather(const std::size_t* idx, std::size_t n, PpoBatch<float>& b) const {
    const auto& s = storage_;
    const int O = s.obs_dim, A = s.act_dim;
    const Eigen::Index rows = static_cast<Eigen::Index>(n);
    b.obs.resize(rows, O);
    b.actions.resize(rows, A);
    b.old_mu.resize(rows, A);
    b.old_sigma.resize(rows, A);
    b.old_log_prob.resize(rows);
    b.old_values.resize(rows);
    b.advantages.resize(rows);
    b.returns.resize(rows);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = idx[k];
      std::memcpy(b.obs.row(k).data(), s.obs.data() + i * O, sizeof(float) * O);
      std::memcpy(b.actions.row(k).data(), s.actions.data() + i * A, sizeof(float) * A);
      std::memcpy(b.old_mu.row(k).data(), s.mu.data() + i * A, sizeof(float) * A);
      std::memcpy(b.old_sigma.row(k).data(), s.sigma.data() + i * A, sizeof(float) * A);
      b.old_log_prob[k] = s.log_prob[i];
      b.old_values[k] = s.values[i];
      b.advantages[k] = s.advantages[i];
      b.returns[k] = s.returns[i];
    }
  }

  // per-thread scratch
  struct ThreadWork {
    Mat input;
    MlpCache<float> actor, critic;
    ActorCriticWork<float> ac;
  };

  PpoConfig cfg_;
  ActorCriticLayout layout_;
  PpoLossCoefs coefs_;
  AlignedVector<float> params_, grads_;  // (num_params) flat parameters and their gradient
  Adam adam_;
  ObsNormalizer normalizer_;
  RolloutStorage storage_;
  Rng rng_;
  bool returns_ready_ = false;
  int threads_ = 1;
  dist::Communicator* comm_ = nullptr;  // data-parallel ranks (nullptr: single process)
  // per-thread scratch
  std::vector<PpoBatch<float>> batches_;
  std::vector<ThreadWork> works_;
  std::vector<AlignedVector<float>> chunk_grads_;  // (threads, num_params)
};

}  // namespace

std::unique_ptr<PpoLearner> make_cpu_learner(const PpoConfig& cfg, int num_envs, int obs_dim, int act_dim) {
  return std::make_unique<CpuPpoLearner>(cfg, num_envs, obs_dim, act_dim);
}

}  // namespace stampede::rl
