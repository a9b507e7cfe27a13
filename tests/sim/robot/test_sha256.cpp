// tests/sim/robot/test_sha256.cpp — SHA-256 against the FIPS 180-4 / NIST example vectors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "sim/robot/sha256.h"

using stampede::robot::Sha256;
using stampede::robot::sha256_hex;

TEST_CASE("sha256: NIST example vectors", "[robot][sha256]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 448 bits: the padding spills into a second block
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu") ==
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  CHECK(sha256_hex("The quick brown fox jumps over the lazy dog") ==
        "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
}

TEST_CASE("sha256: one million 'a', fed in uneven pieces", "[robot][sha256]") {
  const std::string expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  CHECK(sha256_hex(std::string(1000000, 'a')) == expected);
  // chunk sizes that straddle the 64-byte block boundary every way
  Sha256 h;
  const std::string chunk(1000, 'a');
  std::size_t fed = 0, step = 1;
  while (fed < 1000000) {
    const std::size_t n = std::min<std::size_t>({step, 1000000 - fed, chunk.size()});
    h.update(chunk.data(), n);
    fed += n;
    step = step % 130 + 7;
  }
  CHECK(h.hex_digest() == expected);
}

TEST_CASE("sha256: lengths around the padding boundary", "[robot][sha256]") {
  // 55 bytes pad within one block; 56..64 need a second block; values from Python's hashlib
  CHECK(sha256_hex(std::string(55, 'x')) == "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072");
  CHECK(sha256_hex(std::string(56, 'x')) == "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e");
  CHECK(sha256_hex(std::string(63, 'x')) == "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2");
  CHECK(sha256_hex(std::string(64, 'x')) == "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c");
  CHECK(sha256_hex(std::string(65, 'x')) == "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9");
  Sha256 split;
  split.update(std::string(30, 'x'));
  split.update(std::string(26, 'x'));
  CHECK(split.hex_digest() == sha256_hex(std::string(56, 'x')));
}
