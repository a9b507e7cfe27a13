// rl/schedule.h — the adaptive-KL learning-rate rule as one function for the host and the GPU
// (rl/learner.cpp's scheduled_learning_rate and the CUDA learner's update both call it).
#pragma once

#include "kernels/config.h"

namespace stampede::rl {

// the learning rate after a minibatch whose policy moved `kl` away from the sampling policy:
// divided by 1.5 when kl > 2 desired_kl, multiplied by 1.5 when 0 < kl < desired_kl / 2, kept
// within [min_lr, max_lr]; unchanged when the schedule is not adaptive
SP_HD inline double adaptive_learning_rate(bool adaptive, double desired_kl, double min_lr, double max_lr,
                                           double lr, double kl) {
  if (!adaptive) return lr;
  if (kl > 2.0 * desired_kl) {
    const double r = lr / 1.5;
    return r > min_lr ? r : min_lr;
  }
  if (kl < 0.5 * desired_kl && kl > 0.0) {
    const double r = lr * 1.5;
    return r < max_lr ? r : max_lr;
  }
  return lr;
}

}  // namespace stampede::rl
