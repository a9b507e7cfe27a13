// kernels/team.h — the team layer: cooperative loops inside one world.
//
// A team is the group of lanes that work on one world: a CUDA warp (32 lanes) on the GPU, a
// loop that emulates 32 lanes on the CPU. Kernel bodies only use:
//   team.for_lanes(n, f)      f(i) for i in [0, n), lane l takes i = l, l + 32, ...; ends in sync
//   team.reduce_sum(n, f)     sum of f(i): each lane sums its indices in increasing order, then
//                             a fixed butterfly tree combines the 32 partial sums
//   team.single(f)            f() on lane 0 only; ends in sync
//   team.sync()               barrier (and memory fence) across the team
// Work inside one for_lanes must not read what another index of the same call writes.
// CpuTeam runs the lanes in forward, reverse or shuffled order (tests use all three and require
// identical results), which exposes the cross-lane races a GPU would have.
#pragma once

#include <cstdint>

#include "kernels/config.h"

namespace stampede::kern {

constexpr int kTeamWidth = 32;

enum class LaneOrder { kForward, kReverse, kShuffled };

// CPU emulation of a 32-lane team
class CpuTeam {
 public:
  explicit CpuTeam(LaneOrder order = LaneOrder::kForward, std::uint32_t seed = 1)
      : order_(order), state_(seed ? seed : 1) {
    for (int l = 0; l < kTeamWidth; ++l) perm_[l] = l;
  }

  template <class F>
  void for_lanes(int n, F&& f) {
    if (order_ == LaneOrder::kForward) {
      // the production order: no index may read what another writes, so the indices in
      // sequence give what the lanes would (the other orders check that contract) without the
      // 32-lane bookkeeping that otherwise costs more than the short loops of one world
      for (int i = 0; i < n; ++i) f(i);
      return;
    }
    next_order();
    for (int k = 0; k < kTeamWidth; ++k) {
      int lane = perm_[k];
      for (int i = lane; i < n; i += kTeamWidth) f(i);
    }
  }

  template <class T, class F>
  T reduce_sum(int n, F&& f) {
    if (order_ != LaneOrder::kForward) next_order();
    T part[kTeamWidth];
    for (int k = 0; k < kTeamWidth; ++k) {
      int lane = perm_[k];
      T acc = T(0);
      for (int i = lane; i < n; i += kTeamWidth) acc += f(i);
      part[lane] = acc;
    }
    for (int off = kTeamWidth / 2; off > 0; off /= 2)
      for (int l = 0; l < off; ++l) part[l] = part[l] + part[l + off];
    return part[0];
  }

  template <class F>
  void single(F&& f) { f(); }

  void sync() {}

  LaneOrder order() const { return order_; }

 private:
  // set perm_ for the next cooperative call
  void next_order() {
    switch (order_) {
      case LaneOrder::kForward:
        for (int l = 0; l < kTeamWidth; ++l) perm_[l] = l;
        break;
      case LaneOrder::kReverse:
        for (int l = 0; l < kTeamWidth; ++l) perm_[l] = kTeamWidth - 1 - l;
        break;
      case LaneOrder::kShuffled:
        for (int l = kTeamWidth - 1; l > 0; --l) {
          state_ ^= state_ << 13; state_ ^= state_ >> 17; state_ ^= state_ << 5;
          int j = static_cast<int>(state_ % std::uint32_t(l + 1));
          int t = perm_[l]; perm_[l] = perm_[j]; perm_[j] = t;
        }
        break;
    }
  }

  LaneOrder order_;
  std::uint32_t state_;
  int perm_[kTeamWidth];
};

#if defined(__CUDACC__)
// one CUDA warp per world (the block's threads are whole warps)
class WarpTeam {
 public:
  __device__ WarpTeam() : lane_(static_cast<int>(threadIdx.x) & (kTeamWidth - 1)) {}

  template <class F>
  __device__ void for_lanes(int n, F&& f) {
    for (int i = lane_; i < n; i += kTeamWidth) f(i);
    __syncwarp();
  }

  template <class T, class F>
  __device__ T reduce_sum(int n, F&& f) {
    T acc = T(0);
    for (int i = lane_; i < n; i += kTeamWidth) acc += f(i);
    for (int off = kTeamWidth / 2; off > 0; off /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, off);
    return acc;
  }

  template <class F>
  __device__ void single(F&& f) {
    if (lane_ == 0) f();
    __syncwarp();
  }

  __device__ void sync() { __syncwarp(); }
  __device__ int lane() const { return lane_; }

 private:
  int lane_;
};
#endif

}  // namespace stampede::kern
