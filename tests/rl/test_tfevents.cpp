// tests/rl/test_tfevents.cpp — the TensorBoard event encoding: CRC32C test vectors, TFRecord
// framing, and the Event protobuf decoded field by field with an independent minimal reader.
// Run with an argument (a path), it writes a sample event file there for read_tfevents.py,
// which reads it back with TensorBoard's own loader.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <sstream>

#include "rl/tfevents.h"

using namespace stampede::rl;

namespace {

// a minimal protobuf reader: (field, wire type, value) for each field of a message
struct Field {
  int number = 0, wire = 0;
  uint64_t varint = 0;   // wire 0
  uint64_t fixed64 = 0;  // wire 1
  uint32_t fixed32 = 0;  // wire 5
  std::string bytes;     // wire 2
};

uint64_t read_varint(const std::string& s, std::size_t& i) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    REQUIRE(i < s.size());
    const auto b = static_cast<unsigned char>(s[i++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
}

std::vector<Field> parse(const std::string& s) {
  std::vector<Field> out;
  std::size_t i = 0;
  while (i < s.size()) {
    Field f;
    const uint64_t key = read_varint(s, i);
    f.number = static_cast<int>(key >> 3);
    f.wire = static_cast<int>(key & 7);
    switch (f.wire) {
      case 0: f.varint = read_varint(s, i); break;
      case 1: REQUIRE(i + 8 <= s.size()); std::memcpy(&f.fixed64, s.data() + i, 8); i += 8; break;
      case 5: REQUIRE(i + 4 <= s.size()); std::memcpy(&f.fixed32, s.data() + i, 4); i += 4; break;
      case 2: {
        const uint64_t n = read_varint(s, i);
        REQUIRE(i + n <= s.size());
        f.bytes = s.substr(i, n);
        i += n;
        break;
      }
      default: FAIL("unexpected wire type " << f.wire);
    }
    out.push_back(f);
  }
  return out;
}

double as_double(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}
float as_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace

TEST_CASE("CRC32C matches the standard test vectors", "[rl][tfevents]") {
  CHECK(crc32c("123456789", 9) == 0xe3069283u);  // the CRC-32C check value
  const std::string zeros(32, '\0');
  CHECK(crc32c(zeros.data(), zeros.size()) == 0x8a9136aau);  // RFC 3720 B.4
  const std::string ones(32, '\xff');
  CHECK(crc32c(ones.data(), ones.size()) == 0x62a8ab43u);
  const uint32_t c = crc32c("123456789", 9);
  CHECK(masked_crc32c("123456789", 9) == ((c >> 15) | (c << 17)) + 0xa282ead8u);
}

TEST_CASE("a scalar event decodes to wall_time, step and tagged values", "[rl][tfevents]") {
  const std::string ev = encode_scalars_event(1700000000.25, 300, {{"Loss/value", 0.5f}, {"Train/mean_reward", -12.75f}});
  const auto fields = parse(ev);
  REQUIRE(fields.size() == 3);
  CHECK(fields[0].number == 1);
  CHECK(fields[0].wire == 1);
  CHECK(as_double(fields[0].fixed64) == 1700000000.25);
  CHECK(fields[1].number == 2);
  CHECK(fields[1].varint == 300);
  CHECK(fields[2].number == 5);
  const auto values = parse(fields[2].bytes);  // Summary
  REQUIRE(values.size() == 2);
  const auto v0 = parse(values[0].bytes), v1 = parse(values[1].bytes);
  CHECK(v0[0].bytes == "Loss/value");
  CHECK(v0[1].number == 2);
  CHECK(v0[1].wire == 5);
  CHECK(as_float(v0[1].fixed32) == 0.5f);
  CHECK(v1[0].bytes == "Train/mean_reward");
  CHECK(as_float(v1[1].fixed32) == -12.75f);
}

TEST_CASE("event files are TFRecord frames with valid masked CRCs", "[rl][tfevents]") {
  const auto dir = std::filesystem::temp_directory_path() / ("stampede_tfevents_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::string path;
  {
    EventWriter w(dir.string());
    w.add_scalars(1, {{"a", 1.0f}});
    w.add_scalars(2, {{"a", 2.0f}});
    path = w.path();
  }
  CHECK(std::filesystem::path(path).filename().string().rfind("events.out.tfevents.", 0) == 0);
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  std::size_t i = 0;
  std::vector<std::string> records;
  while (i < data.size()) {
    REQUIRE(i + 12 <= data.size());
    uint64_t len;
    uint32_t len_crc, data_crc;
    std::memcpy(&len, data.data() + i, 8);
    std::memcpy(&len_crc, data.data() + i + 8, 4);
    CHECK(len_crc == masked_crc32c(data.data() + i, 8));
    REQUIRE(i + 12 + len + 4 <= data.size());
    const std::string payload = data.substr(i + 12, len);
    std::memcpy(&data_crc, data.data() + i + 12 + len, 4);
    CHECK(data_crc == masked_crc32c(payload.data(), payload.size()));
    records.push_back(payload);
    i += 12 + len + 4;
  }
  REQUIRE(records.size() == 3);
  const auto first = parse(records[0]);
  CHECK(first[1].number == 3);
  CHECK(first[1].bytes == "brain.Event:2");
  CHECK(parse(records[2])[1].varint == 2);
  std::filesystem::remove_all(dir);
}
