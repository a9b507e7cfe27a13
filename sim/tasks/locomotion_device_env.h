// sim/tasks/locomotion_device_env.h — the locomotion task with every per-world buffer in the
// backend's memory space and every per-world stage run as a launch over worlds: on CUDA
// (CudaSpace, device "cuda") nothing per world runs on the host; episode statistics are reduced
// on the device, and only the policy's arrays (actions in; observations, rewards and done flags
// out) cross to the host each step.
//
// It runs the same per-world functions, in the same order, as LocomotionEnv (locomotion_env.h),
// the host env of devices "mujoco" and "cpu". Its host instantiation (HostSpace over the CPU
// backend) runs this code on the CPU, so the tests check it against LocomotionEnv step for step
// without a GPU.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/robot/robot.h"
#include "sim/tasks/locomotion_kernels.h"
#include "sim/tasks/locomotion_vec_env.h"
#include "sim/tasks/memory_space.h"
#include "sim/tasks/task_config.h"
#include "sim/tasks/task_model.h"

namespace stampede::sim::tasks {

template <class Real, class Space>
class DeviceLocomotionEnv final : public LocomotionVecEnv {
 public:
  // throws std::invalid_argument when the backend's model is not the robot's MJCF
  DeviceLocomotionEnv(Space space, robot::RobotSpec spec, TaskConfig cfg, uint64_t seed);
  ~DeviceLocomotionEnv() override;

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
  const mjModel* render_model() const override { return space_.backend().mj_model(); }
  bool render_qpos(int world, double* qpos) const override;
  double step_period() const override { return spec_.control_period; }

  // LocomotionVecEnv
  std::string device() const override { return space_.backend().name(); }
  double control_dt() const override { return spec_.control_period; }
  std::vector<std::string> reward_term_names() const override;
  void reward_terms_out(float* out) const override;
  void seed(uint64_t seed) override;
  std::vector<std::pair<std::string, int>> observation_terms() const override;
  // in the space's memory (for HostSpace: host memory; the tests use it so)
  bool device_resident() const override { return Space::kDeviceMemory; }
  const char* array_space() const override { return Space::kName; }
  void reset_device() override;
  void step_device(const float* actions) override;
  DeviceOutputs device_outputs() const override;

  // the memory space and the task state in it (tests)
  Space& space() { return space_; }
  const TaskData<Real>& data() const { return data_; }
  void hold(std::shared_ptr<const void> keep_alive) { keep_alive_.push_back(std::move(keep_alive)); }

  // the stages, one launch each (public: CUDA's extended lambdas need a public enclosing function)
  void launch_actions();
  void launch_substep(bool last);
  void launch_post_step();
  void launch_reset_done(bool observe_base);
  void launch_push();
  void launch_seed(uint64_t seed);
  void launch_seen_nan_resets();

 private:
  SimView<Real> sim_view() { return space_.sim_view(geom_friction_, body_mass_); }
  void step_in_space();  // the step on actions_in_, outputs left in the space
  void download_step(float* obs, float* reward, unsigned char* terminated, unsigned char* truncated,
                     float* final_obs);

  std::vector<std::shared_ptr<const void>> keep_alive_;  // destroyed after space_
  Space space_;
  robot::RobotSpec spec_;
  TaskConfig cfg_;
  std::string contract_hash_;
  int nworld_ = 0;
  TaskModelStorage<Real> storage_;
  TaskModel<Real> model_;  // pointers into model_buf_ (the space)
  TaskParams<Real> params_;
  TaskData<Real> data_;    // pointers into the space
  Real* geom_friction_ = nullptr;  // backend model fields under randomization (space), or null
  Real* body_mass_ = nullptr;

  // buffers in the space
  SpaceBuffer<Space> model_buf_, real_buf_, int_buf_, byte_buf_, rng_buf_;
  SpaceBuffer<Space> actions_in_;    // (nworld, na) float, the policy's actions
  SpaceBuffer<Space> obs_;           // (nworld, obs_dim) float
  SpaceBuffer<Space> final_obs_;     // (nworld, obs_dim) float
  SpaceBuffer<Space> reward_f_;      // (nworld) float
  SpaceBuffer<Space> done_;          // (nworld) bytes: the world ended this step
  SpaceBuffer<Space> episode_sums_;  // (nworld, kNumRewardTerms) double
  SpaceBuffer<Space> last_nan_;      // (nworld) int: the backend's NaN-reset count seen last
  SpaceBuffer<Space> stats_;         // kStatsSize doubles, reduced over worlds each step

  // host copy of the last step's statistics: the reward, its terms, finished episodes, their
  // steps and term sums, then the backend's warning counters summed (NaN resets, contact and
  // constraint overflows), all reduced in the space
  static constexpr int kWarnStats = 3 + 2 * kNumRewardTerms;
  static constexpr int kStatsSize = kWarnStats + 3;
  std::vector<double> stats_host_;
  std::vector<unsigned char> done_host_;
};

#if defined(STAMPEDE_WITH_CUDA)
// device "cuda": the env over a device-resident CudaBackend<float> of model `m` (defined in
// locomotion_device_env.cu); throws std::runtime_error("no CUDA device: ...") without a GPU
std::unique_ptr<LocomotionVecEnv> make_cuda_locomotion_env(const mjModel* m, int num_envs,
                                                           const robot::RobotSpec& spec, const TaskConfig& cfg,
                                                           uint64_t seed);
#endif

}  // namespace stampede::sim::tasks
