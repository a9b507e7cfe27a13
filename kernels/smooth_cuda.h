// kernels/smooth_cuda.h — GPU entry points of the pipeline (one warp per world). The views
// hold device pointers; `stream` is a cudaStream_t (nullptr: the default stream). Host code
// that includes this needs no CUDA headers.
#pragma once

#include "kernels/smooth.h"

namespace stampede::kern {

template <class Real>
void run_stage_cuda(Stage stage, const sim::ModelView<Real>& m, const sim::DataView<Real>& d, void* stream);

template <class Real>
void step_cuda(const sim::ModelView<Real>& m, const sim::DataView<Real>& d, int nstep, void* stream);

}  // namespace stampede::kern
