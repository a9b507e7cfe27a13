// rl/rng.h — the learner's random number generator: xoshiro256++ with an explicit 4-word state,
// so a checkpoint can save and restore it exactly (std::normal_distribution caches values and
// differs between standard libraries; this does neither).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace stampede::rl {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { this->seed(seed); }

  // expand one 64-bit seed into the 4-word state with splitmix64
  void seed(uint64_t seed) {
    uint64_t z = seed;
    for (auto& s : s_) {
      z += 0x9e3779b97f4a7c15ull;
      uint64_t x = z;
      x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
      x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
      s = x ^ (x >> 31);
    }
  }

  // next 64 random bits (xoshiro256++)
  uint64_t next() {
    const uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // uniform in [0, 1) with 53 random bits
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // uniform in [lo, hi)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // uniform integer in [0, n)
  uint64_t below(uint64_t n) { return static_cast<uint64_t>(uniform() * static_cast<double>(n)); }
  // standard normal (Box-Muller; one value per call, nothing cached)
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_{};
};

}  // namespace stampede::rl
