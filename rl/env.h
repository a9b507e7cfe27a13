// rl/env.h — what the learner needs from a batched environment. The locomotion VecEnv
// (sim/tasks) and the small test tasks implement it; the learner never sees the simulator.
#pragma once

#include <map>
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
};

}  // namespace stampede::rl
