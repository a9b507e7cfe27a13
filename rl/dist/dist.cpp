// rl/dist/dist.cpp — launch detection and the communicator factory.
#include "rl/dist/dist.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#ifdef STAMPEDE_WITH_MPI
#include "rl/dist/mpi_communicator.h"
#endif
#ifdef STAMPEDE_WITH_NCCL
#include "rl/dist/nccl_communicator.h"
#endif

namespace stampede::rl::dist {
namespace {

// the integer value of an environment variable, or -1
int env_int(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return -1;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  return *end ? -1 : static_cast<int>(x);
}

#if defined(STAMPEDE_WITH_MPI) && defined(STAMPEDE_WITH_NCCL)
// NCCL for the data, the MPI communicator it was bootstrapped with kept alive beside it
class NcclOverMpi final : public Communicator {
 public:
  NcclOverMpi(const CommOptions& opt, int local_rank)
      : mpi_(std::make_unique<MpiCommunicator>(opt.timeout_s, opt.failure_note)),
        nccl_(std::make_unique<NcclCommunicator>(*mpi_, -1, local_rank, opt.timeout_s,
                                                 [m = mpi_.get()](const std::string& why) { m->abort(why); })) {}
  int rank() const override { return nccl_->rank(); }
  int size() const override { return nccl_->size(); }
  std::string name() const override { return "nccl"; }
  using Communicator::broadcast;
  void allreduce_sum(float* d, std::size_t n) override { nccl_->allreduce_sum(d, n); }
  void allreduce_sum(double* d, std::size_t n) override { nccl_->allreduce_sum(d, n); }
  void broadcast(void* d, std::size_t bytes, int root) override { nccl_->broadcast(d, bytes, root); }
  void barrier() override { nccl_->barrier(); }
  MpiCommunicator& mpi() { return *mpi_; }

 private:
  std::unique_ptr<MpiCommunicator> mpi_;
  std::unique_ptr<NcclCommunicator> nccl_;
};
#endif

}  // namespace

LaunchInfo launch_info() {
  LaunchInfo li;
  // Open MPI, then PMI/PMIx (MPICH, Slurm's srun), then MVAPICH
  struct Vars {
    const char *size, *rank, *local_size, *local_rank;
  };
  const Vars known[] = {
      {"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"},
      {"PMI_SIZE", "PMI_RANK", "MPI_LOCALNRANKS", "MPI_LOCALRANKID"},
      {"PMIX_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS", "MPI_LOCALRANKID"},
      {"MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_LOCAL_SIZE", "MV2_COMM_WORLD_LOCAL_RANK"},
  };
  for (const auto& v : known) {
    const int size = env_int(v.size);
    if (size < 1) continue;
    li.under_mpi = true;
    li.world_size = size;
    li.world_rank = std::max(0, env_int(v.rank));
    li.local_size = env_int(v.local_size) > 0 ? env_int(v.local_size) : 1;
    li.local_rank = std::max(0, env_int(v.local_rank));
    li.variable = v.size;
    break;
  }
  return li;
}

bool mpi_built() {
#ifdef STAMPEDE_WITH_MPI
  return true;
#else
  return false;
#endif
}

bool nccl_built() {
#ifdef STAMPEDE_WITH_NCCL
  return true;
#else
  return false;
#endif
}

std::unique_ptr<Communicator> make_communicator(const CommOptions& opt) {
  const LaunchInfo li = launch_info();
  if (opt.backend != "auto" && opt.backend != "local" && opt.backend != "mpi" && opt.backend != "nccl")
    throw std::invalid_argument("--dist '" + opt.backend + "': expected auto, local, mpi or nccl");
  if (!(opt.timeout_s > 0)) throw std::invalid_argument("--dist-timeout must be > 0 seconds");
  // several processes started by a launcher must never train one copy each
  if (li.world_size > 1 && !mpi_built())
    throw std::runtime_error("launched by mpirun as one of " + std::to_string(li.world_size) + " processes (" +
                             li.variable + "=" + std::to_string(li.world_size) +
                             "), but this stampede was built without MPI: each process would train alone "
                             "and write the same run. Install MPI (apt-get install libopenmpi-dev openmpi-bin) "
                             "and rebuild, or run stampede train without mpirun");
  if (opt.backend == "local" && li.world_size > 1)
    throw std::invalid_argument("--dist local, but mpirun started " + std::to_string(li.world_size) +
                                " processes; drop --dist local or run without mpirun");
  std::string backend = opt.backend;
  if (backend == "auto") backend = li.world_size > 1 ? "mpi" : "local";
  if (backend == "local") return std::make_unique<LocalCommunicator>();
#ifdef STAMPEDE_WITH_MPI
  if (backend == "mpi") return std::make_unique<MpiCommunicator>(opt.timeout_s, opt.failure_note);
#ifdef STAMPEDE_WITH_NCCL
  return std::make_unique<NcclOverMpi>(opt, li.local_rank);
#else
  throw std::runtime_error("--dist nccl: this build has no CUDA (NCCL comes with the CUDA toolkit); use --dist mpi");
#endif
#else
  throw std::runtime_error("--dist " + backend + ": this stampede was built without MPI (CMake found none); "
                           "install libopenmpi-dev and rebuild");
#endif
}

void set_failure_note(Communicator& comm, const std::string& note) {
#ifdef STAMPEDE_WITH_MPI
  if (auto* m = dynamic_cast<MpiCommunicator*>(&comm)) m->set_failure_note(note);
#ifdef STAMPEDE_WITH_NCCL
  if (auto* n = dynamic_cast<NcclOverMpi*>(&comm)) n->mpi().set_failure_note(note);
#endif
#else
  (void)comm;
  (void)note;
#endif
}

void abort_job(Communicator& comm, const std::string& why, int code) {
#ifdef STAMPEDE_WITH_MPI
  if (auto* m = dynamic_cast<MpiCommunicator*>(&comm)) m->abort(why, code);
#ifdef STAMPEDE_WITH_NCCL
  if (auto* n = dynamic_cast<NcclOverMpi*>(&comm)) n->mpi().abort(why, code);
#endif
#else
  (void)comm;
  (void)why;
  (void)code;
#endif
}

}  // namespace stampede::rl::dist
