// kernels/smooth.cpp — the CPU translation unit of the pipeline: per-world bodies on a pool.
#include "kernels/smooth.h"

#include "kernels/smooth_stages.inl"

namespace stampede::kern {

bool constraints_simulated() { return ConstraintPipeline::kSimulatesConstraints; }

template <class Real>
void run_stage(Stage stage, const sim::ModelView<Real>& m, const sim::DataView<Real>& d, const CpuExec& exec) {
  for_each_world(exec, d.s.nworld, [&](int w, CpuTeam& team) { run_stage_world(stage, m, d, w, team); });
}

template <class Real>
void run_stage_worlds(Stage stage, const sim::ModelView<Real>& m, const sim::DataView<Real>& d, const CpuExec& exec,
                      const int* worlds, int n) {
  for_each_world(exec, n, [&](int k, CpuTeam& team) { run_stage_world(stage, m, d, worlds ? worlds[k] : k, team); });
}

template <class Real>
void reset_masked(const sim::ModelView<Real>& m, const sim::DataView<Real>& d, const CpuExec& exec,
                  const unsigned char* mask) {
  for_each_world(exec, d.s.nworld, [&](int w, CpuTeam& team) { reset_masked_world(m, d, w, mask, team); });
}

template <class Real>
void step(const sim::ModelView<Real>& m, const sim::DataView<Real>& d, const CpuExec& exec, int nstep) {
  for_each_world(exec, d.s.nworld, [&](int w, CpuTeam& team) { step_world(m, d, w, nstep, team); });
}

template void run_stage<float>(Stage, const sim::ModelView<float>&, const sim::DataView<float>&, const CpuExec&);
template void run_stage<double>(Stage, const sim::ModelView<double>&, const sim::DataView<double>&, const CpuExec&);
template void run_stage_worlds<float>(Stage, const sim::ModelView<float>&, const sim::DataView<float>&, const CpuExec&,
                                      const int*, int);
template void run_stage_worlds<double>(Stage, const sim::ModelView<double>&, const sim::DataView<double>&,
                                       const CpuExec&, const int*, int);
template void reset_masked<float>(const sim::ModelView<float>&, const sim::DataView<float>&, const CpuExec&,
                                  const unsigned char*);
template void reset_masked<double>(const sim::ModelView<double>&, const sim::DataView<double>&, const CpuExec&,
                                   const unsigned char*);
template void step<float>(const sim::ModelView<float>&, const sim::DataView<float>&, const CpuExec&, int);
template void step<double>(const sim::ModelView<double>&, const sim::DataView<double>&, const CpuExec&, int);

}  // namespace stampede::kern
