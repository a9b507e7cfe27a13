// sim/cuda_backend.h — the batched simulator on one GPU: the same kernel bodies as the CPU
// backend, one warp per world. The interface's arrays are host mirrors: inputs are uploaded
// before each forward/step/reset, outputs downloaded after it.
//
// Constructing it without a usable device throws std::runtime_error("no CUDA device: ...").
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "sim/backend.h"
#include "sim/cpu_backend.h"
#include "sim/data.h"
#include "sim/model.h"

namespace stampede::sim {

// RAII device memory, the GPU twin of the host arenas in Model/Data: one allocation, bytes
// copied in and out whole or by range
class DeviceArena {
 public:
  DeviceArena() = default;
  explicit DeviceArena(std::size_t bytes);
  ~DeviceArena();
  DeviceArena(DeviceArena&& o) noexcept;
  DeviceArena& operator=(DeviceArena&& o) noexcept;
  DeviceArena(const DeviceArena&) = delete;
  DeviceArena& operator=(const DeviceArena&) = delete;

  void* data() const { return ptr_; }
  std::size_t bytes() const { return bytes_; }
  void upload(const void* host, std::size_t offset, std::size_t bytes, void* stream);
  void download(void* host, std::size_t offset, std::size_t bytes, void* stream) const;

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

// throws std::runtime_error("no CUDA device: <reason>") when no device can be used
void require_cuda_device();

template <class Real>
class CudaBackend : public Backend<Real> {
 public:
  CudaBackend(const mjModel* m, int nworld, Capacities cap = {});
  ~CudaBackend() override;

  std::string name() const override { return "cuda"; }
  const mjModel* mj_model() const override { return mj_; }
  int nworld() const override { return nworld_; }
  int contact_capacity() const override { return host_->sizes().contact_capacity; }

  Real* qpos() override { return h().qpos.data; }
  Real* qvel() override { return h().qvel.data; }
  Real* ctrl() override { return h().ctrl.data; }
  Real* qfrc_applied() override { return h().qfrc_applied.data; }
  Real* xfrc_applied() override { return h().xfrc_applied.data; }
  Real* time() override { return h().time.data; }

  const Real* qacc() const override { return h().qacc.data; }
  const Real* xpos() const override { return h().xpos.data; }
  const Real* xquat() const override { return h().xquat.data; }
  const Real* subtree_com() const override { return h().subtree_com.data; }
  const int* ncon() const override { return h().ncon.data; }
  const int* con_geom() const override { return h().contact_geom.data; }
  const Real* con_dist() const override { return h().contact_dist.data; }
  const Real* con_pos() const override { return h().contact_pos.data; }
  const Real* con_frame() const override { return h().contact_frame.data; }
  const Real* con_force() const override { return h().contact_force.data; }
  const WorldWarnings* warnings() const override { return warnings_.data(); }

  void forward() override;
  void step(int nstep) override;
  void reset(const int* worlds, int n) override;
  Real* model_field(const std::string& name, int* size = nullptr) override;

  // the host mirror of every data field (valid after each call)
  const DataView<Real>& data() const { return host_->view(); }

 private:
  const DataView<Real>& h() const { return host_->view(); }
  void upload();    // model and the whole data arena to the device
  void download();  // the whole data arena back, then warnings

  mjModel* mj_ = nullptr;
  int nworld_;
  Model<Real> model_;
  std::unique_ptr<Data<Real>> host_;
  DeviceArena data_dev_, model_dev_;
  DataView<Real> data_view_dev_;
  ModelView<Real> model_view_dev_;
  std::vector<std::pair<const void*, std::pair<std::size_t, std::size_t>>> model_chunks_;  // host, (offset, bytes)
  std::vector<WorldWarnings> warnings_;
  void* stream_ = nullptr;
};

}  // namespace stampede::sim
