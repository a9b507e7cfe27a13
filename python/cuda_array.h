// python/cuda_array.h — stampede.sim.CudaArray for the rest of the extension: an array in GPU
// memory (__cuda_array_interface__ v3, DLPack, numpy() to the host) that keeps `owner` alive.
#pragma once

#include <pybind11/pybind11.h>

#include "stampede/sim.h"

pybind11::object make_cuda_array(pybind11::object owner, const stampede::sim::ArrayView& view);
