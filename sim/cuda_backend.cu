// sim/cuda_backend.cu
#include "sim/cuda_backend.h"

#include <cuda_runtime.h>
#include <mujoco/mujoco.h>

#include <stdexcept>

#include "kernels/launch.h"
#include "kernels/smooth.h"
#include "kernels/smooth_cuda.h"
#include "sim/compile.h"

namespace stampede::sim {

void require_cuda_device() {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error
    throw std::runtime_error(std::string("no CUDA device: ") + cudaGetErrorString(err));
  }
  if (n == 0) throw std::runtime_error("no CUDA device: cudaGetDeviceCount found none");
}

DeviceArena::DeviceArena(std::size_t bytes) : bytes_(bytes) {
  if (bytes_) {
    SP_CUDA_CHECK(cudaMalloc(&ptr_, bytes_));
    SP_CUDA_CHECK(cudaMemset(ptr_, 0, bytes_));
  }
}
DeviceArena::~DeviceArena() {
  if (ptr_) cudaFree(ptr_);
}
DeviceArena::DeviceArena(DeviceArena&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) {
  o.ptr_ = nullptr;
  o.bytes_ = 0;
}
DeviceArena& DeviceArena::operator=(DeviceArena&& o) noexcept {
  if (this != &o) {
    if (ptr_) cudaFree(ptr_);
    ptr_ = o.ptr_;
    bytes_ = o.bytes_;
    o.ptr_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}
void DeviceArena::upload(const void* host, std::size_t offset, std::size_t bytes, void* stream) {
  if (!bytes) return;
  SP_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(ptr_) + offset, host, bytes, cudaMemcpyHostToDevice,
                                static_cast<cudaStream_t>(stream)));
}
void DeviceArena::download(void* host, std::size_t offset, std::size_t bytes, void* stream) const {
  if (!bytes) return;
  SP_CUDA_CHECK(cudaMemcpyAsync(host, static_cast<const char*>(ptr_) + offset, bytes, cudaMemcpyDeviceToHost,
                                static_cast<cudaStream_t>(stream)));
}

template <class Real>
CudaBackend<Real>::CudaBackend(const mjModel* m, int nworld, Capacities cap) : nworld_(nworld) {
  if (nworld <= 0) throw std::invalid_argument("CudaBackend: nworld must be positive, got " + std::to_string(nworld));
  require_cuda_device();
  model_ = compile_model<Real>(m);
  check_simulatable(model_.view(), "cuda");
  mj_ = mj_copyModel(nullptr, m);
  host_ = std::make_unique<Data<Real>>(data_sizes(model_.view(), nworld, cap));
  data_dev_ = DeviceArena(host_->bytes());
  data_view_dev_ = host_->layout().view(data_dev_.data());
  cudaStream_t s;
  SP_CUDA_CHECK(cudaStreamCreate(&s));
  stream_ = s;
  warnings_.assign(nworld, WorldWarnings{});
  reset(nullptr, 0);
}

template <class Real>
CudaBackend<Real>::~CudaBackend() {
  if (stream_) cudaStreamDestroy(static_cast<cudaStream_t>(stream_));
  if (mj_) mj_deleteModel(mj_);
}

template <class Real>
void CudaBackend<Real>::upload_model() {
  // lay the model's arrays out in one device arena (again if a field was expanded since)
  std::vector<std::pair<const void*, std::pair<std::size_t, std::size_t>>> chunks;
  std::size_t bytes = 0;
  model_.relocated([&](const void* host, std::size_t n) -> void* {
    chunks.push_back({host, {bytes, n}});
    bytes += (n + 255) / 256 * 256;
    return nullptr;
  });
  if (chunks != model_chunks_ || model_dev_.bytes() < bytes) {
    model_dev_ = DeviceArena(bytes);
    model_chunks_ = chunks;
    std::size_t k = 0;
    char* base = static_cast<char*>(model_dev_.data());
    model_view_dev_ = model_.relocated([&](const void*, std::size_t) -> void* {
      return base + model_chunks_[k++].second.first;
    });
  }
  for (const auto& c : model_chunks_) model_dev_.upload(c.first, c.second.first, c.second.second, stream_);
  model_dirty_ = false;
}

template <class Real>
void CudaBackend<Real>::upload() {
  upload_model();
  data_dev_.upload(host_->arena(), 0, host_->bytes(), stream_);
}

template <class Real>
void CudaBackend<Real>::download() {
  data_dev_.download(host_->arena(), 0, host_->bytes(), stream_);
  SP_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)));
  collect_warnings(h(), warnings_);
}

static_assert(sizeof(WorldWarnings) == 3 * sizeof(int), "the device counters are WorldWarnings");

template <class Real>
void CudaBackend<Real>::sync_warnings() {
  kern::fold_warnings_cuda(data_view_dev_, static_cast<int*>(warnings_dev_.data()), stream_);
  SP_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)));
}

template <class Real>
const WorldWarnings* CudaBackend<Real>::warnings() const {
  if (resident_) {
    warnings_dev_.download(warnings_.data(), 0, warnings_dev_.bytes(), stream_);
    SP_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)));
  }
  return warnings_.data();
}

template <class Real>
const WorldWarnings* CudaBackend<Real>::device_warnings() const {
  if (!resident_) throw std::logic_error("CudaBackend::device_warnings: not device resident");
  return static_cast<const WorldWarnings*>(warnings_dev_.data());
}

template <class Real>
void CudaBackend<Real>::reset_masked(const unsigned char* mask) {
  if (!resident_) throw std::logic_error("CudaBackend::reset_masked: not device resident");
  if (model_dirty_) upload_model();
  kern::reset_masked_cuda(model_view_dev_, data_view_dev_, mask, stream_);
  SP_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)));
}

template <class Real>
Real* CudaBackend<Real>::device_model_field(const std::string& name, int* size) {
  if (!resident_) throw std::logic_error("CudaBackend::device_model_field: not device resident");
  PerWorld<Real>* f = model_.expand(name, nworld_);
  if (!f) throw std::invalid_argument("unknown per-world model field '" + name + "'");
  if (size) *size = f->size;
  upload_model();
  SP_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)));
  for (const auto& c : model_chunks_)
    if (c.first == f->data) return reinterpret_cast<Real*>(static_cast<char*>(model_dev_.data()) + c.second.first);
  throw std::logic_error("CudaBackend::device_model_field: '" + name + "' is not in the device model");
}

template <class Real>
void CudaBackend<Real>::set_device_resident(bool on) {
  if (on == resident_) return;
  if (on) {
    upload();
    warnings_dev_ = DeviceArena(sizeof(WorldWarnings) * warnings_.size());
    warnings_dev_.upload(warnings_.data(), 0, warnings_dev_.bytes(), stream_);
    SP_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)));
  } else {
    warnings();  // the device counters back to the host
    download();
  }
  resident_ = on;
}

template <class Real>
void* CudaBackend<Real>::device_address(const void* host) const {
  const auto* p = static_cast<const unsigned char*>(host);
  const auto* base = static_cast<const unsigned char*>(host_->arena());
  if (p < base || p >= base + host_->bytes()) return nullptr;
  return static_cast<unsigned char*>(data_dev_.data()) + (p - base);
}

template <class Real>
void CudaBackend<Real>::forward() {
  if (resident_) {
    if (model_dirty_) upload_model();
    kern::run_stage_cuda(kern::Stage::kForward, model_view_dev_, data_view_dev_, stream_);
    sync_warnings();
    return;
  }
  upload();
  kern::run_stage_cuda(kern::Stage::kForward, model_view_dev_, data_view_dev_, stream_);
  download();
}

template <class Real>
void CudaBackend<Real>::step(int nstep) {
  if (nstep <= 0) return;
  if (resident_) {
    if (model_dirty_) upload_model();
    kern::step_cuda(model_view_dev_, data_view_dev_, nstep, stream_);
    sync_warnings();
    return;
  }
  upload();
  kern::step_cuda(model_view_dev_, data_view_dev_, nstep, stream_);
  download();
}

template <class Real>
void CudaBackend<Real>::reset(const int* worlds, int n) {
  // the reset itself is cheap: do it on the host mirror with the CPU kernels' entry point; the
  // next forward/step uploads it (host mirror), or it goes up now (device resident, after the
  // device state came down so the other worlds keep theirs)
  if (resident_) download();
  kern::CpuExec exec;
  kern::run_stage_worlds(kern::Stage::kReset, model_.view(), h(), exec, worlds, worlds ? n : nworld_);
  for (int k = 0; k < (worlds ? n : nworld_); ++k) h().warning_flags.at(worlds ? worlds[k] : k)[0] = 0;
  if (resident_) {
    data_dev_.upload(host_->arena(), 0, host_->bytes(), stream_);
    SP_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream_)));
  }
}

template <class Real>
Real* CudaBackend<Real>::model_field(const std::string& name, int* size) {
  PerWorld<Real>* f = model_.expand(name, nworld_);
  if (!f) throw std::invalid_argument("unknown per-world model field '" + name + "'");
  if (size) *size = f->size;
  model_dirty_ = true;  // the caller may write the host copy
  return f->data;
}

template class CudaBackend<float>;
template class CudaBackend<double>;

}  // namespace stampede::sim
