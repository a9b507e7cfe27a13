// sim/make_backend.h — one function to get any backend by name.
#pragma once

#include <memory>
#include <string>

#include "sim/backend.h"

namespace stampede::sim {

// kind: "mujoco" (reference, double only), "cpu" or "cuda". nthread <= 0: every hardware
// thread (ignored by "cuda"). Throws std::invalid_argument for an unknown kind or "mujoco" with
// float, UnsupportedModel for unsupported features, std::runtime_error for "cuda" without a
// device or a build without CUDA.
template <class Real>
std::unique_ptr<Backend<Real>> make_backend(const std::string& kind, const mjModel* m, int nworld, int nthread = 0);

extern template std::unique_ptr<Backend<float>> make_backend<float>(const std::string&, const mjModel*, int, int);
extern template std::unique_ptr<Backend<double>> make_backend<double>(const std::string&, const mjModel*, int, int);

}  // namespace stampede::sim
