// rl/dist/communicator.h — the transport of data-parallel training, behind one small interface:
// sums over ranks (all-reduce), a broadcast from one rank, a barrier. The learner and the runner
// only talk to this class, so the same training code runs single-process (LocalCommunicator:
// no-ops), over MPI on CPUs (MpiCommunicator, rl/dist/mpi_communicator.h) or over NCCL with one
// GPU per rank (NcclCommunicator, rl/dist/nccl_communicator.h).
//
// Every call is collective: all ranks make the same calls in the same order with the same sizes.
// A rank that does not arrive within the communicator's deadline ends the whole job with an error
// naming it; no call waits forever.
#pragma once

#include <cstddef>
#include <string>

namespace stampede::rl::dist {

class Communicator {
 public:
  virtual ~Communicator() = default;
  // this process's rank in [0, size), and the number of ranks
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "local", "mpi" or "nccl"
  virtual std::string name() const = 0;

  // data[i] = sum over ranks of data[i], on every rank (n elements, host or, for NCCL, device memory)
  virtual void allreduce_sum(float* data, std::size_t n) = 0;
  virtual void allreduce_sum(double* data, std::size_t n) = 0;
  // the `bytes` bytes at data on rank `root` are copied to data on every other rank
  virtual void broadcast(void* data, std::size_t bytes, int root) = 0;
  // returns once every rank has called it
  virtual void barrier() = 0;

  bool is_root() const { return rank() == 0; }
  template <class T>
  void broadcast(T* data, std::size_t n, int root) { broadcast(static_cast<void*>(data), n * sizeof(T), root); }
};

// one process: sums over one rank are the data itself
class LocalCommunicator final : public Communicator {
 public:
  using Communicator::broadcast;
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string name() const override { return "local"; }
  void allreduce_sum(float*, std::size_t) override {}
  void allreduce_sum(double*, std::size_t) override {}
  void broadcast(void*, std::size_t, int) override {}
  void barrier() override {}
};

// whether comm spreads the work over more than one rank
inline bool is_distributed(const Communicator* comm) { return comm != nullptr && comm->size() > 1; }

}  // namespace stampede::rl::dist
