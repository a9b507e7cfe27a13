// benchmarks/bench_allreduce.cpp — time of the learner's per-minibatch gradient all-reduce
// through the data-parallel transport: the default networks' parameter count (actor and critic
// 512-256-128, obs 69, act 19) in float, averaged over many repetitions, on whatever ranks mpirun
// gives (`mpirun -np 2 bench_allreduce [--nccl] [params] [reps]`).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "rl/actor_critic.h"
#include "rl/dist/dist.h"

int main(int argc, char** argv) {
  using namespace stampede::rl;
  bool nccl = false;
  std::vector<std::string> pos;
  for (int i = 1; i < argc; ++i) (std::string(argv[i]) == "--nccl" ? (void)(nccl = true) : pos.push_back(argv[i]));
  // default: the parameter count of the default networks on the H1 observation/action sizes
  const ActorCriticLayout L(69, 19, PolicyConfig{});
  const std::size_t n = pos.size() > 0 ? std::strtoull(pos[0].c_str(), nullptr, 10) : L.num_params();
  const int reps = pos.size() > 1 ? std::atoi(pos[1].c_str()) : 200;
  dist::CommOptions opt;
  opt.backend = nccl ? "nccl" : "auto";
  auto comm = dist::make_communicator(opt);
  std::vector<float> g(n, 1.f);
  for (int i = 0; i < 10; ++i) comm->allreduce_sum(g.data(), n);  // warm up
  comm->barrier();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) comm->allreduce_sum(g.data(), n);
  comm->barrier();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
  if (comm->is_root()) {
    const double bytes = 4.0 * n, K = comm->size();
    std::printf("%s, %d ranks: all-reduce of %zu floats (%.2f MB): %.1f us, algorithm bandwidth %.2f GB/s, "
                "bus bandwidth (x 2(K-1)/K) %.2f GB/s\n",
                comm->name().c_str(), comm->size(), n, bytes / 1e6, s * 1e6, bytes / s / 1e9,
                bytes * 2 * (K - 1) / K / s / 1e9);
  }
  return 0;
}
