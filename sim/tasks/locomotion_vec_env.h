// sim/tasks/locomotion_vec_env.h — the locomotion env's precision-independent interface:
// rl::VecEnvBase plus what logging and the Python module need (per-term reward buffers, term
// names, reseeding), so callers need not know the backend's Real.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "rl/env.h"

namespace stampede::sim::tasks {

class LocomotionVecEnv : public rl::VecEnvBase {
 public:
  // "mujoco", "cpu" or "cuda": the backend the env steps
  virtual std::string device() const = 0;
  // control period (s)
  virtual double control_dt() const = 0;
  // names of the reward terms, in the order of reward_terms_out's columns
  virtual std::vector<std::string> reward_term_names() const = 0;
  // the weighted contribution of each term in the last step, (num_envs, num_terms) floats
  virtual void reward_terms_out(float* out) const = 0;
  // restart every world's random stream from a seed (the next reset draws from it)
  virtual void seed(uint64_t seed) = 0;
  // the observation layout: (robot.yaml term, components) in order; sizes sum to obs_dim()
  virtual std::vector<std::pair<std::string, int>> observation_terms() const = 0;

  // the device API (rl::VecEnvBase): the host env refuses it naming its device
  bool device_resident() const override { return false; }
  void reset_device() override { throw std::logic_error(device() + " env: not device resident"); }
  void step_device(const float* actions) override {
    (void)actions;
    throw std::logic_error(device() + " env: not device resident");
  }
  DeviceOutputs device_outputs() const override { throw std::logic_error(device() + " env: not device resident"); }
};

}  // namespace stampede::sim::tasks
