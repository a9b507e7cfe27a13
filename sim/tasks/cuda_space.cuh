// sim/tasks/cuda_space.cuh — CudaSpace, the GPU twin of HostSpace (memory_space.h): device memory
// and one stream of the device-resident CudaBackend; a stage is one thread per world (the task's
// per-world functions are scalar code). nvcc only.
#pragma once

#include <cuda_runtime.h>

#include <memory>
#include <string>
#include <vector>

#include "kernels/launch.h"
#include "sim/cuda_backend.h"
#include "sim/tasks/memory_space.h"

namespace stampede::sim::tasks {

// fn is __grid_constant__: the stages take its captured views by reference without a copy
template <class F>
__global__ void task_world_kernel(int nworld, const __grid_constant__ F fn) {
  const int w = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (w < nworld) fn(w);
}

template <class Real>
class CudaSpace {
 public:
  using BackendType = CudaBackend<Real>;
  static constexpr const char* kName = "cuda";
  static constexpr bool kDeviceMemory = true;

  explicit CudaSpace(std::unique_ptr<BackendType> backend) : backend_(std::move(backend)) {
    backend_->set_device_resident(true);
  }

  BackendType& backend() { return *backend_; }
  const BackendType& backend() const { return *backend_; }

  // memory (the env's own stream is the default one; every call here completes before it returns
  // or is ordered on the default stream, which the backend's blocking stream also waits for)
  static void* allocate(std::size_t bytes) { return kern::cuda_allocate_zeroed(bytes); }
  static void release(void* p) { cudaFree(p); }
  void to_space(void* dst, const void* host, std::size_t bytes) {
    SP_CUDA_CHECK(cudaMemcpy(dst, host, bytes, cudaMemcpyHostToDevice));
  }
  void to_host(void* host, const void* src, std::size_t bytes) const {
    SP_CUDA_CHECK(cudaMemcpy(host, src, bytes, cudaMemcpyDeviceToHost));
  }
  void copy(void* dst, const void* src, std::size_t bytes) {
    SP_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
  }
  void zero(void* dst, std::size_t bytes) { SP_CUDA_CHECK(cudaMemset(dst, 0, bytes)); }
  void sync() const { SP_CUDA_CHECK(cudaDeviceSynchronize()); }

  // fn(w) for every world, one thread each, on the default stream
  template <class F>
  void launch(int nworld, F fn) const {
    if (nworld <= 0) return;
    constexpr int kThreads = 128;
    task_world_kernel<<<(nworld + kThreads - 1) / kThreads, kThreads>>>(nworld, fn);
    SP_CUDA_CHECK(cudaGetLastError());
  }
  static __device__ void atomic_add(double* p, double v) { atomicAdd(p, v); }

  // the simulator, in device memory
  SimView<Real> sim_view(Real* geom_friction, Real* body_mass) {
    BackendType& b = *backend_;
    auto dev = [&](const void* host) { return b.device_address(host); };
    SimView<Real> s;
    s.qpos = static_cast<Real*>(dev(b.qpos()));
    s.qvel = static_cast<Real*>(dev(b.qvel()));
    s.ctrl = static_cast<Real*>(dev(b.ctrl()));
    s.xpos = static_cast<const Real*>(dev(b.xpos()));
    s.ncon = static_cast<const int*>(dev(b.ncon()));
    s.con_geom = static_cast<const int*>(dev(b.con_geom()));
    s.con_force = static_cast<const Real*>(dev(b.con_force()));
    s.contact_capacity = b.contact_capacity();
    s.geom_friction = geom_friction;
    s.body_mass = body_mass;
    return s;
  }
  const WorldWarnings* warnings() const { return backend_->device_warnings(); }
  void physics_step() {
    SP_CUDA_CHECK(cudaDeviceSynchronize());  // the task's kernels (default stream) before physics
    backend_->step(1);                        // synchronizes its stream
  }
  void reset_masked(const unsigned char* mask) {
    SP_CUDA_CHECK(cudaDeviceSynchronize());
    backend_->reset_masked(mask);
  }
  // per-world model fields in device memory: every field expanded first, then the addresses
  // (an expansion lays the device model out again)
  std::vector<Real*> model_fields(const std::vector<std::string>& names) {
    for (const auto& n : names) backend_->device_model_field(n);
    std::vector<Real*> out;
    for (const auto& n : names) out.push_back(backend_->device_model_field(n));
    return out;
  }

  bool reverse_order = false;  // (HostSpace's test option; threads have no order here)

 private:
  std::unique_ptr<BackendType> backend_;
};

}  // namespace stampede::sim::tasks
