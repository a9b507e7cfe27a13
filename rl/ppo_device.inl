// rl/ppo_device.inl — the PPO learner written once for a memory space (rl/learn_space.h): the
// CUDA learner over CudaLearnSpace (rl/ppo_cuda.cu: device memory, cuBLAS GEMMs, a thread per
// index for everything else), and the same code over HostLearnSpace (rl/ppo_device_host.cpp),
// which is how the tests check it without a GPU.
//
// Every array lives in the space. The networks, the loss and its backward pass, Adam, gradient
// clipping, the adaptive learning rate, GAE, the advantage and observation normalizations and
// the sampling are stages over the space's arrays; the learning rate and every loss statistic
// stay in the space too (a slot array), so a whole iteration on a device-resident env moves
// nothing between host and device but one minibatch permutation per epoch and the statistics,
// once per update. Sums are in double, in fixed chunks then over the chunks: the same order on
// every space, no atomics.
//
// It computes what rl/ppo_cpu.cpp computes, with two differences:
//   - the sampling noise is counter-based (element i of a step's actions draws from a hash of a
//     per-step key and i), so the GPU and the host draw the same actions; the CPU learner's is
//     one xoshiro stream in row order. The per-step key and the minibatch permutations come from
//     the same xoshiro generator as the CPU learner's, on the host;
//   - time-outs are bootstrapped by evaluating the critic on every world's final observation
//     (rows of worlds that did not time out are zeroed and their values dropped), not on a
//     gathered subset.
// Data-parallel training (set_communicator) reduces what the CPU learner reduces, through the
// communicator's host buffers: the normalizer's batch statistics each step, the advantage sums,
// and every minibatch's gradient and loss sums (one device-host round trip each).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "kernels/config.h"
#include "rl/learn_space.h"
#include "rl/learner.h"
#include "rl/normalizer.h"
#include "rl/rng.h"
#include "rl/schedule.h"

#if defined(__CUDACC__)
#define SP_RL_LAMBDA __device__
#else
#define SP_RL_LAMBDA
#endif

namespace stampede::rl {
namespace device_ppo {

// slots of the learner's scalar array (doubles in the space)
enum Slot : int {
  kLr = 0,          // current learning rate
  kMbSurrogate,     // this minibatch: sum of the per-sample surrogate losses
  kMbValue,         //   ... of the value losses
  kMbKl,            //   ... of KL(old || current)
  kGradNormSq,      //   squared global gradient norm before clipping
  kSumSurrogate,    // this update: sum over minibatches of the mean surrogate loss
  kSumValue,        //   ... value loss
  kSumEntropy,      //   ... entropy
  kSumKl,           //   ... KL
  kSumGradNorm,     //   ... gradient norm
  kAdvMean,         // advantages: mean, then sum of squared deviations
  kAdvSq,
  kEpReturn,        // take_episode_sums: finished episodes' returns, lengths, count, all rewards,
  kEpLength,        // non-finite values zeroed
  kEpCount,
  kEpRewards,
  kEpNonfinite,
  kNumSlots
};

// per-world episode accumulators (columns of an (num_envs, kEpCols) double array)
enum EpCol : int { kFinReturn = 0, kFinLength, kFinCount, kRewardSum, kNonfinite, kEpCols };

// x - x is 0 only for finite x (no -ffast-math in this project)
SP_HD inline bool finite(float x) { return x - x == 0.f; }

// the activation of rl/mlp.h (0 elu, 1 tanh, 2 relu), and its slope from the pre- and
// post-activation values as activation_backward computes it
SP_HD inline float activate(int act, float x) {
  if (act == 0) return fmaxf(x, 0.f) + (expf(fminf(x, 0.f)) - 1.f);
  if (act == 1) return tanhf(x);
  return fmaxf(x, 0.f);
}
SP_HD inline float activation_slope(int act, float pre, float post) {
  if (act == 0) return fminf(post, 0.f) + 1.f;
  if (act == 1) return 1.f - post * post;
  return pre > 0.f ? 1.f : 0.f;
}

// splitmix64's finalizer
SP_HD inline uint64_t mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
// standard normal number i of the stream `key` (Box-Muller on two hashed 53-bit uniforms)
SP_HD inline double counter_normal(uint64_t key, uint64_t i) {
  const uint64_t a = mix64(key + (2 * i + 1) * 0x9e3779b97f4a7c15ull);
  const uint64_t b = mix64(key + (2 * i + 2) * 0x9e3779b97f4a7c15ull);
  const double u1 = 1.0 - static_cast<double>(a >> 11) * 0x1.0p-53;  // (0, 1]
  const double u2 = static_cast<double>(b >> 11) * 0x1.0p-53;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

}  // namespace device_ppo

template <class Space>
class DevicePpoLearner final : public PpoLearner {
 public:
  template <class T>
  using Arr = SpaceArray<Space, T>;

  // one network's hidden activations, (rows, width) per hidden layer: pre[l] and post[l] for
  // layers l = 1 .. L-1 (index 0 unused: the input is passed in). Public: the stages that take
  // it hold extended lambdas, whose enclosing function's types nvcc must name
  struct Net {
    std::vector<Arr<float>> pre, post;
  };

  DevicePpoLearner(Space space, const PpoConfig& cfg, int num_envs, int obs_dim, int act_dim)
      : sp_(std::move(space)), cfg_(cfg), layout_(obs_dim, act_dim, cfg.policy), rng_(cfg.runner.seed) {
    validate_config(cfg);
    N_ = num_envs;
    O_ = obs_dim;
    A_ = act_dim;
    T_ = cfg.runner.num_steps_per_env;
    P_ = layout_.num_params();
    const std::size_t total = static_cast<std::size_t>(T_) * N_;
    mb_ = static_cast<int>(total / cfg.algorithm.num_mini_batches);
    R_ = std::max(N_, mb_);
    W_ = std::max(O_, 1);
    for (const MlpLayout* m : {&layout_.actor(), &layout_.critic()})
      for (const auto& l : m->layers()) W_ = std::max({W_, l.in, l.out});
    const std::size_t R = R_, N = N_, O = O_, A = A_;

    params_ = Arr<float>(P_);
    grads_ = Arr<float>(P_);
    adam_m_ = Arr<float>(P_);
    adam_v_ = Arr<float>(P_);
    norm_mean_ = Arr<double>(O);
    norm_var_ = Arr<double>(O);
    norm_batch_ = Arr<double>(2 * O);
    r_obs_ = Arr<float>(total * O);
    r_act_ = Arr<float>(total * A);
    r_mu_ = Arr<float>(total * A);
    r_sigma_ = Arr<float>(total * A);
    r_logp_ = Arr<float>(total);
    r_val_ = Arr<float>(total);
    r_rew_ = Arr<float>(total);
    r_ret_ = Arr<float>(total);
    r_adv_ = Arr<float>(total);
    r_done_ = Arr<unsigned char>(total);
    in_obs_ = Arr<float>(R * O);
    in_out_ = Arr<float>(R * std::max<std::size_t>(A, 1));
    in_rew_ = Arr<float>(N);
    in_final_ = Arr<float>(N * O);
    in_term_ = Arr<unsigned char>(N);
    in_trunc_ = Arr<unsigned char>(N);
    x_obs_ = Arr<float>(R * O);
    x_val_ = Arr<float>(R);
    x_mu_ = Arr<float>(R * A);
    for (Net* net : {&actor_, &critic_}) {
      const MlpLayout& m = net == &actor_ ? layout_.actor() : layout_.critic();
      const std::size_t L = m.layers().size();
      net->pre.resize(L);
      net->post.resize(L);
      for (std::size_t l = 1; l < L; ++l) {
        net->pre[l] = Arr<float>(R * m.layers()[l].in);
        net->post[l] = Arr<float>(R * m.layers()[l].in);
      }
    }
    d_a_ = Arr<float>(R * W_);
    d_b_ = Arr<float>(R * W_);
    d_mu_ = Arr<float>(R * A);
    d_ls_ = Arr<float>(R * A);
    d_val_ = Arr<float>(R);
    terms_ = Arr<float>(R * 3);
    ones_ = Arr<float>(R);
    b_obs_ = Arr<float>(R * O);
    b_act_ = Arr<float>(R * A);
    b_mu_ = Arr<float>(R * A);
    b_sigma_ = Arr<float>(R * A);
    b_logp_ = Arr<float>(R);
    b_val_ = Arr<float>(R);
    b_adv_ = Arr<float>(R);
    b_ret_ = Arr<float>(R);
    perm_ = Arr<uint32_t>(total);
    const auto chunks = [](std::size_t n) { return (n + kChunk - 1) / kChunk; };
    partial_ = Arr<double>(
        std::max({chunks(total), chunks(P_), chunks(R) * 3, chunks(R) * O, chunks(N) * device_ppo::kEpCols}));
    slots_ = Arr<double>(device_ppo::kNumSlots);
    ep_ret_ = Arr<double>(N);
    ep_len_ = Arr<double>(N);
    ep_acc_ = Arr<double>(N * device_ppo::kEpCols);

    // parameters as the CPU learner initializes them (same seed, same values), lr, ones
    std::vector<float> p(P_);
    init_params(layout_, cfg.policy.init_noise_std, rng_, p.data());
    sp_.to_space(params_.data(), p.data(), sizeof(float) * P_);
    std::vector<double> var(O, 1.0);
    sp_.to_space(norm_var_.data(), var.data(), sizeof(double) * O);
    set_slot(device_ppo::kLr, cfg.algorithm.learning_rate);
    std::vector<float> ones(R, 1.f);
    sp_.to_space(ones_.data(), ones.data(), sizeof(float) * R);
  }

  std::string device() const override { return std::string(Space::kName) == "cuda" ? "cuda" : "host-space"; }
  const char* array_space() const override { return Space::kName; }
  int num_envs() const override { return N_; }
  int obs_dim() const override { return O_; }
  int act_dim() const override { return A_; }
  const ActorCriticLayout& layout() const override { return layout_; }

  // ---- the PpoLearner API on host arrays: staged through the space ----

  void act(const float* obs, float* actions) override {
    sp_.to_space(in_obs_.data(), obs, sizeof(float) * N_ * O_);
    const float* a = act_device(in_obs_.data());
    sp_.to_host(actions, a, sizeof(float) * N_ * A_);
  }

  void process_env_step(const float* rewards, const unsigned char* terminated, const unsigned char* truncated,
                        const float* final_obs) override {
    sp_.to_space(in_rew_.data(), rewards, sizeof(float) * N_);
    sp_.to_space(in_term_.data(), terminated, N_);
    sp_.to_space(in_trunc_.data(), truncated, N_);
    sp_.to_space(in_final_.data(), final_obs, sizeof(float) * N_ * O_);
    process_env_step_device(in_rew_.data(), in_term_.data(), in_trunc_.data(), in_final_.data());
  }

  void compute_returns(const float* last_obs) override {
    sp_.to_space(in_obs_.data(), last_obs, sizeof(float) * N_ * O_);
    compute_returns_device(in_obs_.data());
  }

  void act_inference(const float* obs, float* actions, int n) override { infer(obs, actions, nullptr, n); }
  void evaluate(const float* obs, float* values, int n) override { infer(obs, nullptr, values, n); }

  // ---- the device API ----

  const float* act_device(const float* obs) override {
    if (step_ >= T_) throw std::logic_error("PpoLearner::act: rollout storage is full; call update()");
    const std::size_t row = static_cast<std::size_t>(step_) * N_;
    if (cfg_.algorithm.normalize_observations) update_normalizer(obs, N_);
    float* nobs = r_obs_.data() + row * O_;
    normalize_rows(obs, N_, nobs, nullptr, true);
    float* mu = r_mu_.data() + row * A_;
    mlp_forward(layout_.actor(), actor_, nobs, N_, mu);
    mlp_forward(layout_.critic(), critic_, nobs, N_, r_val_.data() + row);
    sample(mu, row, rng_.next());
    return r_act_.data() + row * A_;
  }

  void process_env_step_device(const float* rewards, const unsigned char* terminated, const unsigned char* truncated,
                               const float* final_obs) override {
    if (step_ >= T_) throw std::logic_error("PpoLearner::process_env_step: rollout storage is full");
    const std::size_t row = static_cast<std::size_t>(step_) * N_;
    record_step(rewards, terminated, truncated, row);
    // time-outs: reward += gamma V(final obs) where the episode was cut, not ended
    normalize_rows(final_obs, N_, x_obs_.data(), truncated, false, terminated, rewards);
    mlp_forward(layout_.critic(), critic_, x_obs_.data(), N_, x_val_.data());
    bootstrap(rewards, terminated, truncated, row);
    ++step_;
  }

  void compute_returns_device(const float* last_obs) override {
    if (step_ != T_) throw std::logic_error("PpoLearner::compute_returns: rollout is not complete");
    normalize_rows(last_obs, N_, x_obs_.data(), nullptr, false);
    mlp_forward(layout_.critic(), critic_, x_obs_.data(), N_, x_val_.data());
    gae();
    normalize_advantages();
    returns_ready_ = true;
  }

  EpisodeSums take_episode_sums() override {
    using namespace device_ppo;
    reduce_sum(ep_acc_.data(), N_, kEpCols, 0, nullptr, slots_.data() + kEpReturn);
    double s[kEpCols];
    sp_.to_host(s, slots_.data() + kEpReturn, sizeof(s));
    sp_.zero(ep_acc_.data(), sizeof(double) * N_ * kEpCols);
    EpisodeSums e;
    e.return_sum = s[kFinReturn];
    e.length_sum = s[kFinLength];
    e.count = s[kFinCount];
    e.reward_sum = s[kRewardSum];
    e.nonfinite = s[kNonfinite];
    return e;
  }

  UpdateStats update() override {
    using namespace device_ppo;
    if (!returns_ready_) throw std::logic_error("PpoLearner::update: call compute_returns first");
    const auto& a = cfg_.algorithm;
    const std::size_t total = static_cast<std::size_t>(T_) * N_;
    sp_.zero(slots_.data() + kSumSurrogate, sizeof(double) * 5);
    std::vector<std::size_t> perm(total);
    std::vector<uint32_t> perm32(total);
    int count = 0;
    for (int epoch = 0; epoch < a.num_learning_epochs; ++epoch) {
      // a fresh shuffle per epoch (Fisher-Yates), drawn as the CPU learner draws it
      std::iota(perm.begin(), perm.end(), std::size_t{0});
      for (std::size_t i = total - 1; i > 0; --i) std::swap(perm[i], perm[rng_.below(i + 1)]);
      std::copy(perm.begin(), perm.end(), perm32.begin());
      sp_.to_space(perm_.data(), perm32.data(), sizeof(uint32_t) * total);
      for (int m = 0; m < a.num_mini_batches; ++m) {
        minibatch_step(perm_.data() + static_cast<std::size_t>(m) * mb_, mb_);
        ++count;
      }
    }
    double s[kNumSlots];
    sp_.to_host(s, slots_.data(), sizeof(s));
    std::vector<float> log_std(A_);
    sp_.to_host(log_std.data(), params_.data() + layout_.log_std_offset(), sizeof(float) * A_);
    UpdateStats st;
    st.surrogate_loss = s[kSumSurrogate] / count;
    st.value_loss = s[kSumValue] / count;
    st.entropy = s[kSumEntropy] / count;
    st.kl = s[kSumKl] / count;
    st.grad_norm = s[kSumGradNorm] / count;
    st.learning_rate = s[kLr];
    double std_sum = 0;
    for (float l : log_std) std_sum += std::exp(static_cast<double>(l));
    st.action_std = std_sum / A_;
    step_ = 0;
    returns_ready_ = false;
    return st;
  }

  LearnerState state() const override {
    LearnerState s;
    s.tensors = layout_.tensors();
    s.params.resize(P_);
    s.adam_exp_avg.resize(P_);
    s.adam_exp_avg_sq.resize(P_);
    sp_.to_host(s.params.data(), params_.data(), sizeof(float) * P_);
    sp_.to_host(s.adam_exp_avg.data(), adam_m_.data(), sizeof(float) * P_);
    sp_.to_host(s.adam_exp_avg_sq.data(), adam_v_.data(), sizeof(float) * P_);
    s.adam_step = adam_t_;
    sp_.to_host(&s.learning_rate, slots_.data() + device_ppo::kLr, sizeof(double));
    s.obs_mean.resize(O_);
    s.obs_var.resize(O_);
    sp_.to_host(s.obs_mean.data(), norm_mean_.data(), sizeof(double) * O_);
    sp_.to_host(s.obs_var.data(), norm_var_.data(), sizeof(double) * O_);
    s.obs_count = norm_count_;
    s.obs_eps = norm_eps_;
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

  // every rank takes rank 0's state (state_from_root); the shapes must agree
  void sync_from_root() {
    const auto& a = cfg_.algorithm;
    apply_state(state_from_root(*comm_, state(),
                                {static_cast<double>(P_), static_cast<double>(N_), static_cast<double>(T_),
                                 static_cast<double>(a.num_mini_batches), static_cast<double>(a.num_learning_epochs),
                                 a.normalize_observations ? 1.0 : 0.0}));
  }

  void apply_state(const LearnerState& s) {
    if (s.params.size() != P_)
      throw std::invalid_argument("learner state has " + std::to_string(s.params.size()) +
                                  " parameters, this network has " + std::to_string(P_) +
                                  " (different obs/act sizes or hidden layers?)");
    if (s.adam_exp_avg.size() != P_ || s.adam_exp_avg_sq.size() != P_)
      throw std::invalid_argument("Adam state: expected " + std::to_string(P_) + " parameters, got " +
                                  std::to_string(s.adam_exp_avg.size()));
    if (s.obs_mean.size() != static_cast<std::size_t>(O_) || s.obs_var.size() != static_cast<std::size_t>(O_))
      throw std::invalid_argument("normalizer state: expected dimension " + std::to_string(O_) + ", got " +
                                  std::to_string(s.obs_mean.size()));
    sp_.to_space(params_.data(), s.params.data(), sizeof(float) * P_);
    sp_.to_space(adam_m_.data(), s.adam_exp_avg.data(), sizeof(float) * P_);
    sp_.to_space(adam_v_.data(), s.adam_exp_avg_sq.data(), sizeof(float) * P_);
    adam_t_ = s.adam_step;
    set_slot(device_ppo::kLr, s.learning_rate);
    sp_.to_space(norm_mean_.data(), s.obs_mean.data(), sizeof(double) * O_);
    sp_.to_space(norm_var_.data(), s.obs_var.data(), sizeof(double) * O_);
    norm_count_ = s.obs_count;
    norm_eps_ = s.obs_eps;
    rng_.set_state(s.rng);
    step_ = 0;
    returns_ready_ = false;
  }

  const RolloutStorage* host_storage() const override {
    RolloutStorage& r = mirror_;
    if (r.num_steps != T_) r = RolloutStorage(T_, N_, O_, A_);
    r.step = step_;
    const std::size_t total = r.size();
    sp_.to_host(r.obs.data(), r_obs_.data(), sizeof(float) * total * O_);
    sp_.to_host(r.actions.data(), r_act_.data(), sizeof(float) * total * A_);
    sp_.to_host(r.mu.data(), r_mu_.data(), sizeof(float) * total * A_);
    sp_.to_host(r.sigma.data(), r_sigma_.data(), sizeof(float) * total * A_);
    sp_.to_host(r.log_prob.data(), r_logp_.data(), sizeof(float) * total);
    sp_.to_host(r.values.data(), r_val_.data(), sizeof(float) * total);
    sp_.to_host(r.rewards.data(), r_rew_.data(), sizeof(float) * total);
    sp_.to_host(r.dones.data(), r_done_.data(), total);
    sp_.to_host(r.returns.data(), r_ret_.data(), sizeof(float) * total);
    sp_.to_host(r.advantages.data(), r_adv_.data(), sizeof(float) * total);
    return &r;
  }

  void set_rollout(const RolloutStorage& r) override {
    if (r.num_steps != T_ || r.num_envs != N_ || r.obs_dim != O_ || r.act_dim != A_)
      throw std::invalid_argument("set_rollout: the rollout's shape differs from the learner's");
    const std::size_t total = r.size();
    sp_.to_space(r_obs_.data(), r.obs.data(), sizeof(float) * total * O_);
    sp_.to_space(r_act_.data(), r.actions.data(), sizeof(float) * total * A_);
    sp_.to_space(r_mu_.data(), r.mu.data(), sizeof(float) * total * A_);
    sp_.to_space(r_sigma_.data(), r.sigma.data(), sizeof(float) * total * A_);
    sp_.to_space(r_logp_.data(), r.log_prob.data(), sizeof(float) * total);
    sp_.to_space(r_val_.data(), r.values.data(), sizeof(float) * total);
    sp_.to_space(r_rew_.data(), r.rewards.data(), sizeof(float) * total);
    sp_.to_space(r_done_.data(), r.dones.data(), total);
    step_ = r.step;
    returns_ready_ = false;
  }

  // ---- the stages (public: nvcc's extended lambdas may not sit in private members) ----

  void set_slot(int slot, double v) { sp_.to_space(slots_.data() + slot, &v, sizeof(double)); }

  // merge x (n, obs_dim) into the running mean and variance (ObsNormalizer::update's formulas;
  // non-finite values count as 0, as the CPU runner zeroes them before the learner sees them).
  // Several ranks: the batch statistics of all of them (merge_batch_over_ranks)
  void update_normalizer(const float* x, int n) {
    if (n <= 0) return;
    const int O = O_;
    double* batch = norm_batch_.data();  // mean (O), then population variance (O)
    // column sums, the means, the squared deviations from them (chunks of rows x columns)
    reduce_sum(x, n, O, 3, nullptr, batch);
    sp_.launch(O, [=] SP_RL_LAMBDA(long j) { batch[j] /= n; });
    reduce_sum(x, n, O, 4, batch, batch + O);
    sp_.launch(O, [=] SP_RL_LAMBDA(long j) { batch[O + j] /= n; });
    double bn = n;
    if (dist::is_distributed(comm_)) {
      std::vector<double> bmean(O), bvar(O);
      sp_.to_host(bmean.data(), batch, sizeof(double) * O);
      sp_.to_host(bvar.data(), batch + O, sizeof(double) * O);
      bn = merge_batch_over_ranks(*comm_, bn, bmean, bvar);
      sp_.to_space(batch, bmean.data(), sizeof(double) * O);
      sp_.to_space(batch + O, bvar.data(), sizeof(double) * O);
    }
    const double count = norm_count_, total = count + bn, wb = bn / total;
    double* mean = norm_mean_.data();
    double* var = norm_var_.data();
    sp_.launch(O, [=] SP_RL_LAMBDA(long j) {
      const double delta = batch[j] - mean[j];
      mean[j] += delta * wb;
      var[j] = count == 0 ? batch[O + j] : (var[j] * count + batch[O + j] * bn + delta * delta * count * wb) / total;
    });
    norm_count_ = total;
  }

  // y (n, obs_dim) = normalized x (x itself when normalization is off), non-finite values as 0.
  // count_nonfinite: a row with a non-finite value counts in the world's episode sums.
  // cut_truncated (with terminated, rewards): rows of worlds that were not cut by the time
  // limit (or whose reward was not finite) are zeroed instead
  void normalize_rows(const float* x, int n, float* y, const unsigned char* cut_truncated, bool count_nonfinite,
                      const unsigned char* terminated = nullptr, const float* rewards = nullptr) {
    const int O = O_;
    const bool on = cfg_.algorithm.normalize_observations;
    const double eps = norm_eps_;
    const double* mean = norm_mean_.data();
    const double* var = norm_var_.data();
    double* acc = count_nonfinite ? ep_acc_.data() : nullptr;
    sp_.launch(n, [=] SP_RL_LAMBDA(long i) {
      const std::size_t row = static_cast<std::size_t>(i) * O;
      const bool keep = !cut_truncated ||
                        (cut_truncated[i] && !terminated[i] && device_ppo::finite(rewards[i]));
      bool bad = false;
      for (int j = 0; j < O; ++j) {
        float v = x[row + j];
        if (!device_ppo::finite(v)) {
          v = 0.f;
          bad = true;
        }
        if (on) v = (v - static_cast<float>(mean[j])) * static_cast<float>(1.0 / (sqrt(var[j]) + eps));
        y[row + j] = keep ? v : 0.f;
      }
      if (acc && bad) acc[i * device_ppo::kEpCols + device_ppo::kNonfinite] += 1;
    });
  }

  // out (n, out) = net(x (n, in)); hidden activations kept in c for the backward pass
  void mlp_forward(const MlpLayout& m, Net& c, const float* x, int n, float* out) {
    const auto& layers = m.layers();
    const int L = static_cast<int>(layers.size());
    const int act = static_cast<int>(m.activation());
    const float* p = params_.data();
    const float* in = x;
    for (int l = 0; l < L; ++l) {
      const LinearLayout& ly = layers[l];
      const bool last = l + 1 == L;
      float* pre = last ? out : c.pre[l + 1].data();
      float* post = last ? nullptr : c.post[l + 1].data();
      sp_.gemm(false, true, n, ly.out, ly.in, 1.f, in, ly.in, p + ly.weight_offset, ly.in, 0.f, pre, ly.out);
      const float* bias = p + ly.bias_offset;
      const int w = ly.out;
      sp_.launch(static_cast<long>(n) * w, [=] SP_RL_LAMBDA(long e) {
        const float v = pre[e] + bias[e % w];
        pre[e] = v;
        if (post) post[e] = device_ppo::activate(act, v);
      });
      in = post;
    }
  }

  // parameter gradients of net m into grads_ (each of its entries written once) from
  // dout (n, out) = dLoss/doutput, through the activations the forward pass on x kept in c
  void mlp_backward(const MlpLayout& m, Net& c, const float* x, const float* dout, int n) {
    const auto& layers = m.layers();
    const int act = static_cast<int>(m.activation());
    float* g = grads_.data();
    const float* p = params_.data();
    const float* dy = dout;
    for (int l = static_cast<int>(layers.size()) - 1; l >= 0; --l) {
      const LinearLayout& ly = layers[l];
      const float* in = l == 0 ? x : c.post[l].data();
      // dW = dy^T x, db = dy^T 1
      sp_.gemm(true, false, ly.out, ly.in, n, 1.f, dy, ly.out, in, ly.in, 0.f, g + ly.weight_offset, ly.in);
      sp_.gemm(true, false, ly.out, 1, n, 1.f, dy, ly.out, ones_.data(), 1, 0.f, g + ly.bias_offset, 1);
      if (l == 0) break;
      // dx = dy W, then through the activation
      float* dx = dy == d_a_.data() ? d_b_.data() : d_a_.data();
      sp_.gemm(false, false, n, ly.in, ly.out, 1.f, dy, ly.out, p + ly.weight_offset, ly.in, 0.f, dx, ly.in);
      const float* pre = c.pre[l].data();
      const float* post = c.post[l].data();
      sp_.launch(static_cast<long>(n) * ly.in,
                 [=] SP_RL_LAMBDA(long e) { dx[e] *= device_ppo::activation_slope(act, pre[e], post[e]); });
      dy = dx;
    }
  }

  // a = mu + sigma * noise for the step at `row`, with sigma, log pi(a) and a stored
  void sample(const float* mu, std::size_t row, uint64_t key) {
    const int A = A_;
    const float* log_std = params_.data() + layout_.log_std_offset();
    float* act = r_act_.data() + row * A;
    float* sigma = r_sigma_.data() + row * A;
    float* logp = r_logp_.data() + row;
    sp_.launch(N_, [=] SP_RL_LAMBDA(long i) {
      float sum_z2 = 0.f, sum_ls = 0.f;
      for (int j = 0; j < A; ++j) {
        const std::size_t k = static_cast<std::size_t>(i) * A + j;
        const float s = expf(log_std[j]);
        const float a = mu[k] + s * static_cast<float>(device_ppo::counter_normal(key, k));
        const float z = (a - mu[k]) * expf(-log_std[j]);
        act[k] = a;
        sigma[k] = s;
        sum_z2 += z * z;
        sum_ls += log_std[j];
      }
      logp[i] = -0.5f * sum_z2 - (sum_ls + static_cast<float>(kHalfLog2Pi) * static_cast<float>(A));
    });
  }

  // rewards and dones of the step at `row`, and the episode sums
  void record_step(const float* rewards, const unsigned char* terminated, const unsigned char* truncated,
                   std::size_t row) {
    float* rew = r_rew_.data() + row;
    unsigned char* done = r_done_.data() + row;
    double* ep_ret = ep_ret_.data();
    double* ep_len = ep_len_.data();
    double* acc = ep_acc_.data();
    sp_.launch(N_, [=] SP_RL_LAMBDA(long i) {
      using namespace device_ppo;
      float r = rewards[i];
      const bool bad = !finite(r);
      if (bad) r = 0.f;
      const bool d = terminated[i] || truncated[i] || bad;
      rew[i] = r;
      done[i] = d ? 1 : 0;
      double* a = acc + i * kEpCols;
      ep_ret[i] += r;
      ep_len[i] += 1;
      a[kRewardSum] += r;
      if (bad) a[kNonfinite] += 1;
      if (d) {
        a[kFinReturn] += ep_ret[i];
        a[kFinLength] += ep_len[i];
        a[kFinCount] += 1;
        ep_ret[i] = 0;
        ep_len[i] = 0;
      }
    });
  }

  void bootstrap(const float* rewards, const unsigned char* terminated, const unsigned char* truncated,
                 std::size_t row) {
    float* rew = r_rew_.data() + row;
    const float* v = x_val_.data();
    const float gamma = static_cast<float>(cfg_.algorithm.gamma);
    sp_.launch(N_, [=] SP_RL_LAMBDA(long i) {
      if (truncated[i] && !terminated[i] && device_ppo::finite(rewards[i])) rew[i] += gamma * v[i];
    });
  }

  // GAE (compute_gae's recursion), one thread per world over the steps; x_val_ holds V(last obs)
  void gae() {
    const int T = T_, N = N_;
    const double gamma = cfg_.algorithm.gamma, lam = cfg_.algorithm.lam;
    const float* rewards = r_rew_.data();
    const unsigned char* dones = r_done_.data();
    const float* values = r_val_.data();
    const float* last = x_val_.data();
    float* adv = r_adv_.data();
    float* ret = r_ret_.data();
    sp_.launch(N, [=] SP_RL_LAMBDA(long n) {
      double g = 0;
      for (int t = T - 1; t >= 0; --t) {
        const std::size_t i = static_cast<std::size_t>(t) * N + n;
        const double next_value = t == T - 1 ? last[n] : values[i + N];
        const double not_done = dones[i] ? 0.0 : 1.0;
        const double delta = rewards[i] + gamma * next_value * not_done - values[i];
        g = delta + gamma * lam * not_done * g;
        ret[i] = static_cast<float>(g + values[i]);
        adv[i] = static_cast<float>(g);
      }
    });
  }

  // advantages <- (advantages - mean) / (std + 1e-8), Bessel's std (normalize_advantages)
  void normalize_advantages() {
    using namespace device_ppo;
    const long n = static_cast<long>(T_) * N_;
    double* s = slots_.data();
    float* adv = r_adv_.data();
    const bool multi = dist::is_distributed(comm_);
    reduce_sum(adv, n, 1, 0, nullptr, s + kAdvMean);
    double total = static_cast<double>(n);  // samples over every rank
    if (multi) {
      double sums[2] = {0.0, total};
      sp_.to_host(&sums[0], s + kAdvMean, sizeof(double));
      comm_->allreduce_sum(sums, 2);
      total = sums[1];
      sp_.to_space(s + kAdvMean, &sums[0], sizeof(double));
    }
    sp_.launch(1, [=] SP_RL_LAMBDA(long) { s[kAdvMean] /= total; });
    reduce_sum(adv, n, 1, 2, s + kAdvMean, s + kAdvSq);
    if (multi) all_ranks_sum(s + kAdvSq, 1);
    sp_.launch(n, [=] SP_RL_LAMBDA(long i) {
      const double var = s[kAdvSq] / (total > 1 ? total - 1.0 : 1.0);
      adv[i] = static_cast<float>((adv[i] - s[kAdvMean]) * (1.0 / (sqrt(var) + 1e-8)));
    });
  }

  // out[k] = sum over rows i < n of f(src[i K + k]), k < K, in double: f(x) = x (mode 0), x^2
  // (mode 1), (x - center[k])^2 (mode 2); modes 3 and 4 are 0 and 2 with non-finite x taken as 0.
  // Fixed chunks of rows, then the chunks in order
  template <class T>
  void reduce_sum(const T* src, long n, int K, int mode, const double* center, double* out) {
    const long C = (n + kChunk - 1) / kChunk;
    double* part = partial_.data();
    const long chunk = kChunk;
    sp_.launch(C * K, [=] SP_RL_LAMBDA(long ck) {
      const long c = ck / K;
      const int k = static_cast<int>(ck % K);
      const long hi = c * chunk + chunk < n ? c * chunk + chunk : n;
      const double ctr = mode == 2 || mode == 4 ? center[k] : 0.0;
      double s = 0;
      for (long i = c * chunk; i < hi; ++i) {
        double x = static_cast<double>(src[i * K + k]);
        if (mode >= 3 && x - x != 0.0) x = 0.0;
        if (mode == 1) x *= x;
        if (mode == 2 || mode == 4) x = (x - ctr) * (x - ctr);
        s += x;
      }
      part[ck] = s;
    });
    sp_.launch(K, [=] SP_RL_LAMBDA(long k) {
      double s = 0;
      for (long c = 0; c < C; ++c) s += part[c * K + k];
      out[k] = s;
    });
  }

  // slots[0..k) <- their sum over the ranks, times scale (collective)
  void all_ranks_sum(double* slots, int k, double scale = 1.0) {
    double v[device_ppo::kNumSlots];
    sp_.to_host(v, slots, sizeof(double) * k);
    comm_->allreduce_sum(v, k);
    for (int i = 0; i < k; ++i) v[i] *= scale;
    sp_.to_space(slots, v, sizeof(double) * k);
  }

  // the minibatch rows idx[0..n) of the rollout into b_*
  void gather(const uint32_t* idx, int n) {
    const int O = O_, A = A_;
    const float *obs = r_obs_.data(), *act = r_act_.data(), *mu = r_mu_.data(), *sigma = r_sigma_.data();
    const float *logp = r_logp_.data(), *val = r_val_.data(), *adv = r_adv_.data(), *ret = r_ret_.data();
    float *b_obs = b_obs_.data(), *b_act = b_act_.data(), *b_mu = b_mu_.data(), *b_sigma = b_sigma_.data();
    float *b_logp = b_logp_.data(), *b_val = b_val_.data(), *b_adv = b_adv_.data(), *b_ret = b_ret_.data();
    sp_.launch(n, [=] SP_RL_LAMBDA(long k) {
      const std::size_t i = idx[k];
      for (int j = 0; j < O; ++j) b_obs[k * O + j] = obs[i * O + j];
      for (int j = 0; j < A; ++j) {
        b_act[k * A + j] = act[i * A + j];
        b_mu[k * A + j] = mu[i * A + j];
        b_sigma[k * A + j] = sigma[i * A + j];
      }
      b_logp[k] = logp[i];
      b_val[k] = val[i];
      b_adv[k] = adv[i];
      b_ret[k] = ret[i];
    });
  }

  // the PPO loss of the gathered minibatch: per sample, its gradient w.r.t. mu (d_mu_), the
  // value (d_val_) and the log-std rows (d_ls_), and its surrogate, value and KL terms (terms_)
  // (ppo_loss and gaussian_kl's formulas)
  void loss_rows(int n) {
    const int A = A_;
    const float inv_n = 1.f / static_cast<float>(n);
    const float eps = static_cast<float>(cfg_.algorithm.clip_param);
    const float vcoef = static_cast<float>(cfg_.algorithm.value_loss_coef);
    const bool clipped = cfg_.algorithm.use_clipped_value_loss;
    const float* log_std = params_.data() + layout_.log_std_offset();
    const float *mu = x_mu_.data(), *value = x_val_.data();
    const float *act = b_act_.data(), *old_mu = b_mu_.data(), *old_sigma = b_sigma_.data();
    const float *old_logp = b_logp_.data(), *old_v = b_val_.data(), *adv = b_adv_.data(), *ret = b_ret_.data();
    float *dmu = d_mu_.data(), *dls = d_ls_.data(), *dval = d_val_.data(), *terms = terms_.data();
    sp_.launch(n, [=] SP_RL_LAMBDA(long i) {
      const std::size_t r = static_cast<std::size_t>(i) * A;
      float sum_z2 = 0.f, sum_ls = 0.f, kl = 0.f;
      for (int j = 0; j < A; ++j) {
        const float z = (act[r + j] - mu[r + j]) * expf(-log_std[j]);
        sum_z2 += z * z;
        sum_ls += log_std[j];
        const float sigma = expf(log_std[j]);
        const float dm = old_mu[r + j] - mu[r + j];
        kl += (log_std[j] - logf(old_sigma[r + j])) +
              (old_sigma[r + j] * old_sigma[r + j] + dm * dm) * (0.5f / (sigma * sigma)) - 0.5f;
      }
      const float logp = -0.5f * sum_z2 - (sum_ls + static_cast<float>(kHalfLog2Pi) * static_cast<float>(A));
      // clipped surrogate
      const float ratio = expf(logp - old_logp[i]);
      const float rc = fminf(fmaxf(ratio, 1.f - eps), 1.f + eps);
      const float surr = -adv[i] * ratio, surr_c = -adv[i] * rc;
      const float dlogp = surr >= surr_c ? surr * inv_n : 0.f;
      // value loss
      const float v = value[i], dv = v - old_v[i], err = v - ret[i];
      float vloss, dvalue;
      if (clipped) {
        const float err_c = (old_v[i] + fminf(fmaxf(dv, -eps), eps)) - ret[i];
        const float sq = err * err, sq_c = err_c * err_c;
        vloss = fmaxf(sq, sq_c);
        dvalue = (sq >= sq_c ? 2.f * err : 2.f * err_c * (fabsf(dv) < eps ? 1.f : 0.f)) * inv_n;
      } else {
        vloss = err * err;
        dvalue = err * (2.f * inv_n);
      }
      dval[i] = dvalue * vcoef;
      // through the Gaussian head
      for (int j = 0; j < A; ++j) {
        const float inv_s = expf(-log_std[j]);
        const float z = (act[r + j] - mu[r + j]) * inv_s;
        dmu[r + j] = z * inv_s * dlogp;
        dls[r + j] = (z * z - 1.f) * dlogp;
      }
      terms[i * 3 + 0] = fmaxf(surr, surr_c);
      terms[i * 3 + 1] = vloss;
      terms[i * 3 + 2] = kl;
    });
  }

  // one PPO step on the minibatch rows idx[0..n): loss, gradient, learning rate, clipping, Adam
  void minibatch_step(const uint32_t* idx, int n) {
    using namespace device_ppo;
    const auto& a = cfg_.algorithm;
    gather(idx, n);
    mlp_forward(layout_.actor(), actor_, b_obs_.data(), n, x_mu_.data());
    mlp_forward(layout_.critic(), critic_, b_obs_.data(), n, x_val_.data());
    loss_rows(n);
    mlp_backward(layout_.actor(), actor_, b_obs_.data(), d_mu_.data(), n);
    mlp_backward(layout_.critic(), critic_, b_obs_.data(), d_val_.data(), n);
    // log-std: the column sums of its rows, then the entropy bonus (d entropy / d log_std = 1)
    const int A = A_;
    float* g_ls = grads_.data() + layout_.log_std_offset();
    sp_.gemm(true, false, A, 1, n, 1.f, d_ls_.data(), A, ones_.data(), 1, 0.f, g_ls, 1);
    const float ent = static_cast<float>(-a.entropy_coef);
    sp_.launch(A, [=] SP_RL_LAMBDA(long j) { g_ls[j] = ent + g_ls[j]; });
    // the minibatch's loss terms and KL, the gradient norm
    double* s = slots_.data();
    reduce_sum(terms_.data(), n, 3, 0, nullptr, s + kMbSurrogate);
    if (dist::is_distributed(comm_)) {
      // the mean over ranks of each rank's minibatch mean (all of one size): the gradient of the
      // global minibatch, and its loss sums (the sums over ranks, divided by their count)
      std::vector<float> g(P_);
      sp_.to_host(g.data(), grads_.data(), sizeof(float) * P_);
      comm_->allreduce_sum(g.data(), g.size());
      const float inv = static_cast<float>(1.0 / comm_->size());
      for (float& x : g) x *= inv;
      sp_.to_space(grads_.data(), g.data(), sizeof(float) * P_);
      all_ranks_sum(s + kMbSurrogate, 3, 1.0 / comm_->size());
    }
    reduce_sum(grads_.data(), static_cast<long>(P_), 1, 1, nullptr, s + kGradNormSq);
    // learning rate from this minibatch's KL (before the step), and the update's sums
    const float* log_std = params_.data() + layout_.log_std_offset();
    const bool adaptive = a.schedule == "adaptive";
    const double desired = a.desired_kl, lr_min = a.min_learning_rate, lr_max = a.max_learning_rate;
    sp_.launch(1, [=] SP_RL_LAMBDA(long) {
      const double inv = 1.0 / n;
      const double kl = s[kMbKl] * inv;
      s[kLr] = adaptive_learning_rate(adaptive, desired, lr_min, lr_max, s[kLr], kl);
      float entropy = 0.f;
      for (int j = 0; j < A; ++j) entropy += log_std[j] + static_cast<float>(0.5 + kHalfLog2Pi);
      s[kSumSurrogate] += s[kMbSurrogate] * inv;
      s[kSumValue] += s[kMbValue] * inv;
      s[kSumEntropy] += entropy;
      s[kSumKl] += kl;
      s[kSumGradNorm] += sqrt(s[kGradNormSq]);
    });
    // clip the global norm to max_grad_norm, then Adam (clip_grad_norm and Adam::step)
    ++adam_t_;
    const double bc1 = 1.0 - std::pow(a.adam_beta1, static_cast<double>(adam_t_));
    const double bc2 = 1.0 - std::pow(a.adam_beta2, static_cast<double>(adam_t_));
    const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
    const float b1 = static_cast<float>(a.adam_beta1), b2 = static_cast<float>(a.adam_beta2);
    const float adam_eps = static_cast<float>(a.adam_eps);
    const double max_norm = a.max_grad_norm;
    float *p = params_.data(), *g = grads_.data(), *m = adam_m_.data(), *v = adam_v_.data();
    sp_.launch(static_cast<long>(P_), [=] SP_RL_LAMBDA(long i) {
      const double coef = max_norm / (sqrt(s[kGradNormSq]) + 1e-6);
      float gi = g[i];
      if (coef < 1.0) gi *= static_cast<float>(coef);
      const float step_size = static_cast<float>(s[kLr] / bc1);
      m[i] = b1 * m[i] + (1.f - b1) * gi;
      v[i] = b2 * v[i] + (1.f - b2) * gi * gi;
      p[i] -= step_size * m[i] / (sqrtf(v[i]) * inv_sqrt_bc2 + adam_eps);
    });
  }

  // deterministic actions and/or values of n host observations, R_ rows at a time
  void infer(const float* obs, float* actions, float* values, int n) {
    for (int lo = 0; lo < n; lo += R_) {
      const int k = std::min(R_, n - lo);
      sp_.to_space(in_obs_.data(), obs + static_cast<std::size_t>(lo) * O_, sizeof(float) * k * O_);
      normalize_rows(in_obs_.data(), k, x_obs_.data(), nullptr, false);
      if (actions) {
        mlp_forward(layout_.actor(), actor_, x_obs_.data(), k, in_out_.data());
        sp_.to_host(actions + static_cast<std::size_t>(lo) * A_, in_out_.data(), sizeof(float) * k * A_);
      }
      if (values) {
        mlp_forward(layout_.critic(), critic_, x_obs_.data(), k, in_out_.data());
        sp_.to_host(values + lo, in_out_.data(), sizeof(float) * k);
      }
    }
  }

 private:
  static constexpr long kChunk = 1024;  // rows per partial sum

  Space sp_;
  PpoConfig cfg_;
  ActorCriticLayout layout_;
  Rng rng_;  // host: minibatch permutations and the per-step sampling keys
  int N_ = 0, O_ = 0, A_ = 0, T_ = 0, mb_ = 0;
  int R_ = 0;  // rows of the scratch arrays: max(num_envs, minibatch)
  int W_ = 0;  // widest layer
  std::size_t P_ = 0;
  int step_ = 0;
  bool returns_ready_ = false;
  int64_t adam_t_ = 0;
  double norm_count_ = 0, norm_eps_ = 1e-2;

  Arr<float> params_, grads_, adam_m_, adam_v_;  // (P)
  Arr<double> norm_mean_, norm_var_;             // (obs_dim)
  Arr<double> norm_batch_;                       // (2, obs_dim) a batch's mean and variance
  dist::Communicator* comm_ = nullptr;           // data-parallel ranks (nullptr: one process)
  // the rollout, (T, N, ...) step-major as RolloutStorage
  Arr<float> r_obs_, r_act_, r_mu_, r_sigma_, r_logp_, r_val_, r_rew_, r_ret_, r_adv_;
  Arr<unsigned char> r_done_;
  // host API staging
  Arr<float> in_obs_, in_out_, in_rew_, in_final_;
  Arr<unsigned char> in_term_, in_trunc_;
  // scratch: normalized observations, critic values, actor means (R rows)
  Arr<float> x_obs_, x_val_, x_mu_;
  Net actor_, critic_;
  // backward: ping-pong gradients (R, W), loss gradients, loss terms, a column of ones
  Arr<float> d_a_, d_b_, d_mu_, d_ls_, d_val_, terms_, ones_;
  // the gathered minibatch
  Arr<float> b_obs_, b_act_, b_mu_, b_sigma_, b_logp_, b_val_, b_adv_, b_ret_;
  Arr<uint32_t> perm_;
  Arr<double> partial_, slots_;
  Arr<double> ep_ret_, ep_len_, ep_acc_;  // running episodes; (N, kEpCols) sums
  mutable RolloutStorage mirror_;         // host_storage()'s copy
};

}  // namespace stampede::rl
