// kernels/smooth.h — host entry points of the physics pipeline: run one stage, forward or
// step over every world, on the CPU (thread pool) or, in kernels/smooth_cuda.h, on a GPU.
#pragma once

#include "kernels/launch.h"
#include "sim/data.h"
#include "sim/model.h"

namespace stampede::kern {

// the pipeline's stages, each like the MuJoCo function of the same name
enum class Stage {
  kKinematics,       // mj_kinematics
  kComPos,           // mj_comPos
  kCrb,              // mj_crb
  kFactorM,          // mj_factorM
  kComVel,           // mj_comVel
  kPassive,          // mj_passive
  kRne,              // mj_rne(flg_acc = 0) -> qfrc_bias
  kActuation,        // mj_fwdActuation
  kFwdAcceleration,  // mj_fwdAcceleration
  kFwdConstraint,    // qacc from qacc_smooth (constraint solver)
  kEuler,            // mj_Euler
  kFwdPosition,      // mj_fwdPosition
  kFwdVelocity,      // mj_fwdVelocity
  kForward,          // mj_forward
  kStep,             // mj_step (Euler)
  kReset,            // back to qpos0, zero velocity, inputs and time, then mj_forward
};

// true once the constraint pipeline (collision, constraints, solver) is plugged into forward
bool constraints_simulated();

// run one stage on every world
template <class Real>
void run_stage(Stage stage, const sim::ModelView<Real>& m, const sim::DataView<Real>& d, const CpuExec& exec);

// run one stage on the listed worlds (worlds == nullptr: worlds 0..n-1)
template <class Real>
void run_stage_worlds(Stage stage, const sim::ModelView<Real>& m, const sim::DataView<Real>& d, const CpuExec& exec,
                      const int* worlds, int n);

// reset the worlds whose mask byte is set (the kReset stage, warning flags cleared); the CPU
// twin of the device-resident CUDA backend's reset_masked_cuda, one body for both
template <class Real>
void reset_masked(const sim::ModelView<Real>& m, const sim::DataView<Real>& d, const CpuExec& exec,
                  const unsigned char* mask);

// nstep steps of every world, then fwd_position + fwd_velocity so that outputs describe the
// new state
template <class Real>
void step(const sim::ModelView<Real>& m, const sim::DataView<Real>& d, const CpuExec& exec, int nstep);

extern template void run_stage<float>(Stage, const sim::ModelView<float>&, const sim::DataView<float>&, const CpuExec&);
extern template void run_stage<double>(Stage, const sim::ModelView<double>&, const sim::DataView<double>&, const CpuExec&);
extern template void run_stage_worlds<float>(Stage, const sim::ModelView<float>&, const sim::DataView<float>&,
                                             const CpuExec&, const int*, int);
extern template void run_stage_worlds<double>(Stage, const sim::ModelView<double>&, const sim::DataView<double>&,
                                              const CpuExec&, const int*, int);
extern template void reset_masked<float>(const sim::ModelView<float>&, const sim::DataView<float>&, const CpuExec&,
                                         const unsigned char*);
extern template void reset_masked<double>(const sim::ModelView<double>&, const sim::DataView<double>&,
                                          const CpuExec&, const unsigned char*);
extern template void step<float>(const sim::ModelView<float>&, const sim::DataView<float>&, const CpuExec&, int);
extern template void step<double>(const sim::ModelView<double>&, const sim::DataView<double>&, const CpuExec&, int);

}  // namespace stampede::kern
