// rl/dist/nccl_communicator.cpp — NCCL collectives on one GPU per rank, with a deadline.
#include "rl/dist/nccl_communicator.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace stampede::rl::dist {
namespace {

using Clock = std::chrono::steady_clock;

void cuda_check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("NcclCommunicator: ") + what + ": " + cudaGetErrorString(e));
}

void nccl_check(ncclResult_t r, const char* what) {
  if (r != ncclSuccess && r != ncclInProgress)
    throw std::runtime_error(std::string("NcclCommunicator: ") + what + ": " + ncclGetErrorString(r));
}

}  // namespace

struct NcclCommunicator::Impl {
  Communicator* bootstrap = nullptr;
  int device = 0;
  double timeout_s = 120;
  std::function<void(const std::string&)> on_timeout;
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  void* staging = nullptr;  // device buffer for host data
  std::size_t staging_bytes = 0;
  long long seq = 0;

  // poll until the communicator has no operation in progress and the stream is idle
  void wait(const char* what, std::size_t count, bool stream_too) {
    const auto t0 = Clock::now();
    for (int spins = 0;; ++spins) {
      ncclResult_t async = ncclSuccess;
      nccl_check(ncclCommGetAsyncError(comm, &async), "ncclCommGetAsyncError");
      if (async != ncclSuccess && async != ncclInProgress) {
        ncclCommAbort(comm);
        comm = nullptr;
        fail(std::string(what) + " failed: " + ncclGetErrorString(async));
      }
      bool done = async == ncclSuccess;
      if (done && stream_too) {
        const cudaError_t q = cudaStreamQuery(stream);
        if (q != cudaSuccess && q != cudaErrorNotReady) cuda_check(q, what);
        done = q == cudaSuccess;
      }
      if (done) return;
      if (std::chrono::duration<double>(Clock::now() - t0).count() > timeout_s) {
        ncclCommAbort(comm);
        comm = nullptr;
        fail(std::string("NCCL ") + what + " #" + std::to_string(seq) + " (" + std::to_string(count) +
             " elements) did not complete within " + std::to_string(static_cast<int>(timeout_s)) +
             " s: a rank is dead or hung");
      }
      if (spins > 200) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  // a non-blocking communicator may still be enqueueing the operation (ncclInProgress): wait for
  // that before anything else goes on the stream, then copy a staged result back and wait for the
  // stream
  void finish(void* data, void* buf, std::size_t bytes, bool staged, const char* what, std::size_t count) {
    wait(what, count, false);
    if (staged) cuda_check(cudaMemcpyAsync(data, buf, bytes, cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync");
    wait(what, count, true);
  }

  [[noreturn]] void fail(const std::string& msg) {
    if (on_timeout) on_timeout(msg);
    throw std::runtime_error(msg);
  }

  // a device pointer for n bytes of data: data itself when it is device memory, else the
  // staging buffer filled from it (copy_in)
  void* device_buffer(void* data, std::size_t bytes, bool copy_in, bool* staged) {
    cudaPointerAttributes attr{};
    if (cudaPointerGetAttributes(&attr, data) == cudaSuccess &&
        (attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged)) {
      *staged = false;
      return data;
    }
    cudaGetLastError();  // a host pointer may leave an error behind on old runtimes
    if (bytes > staging_bytes) {
      if (staging) cudaFree(staging);
      staging = nullptr;
      cuda_check(cudaMalloc(&staging, bytes), "cudaMalloc (staging buffer)");
      staging_bytes = bytes;
    }
    if (copy_in) cuda_check(cudaMemcpyAsync(staging, data, bytes, cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync");
    *staged = true;
    return staging;
  }

  void allreduce(void* data, std::size_t n, std::size_t elem, ncclDataType_t type) {
    if (n == 0) return;
    ++seq;
    bool staged = false;
    void* buf = device_buffer(data, n * elem, true, &staged);
    nccl_check(ncclAllReduce(buf, buf, n, type, ncclSum, comm, stream), "ncclAllReduce");
    finish(data, buf, n * elem, staged, "all-reduce", n);
  }
};

NcclCommunicator::NcclCommunicator(Communicator& bootstrap, int device, int local_rank, double timeout_s,
                                   std::function<void(const std::string&)> on_timeout)
    : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.bootstrap = &bootstrap;
  m.timeout_s = timeout_s;
  m.on_timeout = std::move(on_timeout);
  // this rank's GPU
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0)
    throw std::runtime_error(std::string("the nccl backend needs one CUDA device per rank, and rank ") +
                             std::to_string(bootstrap.rank()) + " has none (" +
                             (e != cudaSuccess ? cudaGetErrorString(e) : "no device") +
                             "); use --dist mpi to train over MPI on the CPU");
  m.device = device >= 0 ? device : local_rank % count;
  if (m.device >= count)
    throw std::runtime_error("NcclCommunicator: device " + std::to_string(m.device) + " requested, " +
                             std::to_string(count) + " present");
  cuda_check(cudaSetDevice(m.device), "cudaSetDevice");
  cuda_check(cudaStreamCreateWithFlags(&m.stream, cudaStreamNonBlocking), "cudaStreamCreate");
  // the unique id from rank 0 to everyone over the bootstrap transport
  ncclUniqueId id;
  std::memset(&id, 0, sizeof(id));
  if (bootstrap.rank() == 0) nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
  bootstrap.broadcast(static_cast<void*>(&id), sizeof(id), 0);
  // non-blocking init, so joining is bounded by the deadline too
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  nccl_check(ncclCommInitRankConfig(&m.comm, bootstrap.size(), id, bootstrap.rank(), &config), "ncclCommInitRankConfig");
  m.wait("initialization", 0, false);
}

NcclCommunicator::~NcclCommunicator() {
  auto& m = *impl_;
  if (m.comm) {
    // finalizing a non-blocking communicator completes in the background: bounded wait, else abort
    ncclResult_t state = ncclCommFinalize(m.comm);
    const auto t0 = Clock::now();
    while (state == ncclInProgress && std::chrono::duration<double>(Clock::now() - t0).count() < m.timeout_s) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
      if (ncclCommGetAsyncError(m.comm, &state) != ncclSuccess) break;
    }
    if (state == ncclSuccess)
      ncclCommDestroy(m.comm);
    else
      ncclCommAbort(m.comm);
  }
  if (m.staging) cudaFree(m.staging);
  if (m.stream) cudaStreamDestroy(m.stream);
}

int NcclCommunicator::rank() const { return impl_->bootstrap->rank(); }
int NcclCommunicator::size() const { return impl_->bootstrap->size(); }
int NcclCommunicator::device() const { return impl_->device; }

void NcclCommunicator::allreduce_sum(float* data, std::size_t n) { impl_->allreduce(data, n, sizeof(float), ncclFloat32); }
void NcclCommunicator::allreduce_sum(double* data, std::size_t n) { impl_->allreduce(data, n, sizeof(double), ncclFloat64); }

void NcclCommunicator::broadcast(void* data, std::size_t bytes, int root) {
  auto& m = *impl_;
  if (bytes == 0) return;
  ++m.seq;
  bool staged = false;
  void* buf = m.device_buffer(data, bytes, rank() == root, &staged);
  nccl_check(ncclBroadcast(buf, buf, bytes, ncclUint8, root, m.comm, m.stream), "ncclBroadcast");
  m.finish(data, buf, bytes, staged, "broadcast", bytes);
}

void NcclCommunicator::barrier() {
  // NCCL has no barrier: an all-reduce of one value is one
  float one = 1.f;
  allreduce_sum(&one, 1);
}

}  // namespace stampede::rl::dist
