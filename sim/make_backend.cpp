// sim/make_backend.cpp
#include "sim/make_backend.h"

#include <stdexcept>
#include <type_traits>

#include "sim/cpu_backend.h"
#include "sim/mujoco_backend.h"
#if defined(STAMPEDE_WITH_CUDA)
#include "sim/cuda_backend.h"
#endif

namespace stampede::sim {

template <class Real>
std::unique_ptr<Backend<Real>> make_backend(const std::string& kind, const mjModel* m, int nworld, int nthread) {
  if (kind == "mujoco") {
    if constexpr (std::is_same_v<Real, double>) {
      return make_mujoco_backend(m, nworld, nthread);
    } else {
      throw std::invalid_argument("backend 'mujoco' runs in double precision only; use Real = double, or 'cpu'/'cuda' for float");
    }
  }
  if (kind == "cpu") return std::make_unique<CpuBackend<Real>>(m, nworld, nthread);
  if (kind == "cuda") {
#if defined(STAMPEDE_WITH_CUDA)
    return std::make_unique<CudaBackend<Real>>(m, nworld);
#else
    throw std::runtime_error("backend 'cuda': this build has no CUDA support (configure with nvcc available)");
#endif
  }
  throw std::invalid_argument("unknown backend '" + kind + "' (expected mujoco, cpu or cuda)");
}

template std::unique_ptr<Backend<float>> make_backend<float>(const std::string&, const mjModel*, int, int);
template std::unique_ptr<Backend<double>> make_backend<double>(const std::string&, const mjModel*, int, int);

}  // namespace stampede::sim
