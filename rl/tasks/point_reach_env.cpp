// rl/tasks/point_reach_env.cpp — the "point-reach" task on MuJoCo: a point mass pushed by two
// motors to a random target. Small enough to learn in seconds, real enough to exercise the
// simulator, time-outs and terminations.
#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "rl/rng.h"
#include "rl/tasks/builtin.h"

namespace stampede::rl {
namespace {

constexpr const char* kPointReachXml = R"(
<mujoco model="point_reach">
  <option timestep="0.01" gravity="0 0 0"/>
  <worldbody>
    <body name="mass">
      <joint name="x" type="slide" axis="1 0 0" damping="0.1"/>
      <joint name="y" type="slide" axis="0 1 0" damping="0.1"/>
      <geom type="sphere" size="0.05" mass="0.5" contype="0" conaffinity="0"/>
    </body>
  </worldbody>
  <actuator>
    <motor joint="x" gear="1" ctrllimited="true" ctrlrange="-1 1"/>
    <motor joint="y" gear="1" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
)";

class PointReachEnv final : public VecEnvBase {
 public:
  static constexpr int kObs = 4;             // target - position (2), velocity (2)
  static constexpr int kAct = 2;             // motor commands, clipped to [-1, 1]
  static constexpr int kDecimation = 4;      // physics steps per control step (0.04 s)
  static constexpr int kEpisodeSteps = 100;  // 4 s
  static constexpr double kArena = 2.5;      // |x|, |y| beyond this terminates

  PointReachEnv(int num_envs, uint64_t seed) : n_(num_envs), rng_(seed ^ 0x9017ull) {
    char err[512] = {0};
    mjSpec* spec = mj_parseXMLString(kPointReachXml, nullptr, err, sizeof(err));
    if (!spec) throw std::runtime_error(std::string("point-reach: MJCF parse failed: ") + err);
    model_ = mj_compile(spec, nullptr);
    mj_deleteSpec(spec);
    if (!model_) throw std::runtime_error("point-reach: MJCF compile failed");
    for (int i = 0; i < n_; ++i) data_.push_back(mj_makeData(model_));
    target_.assign(2 * n_, 0.0);
    t_.assign(n_, 0);
  }
  ~PointReachEnv() override {
    for (mjData* d : data_) mj_deleteData(d);
    mj_deleteModel(model_);
  }

  int num_envs() const override { return n_; }
  int obs_dim() const override { return kObs; }
  int act_dim() const override { return kAct; }
  int max_episode_steps() const override { return kEpisodeSteps; }
  const mjModel* render_model() const override { return model_; }
  bool render_qpos(int world, double* qpos) const override {
    if (world < 0 || world >= n_) return false;
    for (int k = 0; k < model_->nq; ++k) qpos[k] = data_[world]->qpos[k];
    return true;
  }
  double step_period() const override { return kDecimation * model_->opt.timestep; }

  void reset(float* obs) override {
    for (int i = 0; i < n_; ++i) {
      new_episode(i);
      observe(i, obs + i * kObs);
    }
  }

  void step(const float* actions, float* obs, float* reward, unsigned char* terminated,
            unsigned char* truncated, float* final_obs) override {
    double dist_sum = 0, ctrl_sum = 0;
    for (int i = 0; i < n_; ++i) {
      mjData* d = data_[i];
      // motors: actions clipped to the control range
      double ctrl_sq = 0;
      for (int j = 0; j < kAct; ++j) {
        d->ctrl[j] = std::clamp(static_cast<double>(actions[i * kAct + j]), -1.0, 1.0);
        ctrl_sq += d->ctrl[j] * d->ctrl[j];
      }
      for (int k = 0; k < kDecimation; ++k) mj_step(model_, d);
      // reward terms: closeness to the target, 1 / (1 + distance) in (0, 1], always positive so
      // that leaving the arena (termination) never pays; and the control effort
      const double dx = target_[2 * i] - d->qpos[0], dy = target_[2 * i + 1] - d->qpos[1];
      const double dist = std::sqrt(dx * dx + dy * dy);
      const double r_dist = 1.0 / (1.0 + dist), r_ctrl = -0.01 * ctrl_sq;
      reward[i] = static_cast<float>(r_dist + r_ctrl);
      dist_sum += r_dist;
      ctrl_sum += r_ctrl;
      // terminated: left the arena; truncated: time limit
      ++t_[i];
      terminated[i] = std::abs(d->qpos[0]) > kArena || std::abs(d->qpos[1]) > kArena;
      truncated[i] = !terminated[i] && t_[i] >= kEpisodeSteps;
      if (terminated[i] || truncated[i]) {
        observe(i, final_obs + i * kObs);
        new_episode(i);
      }
      observe(i, obs + i * kObs);
    }
    stats_ = {{"reward/closeness", dist_sum / n_}, {"reward/control", ctrl_sum / n_}};
  }

  std::map<std::string, double> step_stats() const override { return stats_; }

 private:
  // random start and target in [-1, 1]^2, at rest
  void new_episode(int i) {
    mjData* d = data_[i];
    mj_resetData(model_, d);
    d->qpos[0] = rng_.uniform(-1.0, 1.0);
    d->qpos[1] = rng_.uniform(-1.0, 1.0);
    target_[2 * i] = rng_.uniform(-1.0, 1.0);
    target_[2 * i + 1] = rng_.uniform(-1.0, 1.0);
    mj_forward(model_, d);
    t_[i] = 0;
  }
  void observe(int i, float* o) const {
    const mjData* d = data_[i];
    o[0] = static_cast<float>(target_[2 * i] - d->qpos[0]);
    o[1] = static_cast<float>(target_[2 * i + 1] - d->qpos[1]);
    o[2] = static_cast<float>(d->qvel[0]);
    o[3] = static_cast<float>(d->qvel[1]);
  }

  int n_;
  Rng rng_;
  mjModel* model_ = nullptr;
  std::vector<mjData*> data_;   // one per world
  std::vector<double> target_;  // (n, 2) target position (m)
  std::vector<int> t_;          // (n) control steps into the episode
  std::map<std::string, double> stats_;
};

}  // namespace

std::unique_ptr<VecEnvBase> make_point_reach_env(int num_envs, const std::string& device, uint64_t seed) {
  if (device != "cpu")
    throw std::invalid_argument("task 'point-reach' runs on the CPU only (device '" + device + "')");
  return std::make_unique<PointReachEnv>(num_envs, seed);
}

}  // namespace stampede::rl
