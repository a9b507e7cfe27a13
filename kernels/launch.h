// kernels/launch.h — run a kernel body over every world: a persistent thread pool on the CPU,
// a grid launch (one warp per world) plus an error check under CUDA.
//
//   for_each_world(exec, nworld, [&](int w, auto& team) { body(m, d, w, team); });
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "kernels/config.h"
#include "kernels/team.h"

namespace stampede::kern {

// a fixed set of worker threads, created once; run() hands them one job and waits for it.
// Between jobs a worker spins for a short while (about 50-100 us) before it sleeps, and the
// caller spins likewise before it sleeps on the job's end: a physics step of a few hundred
// worlds takes about a millisecond, and waking a sleeping thread through the kernel cost 5-10%
// of that on 2 threads.
class ThreadPool {
 public:
  // nthread <= 0: one per hardware thread. The calling thread works too, so nthread - 1
  // workers are started.
  explicit ThreadPool(int nthread = 0) {
    if (nthread <= 0) nthread = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    nthread_ = nthread;
    for (int t = 1; t < nthread_; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
  }
  ~ThreadPool() {
    stop_.store(true);
    generation_.fetch_add(1);
    { std::lock_guard<std::mutex> lock(mu_); }
    cv_.notify_all();
    for (auto& th : workers_) th.join();
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return nthread_; }

  // call fn(i, thread) for every i in [0, n), items handed out in contiguous chunks of
  // decreasing length (work, below); blocks until done
  template <class F>
  void run(int n, F&& fn) {
    if (n <= 0) return;
    if (nthread_ == 1 || n == 1) {
      for (int i = 0; i < n; ++i) fn(i, 0);
      return;
    }
    Job job;
    job.n = n;
    job.ctx = const_cast<void*>(static_cast<const void*>(&fn));
    using Fn = std::remove_reference_t<F>;
    job.call = [](void* ctx, int i, int thread) { (*static_cast<Fn*>(ctx))(i, thread); };
    job_ = &job;
    pending_.store(nthread_ - 1);
    generation_.fetch_add(1);  // publishes job_ (sequentially consistent)
    // the empty critical section orders this against a worker between its predicate check
    // and its sleep: it is either still checking (and will see the new generation) or asleep
    { std::lock_guard<std::mutex> lock(mu_); }
    cv_.notify_all();
    work(job, 0);
    for (int k = 0; k < kSpin && pending_.load() != 0; ++k) cpu_relax();
    if (pending_.load() != 0) {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait(lock, [this] { return pending_.load() == 0; });
    }
    job_ = nullptr;
  }

 private:
  struct Job {
    int n = 0;
    std::atomic<int> next{0};
    void* ctx = nullptr;
    void (*call)(void*, int, int) = nullptr;
  };

  static constexpr int kSpin = 2000;  // pause instructions before sleeping (~50-100 us)

  static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  // guided self-scheduling: each grab takes half an even share of what is left, so the
  // chunks are long and contiguous at first (neighbouring worlds' per-world scalars share cache
  // lines, and threads taking alternate worlds would pass those lines back and forth) and
  // single worlds at the end (no thread idles for long while another finishes a big chunk)
  void work(Job& job, int thread) const {
    int b = job.next.load();
    while (b < job.n) {
      const int c = std::max(1, (job.n - b) / (2 * nthread_));
      if (!job.next.compare_exchange_weak(b, b + c)) continue;  // b reloaded on failure
      const int e = std::min(job.n, b + c);
      for (int i = b; i < e; ++i) job.call(job.ctx, i, thread);
      b = job.next.load();
    }
  }

  void worker_loop(int thread) {
    std::uint64_t seen = 0;
    for (;;) {
      for (int k = 0; k < kSpin && generation_.load() == seen; ++k) cpu_relax();
      if (generation_.load() == seen) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return generation_.load() != seen; });
      }
      seen = generation_.load();
      if (stop_.load()) return;
      work(*job_, thread);
      // the job (on the caller's stack) is not touched after this
      if (pending_.fetch_sub(1) == 1) {
        { std::lock_guard<std::mutex> lock(mu_); }
        done_cv_.notify_one();
      }
    }
  }

  int nthread_ = 1;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  Job* job_ = nullptr;
};

// how the CPU runs worlds: a pool and the lane order of the emulated team
struct CpuExec {
  ThreadPool* pool = nullptr;            // nullptr: run on the calling thread
  LaneOrder lane_order = LaneOrder::kForward;
  std::uint32_t seed = 1;                // seed of the shuffled lane order
};

// fn(w, team) for every world, worlds spread over the pool
template <class F>
void for_each_world(const CpuExec& exec, int nworld, F&& fn) {
  auto one = [&](int w, int) {
    CpuTeam team(exec.lane_order, exec.seed + 7919u * static_cast<std::uint32_t>(w));
    fn(w, team);
  };
  if (exec.pool) {
    exec.pool->run(nworld, one);
  } else {
    for (int w = 0; w < nworld; ++w) one(w, 0);
  }
}

#if defined(__CUDACC__)
// throw std::runtime_error with file and line when a CUDA call fails (host code only)
#define SP_CUDA_CHECK(expr)                                                                     \
  do {                                                                                          \
    cudaError_t sp_err_ = (expr);                                                               \
    if (sp_err_ != cudaSuccess)                                                                 \
      throw std::runtime_error(std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " + \
                               #expr + ": " + cudaGetErrorString(sp_err_));                     \
  } while (0)

// bytes (at least one) of zeroed device memory, released with cudaFree
inline void* cuda_allocate_zeroed(std::size_t bytes) {
  void* p = nullptr;
  SP_CUDA_CHECK(cudaMalloc(&p, bytes ? bytes : 1));
  SP_CUDA_CHECK(cudaMemset(p, 0, bytes ? bytes : 1));
  return p;
}

struct CudaExec {
  cudaStream_t stream = nullptr;
  int warps_per_block = 4;  // worlds per block
};

// fn is __grid_constant__: the stages take its captured views by reference without a copy
template <class F>
__global__ void world_kernel(int nworld, const __grid_constant__ F fn) {
  int w = static_cast<int>((blockIdx.x * blockDim.x + threadIdx.x) / kTeamWidth);
  if (w >= nworld) return;  // uniform over the warp
  WarpTeam team;
  fn(w, team);
}

// fn is a __device__ lambda (int w, WarpTeam& team); one warp per world
template <class F>
void for_each_world(const CudaExec& exec, int nworld, F fn) {
  if (nworld <= 0) return;
  int threads = exec.warps_per_block * kTeamWidth;
  int blocks = (nworld + exec.warps_per_block - 1) / exec.warps_per_block;
  world_kernel<<<blocks, threads, 0, exec.stream>>>(nworld, fn);
  SP_CUDA_CHECK(cudaGetLastError());
}
#endif

}  // namespace stampede::kern
