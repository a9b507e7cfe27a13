// sim/tasks/locomotion_env.cpp — LocomotionEnv: the host side of the task. Each stage is one
// per-world function from locomotion_kernels.h run over all worlds (for_each_world); only the
// backend calls and the bookkeeping of which worlds ended run here.
#include "sim/tasks/locomotion_env.h"

#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "kernels/launch.h"

namespace stampede::sim::tasks {

// the host stand-in for a kernel launch: fn(w) for every world, in blocks of worlds spread over
// the pool. A world's functions take about a microsecond, so a block is large enough to outweigh
// handing it to a thread; one block runs on the caller.
template <class Real>
template <class F>
void LocomotionEnv<Real>::for_each_world(F&& fn) {
  constexpr int kBlock = 64;
  const int nblock = (nworld_ + kBlock - 1) / kBlock;
  if (!pool_ || nblock == 1) {
    for (int w = 0; w < nworld_; ++w) fn(w);
    return;
  }
  pool_->run(nblock, [&](int b, int) {
    const int end = std::min(nworld_, (b + 1) * kBlock);
    for (int w = b * kBlock; w < end; ++w) fn(w);
  });
}

template <class Real>
LocomotionEnv<Real>::~LocomotionEnv() = default;

template <class Real>
LocomotionEnv<Real>::LocomotionEnv(std::unique_ptr<Backend<Real>> backend, robot::RobotSpec spec,
                                   TaskConfig cfg, uint64_t seed, int nthread)
    : backend_(std::move(backend)), spec_(std::move(spec)), cfg_(std::move(cfg)) {
  if (!backend_) throw std::invalid_argument("LocomotionEnv: no backend");
  const mjModel* m = backend_->mj_model();
  if (!m) throw std::invalid_argument("LocomotionEnv: backend '" + backend_->name() + "' has no model");
  nworld_ = backend_->nworld();
  if (nworld_ < 1) throw std::invalid_argument("LocomotionEnv: num_envs must be >= 1");
  if (backend_->contact_capacity() < 1)
    throw std::invalid_argument("LocomotionEnv: backend '" + backend_->name() +
                                "' keeps no contacts (contact_capacity 0); walking needs ground contact");
  storage_ = build_task_model<Real>(m, spec_, cfg_);
  model_ = storage_.view();
  params_ = make_task_params<Real>(m, spec_, cfg_);
  contract_hash_ = robot::contract_hash(spec_);
  if (params_.randomize) {
    geom_friction_ = backend_->model_field("geom_friction");
    body_mass_ = backend_->model_field("body_mass");
  }
  allocate();
  this->seed(seed);
  if (nthread != 1) pool_ = std::make_unique<kern::ThreadPool>(nthread);
  last_nan_resets_.assign(nworld_, 0);
  for (int w = 0; w < nworld_; ++w) last_nan_resets_[w] = backend_->warnings()[w].nan_reset;
}

template <class Real>
void LocomotionEnv<Real>::allocate() {
  const long nw = nworld_, na = model_.na, nf = model_.nfeet, h = model_.hist_len;
  const long real_sizes[] = {4, na, na, h * na, na, na, na, nf, 3 * nf, na, na, na, kBaseStride,
                             nf + 2, kNumRewardTerms, 1};
  long total = 0;
  for (long s : real_sizes) total += s * nw;
  real_buf_.assign(total, Real(0));
  Real* p = real_buf_.data();
  Real** fields[] = {&data_.commands,      &data_.actions,       &data_.prev_actions,
                     &data_.action_hist,   &data_.targets,       &data_.torques,
                     &data_.dof_vel_prev,  &data_.feet_air_time, &data_.feet_pos_prev,
                     &data_.motor_strength, &data_.kp_scale,     &data_.kd_scale,
                     &data_.base,          &data_.contact,       &data_.reward_terms,
                     &data_.reward};
  for (size_t i = 0; i < std::size(fields); ++i) {
    *fields[i] = p;
    p += real_sizes[i] * nw;
  }
  int_buf_.assign(2 * nw, 0);
  data_.episode_step = int_buf_.data();
  data_.latency = int_buf_.data() + nw;
  byte_buf_.assign((nf + 2) * nw, 0);
  data_.feet_last_contact = byte_buf_.data();
  data_.terminated = byte_buf_.data() + nf * nw;
  data_.truncated = byte_buf_.data() + (nf + 1) * nw;
  rng_buf_.assign(nw, 0);
  data_.rng = rng_buf_.data();
  episode_sums_.assign(nw * kNumRewardTerms, 0.0);
}

template <class Real>
SimView<Real> LocomotionEnv<Real>::sim_view() {
  SimView<Real> s;
  Backend<Real>& b = *backend_;
  s.qpos = b.qpos();
  s.qvel = b.qvel();
  s.ctrl = b.ctrl();
  s.xpos = b.xpos();
  s.ncon = b.ncon();
  s.con_geom = b.con_geom();
  s.con_force = b.con_force();
  s.contact_capacity = b.contact_capacity();
  s.geom_friction = geom_friction_;
  s.body_mass = body_mass_;
  return s;
}

template <class Real>
void LocomotionEnv<Real>::reset_worlds(const std::vector<int>& worlds) {
  if (worlds.empty()) return;
  backend_->reset(worlds.data(), static_cast<int>(worlds.size()));
  SimView<Real> s = sim_view();
  for (int w : worlds) {
    reset_world(w, model_, params_, s, data_);
    std::fill_n(episode_sums_.begin() + static_cast<long>(w) * kNumRewardTerms, kNumRewardTerms, 0.0);
    last_nan_resets_[w] = backend_->warnings()[w].nan_reset;
  }
}

template <class Real>
void LocomotionEnv<Real>::reset(float* obs) {
  std::vector<int> all(nworld_);
  for (int w = 0; w < nworld_; ++w) all[w] = w;
  reset_worlds(all);
  finished_.clear();
  observe(obs);
}

template <class Real>
void LocomotionEnv<Real>::observe(float* obs) {
  SimView<Real> s = sim_view();
  for_each_world([&](int w) {
    base_state_world(w, model_, s, data_);
    observation_world(w, model_, params_, s, data_, obs);
  });
}

template <class Real>
void LocomotionEnv<Real>::step(const float* actions, float* obs, float* reward,
                               unsigned char* terminated, unsigned char* truncated, float* final_obs) {
  const TaskModel<Real>& m = model_;
  const TaskParams<Real>& p = params_;
  TaskData<Real> d = data_;

  // actions -> PD targets, then decimation physics steps with the PD law at each
  for_each_world([&](int w) { process_actions_world(w, m, p, actions, d); });
  for (int k = 0; k < spec_.decimation; ++k) {
    SimView<Real> s = sim_view();
    const bool last = k == spec_.decimation - 1;
    for_each_world([&](int w) {
      if (last) save_feet_world(w, m, s, d);
      pd_torque_world(w, m, s, d);
    });
    backend_->step(1);
  }

  // derived state, terminations, rewards, observations
  SimView<Real> s = sim_view();
  const WorldWarnings* warn = backend_->warnings();
  for_each_world([&](int w) {
    d.episode_step[w] += 1;
    base_state_world(w, m, s, d);
    heading_to_yaw_rate_world(w, p, d);
    contact_state_world(w, m, p, s, d);
    termination_world(w, m, p, d);
    // a world the backend had to reset (NaN state) ended in a fall
    if (warn[w].nan_reset != last_nan_resets_[w]) {
      last_nan_resets_[w] = warn[w].nan_reset;
      d.terminated[w] = 1;
      d.truncated[w] = 0;
    }
    rewards_world(w, m, p, s, d);
    observation_world(w, m, p, s, d, obs);
  });

  // statistics, final observations, then automatic resets of the worlds that ended
  done_.clear();
  finished_.clear();
  std::fill(std::begin(mean_terms_), std::end(mean_terms_), 0.0);
  mean_reward_ = 0;
  for (int w = 0; w < nworld_; ++w) {
    mean_reward_ += d.reward[w];
    for (int t = 0; t < kNumRewardTerms; ++t) {
      const double v = d.reward_terms[w * kNumRewardTerms + t];
      mean_terms_[t] += v;
      episode_sums_[static_cast<long>(w) * kNumRewardTerms + t] += v;
    }
    reward[w] = static_cast<float>(d.reward[w]);
    terminated[w] = d.terminated[w];
    truncated[w] = d.truncated[w];
    if (d.terminated[w] || d.truncated[w]) {
      done_.push_back(w);
      if (final_obs)
        std::memcpy(final_obs + static_cast<long>(w) * m.obs_dim, obs + static_cast<long>(w) * m.obs_dim,
                    sizeof(float) * m.obs_dim);
      finished_.push_back(d.episode_step[w]);
      for (int t = 0; t < kNumRewardTerms; ++t)
        finished_.push_back(episode_sums_[static_cast<long>(w) * kNumRewardTerms + t]);
    } else if (d.episode_step[w] % p.resample_steps == 0) {
      sample_commands_world(w, p, d);
    }
  }
  for (double& v : mean_terms_) v /= nworld_;
  mean_reward_ /= nworld_;

  reset_worlds(done_);
  s = sim_view();
  for (int w : done_) observation_world(w, m, p, s, d, obs);
  for_each_world([&](int w) { push_world(w, m, p, s, d); });
}

template <class Real>
void LocomotionEnv<Real>::seed(uint64_t seed) {
  for (int w = 0; w < nworld_; ++w) data_.rng[w] = rng_seed_world(seed, w);
}

template <class Real>
std::vector<std::pair<std::string, int>> LocomotionEnv<Real>::observation_terms() const {
  std::vector<std::pair<std::string, int>> out;
  for (const auto& t : spec_.observation) out.emplace_back(t.term, t.size);
  return out;
}

template <class Real>
bool LocomotionEnv<Real>::render_qpos(int world, double* qpos) const {
  const mjModel* m = backend_->mj_model();
  if (!m || world < 0 || world >= nworld_) return false;
  const Real* q = backend_->qpos() + static_cast<std::size_t>(world) * m->nq;
  for (int i = 0; i < m->nq; ++i) qpos[i] = static_cast<double>(q[i]);
  return true;
}

template <class Real>
std::vector<std::string> LocomotionEnv<Real>::reward_term_names() const {
  std::vector<std::string> names;
  for (int t = 0; t < kNumRewardTerms; ++t) names.push_back(reward_term_name(t));
  return names;
}

template <class Real>
void LocomotionEnv<Real>::reward_terms_out(float* out) const {
  const long n = static_cast<long>(nworld_) * kNumRewardTerms;
  for (long i = 0; i < n; ++i) out[i] = static_cast<float>(data_.reward_terms[i]);
}

template <class Real>
std::map<std::string, double> LocomotionEnv<Real>::step_stats() const {
  std::map<std::string, double> out;
  for (int t = 0; t < kNumRewardTerms; ++t) out[std::string("reward/") + reward_term_name(t)] = mean_terms_[t];
  out["reward/total"] = mean_reward_;
  const int stride = 1 + kNumRewardTerms;
  const int n = static_cast<int>(finished_.size()) / stride;
  out["episode/finished"] = n;
  // the engine's per-world warning counters, summed over worlds (cumulative since construction):
  // NaN/Inf or exploding-qacc resets and contact/constraint capacity overflows
  const WorldWarnings* warn = backend_->warnings();
  double nan_resets = 0, contact_overflow = 0, constraint_overflow = 0;
  for (int w = 0; w < nworld_; ++w) {
    nan_resets += warn[w].nan_reset;
    contact_overflow += warn[w].contact_overflow;
    constraint_overflow += warn[w].constraint_overflow;
  }
  out["warnings/nan_resets"] = nan_resets;
  out["warnings/contact_overflow"] = contact_overflow;
  out["warnings/constraint_overflow"] = constraint_overflow;
  if (n > 0) {
    double len = 0;
    std::vector<double> sums(kNumRewardTerms, 0.0);
    for (int e = 0; e < n; ++e) {
      len += finished_[e * stride];
      for (int t = 0; t < kNumRewardTerms; ++t) sums[t] += finished_[e * stride + 1 + t];
    }
    out["episode/length_s"] = len / n * spec_.control_period;
    for (int t = 0; t < kNumRewardTerms; ++t)
      out[std::string("episode/") + reward_term_name(t)] = sums[t] / n;
  }
  return out;
}

template class LocomotionEnv<float>;
template class LocomotionEnv<double>;

}  // namespace stampede::sim::tasks
