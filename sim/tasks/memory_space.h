// sim/tasks/memory_space.h — where the device-shaped locomotion env (locomotion_device_env.h)
// keeps its state and runs its per-world stages. HostSpace: host memory over any host-memory
// Backend (the CPU kernels), stages as loops over worlds; it runs the env's code on the CPU, which
// is how tests check that code without a GPU. The CUDA twin, CudaSpace, is in cuda_space.cuh
// (nvcc only) and has the same members.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernels/config.h"
#include "kernels/space_buffer.h"
#include "sim/backend.h"
#include "sim/tasks/locomotion_kernels.h"

namespace stampede::sim::tasks {

using kern::SpaceBuffer;

// host memory and the calling thread; the backend is any Backend<Real> whose arrays are host
// memory (CpuBackend)
template <class Real>
class HostSpace {
 public:
  using BackendType = Backend<Real>;
  static constexpr const char* kName = "host";
  static constexpr bool kDeviceMemory = false;

  explicit HostSpace(std::unique_ptr<BackendType> backend) : backend_(std::move(backend)) {}

  BackendType& backend() { return *backend_; }
  const BackendType& backend() const { return *backend_; }

  // memory
  static void* allocate(std::size_t bytes) {
    return kern::host_allocate_zeroed(bytes, 256);
  }
  static void release(void* p) { std::free(p); }
  void to_space(void* dst, const void* host, std::size_t bytes) { std::memcpy(dst, host, bytes); }
  void to_host(void* host, const void* src, std::size_t bytes) const { std::memcpy(host, src, bytes); }
  void copy(void* dst, const void* src, std::size_t bytes) { std::memcpy(dst, src, bytes); }
  void zero(void* dst, std::size_t bytes) { std::memset(dst, 0, bytes); }
  void sync() const {}

  // fn(w) for every world. Worlds run in reverse order when `reverse_order` is set: the env's
  // stages must not depend on the order (on a GPU they run concurrently), and the tests check it.
  template <class F>
  void launch(int nworld, F fn) const {
    if (reverse_order) {
      for (int w = nworld - 1; w >= 0; --w) fn(w);
    } else {
      for (int w = 0; w < nworld; ++w) fn(w);
    }
  }
  static SP_HD void atomic_add(double* p, double v) { *p += v; }

  // the simulator
  SimView<Real> sim_view(Real* geom_friction, Real* body_mass) {
    SimView<Real> s;
    s.qpos = backend_->qpos();
    s.qvel = backend_->qvel();
    s.ctrl = backend_->ctrl();
    s.xpos = backend_->xpos();
    s.ncon = backend_->ncon();
    s.con_geom = backend_->con_geom();
    s.con_force = backend_->con_force();
    s.contact_capacity = backend_->contact_capacity();
    s.geom_friction = geom_friction;
    s.body_mass = body_mass;
    return s;
  }
  const WorldWarnings* warnings() const { return backend_->warnings(); }
  void physics_step() { backend_->step(1); }
  void reset_masked(const unsigned char* mask) {
    worlds_.clear();
    for (int w = 0; w < backend_->nworld(); ++w)
      if (mask[w]) worlds_.push_back(w);
    if (!worlds_.empty()) backend_->reset(worlds_.data(), static_cast<int>(worlds_.size()));
  }
  // per-world model fields: all of them first (a later expansion may move earlier ones)
  std::vector<Real*> model_fields(const std::vector<std::string>& names) {
    std::vector<Real*> out;
    for (const auto& n : names) out.push_back(backend_->model_field(n));
    return out;
  }

  bool reverse_order = false;

 private:
  std::unique_ptr<BackendType> backend_;
  std::vector<int> worlds_;
};

}  // namespace stampede::sim::tasks
