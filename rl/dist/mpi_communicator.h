// rl/dist/mpi_communicator.h — the CPU transport: MPI collectives on MPI_COMM_WORLD.
//
// Every collective is non-blocking (MPI_Iallreduce, MPI_Ibcast, MPI_Ibarrier) and polled with
// MPI_Test until a deadline. Alongside each collective every rank posts a small heartbeat (the
// collective's sequence number) to rank 0, and rank 0 to every rank, on a duplicate of the
// world communicator, and repeats it while it waits; so when the deadline passes, rank 0 knows
// which ranks never reached the collective and which reached it and then fell silent (dead or
// hung), and the others know the same of rank 0. The waiting rank prints them and calls
// MPI_Abort, which makes mpirun end every process of the job. A rank that dies is noticed by
// mpirun itself, which ends the job naming it.
//
// MPI headers stay out of this header (pimpl), so only rl/dist needs MPI's include paths.
#pragma once

#include <memory>
#include <string>

#include "rl/dist/communicator.h"

namespace stampede::rl::dist {

class MpiCommunicator final : public Communicator {
 public:
  // initializes MPI (MPI_THREAD_FUNNELED: only the thread that made it calls MPI) unless already
  // initialized; finalizes it in the destructor when it initialized it. timeout_s: the deadline
  // of one collective; failure_note: appended to the error when it passes
  explicit MpiCommunicator(double timeout_s = 120, std::string failure_note = "");
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override;
  int size() const override;
  std::string name() const override { return "mpi"; }
  using Communicator::broadcast;
  void allreduce_sum(float* data, std::size_t n) override;
  void allreduce_sum(double* data, std::size_t n) override;
  void broadcast(void* data, std::size_t bytes, int root) override;
  void barrier() override;

  double timeout() const;
  void set_timeout(double seconds);
  void set_failure_note(std::string note);
  // prints "stampede: rank R: <why>" and the failure note to stderr, then MPI_Abort(code)
  [[noreturn]] void abort(const std::string& why, int code = 3);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace stampede::rl::dist
