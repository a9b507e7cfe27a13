// tests/kernels/test_team.cpp — kernels/team.h and kernels/launch.h: the CPU team visits every
// index once in every lane order, reductions do not depend on the order, the pool covers all
// items.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <cmath>
#include <vector>

#include "kernels/launch.h"
#include "kernels/team.h"

using namespace stampede::kern;

TEST_CASE("for_lanes visits each index exactly once in every lane order", "[team]") {
  for (LaneOrder order : {LaneOrder::kForward, LaneOrder::kReverse, LaneOrder::kShuffled}) {
    CpuTeam team(order, 5);
    for (int n : {0, 1, 31, 32, 33, 100}) {
      std::vector<int> seen(n, 0);
      team.for_lanes(n, [&](int i) { seen[i]++; });
      for (int i = 0; i < n; ++i) CHECK(seen[i] == 1);
    }
  }
}

TEST_CASE("the lane orders differ, so order-dependent code would be caught", "[team]") {
  std::vector<int> fwd, rev, shuf;
  CpuTeam a(LaneOrder::kForward), b(LaneOrder::kReverse), c(LaneOrder::kShuffled, 3);
  a.for_lanes(40, [&](int i) { fwd.push_back(i); });
  b.for_lanes(40, [&](int i) { rev.push_back(i); });
  c.for_lanes(40, [&](int i) { shuf.push_back(i); });
  CHECK(fwd != rev);
  CHECK(fwd != shuf);
  CHECK(rev != shuf);
}

TEST_CASE("reduce_sum is bit-identical in every lane order", "[team]") {
  std::vector<double> x(1000);
  for (int i = 0; i < 1000; ++i) x[i] = std::sin(i * 1.7) * std::pow(10.0, (i % 13) - 6);
  CpuTeam a(LaneOrder::kForward);
  double ref = a.reduce_sum<double>(1000, [&](int i) { return x[i]; });
  double plain = 0;
  for (double v : x) plain += v;
  CHECK(ref == Approx(plain).epsilon(1e-12));
  for (unsigned seed = 1; seed < 20; ++seed) {
    CpuTeam r(LaneOrder::kReverse, seed), s(LaneOrder::kShuffled, seed);
    CHECK(r.reduce_sum<double>(1000, [&](int i) { return x[i]; }) == ref);
    CHECK(s.reduce_sum<double>(1000, [&](int i) { return x[i]; }) == ref);
  }
}

TEST_CASE("thread pool runs every item once, reusing its threads", "[launch]") {
  ThreadPool pool(4);
  CHECK(pool.size() == 4);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::atomic<int>> hits(257);
    for (auto& h : hits) h = 0;
    pool.run(257, [&](int i, int thread) {
      CHECK(thread >= 0);
      hits[i]++;
    });
    for (auto& h : hits) REQUIRE(h == 1);
  }
  CpuExec exec;
  exec.pool = &pool;
  std::vector<int> worlds(33, 0);
  for_each_world(exec, 33, [&](int w, CpuTeam&) { worlds[w] += 1; });
  for (int v : worlds) CHECK(v == 1);
}

TEST_CASE("thread pool jobs of every size, back to back and after its workers slept", "[launch]") {
  // the workers spin between jobs and then sleep: jobs come straight after each other (caught
  // while spinning) and after pauses longer than the spin (woken from sleep); item counts
  // from 2 to past a chunk boundary; pools are made and destroyed while workers spin
  for (int nthread : {2, 3, 4}) {
    ThreadPool pool(nthread);
    std::mt19937 rng(static_cast<unsigned>(nthread));
    for (int round = 0; round < 300; ++round) {
      const int n = 2 + static_cast<int>(rng() % 200);
      std::vector<std::atomic<int>> hits(n);
      for (auto& h : hits) h = 0;
      std::atomic<int> bad_thread{0};
      pool.run(n, [&](int i, int thread) {
        if (thread < 0 || thread >= nthread) bad_thread++;
        hits[i]++;
      });
      REQUIRE(bad_thread == 0);
      for (auto& h : hits) REQUIRE(h == 1);
      if (round % 50 == 49) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  for (int k = 0; k < 20; ++k) {
    ThreadPool pool(2);
    std::atomic<int> sum{0};
    pool.run(10, [&](int i, int) { sum += i; });
    CHECK(sum == 45);
  }
}
