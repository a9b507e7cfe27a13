// cli/bench_walk.h — `stampede bench walk`: time-to-walk on the CPU (issue #9). Trains a
// locomotion task with the CPU preset through the ordinary runner, evaluates the deterministic
// policy every few minutes of training wall-clock on fresh worlds under a fixed forward command
// with no randomization, and stops at the first evaluation that walks (or at the time limit).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rl/learner.h"
#include "sim/tasks/locomotion_vec_env.h"
#include "sim/tasks/task_config.h"

namespace stampede::cli {

// `stampede bench walk ARGS` (args after "walk"); returns the exit code: 0 walked, 3 did not
// walk within the time limit, 130 stopped by Ctrl-C
int run_bench_walk(const std::vector<std::string>& args);

// what "walks" means
struct WalkCriteria {
  double command_vx = 1.0;        // forward command of the evaluation (m/s)
  double max_vx_error = 0.2;      // mean |v_x - command_vx| over alive steps (m/s)
  double min_survival = 0.9;      // mean episode length / time limit
};

// one evaluation of the deterministic policy
struct WalkEval {
  double minutes = 0;             // training wall-clock when it was taken (min)
  int64_t iteration = 0;
  int64_t samples = 0;            // training samples so far
  double train_return = 0;        // runner's mean return of the last 100 training episodes (NaN before)
  double train_episode_length = 0;  // ... and their mean length (control steps)
  int worlds = 0;
  double vx_error = 0;            // mean |v_x - command| over every alive step of every world (m/s)
  double vx_mean = 0;             // mean v_x over the same steps (m/s)
  double survival = 0;            // mean episode length / time limit
  double episode_return = 0;      // mean undiscounted return of the evaluation episodes
  double command_vx_mean = 0;     // the command the env really held, over every alive step
  double command_max_deviation = 0;  // max over steps of |cmd - (command_vx, 0, 0)| (any component)
  double seconds = 0;             // wall-clock the evaluation took (s)
  bool walked = false;
};

// the evaluation version of a task: a forward command of criteria.command_vx m/s held the whole
// episode (no heading control, zero lateral and yaw command), no domain randomization, no
// observation noise, no pushes, no action latency. The initial-state distribution of the task
// (joint and base-velocity noise, yaw) is kept, so the worlds are not copies of one another.
sim::tasks::TaskConfig walk_eval_task_config(sim::tasks::TaskConfig task, const WalkCriteria& criteria);

// runs every world of env (built from walk_eval_task_config) for one episode from a reset
// after env.seed(seed), with learner.act_inference (the mean action), and measures the criteria.
// Only each world's first episode counts; worlds that fall are reset by the env but ignored.
WalkEval evaluate_walk(rl::PpoLearner& learner, sim::tasks::LocomotionVecEnv& env, uint64_t seed,
                       const WalkCriteria& criteria);

}  // namespace stampede::cli
