// tests/rl/dist/thread_communicator.h — a Communicator over threads of one process, for tests
// that need several ranks without MPI: each rank is a thread; sums are taken in rank order.
#pragma once

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <vector>

#include "rl/dist/communicator.h"

namespace stampede::rl::dist::testing {

struct ThreadGroup {
  explicit ThreadGroup(int k) : size(k), slots(k) {}
  int size;
  std::mutex m;
  std::condition_variable cv;
  int arrived = 0;
  long generation = 0;
  std::vector<std::vector<char>> slots;  // one per rank
};

class ThreadCommunicator final : public Communicator {
 public:
  ThreadCommunicator(ThreadGroup& g, int rank) : g_(g), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return g_.size; }
  std::string name() const override { return "threads"; }
  using Communicator::broadcast;
  void allreduce_sum(float* d, std::size_t n) override { reduce(d, n); }
  void allreduce_sum(double* d, std::size_t n) override { reduce(d, n); }
  void broadcast(void* d, std::size_t bytes, int root) override {
    if (rank_ == root) g_.slots[root].assign(static_cast<char*>(d), static_cast<char*>(d) + bytes);
    barrier();
    if (rank_ != root) std::memcpy(d, g_.slots[root].data(), bytes);
    barrier();
  }
  void barrier() override {
    std::unique_lock<std::mutex> lock(g_.m);
    const long gen = g_.generation;
    if (++g_.arrived == g_.size) {
      g_.arrived = 0;
      ++g_.generation;
      g_.cv.notify_all();
    } else {
      g_.cv.wait(lock, [&] { return g_.generation != gen; });
    }
  }

 private:
  template <class T>
  void reduce(T* d, std::size_t n) {
    g_.slots[rank_].assign(reinterpret_cast<char*>(d), reinterpret_cast<char*>(d + n));
    barrier();
    for (std::size_t i = 0; i < n; ++i) {
      T s = 0;
      for (int r = 0; r < g_.size; ++r) s += reinterpret_cast<const T*>(g_.slots[r].data())[i];
      d[i] = s;
    }
    barrier();
  }
  ThreadGroup& g_;
  int rank_;
};

}  // namespace stampede::rl::dist::testing
