// kernels/smooth.cu — the CUDA translation unit of the pipeline: __global__ wrappers only pick
// the world (one warp each) and call the shared per-world bodies. One kernel per stage keeps
// each kernel small (register allocation and ptxas time grow with kernel size).
#include "kernels/smooth_cuda.h"
#include "kernels/smooth_stages.inl"

namespace stampede::kern {

template <class Real>
void run_stage_cuda(Stage stage, const sim::ModelView<Real>& m, const sim::DataView<Real>& d, void* stream) {
  CudaExec exec;
  exec.stream = static_cast<cudaStream_t>(stream);
  const sim::ModelView<Real> mv = m;
  const sim::DataView<Real> dv = d;
  const int n = d.s.nworld;
#define SP_STAGE_KERNEL(body) \
  for_each_world(exec, n, [=] __device__(int w, WarpTeam& team) { body(mv, dv, w, team); })
  switch (stage) {
    case Stage::kKinematics: SP_STAGE_KERNEL(kinematics); break;
    case Stage::kComPos: SP_STAGE_KERNEL(com_pos); break;
    case Stage::kCrb: SP_STAGE_KERNEL(crb); break;
    case Stage::kFactorM: SP_STAGE_KERNEL(factor_m); break;
    case Stage::kComVel: SP_STAGE_KERNEL(com_vel); break;
    case Stage::kPassive: SP_STAGE_KERNEL(passive); break;
    case Stage::kRne: SP_STAGE_KERNEL(rne); break;
    case Stage::kActuation: SP_STAGE_KERNEL(actuation); break;
    case Stage::kFwdAcceleration: SP_STAGE_KERNEL(fwd_acceleration); break;
    case Stage::kFwdConstraint: SP_STAGE_KERNEL(constraint_solve<ConstraintPipeline>); break;
    case Stage::kEuler: SP_STAGE_KERNEL(euler); break;
    case Stage::kFwdPosition: SP_STAGE_KERNEL(fwd_position); break;
    case Stage::kFwdVelocity: SP_STAGE_KERNEL(fwd_velocity); break;
    case Stage::kForward: SP_STAGE_KERNEL(forward); break;
    case Stage::kStep: SP_STAGE_KERNEL(step); break;
    case Stage::kReset:
      for_each_world(exec, n, [=] __device__(int w, WarpTeam& team) {
        reset_world(mv, dv, w, team);
        forward(mv, dv, w, team);
      });
      break;
  }
#undef SP_STAGE_KERNEL
}

template <class Real>
void step_cuda(const sim::ModelView<Real>& m, const sim::DataView<Real>& d, int nstep, void* stream) {
  // steps, then the position and velocity stages at the new state (like the CPU's step_world)
  for (int s = 0; s < nstep; ++s) run_stage_cuda(Stage::kStep, m, d, stream);
  run_stage_cuda(Stage::kFwdPosition, m, d, stream);
  run_stage_cuda(Stage::kFwdVelocity, m, d, stream);
}

template <class Real>
void reset_masked_cuda(const sim::ModelView<Real>& m, const sim::DataView<Real>& d, const unsigned char* mask,
                       void* stream) {
  CudaExec exec;
  exec.stream = static_cast<cudaStream_t>(stream);
  const sim::ModelView<Real> mv = m;
  const sim::DataView<Real> dv = d;
  for_each_world(exec, d.s.nworld,
                 [=] __device__(int w, WarpTeam& team) { reset_masked_world(mv, dv, w, mask, team); });
}

template <class Real>
void fold_warnings_cuda(const sim::DataView<Real>& d, int* counters, void* stream) {
  CudaExec exec;
  exec.stream = static_cast<cudaStream_t>(stream);
  const sim::DataView<Real> dv = d;
  for_each_world(exec, d.s.nworld, [=] __device__(int w, WarpTeam& team) {
    team.single([&] { fold_warning_flags(dv.warning_flags.at(w)[0], counters + 3 * w); });
  });
}

template void reset_masked_cuda<float>(const sim::ModelView<float>&, const sim::DataView<float>&,
                                       const unsigned char*, void*);
template void reset_masked_cuda<double>(const sim::ModelView<double>&, const sim::DataView<double>&,
                                        const unsigned char*, void*);
template void fold_warnings_cuda<float>(const sim::DataView<float>&, int*, void*);
template void fold_warnings_cuda<double>(const sim::DataView<double>&, int*, void*);
template void run_stage_cuda<float>(Stage, const sim::ModelView<float>&, const sim::DataView<float>&, void*);
template void run_stage_cuda<double>(Stage, const sim::ModelView<double>&, const sim::DataView<double>&, void*);
template void step_cuda<float>(const sim::ModelView<float>&, const sim::DataView<float>&, int, void*);
template void step_cuda<double>(const sim::ModelView<double>&, const sim::DataView<double>&, int, void*);

}  // namespace stampede::kern
