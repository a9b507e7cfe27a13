// tests/runtime/test_robot_log.cpp — the HDF5 robot log (runtime/robot_log.h): a round trip keeps
// every value bit for bit, and the reader refuses a malformed file with an error naming the file
// and the dataset or attribute at fault.
#include <hdf5.h>
#include <hdf5_hl.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

#include "runtime/robot_log.h"

using namespace stampede::runtime;
namespace fs = std::filesystem;

namespace {

// 4 steps of a 3-joint robot with nq 10, nv 9, nobs 5; values that differ everywhere
RobotLog sample_log() {
  RobotLog log;
  log.robot = "tiny";
  log.contract_hash = std::string(64, 'a');
  log.control_period = 0.02;
  log.joint_names = {"hip", "knee", "ankle"};
  log.nq = 10;
  log.nv = 9;
  log.nobs = 5;
  for (int k = 0; k < 4; ++k) {
    double qpos[10], qvel[9], target[3], tau[3];
    float obs[5], act[3];
    for (int i = 0; i < 10; ++i) qpos[i] = 0.1 * k + i / 7.0;
    for (int i = 0; i < 9; ++i) qvel[i] = -0.3 * k + i / 3.0;
    for (int i = 0; i < 5; ++i) obs[i] = 0.25f * static_cast<float>(k * 5 + i) + 1e-7f;
    for (int i = 0; i < 3; ++i) {
      act[i] = static_cast<float>(k - i) / 3.0f;
      target[i] = 1.0 / (k + i + 1);
      tau[i] = 40.0 * k - i;
    }
    log.append(0.02 * k, qpos, qvel, obs, act, target, tau, k == 3);
  }
  return log;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("stampede_test_robot_log_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// writes a valid log, then lets `edit` damage it through HDF5
template <class F>
fs::path damaged(const TempDir& dir, const std::string& name, F edit) {
  const fs::path p = dir.path / (name + ".h5");
  write_robot_log(p.string(), sample_log());
  const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  edit(f);
  H5Fclose(f);
  return p;
}

void replace_dataset(hid_t f, const char* name, int rank, const hsize_t* dims, hid_t type) {
  REQUIRE(H5Ldelete(f, name, H5P_DEFAULT) >= 0);
  std::vector<double> zeros(1000, 0.0);
  REQUIRE(H5LTmake_dataset(f, name, rank, dims, type, zeros.data()) >= 0);
}

// the reader refuses `p` with a RobotLogError whose message names the file and contains `what`
void refuses(const fs::path& p, const std::string& what) {
  try {
    read_robot_log(p.string());
    FAIL("accepted " << p << ", expected an error about " << what);
  } catch (const RobotLogError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.rfind(p.string() + ": ", 0) == 0);
    CHECK(msg.find(what) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("robot log: round trip keeps every value and attribute") {
  TempDir dir;
  const RobotLog in = sample_log();
  const std::string path = (dir.path / "log.h5").string();
  write_robot_log(path, in);
  CHECK(!fs::exists(path + ".tmp"));
  const RobotLog out = read_robot_log(path);
  CHECK(out.robot == in.robot);
  CHECK(out.contract_hash == in.contract_hash);
  CHECK(out.control_period == in.control_period);
  CHECK(out.joint_names == in.joint_names);
  CHECK(out.steps == 4);
  CHECK(out.nq == 10);
  CHECK(out.nv == 9);
  CHECK(out.nobs == 5);
  CHECK(out.time == in.time);
  CHECK(out.qpos == in.qpos);
  CHECK(out.qvel == in.qvel);
  CHECK(out.observation == in.observation);
  CHECK(out.actions == in.actions);
  CHECK(out.pd_targets == in.pd_targets);
  CHECK(out.torques == in.torques);
  CHECK(out.mode == in.mode);
  // the bytes reader (file image) reads the same
  const std::string bytes = read_bytes(path);
  const RobotLog again = read_robot_log_bytes(bytes.data(), bytes.size(), "memory.h5");
  CHECK(again.qpos == in.qpos);
  CHECK(again.mode == in.mode);
}

TEST_CASE("robot log: the writer refuses inconsistent sizes, naming the dataset") {
  TempDir dir;
  RobotLog log = sample_log();
  log.torques.pop_back();
  CHECK_THROWS_WITH(write_robot_log((dir.path / "bad.h5").string(), log), Catch::Contains("dataset 'torques'"));
  CHECK(!fs::exists(dir.path / "bad.h5"));
  log = sample_log();
  log.time[2] = log.time[1];
  CHECK_THROWS_WITH(write_robot_log((dir.path / "bad.h5").string(), log), Catch::Contains("not strictly increasing"));
}

TEST_CASE("robot log: malformed files are refused, naming the file and the dataset") {
  TempDir dir;
  SECTION("not HDF5") {
    const fs::path p = dir.path / "text.h5";
    std::ofstream(p) << "time,qpos\n0,1\n";
    refuses(p, "not an HDF5 file");
  }
  SECTION("truncated") {
    const fs::path good = dir.path / "good.h5";
    write_robot_log(good.string(), sample_log());
    const std::string bytes = read_bytes(good);
    const fs::path p = dir.path / "truncated.h5";
    std::ofstream(p, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    refuses(p, "");
  }
  SECTION("HDF5's pre-1.8 layout (superblock 0 or 1)") {
    const fs::path good = dir.path / "good.h5";
    write_robot_log(good.string(), sample_log());
    std::string bytes = read_bytes(good);
    REQUIRE(static_cast<unsigned char>(bytes[8]) >= 2);  // the writer's layout
    bytes[8] = 0;
    const fs::path p = dir.path / "v0.h5";
    std::ofstream(p, std::ios::binary) << bytes;
    refuses(p, "superblock version 0");
  }
  SECTION("a dataset missing") {
    refuses(damaged(dir, "missing", [](hid_t f) { REQUIRE(H5Ldelete(f, "torques", H5P_DEFAULT) >= 0); }),
            "dataset 'torques': missing");
  }
  SECTION("a dataset of the wrong dtype") {
    const hsize_t dims[2] = {4, 3};
    refuses(damaged(dir, "dtype", [&](hid_t f) { replace_dataset(f, "actions", 2, dims, H5T_NATIVE_DOUBLE); }),
            "dataset 'actions': expected float32");
    refuses(damaged(dir, "dtype_int", [&](hid_t f) { replace_dataset(f, "qpos", 2, dims, H5T_NATIVE_INT); }),
            "dataset 'qpos': expected float64");
  }
  SECTION("a dataset of the wrong rank") {
    const hsize_t dims[1] = {4};
    refuses(damaged(dir, "rank", [&](hid_t f) { replace_dataset(f, "qvel", 1, dims, H5T_NATIVE_DOUBLE); }),
            "dataset 'qvel': expected rank 2");
  }
  SECTION("rows that disagree with time") {
    const hsize_t dims[2] = {3, 9};
    refuses(damaged(dir, "rows", [&](hid_t f) { replace_dataset(f, "qvel", 2, dims, H5T_NATIVE_DOUBLE); }),
            "dataset 'qvel': 3 rows, 'time' has 4");
  }
  SECTION("columns that disagree with joint_names") {
    const hsize_t dims[2] = {4, 4};
    refuses(damaged(dir, "cols", [&](hid_t f) { replace_dataset(f, "pd_targets", 2, dims, H5T_NATIVE_DOUBLE); }),
            "dataset 'pd_targets': 4 columns, expected 3");
  }
  SECTION("chunked storage (our writer never chunks; libhdf5 is not trusted with odd layouts)") {
    refuses(damaged(dir, "chunked", [](hid_t f) {
              REQUIRE(H5Ldelete(f, "time", H5P_DEFAULT) >= 0);
              const hsize_t dims[1] = {4}, chunk[1] = {2};
              const hid_t space = H5Screate_simple(1, dims, nullptr);
              const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
              H5Pset_chunk(dcpl, 1, chunk);
              const hid_t d = H5Dcreate2(f, "time", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
              const double t[4] = {0, 0.02, 0.04, 0.06};
              REQUIRE(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t) >= 0);
              H5Dclose(d);
              H5Pclose(dcpl);
              H5Sclose(space);
            }),
            "dataset 'time': expected contiguous or compact storage");
  }
  SECTION("a mode value outside 0/1") {
    const hsize_t dims[1] = {4};
    refuses(damaged(dir, "mode", [&](hid_t f) {
              REQUIRE(H5Ldelete(f, "mode", H5P_DEFAULT) >= 0);
              const unsigned char m[4] = {0, 0, 7, 0};
              REQUIRE(H5LTmake_dataset(f, "mode", 1, dims, H5T_NATIVE_UCHAR, m) >= 0);
            }),
            "dataset 'mode': value 7");
  }
  SECTION("an attribute missing or wrong") {
    refuses(damaged(dir, "attr", [](hid_t f) { REQUIRE(H5Adelete(f, "contract_hash") >= 0); }),
            "attribute 'contract_hash': missing");
    refuses(damaged(dir, "format", [](hid_t f) {
              REQUIRE(H5Adelete(f, "format") >= 0);
              REQUIRE(H5LTset_attribute_string(f, "/", "format", "something-else") >= 0);
            }),
            "attribute 'format'");
    refuses(damaged(dir, "period", [](hid_t f) {
              REQUIRE(H5Adelete(f, "control_period") >= 0);
              REQUIRE(H5LTset_attribute_string(f, "/", "control_period", "0.02") >= 0);
            }),
            "attribute 'control_period': expected float64");
  }
}
