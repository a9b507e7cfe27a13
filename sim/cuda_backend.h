// sim/cuda_backend.h — the batched simulator on one GPU: the same kernel bodies as the CPU
// backend, one warp per world. Two residencies:
// - host mirror (the default, what Backend<Real> users such as the task see): the interface's
//   arrays are host memory; the whole state is uploaded before each forward/step and
//   downloaded after it;
// - device resident (set_device_resident(true), what stampede::sim::Batch uses): the state
//   lives on the device between calls and users read and write it there (device_address());
//   forward/step upload the model only after a host-side change (model_field()), and fold the
//   warning flags into per-world counters on the device. Nothing per world runs on the host.
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
  const WorldWarnings* warnings() const override;  // device resident: downloads the counters

  void forward() override;
  void step(int nstep) override;
  void reset(const int* worlds, int n) override;
  Real* model_field(const std::string& name, int* size = nullptr) override;

  // the host mirror of every data field (valid after each call while not device resident)
  const DataView<Real>& data() const { return host_->view(); }

  // device residency (see the top of this file). Turning it on uploads the state, turning it
  // off downloads it; reset() works in both (through the host mirror).
  void set_device_resident(bool on);
  bool device_resident() const { return resident_; }
  // the device address of a host-mirror address inside the data arena (an array the interface
  // returned, or a field of data()); nullptr for any other address (e.g. warnings())
  void* device_address(const void* host) const;
  // the device view of every data field
  const DataView<Real>& device_data() const { return data_view_dev_; }
  // device resident: the per-world warning counters in device memory, (nworld) WorldWarnings
  const WorldWarnings* device_warnings() const;
  // device resident: the worlds with mask[w] != 0 (device memory, nworld bytes) back to qpos0,
  // then mj_forward, on the device
  void reset_masked(const unsigned char* mask);
  // device resident: the (nworld, size) device array of a per-world model field, expanded and
  // uploaded now; device code may then write it (domain randomization). A later model_field()
  // call hands out the host copy again, which the next forward/step uploads over it.
  Real* device_model_field(const std::string& name, int* size = nullptr);

 private:
  const DataView<Real>& h() const { return host_->view(); }
  void upload_model();  // the model arena (again after a per-world field was expanded)
  void upload();        // model and the whole data arena to the device
  void download();      // the whole data arena back, then warnings
  void sync_warnings(); // device resident: the warning flags back, counted, cleared on both sides

  mjModel* mj_ = nullptr;
  int nworld_;
  Model<Real> model_;
  std::unique_ptr<Data<Real>> host_;
  DeviceArena data_dev_, model_dev_;
  DataView<Real> data_view_dev_;
  ModelView<Real> model_view_dev_;
  std::vector<std::pair<const void*, std::pair<std::size_t, std::size_t>>> model_chunks_;  // host, (offset, bytes)
  mutable std::vector<WorldWarnings> warnings_;
  DeviceArena warnings_dev_;  // device resident: the counters
  void* stream_ = nullptr;
  bool resident_ = false;
  bool model_dirty_ = true;   // the host model changed since the last upload
};

}  // namespace stampede::sim
