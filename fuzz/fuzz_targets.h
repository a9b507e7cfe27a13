// fuzz/fuzz_targets.h — the entry functions of the fuzz targets (issue #12). Each takes one input
// as bytes, feeds it to a user-facing loader the way a user's own file would reach it, and checks
// that the loader either accepts it (and then what it built is self-consistent) or refuses it
// with the error type its API documents. Anything else escapes: a crash, a sanitizer report, an
// undocumented exception, or a broken invariant (thrown as FuzzInvariant).
//
// libFuzzer calls them from fuzz/libfuzzer_main.cpp (clang, -fsanitize=fuzzer,address,undefined);
// tests/fuzz/test_fuzz_regressions.cpp replays fuzz/regressions/<target>/ and fuzz/corpus/<target>/
// through the same functions, built with the normal compiler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace stampede::fuzz {

// a loader accepted an input and produced something inconsistent
class FuzzInvariant : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// (a) robot.yaml text -> robot::parse_robot (+ contract hash, diff, lookups on what it accepted)
int robot_yaml(const uint8_t* data, std::size_t size);

// (b) MJCF text -> MuJoCo's mj_loadXML (from a VFS buffer) -> sim::unsupported_features and
// sim::compile_model<double> / <float>: converted consistently, or refused by name
int mjcf(const uint8_t* data, std::size_t size);

// (c) policy bytes -> runtime::parse_onnx, Evaluator (compile + run), Policy::from_bytes,
// check_contract against the humanoid's robot.yaml
int policy(const uint8_t* data, std::size_t size);

// (d) robot-log bytes -> runtime::read_robot_log_bytes (HDF5 file image): a consistent RobotLog,
// or RobotLogError naming the file
int robot_log(const uint8_t* data, std::size_t size);

}  // namespace stampede::fuzz
