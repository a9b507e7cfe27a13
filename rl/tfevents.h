// rl/tfevents.h — TensorBoard event files written by hand: TFRecord framing (length, masked
// CRC32C of the length, payload, masked CRC32C of the payload) around hand-encoded
// tensorflow.Event protobufs:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; float simple_value = 2; }
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

namespace stampede::rl {

// CRC-32C (Castagnoli), and TFRecord's masked form: ((crc >> 15) | (crc << 17)) + 0xa282ead8
uint32_t crc32c(const void* data, std::size_t n);
uint32_t masked_crc32c(const void* data, std::size_t n);

// serialized Event messages
std::string encode_file_version_event(double wall_time);
std::string encode_scalars_event(double wall_time, int64_t step, const std::map<std::string, float>& scalars);
// one TFRecord: uint64 length, uint32 masked crc(length), payload, uint32 masked crc(payload)
std::string tfrecord(const std::string& payload);

// appends events to a new file dir/events.out.tfevents.<unix time>.<host>, or .<host>.<n> when
// that name is taken (a process restarted within the same second after a crash must not append
// to a file whose last record may be torn). Each record is one fwrite; flush() hands it to the
// kernel, so a killed process leaves at most a torn last record, which TensorBoard's reader
// takes for the end of the file.
class EventWriter {
 public:
  explicit EventWriter(const std::string& dir);
  ~EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;
  void add_scalars(int64_t step, const std::map<std::string, float>& scalars);
  void flush();
  void sync();  // flush, then fsync the file
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace stampede::rl
