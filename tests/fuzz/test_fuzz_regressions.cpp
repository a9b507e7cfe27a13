// tests/fuzz/test_fuzz_regressions.cpp — every input the fuzzers ever crashed on
// (fuzz/regressions/<target>/) and the seed corpus (fuzz/corpus/<target>/), replayed through the
// fuzz targets' entry functions (fuzz/fuzz_targets.h) built with the normal compiler. An input
// passes when the loader accepts it consistently or refuses it with its documented error; any
// other exception (an invariant broken, bad_alloc from a size taken on trust, ...) fails here.
// scripts/sanitize.sh runs this test under ASan + UBSan, which also catches the silent ones.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz/fuzz_targets.h"

namespace {

namespace fs = std::filesystem;

using Entry = int (*)(const uint8_t*, std::size_t);

// the regular files of fuzz/<kind>/<target>/, sorted; none when the folder does not exist
std::vector<fs::path> inputs(const std::string& kind, const std::string& target) {
  std::vector<fs::path> out;
  const fs::path dir = fs::path(STAMPEDE_SOURCE_DIR) / "fuzz" / kind / target;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && name[0] != '.' && name != "README.md") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void replay(const std::string& kind, const std::string& target, Entry entry) {
  for (const fs::path& p : inputs(kind, target)) {
    const std::string bytes = read(p);
    INFO("input " << p.string() << " (" << bytes.size() << " bytes)");
    CHECK_NOTHROW(entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  }
}

void replay_target(const std::string& target, Entry entry) {
  // the committed seeds exist: an empty corpus would make the CI fuzz run meaningless
  REQUIRE(!inputs("corpus", target).empty());
  replay("regressions", target, entry);
  replay("corpus", target, entry);
}

}  // namespace

TEST_CASE("robot.yaml parser: regressions and corpus", "[fuzz]") {
  replay_target("robot_yaml", stampede::fuzz::robot_yaml);
}

TEST_CASE("MJCF -> Model conversion: regressions and corpus", "[fuzz]") {
  replay_target("mjcf", stampede::fuzz::mjcf);
}

TEST_CASE("policy loader and evaluator: regressions and corpus", "[fuzz]") {
  replay_target("policy", stampede::fuzz::policy);
}

#ifdef STAMPEDE_FUZZ_ROBOT_LOG
TEST_CASE("HDF5 robot-log reader: regressions and corpus", "[fuzz]") {
  replay_target("robot_log", stampede::fuzz::robot_log);
  // bytes that are not HDF5 are a RobotLogError naming the file, so the target returns normally
  const std::string not_hdf5 = "\x89HDF\r\n\x1a\n garbage after the signature";
  CHECK(stampede::fuzz::robot_log(reinterpret_cast<const uint8_t*>(not_hdf5.data()), not_hdf5.size()) == 0);
}
#endif

TEST_CASE("the fuzz targets' checks fire on what they guard against", "[fuzz]") {
  // a robot.yaml the parser must refuse: refused with RobotError, so the target returns normally
  const std::string bad = "name: [";
  CHECK(stampede::fuzz::robot_yaml(reinterpret_cast<const uint8_t*>(bad.data()), bad.size()) == 0);
  // an MJCF MuJoCo refuses is not ours to judge
  const std::string not_xml = "<mujoco><worldbody><body>";
  CHECK(stampede::fuzz::mjcf(reinterpret_cast<const uint8_t*>(not_xml.data()), not_xml.size()) == 0);
  // a policy file of garbage is an OnnxError naming the file
  const std::string garbage = "\x08\x07\x3a\x00";
  CHECK(stampede::fuzz::policy(reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size()) == 0);
}
