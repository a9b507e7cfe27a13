// rl/dist/dist.h — choosing the transport of a training run: how `stampede train` learns it was
// started by mpirun, and the communicator it trains with.
#pragma once

#include <memory>
#include <string>

#include "rl/dist/communicator.h"

namespace stampede::rl::dist {

// how this process was launched: by an MPI launcher (mpirun/mpiexec/srun with PMI), and with how
// many processes; read from the launcher's environment (OMPI_COMM_WORLD_SIZE, PMI_SIZE, ...)
struct LaunchInfo {
  bool under_mpi = false;
  int world_size = 1;        // processes in the job (1 when not launched by MPI)
  int world_rank = 0;        // this process's rank (0 when not launched by MPI)
  int local_size = 1;        // processes of the job on this machine
  int local_rank = 0;        // this process's index among them (picks its GPU)
  std::string variable;      // the environment variable that told us (for messages)
};
LaunchInfo launch_info();

// whether this build has MPI (found by CMake) and NCCL (built with CUDA)
bool mpi_built();
bool nccl_built();

struct CommOptions {
  std::string backend = "auto";  // auto, local, mpi or nccl
  double timeout_s = 120;        // a collective that takes longer ends the job naming the missing rank(s)
  std::string failure_note;      // appended to that error (e.g. where the last checkpoint is)
};

// the communicator of a training run. backend "auto": MPI when launched by an MPI launcher with
// more than one process, else local. "nccl": NCCL over the GPU of this rank (local rank modulo
// the device count), bootstrapped over MPI. Throws std::runtime_error when the backend cannot be
// had, e.g. when mpirun started several processes but this build has no MPI (each would train
// alone and write the same run directory).
std::unique_ptr<Communicator> make_communicator(const CommOptions& opt);

// replaces the note appended to a deadline error (MPI and NCCL communicators; others ignore it)
void set_failure_note(Communicator& comm, const std::string& note);

// ends every rank of the job now with `why` on stderr (MPI_Abort), so that an error on one rank
// never leaves the others waiting; a single process just returns
void abort_job(Communicator& comm, const std::string& why, int code = 1);

}  // namespace stampede::rl::dist
