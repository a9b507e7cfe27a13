// fuzz/libfuzzer_main.cpp — libFuzzer's entry point for one target; STAMPEDE_FUZZ_ENTRY names
// the function in fuzz/fuzz_targets.h (set per executable by fuzz/CMakeLists.txt).
#include "fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return stampede::fuzz::STAMPEDE_FUZZ_ENTRY(data, size);
}
