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

  // An env whose state lives in device memory (device "cuda") also resets and steps on arrays
  // there, so a learner on the same device never copies them to the host. The outputs stay in
  // the env's buffers until its next call.
  struct DeviceOutputs {
    const float* obs = nullptr;                 // (num_envs, obs_dim)
    const float* reward = nullptr;              // (num_envs)
    const unsigned char* terminated = nullptr;  // (num_envs)
    const unsigned char* truncated = nullptr;   // (num_envs)
    const float* final_obs = nullptr;           // (num_envs, obs_dim), rows of the worlds that ended
  };
  virtual bool device_resident() const { return false; }
  virtual void reset_device() { throw std::logic_error(device() + " env: not device resident"); }
  // actions: (num_envs, act_dim) float in the env's memory space
  virtual void step_device(const float* actions) {
    (void)actions;
    throw std::logic_error(device() + " env: not device resident");
  }
  virtual DeviceOutputs device_outputs() const { throw std::logic_error(device() + " env: not device resident"); }
};

}  // namespace stampede::sim::tasks
