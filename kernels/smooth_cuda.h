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

// the worlds with mask[w] != 0 (device memory, nworld bytes) back to qpos0 with mj_forward, like
// Stage::kReset, and their warning flags cleared
template <class Real>
void reset_masked_cuda(const sim::ModelView<Real>& m, const sim::DataView<Real>& d, const unsigned char* mask,
                       void* stream);

// fold every world's warning flags into its counters (device memory, nworld x 3 ints: contact
// overflow, constraint overflow, NaN resets, as sim::WorldWarnings), then clear the flags
template <class Real>
void fold_warnings_cuda(const sim::DataView<Real>& d, int* counters, void* stream);

}  // namespace stampede::kern
