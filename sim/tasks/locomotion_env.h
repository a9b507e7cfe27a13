// sim/tasks/locomotion_env.h — the batched velocity-command locomotion environment: one
// Backend<Real> (any engine) stepped over all worlds, observations, rewards (one buffer per term),
// terminations kept apart from truncations, automatic randomized resets. Implements
// rl::VecEnvBase.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rl/env.h"
#include "sim/backend.h"
#include "sim/robot/robot.h"
#include "sim/tasks/locomotion_kernels.h"
#include "sim/tasks/locomotion_vec_env.h"
#include "sim/tasks/task_config.h"
#include "sim/tasks/task_model.h"

namespace stampede::kern {
class ThreadPool;
}

namespace stampede::sim::tasks {

template <class Real>
class LocomotionEnv final : public LocomotionVecEnv {
 public:
  // the backend's model must be the robot's MJCF; throws std::invalid_argument on a mismatch.
  // nthread: threads that run the task's per-world functions (1: the calling thread only,
  // 0: every CPU); results do not depend on it.
  LocomotionEnv(std::unique_ptr<Backend<Real>> backend, robot::RobotSpec spec, TaskConfig cfg,
                uint64_t seed, int nthread = 1);
  ~LocomotionEnv() override;

  // rl::VecEnvBase
  int num_envs() const override { return nworld_; }
  int obs_dim() const override { return model_.obs_dim; }
  int act_dim() const override { return model_.na; }
  int max_episode_steps() const override { return params_.max_episode_steps; }
  void reset(float* obs) override;
  void step(const float* actions, float* obs, float* reward, unsigned char* terminated,
            unsigned char* truncated, float* final_obs) override;
  std::map<std::string, double> step_stats() const override;
  std::string contract_hash() const override { return contract_hash_; }
  const mjModel* render_model() const override { return backend_->mj_model(); }
  bool render_qpos(int world, double* qpos) const override;
  double step_period() const override { return spec_.control_period; }

  // LocomotionVecEnv
  std::string device() const override { return backend_->name(); }
  double control_dt() const override { return spec_.control_period; }
  std::vector<std::string> reward_term_names() const override;
  void reward_terms_out(float* out) const override;
  void seed(uint64_t seed) override;
  std::vector<std::pair<std::string, int>> observation_terms() const override;

  // per-term weighted rewards of the last step, (num_envs, kNumRewardTerms)
  const Real* reward_terms() const { return data_.reward_terms; }
  // episode length (control steps) and per-term return of the episodes that ended in the last step
  const std::vector<double>& finished_episode_stats() const { return finished_; }

  // inspection (tests, Python): the backend, the task state, the resolved model and parameters
  Backend<Real>& backend() { return *backend_; }
  const TaskData<Real>& data() const { return data_; }
  const TaskModel<Real>& model() const { return model_; }
  const TaskParams<Real>& params() const { return params_; }
  TaskParams<Real>& mutable_params() { return params_; }
  const robot::RobotSpec& robot() const { return spec_; }
  const TaskConfig& config() const { return cfg_; }
  // recompute the derived state and the observation without stepping (after editing qpos/qvel)
  void observe(float* obs);
  // keep an object (e.g. the compiled mjModel a backend borrows) alive as long as the env
  void hold(std::shared_ptr<const void> keep_alive) { keep_alive_.push_back(std::move(keep_alive)); }

 private:
  SimView<Real> sim_view();
  template <class F>
  void for_each_world(F&& fn);
  void allocate();
  void reset_worlds(const std::vector<int>& worlds);

  std::vector<std::shared_ptr<const void>> keep_alive_;  // destroyed after backend_
  std::unique_ptr<kern::ThreadPool> pool_;               // null: run worlds on the caller
  std::unique_ptr<Backend<Real>> backend_;
  robot::RobotSpec spec_;
  TaskConfig cfg_;
  std::string contract_hash_;
  int nworld_ = 0;
  TaskModelStorage<Real> storage_;
  TaskModel<Real> model_;
  TaskParams<Real> params_;
  TaskData<Real> data_;
  Real* geom_friction_ = nullptr;  // backend model fields under randomization (or null)
  Real* body_mass_ = nullptr;

  // buffers behind data_
  std::vector<Real> real_buf_;
  std::vector<int> int_buf_;
  std::vector<unsigned char> byte_buf_;
  std::vector<uint64_t> rng_buf_;

  // statistics
  std::vector<double> episode_sums_;  // (nworld, kNumRewardTerms) running episode returns per term
  std::vector<double> finished_;      // (k, 1 + kNumRewardTerms) episodes ended in the last step
  std::vector<int> last_nan_resets_;  // backend warnings seen so far, per world
  std::vector<int> done_;             // scratch: worlds to reset
  double mean_terms_[kNumRewardTerms] = {};
  double mean_reward_ = 0;
  int nonfinite_worlds_ = 0;
};

extern template class LocomotionEnv<float>;
extern template class LocomotionEnv<double>;

}  // namespace stampede::sim::tasks
