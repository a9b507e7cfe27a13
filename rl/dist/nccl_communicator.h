// rl/dist/nccl_communicator.h — the GPU transport: NCCL with one GPU per rank.
//
// The NCCL unique id is made on rank 0 and broadcast over a bootstrap communicator (MPI in a
// real job; LocalCommunicator for one rank), then every rank joins with ncclCommInitRank.
// Collectives run on the communicator's own CUDA stream and are polled (cudaStreamQuery,
// ncclCommGetAsyncError) until a deadline; past it the NCCL communicator is aborted and the job
// ends through the bootstrap (MPI_Abort) with a message. Buffers may live on the device (used in
// place) or on the host (staged through a device buffer), so the CPU learner can use it too.
//
// Compiled whenever CUDA is on; constructing it without a CUDA device throws a clear error.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "rl/dist/communicator.h"

namespace stampede::rl::dist {

class NcclCommunicator final : public Communicator {
 public:
  // bootstrap: the ranks of the job (rank() and size() are taken from it). device: the CUDA
  // device of this rank (-1: local_rank modulo the device count). on_timeout: ends the job (the
  // MPI communicator's abort); called with the message when a collective misses its deadline
  NcclCommunicator(Communicator& bootstrap, int device, int local_rank, double timeout_s,
                   std::function<void(const std::string&)> on_timeout);
  ~NcclCommunicator() override;
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const override;
  int size() const override;
  std::string name() const override { return "nccl"; }
  int device() const;
  using Communicator::broadcast;
  void allreduce_sum(float* data, std::size_t n) override;
  void allreduce_sum(double* data, std::size_t n) override;
  void broadcast(void* data, std::size_t bytes, int root) override;
  void barrier() override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace stampede::rl::dist
