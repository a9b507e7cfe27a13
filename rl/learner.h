// rl/learner.h — the PPO learner API, one interface for every backend (CPU: rl/ppo_cpu.cpp;
// CUDA: rl/ppo_device.inl over cuBLAS, behind the same calls plus a device API). One iteration,
// as rsl_rl runs it:
//
//   for step in 0 .. num_steps_per_env-1:
//     learner.act(obs, actions);                        // sample, record the transition
//     env.step(actions, obs, reward, terminated, truncated, final_obs);
//     learner.process_env_step(reward, terminated, truncated, final_obs);
//   learner.compute_returns(obs);                       // GAE
//   stats = learner.update();                           // epochs x minibatches of PPO
//
// Arrays are host arrays, row-major (num_envs, dim); a device backend copies them or, when the
// env lives on the same device, takes them in place (the runner never touches them).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "rl/actor_critic.h"
#include "rl/config.h"
#include "rl/dist/communicator.h"
#include "rl/storage.h"

namespace stampede::rl {

// means over the minibatches of one update
struct UpdateStats {
  double surrogate_loss = 0;
  double value_loss = 0;
  double entropy = 0;
  double kl = 0;             // KL(old || new) measured before each minibatch step
  double learning_rate = 0;  // after the update (the adaptive schedule moves it)
  double action_std = 0;     // mean policy std after the update
  double grad_norm = 0;      // mean global gradient norm before clipping
};

// everything a checkpoint needs to continue bit-identically
struct LearnerState {
  std::vector<ParamTensor> tensors;     // names and shapes of the flat parameter vector
  std::vector<float> params;            // (num_params) actor, critic, log_std
  std::vector<float> adam_exp_avg;      // (num_params) Adam first moment
  std::vector<float> adam_exp_avg_sq;   // (num_params) Adam second moment
  int64_t adam_step = 0;                // Adam steps taken
  double learning_rate = 0;             // current (adaptive) learning rate
  std::vector<double> obs_mean, obs_var;  // (obs_dim) observation normalizer
  double obs_count = 0;                 // samples merged into the normalizer
  double obs_eps = 1e-2;                // normalizer: y = (x - mean) / (sqrt(var) + obs_eps)
  std::array<uint64_t, 4> rng{};        // sampling / minibatch RNG state
};

class PpoLearner {
 public:
  virtual ~PpoLearner() = default;
  virtual std::string device() const = 0;
  virtual int num_envs() const = 0;
  virtual int obs_dim() const = 0;
  virtual int act_dim() const = 0;
  virtual const ActorCriticLayout& layout() const = 0;

  // rollout: obs (num_envs, obs_dim) -> sampled actions (num_envs, act_dim); records the
  // transition (normalized obs, action, mean, std, log-prob, value) and updates the normalizer
  virtual void act(const float* obs, float* actions) = 0;
  // rewards, terminated, truncated (num_envs), final_obs (num_envs, obs_dim) of env.step; time-outs
  // are bootstrapped: reward += gamma V(final_obs) where truncated
  virtual void process_env_step(const float* rewards, const unsigned char* terminated,
                                const unsigned char* truncated, const float* final_obs) = 0;
  // after a full rollout: GAE with V(last_obs) (num_envs, obs_dim) as the bootstrap
  virtual void compute_returns(const float* last_obs) = 0;
  // PPO epochs x minibatches over the rollout; clears it
  virtual UpdateStats update() = 0;

  // deterministic policy (the mean action) for n observations (n, obs_dim); no state changes
  virtual void act_inference(const float* obs, float* actions, int n) = 0;
  // critic value of n observations (n, obs_dim)
  virtual void evaluate(const float* obs, float* values, int n) = 0;

  virtual LearnerState state() const = 0;
  virtual void load_state(const LearnerState& s) = 0;

  // data-parallel training (rl/dist): from now on the observation statistics, the advantage
  // normalization, every minibatch gradient and its KL are reduced over comm's ranks (each
  // rank's minibatch is its share of the global one), and the state is taken from rank 0 now and
  // after every load_state (the sampling RNG of rank r > 0 derived from rank 0's). Collective:
  // every rank calls it. comm must outlive the learner; nullptr: single process
  virtual void set_communicator(dist::Communicator* comm) {
    if (dist::is_distributed(comm))
      throw std::logic_error("the " + device() + " learner has no data-parallel support");
  }

  // the rollout as host arrays, for tests and inspection (a device learner copies it back)
  virtual const RolloutStorage* host_storage() const { return nullptr; }
  // tests: replace the rollout (before compute_returns: obs, actions, mu, sigma, log_prob,
  // values, rewards, dones, and the step count) with a host one of the same shape
  virtual void set_rollout(const RolloutStorage& r) {
    (void)r;
    throw std::logic_error("the " + device() + " learner cannot load a rollout");
  }

  // The device API. A learner whose arrays live in a memory space (the CUDA learner: "cuda";
  // its code run on the CPU by the tests: "host") takes the env's arrays in that same space, so
  // a rollout on a device-resident env never leaves the device. nullptr: no device API.
  virtual const char* array_space() const { return nullptr; }
  // act() on obs (num_envs, obs_dim) in the space; returns the sampled actions (num_envs,
  // act_dim) in the space, valid until the next act
  virtual const float* act_device(const float* obs) {
    (void)obs;
    throw std::logic_error("the " + device() + " learner has no device API");
  }
  // process_env_step() on arrays in the space. A non-finite reward counts as a non-finite
  // world, is zeroed and ends the episode
  virtual void process_env_step_device(const float* rewards, const unsigned char* terminated,
                                       const unsigned char* truncated, const float* final_obs) {
    (void)rewards, (void)terminated, (void)truncated, (void)final_obs;
    throw std::logic_error("the " + device() + " learner has no device API");
  }
  virtual void compute_returns_device(const float* last_obs) {
    (void)last_obs;
    throw std::logic_error("the " + device() + " learner has no device API");
  }
  // the episodes that ended since the last call (through process_env_step or its device twin),
  // summed over the worlds in the space and brought to the host once
  struct EpisodeSums {
    double return_sum = 0, length_sum = 0, count = 0;  // finished episodes
    double reward_sum = 0;                             // every reward recorded
    double nonfinite = 0;                              // non-finite observations or rewards zeroed
  };
  virtual EpisodeSums take_episode_sums() { throw std::logic_error("the " + device() + " learner has no device API"); }
};

// data-parallel (set_communicator, load_state): rank 0's state `mine` on every rank, the
// sampling RNG of rank r > 0 derived from rank 0's. `shape` (parameter count, rollout and
// minibatch sizes, ...) must be equal on every rank; ranks whose shapes differ would reduce
// mismatched buffers, so all of them throw (collective)
LearnerState state_from_root(dist::Communicator& comm, LearnerState mine, const std::vector<double>& shape);

// the learning rate after a minibatch whose policy moved `kl` away from the sampling policy:
// schedule "adaptive" divides it by 1.5 when kl > 2 desired_kl and multiplies it by 1.5 when
// 0 < kl < desired_kl / 2, within [min_learning_rate, max_learning_rate]; "fixed" keeps it
double scheduled_learning_rate(const AlgorithmConfig& a, double lr, double kl);

// the learner for cfg.runner.device ("cpu"; "cuda" throws a clear error without a GPU or in a
// build without CUDA)
std::unique_ptr<PpoLearner> make_learner(const PpoConfig& cfg, int num_envs, int obs_dim, int act_dim);
std::unique_ptr<PpoLearner> make_cpu_learner(const PpoConfig& cfg, int num_envs, int obs_dim, int act_dim);
// the CUDA learner (rl/ppo_device.inl over rl/cuda_learn_space.cuh; builds with CUDA only)
std::unique_ptr<PpoLearner> make_cuda_learner(const PpoConfig& cfg, int num_envs, int obs_dim, int act_dim);
// the CUDA learner's code over host memory (HostLearnSpace): what the tests run without a GPU.
// reverse_order runs every launch's indices backwards
std::unique_ptr<PpoLearner> make_host_space_learner(const PpoConfig& cfg, int num_envs, int obs_dim, int act_dim,
                                                    bool reverse_order = false);

// whether a CUDA device can run the learner; otherwise *why says what is missing
bool cuda_available(std::string* why);

// one GPU per rank on a machine: device local_rank % (device count) made current for the
// calling thread, before the rank allocates on it (the NCCL communicator picks the same one).
// Returns the device, or -1 when there is none (--device cuda then says why)
int select_cuda_device(int local_rank);

}  // namespace stampede::rl
