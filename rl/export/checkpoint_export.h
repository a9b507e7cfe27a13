// rl/export/checkpoint_export.h — a training checkpoint (rl/checkpoint.h) as an ExportedPolicy:
// the actor's layers (actor.0, actor.2, ... as the learner names them), the observation
// normalizer (rsl_rl EmpiricalNormalization: (x - mean) / (sqrt(var) + eps), no clip) and the
// robot contract, which must hash to the checkpoint's contract_hash. Library stampede_export_rl
// (links the learner; stampede_export itself never does).
#pragma once

#include <string>

#include "rl/checkpoint.h"
#include "rl/export/policy_export.h"
#include "sim/robot/robot.h"

namespace stampede::rl {

// eps the learner's ObsNormalizer adds to the std (rl/normalizer.h, as ppo_cpu.cpp constructs
// it); the checkpoint does not store it
inline constexpr float kLearnerObsEps = 1e-2f;

// throws ExportError naming the checkpoint file and the field; `source` names the checkpoint.
// gait_period: the task's gait clock (needed when the layout has a gait_phase term)
ExportedPolicy exported_policy_from_checkpoint(const Checkpoint& ck, const robot::RobotSpec& spec,
                                               double gait_period, const std::string& source);

}  // namespace stampede::rl
