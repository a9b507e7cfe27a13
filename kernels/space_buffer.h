// kernels/space_buffer.h — what every memory space shares: RAII bytes in a space
// (SpaceBuffer<Space>, over the space's static allocate/release) and zeroed, aligned host
// allocation. The spaces are the device env's (sim/tasks/memory_space.h, cuda_space.cuh) and the
// device learner's (rl/learn_space.h, cuda_learn_space.cuh); the CUDA twin of
// host_allocate_zeroed is cuda_allocate_zeroed in kernels/launch.h.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

namespace stampede::kern {

// bytes of zeroed host memory aligned to `align` (a power of two), released with std::free
inline void* host_allocate_zeroed(std::size_t bytes, std::size_t align) {
  void* p = std::aligned_alloc(align, (bytes + align - 1) / align * align + align);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  return p;
}

// RAII bytes in a memory space
template <class Space>
class SpaceBuffer {
 public:
  SpaceBuffer() = default;
  explicit SpaceBuffer(std::size_t bytes) : bytes_(bytes) { ptr_ = Space::allocate(bytes); }
  ~SpaceBuffer() {
    if (ptr_) Space::release(ptr_);
  }
  SpaceBuffer(SpaceBuffer&& o) noexcept : ptr_(o.ptr_), bytes_(o.bytes_) {
    o.ptr_ = nullptr;
    o.bytes_ = 0;
  }
  SpaceBuffer& operator=(SpaceBuffer&& o) noexcept {
    if (this != &o) {
      if (ptr_) Space::release(ptr_);
      ptr_ = o.ptr_;
      bytes_ = o.bytes_;
      o.ptr_ = nullptr;
      o.bytes_ = 0;
    }
    return *this;
  }
  SpaceBuffer(const SpaceBuffer&) = delete;
  SpaceBuffer& operator=(const SpaceBuffer&) = delete;

  template <class T = unsigned char>
  T* get() const { return static_cast<T*>(ptr_); }
  std::size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace stampede::kern
