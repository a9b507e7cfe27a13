// sim/tasks/locomotion_device_env.inl — DeviceLocomotionEnv's definition, included by the
// translation unit of each memory space: locomotion_device_env_host.cpp (HostSpace) and
// locomotion_device_env.cu (CudaSpace). Each stage copies what it reads into locals and launches
// one lambda over worlds; the lambdas are __device__ under nvcc.
#pragma once

#include <mujoco/mujoco.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <stdexcept>

#include "sim/tasks/locomotion_device_env.h"

#if defined(__CUDACC__)
#define SP_TASK_LAMBDA __device__
#else
#define SP_TASK_LAMBDA
#endif

namespace stampede::sim::tasks {

namespace device_env_detail {

// the TaskModel's arrays packed into one buffer of the space; returns the view into it
template <class Real, class Space>
TaskModel<Real> upload_task_model(Space& space, const TaskModelStorage<Real>& st, SpaceBuffer<Space>& buf) {
  TaskModel<Real> v = st.view();
  std::vector<unsigned char> staged;
  std::vector<std::function<void(unsigned char*)>> fixups;  // point a member into the buffer
  auto put = [&](auto*& member, const auto& vec) {
    using T = typename std::decay_t<decltype(vec)>::value_type;
    const std::size_t off = (staged.size() + 63) / 64 * 64;
    staged.resize(off + sizeof(T) * vec.size());
    if (!vec.empty()) std::memcpy(staged.data() + off, vec.data(), sizeof(T) * vec.size());
    fixups.push_back([&member, off](unsigned char* base) { member = reinterpret_cast<const T*>(base + off); });
  };
  put(v.jnt_qposadr, st.jnt_qposadr);
  put(v.jnt_dofadr, st.jnt_dofadr);
  put(v.act_id, st.act_id);
  put(v.act_gear, st.act_gear);
  put(v.default_pos, st.default_pos);
  put(v.kp, st.kp);
  put(v.kd, st.kd);
  put(v.torque_limit, st.torque_limit);
  put(v.soft_lower, st.soft_lower);
  put(v.soft_upper, st.soft_upper);
  put(v.imu_step_quat, st.imu_step_quat);
  put(v.imu_step_type, st.imu_step_type);
  put(v.imu_step_qposadr, st.imu_step_qposadr);
  put(v.imu_step_dofadr, st.imu_step_dofadr);
  put(v.imu_step_qpos0, st.imu_step_qpos0);
  put(v.imu_step_axis, st.imu_step_axis);
  put(v.foot_body, st.foot_body);
  put(v.geom_foot, st.geom_foot);
  put(v.geom_collision, st.geom_collision);
  put(v.geom_terminate, st.geom_terminate);
  put(v.obs_kind, st.obs_kind);
  put(v.obs_offset, st.obs_offset);
  put(v.obs_size, st.obs_size);
  put(v.obs_clip, st.obs_clip);
  put(v.obs_scale, st.obs_scale);
  put(v.obs_noise, st.obs_noise);
  put(v.init_qpos, st.init_qpos);
  buf = SpaceBuffer<Space>(std::max<std::size_t>(staged.size(), 64));
  space.to_space(buf.get(), staged.data(), staged.size());
  for (auto& fix : fixups) fix(buf.get());
  return v;
}

}  // namespace device_env_detail

template <class Real, class Space>
DeviceLocomotionEnv<Real, Space>::~DeviceLocomotionEnv() = default;

template <class Real, class Space>
DeviceLocomotionEnv<Real, Space>::DeviceLocomotionEnv(Space space, robot::RobotSpec spec, TaskConfig cfg,
                                                      uint64_t initial_seed)
    : space_(std::move(space)), spec_(std::move(spec)), cfg_(std::move(cfg)) {
  auto& b = space_.backend();
  const mjModel* m = b.mj_model();
  if (!m) throw std::invalid_argument("DeviceLocomotionEnv: backend '" + b.name() + "' has no model");
  nworld_ = b.nworld();
  if (b.contact_capacity() < 1)
    throw std::invalid_argument("DeviceLocomotionEnv: backend '" + b.name() +
                                "' keeps no contacts (contact_capacity 0); walking needs ground contact");
  storage_ = build_task_model<Real>(m, spec_, cfg_);
  model_ = device_env_detail::upload_task_model<Real>(space_, storage_, model_buf_);
  params_ = make_task_params<Real>(m, spec_, cfg_);
  contract_hash_ = robot::contract_hash(spec_);
  if (params_.randomize) {
    const std::vector<Real*> f = space_.model_fields({"geom_friction", "body_mass"});
    geom_friction_ = f[0];
    body_mass_ = f[1];
  }

  // the task's buffers, laid out as LocomotionEnv lays them out
  const long nw = nworld_, na = model_.na, nf = model_.nfeet, h = model_.hist_len;
  const long real_sizes[] = {4, na, na, h * na, na, na, na, nf, 3 * nf, na, na, na, kBaseStride,
                             nf + 2, kNumRewardTerms, 1};
  long total = 0;
  for (long s : real_sizes) total += s * nw;
  real_buf_ = SpaceBuffer<Space>(sizeof(Real) * total);
  Real* p = real_buf_.template get<Real>();
  Real** fields[] = {&data_.commands,       &data_.actions,   &data_.prev_actions, &data_.action_hist,
                     &data_.targets,        &data_.torques,   &data_.dof_vel_prev, &data_.feet_air_time,
                     &data_.feet_pos_prev,  &data_.motor_strength, &data_.kp_scale, &data_.kd_scale,
                     &data_.base,           &data_.contact,   &data_.reward_terms, &data_.reward};
  for (std::size_t i = 0; i < std::size(fields); ++i) {
    *fields[i] = p;
    p += real_sizes[i] * nw;
  }
  int_buf_ = SpaceBuffer<Space>(sizeof(int) * 2 * nw);
  data_.episode_step = int_buf_.template get<int>();
  data_.latency = data_.episode_step + nw;
  byte_buf_ = SpaceBuffer<Space>((nf + 2) * nw);
  data_.feet_last_contact = byte_buf_.get();
  data_.terminated = byte_buf_.get() + nf * nw;
  data_.truncated = byte_buf_.get() + (nf + 1) * nw;
  rng_buf_ = SpaceBuffer<Space>(sizeof(uint64_t) * nw);
  data_.rng = rng_buf_.template get<uint64_t>();

  actions_in_ = SpaceBuffer<Space>(sizeof(float) * nw * na);
  obs_ = SpaceBuffer<Space>(sizeof(float) * nw * model_.obs_dim);
  final_obs_ = SpaceBuffer<Space>(sizeof(float) * nw * model_.obs_dim);
  reward_f_ = SpaceBuffer<Space>(sizeof(float) * nw);
  done_ = SpaceBuffer<Space>(nw);
  episode_sums_ = SpaceBuffer<Space>(sizeof(double) * nw * kNumRewardTerms);
  last_nan_ = SpaceBuffer<Space>(sizeof(int) * nw);
  stats_ = SpaceBuffer<Space>(sizeof(double) * kStatsSize);
  stats_host_.assign(kStatsSize, 0.0);
  done_host_.assign(nw, 0);

  launch_seen_nan_resets();
  launch_seed(initial_seed);
  space_.sync();
}

// ---------------------------------------------------------------------------------------------
// stages

// the backend's NaN-reset counts so far, as seen
template <class Real, class Space>
void DeviceLocomotionEnv<Real, Space>::launch_seen_nan_resets() {
  const WorldWarnings* warn = space_.warnings();
  int* last = last_nan_.template get<int>();
  space_.launch(nworld_, [=] SP_TASK_LAMBDA(int w) { last[w] = warn[w].nan_reset; });
}

template <class Real, class Space>
void DeviceLocomotionEnv<Real, Space>::launch_seed(uint64_t seed) {
  const TaskData<Real> d = data_;
  space_.launch(nworld_, [=] SP_TASK_LAMBDA(int w) { d.rng[w] = rng_seed_world(seed, w); });
}

template <class Real, class Space>
void DeviceLocomotionEnv<Real, Space>::launch_actions() {
  const TaskModel<Real> m = model_;
  const TaskParams<Real> p = params_;
  const TaskData<Real> d = data_;
  const float* actions = actions_in_.template get<float>();
  space_.launch(nworld_, [=] SP_TASK_LAMBDA(int w) { process_actions_world(w, m, p, actions, d); });
}

template <class Real, class Space>
void DeviceLocomotionEnv<Real, Space>::launch_substep(bool last) {
  const TaskModel<Real> m = model_;
  const TaskData<Real> d = data_;
  const SimView<Real> s = sim_view();
  space_.launch(nworld_, [=] SP_TASK_LAMBDA(int w) {
    if (last) save_feet_world(w, m, s, d);
    pd_torque_world(w, m, s, d);
  });
}

// after the physics: derived state, terminations, rewards, observations, statistics, final
// observations of the worlds that ended, command resampling of the others
template <class Real, class Space>
void DeviceLocomotionEnv<Real, Space>::launch_post_step() {
  const TaskModel<Real> m = model_;
  const TaskParams<Real> p = params_;
  const TaskData<Real> d = data_;
  const SimView<Real> s = sim_view();
  const WorldWarnings* warn = space_.warnings();
  int* last_nan = last_nan_.template get<int>();
  float* obs = obs_.template get<float>();
  float* final_obs = final_obs_.template get<float>();
  float* reward_f = reward_f_.template get<float>();
  unsigned char* done = done_.get();
  double* sums = episode_sums_.template get<double>();
  double* stats = stats_.template get<double>();
  space_.zero(stats, sizeof(double) * kStatsSize);
  space_.launch(nworld_, [=] SP_TASK_LAMBDA(int w) {
    d.episode_step[w] += 1;
    base_state_world(w, m, s, d);
    heading_to_yaw_rate_world(w, p, d);
    contact_state_world(w, m, p, s, d);
    termination_world(w, m, p, d);
    // a world the backend had to reset (NaN state) ended in a fall
    if (warn[w].nan_reset != last_nan[w]) {
      last_nan[w] = warn[w].nan_reset;
      d.terminated[w] = 1;
      d.truncated[w] = 0;
    }
    rewards_world(w, m, p, s, d);
    observation_world(w, m, p, s, d, obs);

    reward_f[w] = static_cast<float>(d.reward[w]);
    Space::atomic_add(&stats[0], static_cast<double>(d.reward[w]));
    double* es = sums + static_cast<long>(w) * kNumRewardTerms;
    for (int t = 0; t < kNumRewardTerms; ++t) {
      const double v = d.reward_terms[w * kNumRewardTerms + t];
      Space::atomic_add(&stats[1 + t], v);
      es[t] += v;
    }
    Space::atomic_add(&stats[kWarnStats], static_cast<double>(warn[w].nan_reset));
    Space::atomic_add(&stats[kWarnStats + 1], static_cast<double>(warn[w].contact_overflow));
    Space::atomic_add(&stats[kWarnStats + 2], static_cast<double>(warn[w].constraint_overflow));
    const bool ended = d.terminated[w] || d.truncated[w];
    done[w] = ended ? 1 : 0;
    if (ended) {
      for (int i = 0; i < m.obs_dim; ++i)
        final_obs[static_cast<long>(w) * m.obs_dim + i] = obs[static_cast<long>(w) * m.obs_dim + i];
      Space::atomic_add(&stats[1 + kNumRewardTerms], 1.0);
      Space::atomic_add(&stats[2 + kNumRewardTerms], static_cast<double>(d.episode_step[w]));
      for (int t = 0; t < kNumRewardTerms; ++t) Space::atomic_add(&stats[3 + kNumRewardTerms + t], es[t]);
    } else if (d.episode_step[w] % p.resample_steps == 0) {
      sample_commands_world(w, p, d);
    }
  });
}

// the task half of a reset, after the backend reset the physics of the worlds marked done:
// randomized initial state, cleared episode sums, the observation (with the derived base state
// first when observe_base: reset() recomputes it for every world, as LocomotionEnv::observe does)
template <class Real, class Space>
void DeviceLocomotionEnv<Real, Space>::launch_reset_done(bool observe_base) {
  const TaskModel<Real> m = model_;
  const TaskParams<Real> p = params_;
  const TaskData<Real> d = data_;
  const SimView<Real> s = sim_view();
  const WorldWarnings* warn = space_.warnings();
  int* last_nan = last_nan_.template get<int>();
  float* obs = obs_.template get<float>();
  const unsigned char* done = done_.get();
  double* sums = episode_sums_.template get<double>();
  space_.launch(nworld_, [=] SP_TASK_LAMBDA(int w) {
    if (!done[w]) return;
    reset_world(w, m, p, s, d);
    for (int t = 0; t < kNumRewardTerms; ++t) sums[static_cast<long>(w) * kNumRewardTerms + t] = 0;
    last_nan[w] = warn[w].nan_reset;
    if (observe_base) base_state_world(w, m, s, d);
    observation_world(w, m, p, s, d, obs);
  });
}

template <class Real, class Space>
void DeviceLocomotionEnv<Real, Space>::launch_push() {
  const TaskModel<Real> m = model_;
  const TaskParams<Real> p = params_;
  const TaskData<Real> d = data_;
  const SimView<Real> s = sim_view();
  space_.launch(nworld_, [=] SP_TASK_LAMBDA(int w) { push_world(w, m, p, s, d); });
}

// ---------------------------------------------------------------------------------------------
// the VecEnv

template <class Real, class Space>
void DeviceLocomotionEnv<Real, Space>::seed(uint64_t seed) {
  launch_seed(seed);
  space_.sync();
}

template <class Real, class Space>
void DeviceLocomotionEnv<Real, Space>::reset_device() {
  std::fill(done_host_.begin(), done_host_.end(), 1);
  space_.to_space(done_.get(), done_host_.data(), done_host_.size());
  space_.reset_masked(done_.get());
  launch_reset_done(true);
  space_.zero(data_.terminated, static_cast<std::size_t>(nworld_));
  space_.zero(data_.truncated, static_cast<std::size_t>(nworld_));
  space_.zero(reward_f_.get(), sizeof(float) * static_cast<std::size_t>(nworld_));
  std::fill(stats_host_.begin(), stats_host_.end(), 0.0);
  space_.sync();
}

template <class Real, class Space>
void DeviceLocomotionEnv<Real, Space>::reset(float* obs) {
  reset_device();
  space_.to_host(obs, obs_.get(), sizeof(float) * static_cast<std::size_t>(nworld_) * model_.obs_dim);
}

// one control step on the actions in actions_in_; only the statistics (kStatsSize doubles) come
// to the host, for the logs and to skip the reset launches when no world ended
template <class Real, class Space>
void DeviceLocomotionEnv<Real, Space>::step_in_space() {
  launch_actions();
  for (int k = 0; k < spec_.decimation; ++k) {
    launch_substep(k == spec_.decimation - 1);
    space_.physics_step();
  }
  launch_post_step();
  space_.to_host(stats_host_.data(), stats_.get(), sizeof(double) * kStatsSize);
  if (stats_host_[1 + kNumRewardTerms] > 0) {
    // final_obs_ holds the ended worlds' last observations; obs_ gets their first ones
    space_.reset_masked(done_.get());
    launch_reset_done(false);
  }
  launch_push();
  space_.sync();
}

template <class Real, class Space>
void DeviceLocomotionEnv<Real, Space>::step_device(const float* actions) {
  space_.copy(actions_in_.get(), actions, sizeof(float) * static_cast<std::size_t>(nworld_) * model_.na);
  step_in_space();
}

template <class Real, class Space>
LocomotionVecEnv::DeviceOutputs DeviceLocomotionEnv<Real, Space>::device_outputs() const {
  DeviceOutputs o;
  o.obs = obs_.template get<float>();
  o.reward = reward_f_.template get<float>();
  o.terminated = data_.terminated;
  o.truncated = data_.truncated;
  o.final_obs = final_obs_.template get<float>();
  return o;
}

template <class Real, class Space>
void DeviceLocomotionEnv<Real, Space>::step(const float* actions, float* obs, float* reward,
                                            unsigned char* terminated, unsigned char* truncated,
                                            float* final_obs) {
  const std::size_t nw = static_cast<std::size_t>(nworld_);
  space_.to_space(actions_in_.get(), actions, sizeof(float) * nw * model_.na);
  step_in_space();
  space_.to_host(terminated, data_.terminated, nw);
  space_.to_host(truncated, data_.truncated, nw);
  space_.to_host(reward, reward_f_.get(), sizeof(float) * nw);
  if (final_obs && stats_host_[1 + kNumRewardTerms] > 0)
    space_.to_host(final_obs, final_obs_.get(), sizeof(float) * nw * model_.obs_dim);
  space_.to_host(obs, obs_.get(), sizeof(float) * nw * model_.obs_dim);
}

template <class Real, class Space>
std::map<std::string, double> DeviceLocomotionEnv<Real, Space>::step_stats() const {
  std::map<std::string, double> out;
  const double nw = nworld_;
  for (int t = 0; t < kNumRewardTerms; ++t) out[std::string("reward/") + reward_term_name(t)] = stats_host_[1 + t] / nw;
  out["reward/total"] = stats_host_[0] / nw;
  const double n = stats_host_[1 + kNumRewardTerms];
  out["episode/finished"] = n;
  out["warnings/nan_resets"] = stats_host_[kWarnStats];
  out["warnings/contact_overflow"] = stats_host_[kWarnStats + 1];
  out["warnings/constraint_overflow"] = stats_host_[kWarnStats + 2];
  if (n > 0) {
    out["episode/length_s"] = stats_host_[2 + kNumRewardTerms] / n * spec_.control_period;
    for (int t = 0; t < kNumRewardTerms; ++t)
      out[std::string("episode/") + reward_term_name(t)] = stats_host_[3 + kNumRewardTerms + t] / n;
  }
  return out;
}

template <class Real, class Space>
bool DeviceLocomotionEnv<Real, Space>::render_qpos(int world, double* qpos) const {
  const mjModel* m = space_.backend().mj_model();
  if (!m || world < 0 || world >= nworld_) return false;
  auto& self = const_cast<DeviceLocomotionEnv&>(*this);
  const Real* q = self.sim_view().qpos + static_cast<std::size_t>(world) * m->nq;
  std::vector<Real> host(m->nq);
  space_.to_host(host.data(), q, sizeof(Real) * host.size());
  for (int i = 0; i < m->nq; ++i) qpos[i] = static_cast<double>(host[i]);
  return true;
}

template <class Real, class Space>
std::vector<std::string> DeviceLocomotionEnv<Real, Space>::reward_term_names() const {
  std::vector<std::string> names;
  for (int t = 0; t < kNumRewardTerms; ++t) names.push_back(reward_term_name(t));
  return names;
}

template <class Real, class Space>
void DeviceLocomotionEnv<Real, Space>::reward_terms_out(float* out) const {
  const std::size_t n = static_cast<std::size_t>(nworld_) * kNumRewardTerms;
  std::vector<Real> host(n);
  space_.to_host(host.data(), data_.reward_terms, sizeof(Real) * n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(host[i]);
}

template <class Real, class Space>
std::vector<std::pair<std::string, int>> DeviceLocomotionEnv<Real, Space>::observation_terms() const {
  std::vector<std::pair<std::string, int>> out;
  for (const auto& t : spec_.observation) out.emplace_back(t.term, t.size);
  return out;
}

}  // namespace stampede::sim::tasks
