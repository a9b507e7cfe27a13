// sim/robot/sha256.h — SHA-256 (FIPS 180-4), small and dependency-free, for the contract hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace stampede::robot {

// incremental SHA-256: update() any number of times, then digest() once
class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t n);
  void update(const std::string& s) { update(s.data(), s.size()); }
  void digest(std::uint8_t out[32]);  // finishes the hash; the object must not be updated after
  std::string hex_digest();           // digest() as 64 lowercase hex characters

 private:
  void compress(const std::uint8_t block[64]);

  std::uint32_t h_[8];        // chaining state
  std::uint8_t buf_[64];      // pending bytes of the current block
  std::size_t buf_len_ = 0;   // bytes in buf_, < 64
  std::uint64_t total_ = 0;   // message length so far (bytes)
};

// SHA-256 of a string, as 64 lowercase hex characters
std::string sha256_hex(const std::string& data);

}  // namespace stampede::robot
