// rl/env.h — what the learner needs from a batched environment. The locomotion VecEnv
// (sim/tasks) and the small test tasks implement it; the learner never sees the simulator.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

struct mjModel_;
typedef struct mjModel_ mjModel;

namespace stampede::rl {

class VecEnvBase {
 public:
  virtual ~VecEnvBase() = default;
  virtual int num_envs() const = 0;
  virtual int obs_dim() const = 0;
  virtual int act_dim() const = 0;
  virtual int max_episode_steps() const = 0;  // time limit, in env steps

  // reset every world; writes obs (num_envs, obs_dim)
  virtual void reset(float* obs) = 0;
  // apply actions (num_envs, act_dim); writes next obs (num_envs, obs_dim), reward, terminated
  // and truncated (num_envs each). Worlds that end are reset automatically: obs is then the first
  // observation of the new episode. For truncated worlds, final_obs holds the observation the
  // episode ended on (for time-out bootstrapping); other rows of final_obs are unspecified.
  virtual void step(const float* actions, float* obs, float* reward, unsigned char* terminated,
                    unsigned char* truncated, float* final_obs) = 0;

  // per-term reward means of the last step (for logging), and other scalar episode statistics
  virtual std::map<std::string, double> step_stats() const { return {}; }
  // the robot contract hash the env was built from ("" if none)
  virtual std::string contract_hash() const { return ""; }

  // for rendering (`stampede play --video`): the compiled MuJoCo model the worlds simulate (null
  // when the env has none), world `world`'s generalized positions (model nq values; false when
  // there is nothing to render) and the time between two env steps (s)
  virtual const mjModel* render_model() const { return nullptr; }
  virtual bool render_qpos(int world, double* qpos) const {
    (void)world;
    (void)qpos;
    return false;
  }
  virtual double step_period() const { return 0; }

  // The device API. An env whose state lives in a memory space (device "cuda"; "host" for the
  // same code on the CPU in tests) also resets and steps on arrays in that space, so a learner in
  // the same space (PpoLearner::array_space) never copies them to the host. The outputs stay in
  // the env's buffers until its next call. array_space(): nullptr when there is no device API.
  struct DeviceOutputs {
    const float* obs = nullptr;                 // (num_envs, obs_dim)
    const float* reward = nullptr;              // (num_envs)
    const unsigned char* terminated = nullptr;  // (num_envs)
    const unsigned char* truncated = nullptr;   // (num_envs)
    const float* final_obs = nullptr;           // (num_envs, obs_dim), rows of the worlds that ended
  };
  virtual const char* array_space() const { return nullptr; }
  // whether the arrays live in device memory (array_space() is a device's)
  virtual bool device_resident() const { return false; }
  virtual void reset_device() { throw std::logic_error("this env has no device API"); }
  // actions: (num_envs, act_dim) float in the env's memory space
  virtual void step_device(const float* actions) {
    (void)actions;
    throw std::logic_error("this env has no device API");
  }
  virtual DeviceOutputs device_outputs() const { throw std::logic_error("this env has no device API"); }
};

}  // namespace stampede::rl
