// tests/guarded_space.h — memory spaces whose memory the host cannot touch outside the space's
// own calls, as a GPU's memory is out of the host's reach: the device env's and the device
// learner's code run over them on the CPU, and any host code that reads or writes their arrays
// directly (a pointer from device_outputs() dereferenced by the runner, a statistic read in
// place instead of copied out) faults at once instead of waiting for a GPU to crash on it.
//
// Every allocation is its own mmap, kept PROT_NONE; the space's launches, copies, GEMMs and
// masked resets open all of them (PROT_READ | PROT_WRITE) for their duration. One thread: the
// spaces run their launches on the calling thread (the physics backend's threads touch only
// the backend's own arena, which is not guarded).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <map>
#include <new>
#include <stdexcept>

#include "rl/learn_space.h"
#include "sim/tasks/memory_space.h"

namespace stampede::test {

class GuardedMemory {
 public:
  static void* allocate(std::size_t bytes) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t size = (bytes + page - 1) / page * page + page;  // at least one page
    void* p = mmap(nullptr, size, open_depth() ? PROT_READ | PROT_WRITE : PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // zero-filled
    if (p == MAP_FAILED) throw std::bad_alloc();
    regions()[p] = size;
    return p;
  }
  static void release(void* p) {
    if (!p) return;
    auto it = regions().find(p);
    if (it == regions().end()) throw std::logic_error("GuardedMemory::release: not a guarded allocation");
    munmap(p, it->second);
    regions().erase(it);
  }

  // the space's calls: every region readable and writable while one is alive
  class Open {
   public:
    Open() {
      if (open_depth()++ == 0) protect_all(PROT_READ | PROT_WRITE);
      ++opens();
    }
    ~Open() {
      if (--open_depth() == 0) protect_all(PROT_NONE);
    }
    Open(const Open&) = delete;
    Open& operator=(const Open&) = delete;
  };

  static long& opens() {  // Open scopes so far (the test's proof that the spaces were used)
    static long n = 0;
    return n;
  }
  static std::size_t count() { return regions().size(); }

 private:
  static std::map<void*, std::size_t>& regions() {
    static std::map<void*, std::size_t> r;
    return r;
  }
  static int& open_depth() {
    static int d = 0;
    return d;
  }
  static void protect_all(int prot) {
    for (const auto& [p, size] : regions())
      if (mprotect(p, size, prot) != 0) throw std::runtime_error("GuardedMemory: mprotect failed");
  }
};

// the device env's space (sim/tasks/memory_space.h), its memory guarded
template <class Real>
class GuardedSpace : public sim::tasks::HostSpace<Real> {
  using Base = sim::tasks::HostSpace<Real>;

 public:
  static constexpr const char* kName = "guarded";
  using Base::Base;

  static void* allocate(std::size_t bytes) { return GuardedMemory::allocate(bytes); }
  static void release(void* p) { GuardedMemory::release(p); }
  void to_space(void* dst, const void* host, std::size_t bytes) {
    GuardedMemory::Open o;
    Base::to_space(dst, host, bytes);
  }
  void to_host(void* host, const void* src, std::size_t bytes) const {
    GuardedMemory::Open o;
    Base::to_host(host, src, bytes);
  }
  void copy(void* dst, const void* src, std::size_t bytes) {
    GuardedMemory::Open o;
    Base::copy(dst, src, bytes);
  }
  void zero(void* dst, std::size_t bytes) {
    GuardedMemory::Open o;
    Base::zero(dst, bytes);
  }
  template <class F>
  void launch(int nworld, F fn) const {
    GuardedMemory::Open o;
    Base::launch(nworld, fn);
  }
  void reset_masked(const unsigned char* mask) {  // a kernel on the GPU: it reads the mask there
    GuardedMemory::Open o;
    Base::reset_masked(mask);
  }
};

// the device learner's space (rl/learn_space.h), its memory guarded
class GuardedLearnSpace : public rl::HostLearnSpace {
  using Base = rl::HostLearnSpace;

 public:
  static constexpr const char* kName = "guarded";

  static void* allocate(std::size_t bytes) { return GuardedMemory::allocate(bytes); }
  static void release(void* p) { GuardedMemory::release(p); }
  void to_space(void* dst, const void* host, std::size_t bytes) const {
    GuardedMemory::Open o;
    Base::to_space(dst, host, bytes);
  }
  void to_host(void* host, const void* src, std::size_t bytes) const {
    GuardedMemory::Open o;
    Base::to_host(host, src, bytes);
  }
  void zero(void* dst, std::size_t bytes) const {
    GuardedMemory::Open o;
    Base::zero(dst, bytes);
  }
  template <class F>
  void launch(long n, F fn) const {
    GuardedMemory::Open o;
    Base::launch(n, fn);
  }
  void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* A, int lda, const float* B,
            int ldb, float beta, float* C, int ldc) const {
    GuardedMemory::Open o;
    Base::gemm(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  }
};

}  // namespace stampede::test
