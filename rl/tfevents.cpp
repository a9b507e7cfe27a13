// rl/tfevents.cpp
#include "rl/tfevents.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace stampede::rl {
namespace {

// byte-wise table of the reflected Castagnoli polynomial 0x82f63b78
const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

// protobuf wire format: varints, tags, fixed-width little-endian fields
void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void put_tag(std::string& out, int field, int wire_type) { put_varint(out, (static_cast<uint64_t>(field) << 3) | wire_type); }
template <class T>
void put_fixed(std::string& out, T v) {  // little-endian host (x86-64, aarch64)
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}
void put_bytes(std::string& out, int field, const std::string& bytes) {
  put_tag(out, field, 2);
  put_varint(out, bytes.size());
  out += bytes;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

uint32_t crc32c(const void* data, std::size_t n) {
  const auto& t = crc_table();
  const auto* p = static_cast<const unsigned char*>(data);
  uint32_t c = 0xffffffffu;
  for (std::size_t i = 0; i < n; ++i) c = t[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

uint32_t masked_crc32c(const void* data, std::size_t n) {
  const uint32_t c = crc32c(data, n);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

std::string encode_file_version_event(double wall_time) {
  std::string ev;
  put_tag(ev, 1, 1);  // wall_time: double, 64-bit
  put_fixed(ev, wall_time);
  put_bytes(ev, 3, "brain.Event:2");  // file_version
  return ev;
}

std::string encode_scalars_event(double wall_time, int64_t step, const std::map<std::string, float>& scalars) {
  std::string summary;
  for (const auto& [tag, value] : scalars) {
    std::string v;
    put_bytes(v, 1, tag);  // Value.tag
    put_tag(v, 2, 5);      // Value.simple_value: float, 32-bit
    put_fixed(v, value);
    put_bytes(summary, 1, v);  // Summary.value
  }
  std::string ev;
  put_tag(ev, 1, 1);  // Event.wall_time
  put_fixed(ev, wall_time);
  put_tag(ev, 2, 0);  // Event.step: varint (two's complement for negatives)
  put_varint(ev, static_cast<uint64_t>(step));
  put_bytes(ev, 5, summary);  // Event.summary
  return ev;
}

std::string tfrecord(const std::string& payload) {
  std::string out;
  const uint64_t len = payload.size();
  put_fixed(out, len);
  put_fixed(out, masked_crc32c(out.data(), sizeof(len)));
  out += payload;
  put_fixed(out, masked_crc32c(payload.data(), payload.size()));
  return out;
}

EventWriter::EventWriter(const std::string& dir) {
  std::filesystem::create_directories(dir);
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  const double t = now_seconds();
  const std::string base = (std::filesystem::path(dir) / ("events.out.tfevents." +
                                                          std::to_string(static_cast<long long>(t)) + "." + host))
                               .string();
  int fd = -1;
  for (int n = 0; fd < 0 && n < 1000; ++n) {
    path_ = n == 0 ? base : base + "." + std::to_string(n);
    fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd >= 0) file_ = ::fdopen(fd, "ab");
  if (!file_) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot create TensorBoard event file '" + path_ + "'");
  }
  const std::string rec = tfrecord(encode_file_version_event(t));
  std::fwrite(rec.data(), 1, rec.size(), file_);
  std::fflush(file_);
}

EventWriter::~EventWriter() {
  if (file_) std::fclose(file_);
}

void EventWriter::add_scalars(int64_t step, const std::map<std::string, float>& scalars) {
  const std::string rec = tfrecord(encode_scalars_event(now_seconds(), step, scalars));
  if (std::fwrite(rec.data(), 1, rec.size(), file_) != rec.size())
    throw std::runtime_error("writing TensorBoard event file '" + path_ + "' failed");
}

void EventWriter::flush() { std::fflush(file_); }

void EventWriter::sync() {
  std::fflush(file_);
  ::fsync(::fileno(file_));
}

}  // namespace stampede::rl
