// rl/parallel.h — the CPU learner's parallelism: a minibatch (or a rollout step) is cut into
// contiguous row ranges, one per thread; each thread runs its own forward/backward GEMMs with no
// synchronization inside, and the caller reduces the per-thread results in a fixed order. So
// there is one join per minibatch instead of one barrier per GEMM block (which is what Eigen's
// OpenMP GEMM does, and what falls apart on a shared, oversubscribed machine), and results are
// bit-identical from run to run for a given thread count.
#pragma once

#include <algorithm>
#include <exception>
#include <thread>
#include <vector>

namespace stampede::rl {

// threads to use for `rows` rows: at most max_threads, and no range under min_rows rows
inline int chunk_count(long rows, int max_threads, long min_rows = 256) {
  const long by_size = std::max(1L, rows / min_rows);
  return static_cast<int>(std::max(1L, std::min<long>(max_threads, by_size)));
}

// [begin, end) of chunk k of n over rows
inline std::pair<long, long> chunk_range(long rows, int n, int k) {
  return {rows * k / n, rows * (k + 1) / n};
}

// f(k) for k in [0, n): chunk 0 on the calling thread, the others on their own threads;
// rethrows the first exception
template <class F>
void parallel_chunks(int n, F&& f) {
  if (n <= 1) {
    f(0);
    return;
  }
  std::vector<std::exception_ptr> errors(n);
  std::vector<std::thread> threads;
  threads.reserve(n - 1);
  for (int k = 1; k < n; ++k)
    threads.emplace_back([&, k] {
      try {
        f(k);
      } catch (...) {
        errors[k] = std::current_exception();
      }
    });
  try {
    f(0);
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace stampede::rl
