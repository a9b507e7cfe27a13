// tests/rl/dist/test_communicator.cpp — what needs no MPI: the local communicator, launch
// detection from the launcher's environment, the factory's refusals, and the normalizer's merge of
// several ranks' batches (ranks as threads) against the statistics of all the data.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <thread>

#include "rl/dist/dist.h"
#include "rl/learner.h"
#include "rl/normalizer.h"
#include "rl/rng.h"
#include "thread_communicator.h"

using namespace stampede::rl;
using namespace stampede::rl::dist;

namespace {

// sets environment variables for one scope and restores them
struct EnvVars {
  std::vector<std::pair<std::string, std::string>> saved;
  std::vector<std::string> unset_after;
  void set(const std::string& k, const std::string& v) {
    if (const char* old = std::getenv(k.c_str()))
      saved.emplace_back(k, old);
    else
      unset_after.push_back(k);
    setenv(k.c_str(), v.c_str(), 1);
  }
  ~EnvVars() {
    for (auto& [k, v] : saved) setenv(k.c_str(), v.c_str(), 1);
    for (auto& k : unset_after) unsetenv(k.c_str());
  }
};

}  // namespace

TEST_CASE("the local communicator is one rank whose sums are its data", "[rl][dist]") {
  LocalCommunicator c;
  CHECK(c.rank() == 0);
  CHECK(c.size() == 1);
  CHECK(c.is_root());
  CHECK_FALSE(is_distributed(&c));
  CHECK_FALSE(is_distributed(nullptr));
  float f[3] = {1.f, -2.f, 3.5f};
  double d[2] = {0.25, 7.0};
  c.allreduce_sum(f, 3);
  c.allreduce_sum(d, 2);
  c.broadcast(d, 2, 0);
  c.barrier();
  CHECK(f[0] == 1.f);
  CHECK(f[1] == -2.f);
  CHECK(f[2] == 3.5f);
  CHECK(d[0] == 0.25);
  CHECK(d[1] == 7.0);
}

TEST_CASE("an MPI launch is read from the launcher's environment", "[rl][dist]") {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE"})
    REQUIRE(std::getenv(v) == nullptr);  // this test is not run under mpirun
  CHECK_FALSE(launch_info().under_mpi);
  CHECK(launch_info().world_size == 1);
  EnvVars env;
  env.set("OMPI_COMM_WORLD_SIZE", "4");
  env.set("OMPI_COMM_WORLD_RANK", "3");
  env.set("OMPI_COMM_WORLD_LOCAL_SIZE", "2");
  env.set("OMPI_COMM_WORLD_LOCAL_RANK", "1");
  const LaunchInfo li = launch_info();
  CHECK(li.under_mpi);
  CHECK(li.world_size == 4);
  CHECK(li.world_rank == 3);
  CHECK(li.local_size == 2);
  CHECK(li.local_rank == 1);
  CHECK(li.variable == "OMPI_COMM_WORLD_SIZE");
}

TEST_CASE("the communicator factory refuses what it cannot do, with a reason", "[rl][dist]") {
  CommOptions opt;
  CHECK(make_communicator(opt)->name() == "local");  // not launched by mpirun: one process
  opt.backend = "gloo";
  CHECK_THROWS_WITH(make_communicator(opt), Catch::Contains("expected auto, local, mpi or nccl"));
  opt.backend = "auto";
  opt.timeout_s = 0;
  CHECK_THROWS_WITH(make_communicator(opt), Catch::Contains("--dist-timeout"));
  opt.timeout_s = 120;
  EnvVars env;
  env.set("OMPI_COMM_WORLD_SIZE", "2");
  env.set("OMPI_COMM_WORLD_RANK", "0");
  if (!mpi_built()) {
    // several processes from mpirun, but no MPI in this build: refused, never trained alone
    CHECK_THROWS_WITH(make_communicator(opt), Catch::Contains("built without MPI") &&
                                                  Catch::Contains("OMPI_COMM_WORLD_SIZE=2"));
  }
  opt.backend = "local";
  CHECK_THROWS_WITH(make_communicator(opt),
                    mpi_built() ? Catch::Contains("--dist local, but mpirun started 2 processes")
                                : Catch::Contains("built without MPI"));
}

TEST_CASE("the normalizer merges every rank's batch into the statistics of all the data", "[rl][dist][normalizer]") {
  // three ranks with unequal batches (rank 1 has none in the first round), two rounds; the
  // reference is one normalizer fed each round's rows of all ranks at once
  constexpr int K = 3, D = 4;
  const int rows[2][K] = {{5, 0, 7}, {3, 9, 1}};
  std::vector<std::vector<float>> data[2];
  Rng rng(11);
  for (int round = 0; round < 2; ++round)
    for (int r = 0; r < K; ++r) {
      std::vector<float> x(static_cast<std::size_t>(rows[round][r]) * D);
      for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(rng.normal() * (1 + i % D) + 3.0 * (i % D));
      data[round].push_back(x);
    }
  ObsNormalizer reference(D);
  for (int round = 0; round < 2; ++round) {
    std::vector<float> all;
    for (int r = 0; r < K; ++r) all.insert(all.end(), data[round][r].begin(), data[round][r].end());
    reference.update(all.data(), static_cast<int>(all.size() / D));
  }
  testing::ThreadGroup group(K);
  std::vector<ObsNormalizer> per_rank(K, ObsNormalizer(D));
  std::vector<std::thread> threads;
  for (int r = 0; r < K; ++r)
    threads.emplace_back([&, r] {
      testing::ThreadCommunicator comm(group, r);
      for (int round = 0; round < 2; ++round) per_rank[r].update(data[round][r].data(), rows[round][r], &comm);
    });
  for (auto& t : threads) t.join();
  for (int r = 0; r < K; ++r) {
    INFO("rank " << r);
    CHECK(per_rank[r].count() == reference.count());
    for (int j = 0; j < D; ++j) {
      // the same sums in another grouping: equal to double rounding
      CHECK(per_rank[r].mean()[j] == Approx(reference.mean()[j]).epsilon(1e-12));
      CHECK(per_rank[r].var()[j] == Approx(reference.var()[j]).epsilon(1e-12));
      // and every rank holds exactly the same statistics
      CHECK(per_rank[r].mean()[j] == per_rank[0].mean()[j]);
      CHECK(per_rank[r].var()[j] == per_rank[0].var()[j]);
    }
  }
}

TEST_CASE("the NCCL communicator needs a CUDA device and says so; with one it sums", "[rl][dist][nccl]") {
  if (!nccl_built() || !mpi_built()) {
    WARN("skipped: this build has no NCCL communicator (needs CUDA and MPI)");
    return;
  }
  CommOptions opt;
  opt.backend = "nccl";
  std::string why;
  if (!cuda_available(&why)) {
    // a one-rank job (MPI singleton) on a machine without a GPU: refused with the reason
    CHECK_THROWS_WITH(make_communicator(opt), Catch::Contains("needs one CUDA device per rank") &&
                                                  Catch::Contains("--dist mpi"));
    return;
  }
  auto comm = make_communicator(opt);
  REQUIRE(comm->name() == "nccl");
  REQUIRE(comm->size() == 1);
  std::vector<float> f = {1.f, -2.5f, 3.f};
  comm->allreduce_sum(f.data(), f.size());  // host memory, staged through the device
  CHECK(f == std::vector<float>{1.f, -2.5f, 3.f});
  double d[2] = {4.0, 0.125};
  comm->broadcast(d, 2, 0);
  CHECK(d[1] == 0.125);
  comm->barrier();
}
