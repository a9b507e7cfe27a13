// kernels/smooth.cu — the CUDA translation unit of the pipeline: __global__ wrappers only pick
// the world (one warp each) and call the shared per-world bodies.
#include "kernels/smooth_cuda.h"
#include "kernels/smooth_stages.inl"

namespace stampede::kern {

template <class Real>
void run_stage_cuda(Stage stage, const sim::ModelView<Real>& m, const sim::DataView<Real>& d, void* stream) {
  CudaExec exec;
  exec.stream = static_cast<cudaStream_t>(stream);
  sim::ModelView<Real> mv = m;
  sim::DataView<Real> dv = d;
  for_each_world(exec, d.s.nworld,
                 [=] __device__(int w, WarpTeam& team) { run_stage_world(stage, mv, dv, w, team); });
}

template <class Real>
void step_cuda(const sim::ModelView<Real>& m, const sim::DataView<Real>& d, int nstep, void* stream) {
  CudaExec exec;
  exec.stream = static_cast<cudaStream_t>(stream);
  sim::ModelView<Real> mv = m;
  sim::DataView<Real> dv = d;
  for_each_world(exec, d.s.nworld, [=] __device__(int w, WarpTeam& team) { step_world(mv, dv, w, nstep, team); });
}

template void run_stage_cuda<float>(Stage, const sim::ModelView<float>&, const sim::DataView<float>&, void*);
template void run_stage_cuda<double>(Stage, const sim::ModelView<double>&, const sim::DataView<double>&, void*);
template void step_cuda<float>(const sim::ModelView<float>&, const sim::DataView<float>&, int, void*);
template void step_cuda<double>(const sim::ModelView<double>&, const sim::DataView<double>&, int, void*);

}  // namespace stampede::kern
