// fuzz/robot_log_target.cpp — (d) the HDF5 robot-log reader on arbitrary bytes.
//
// The bytes go to runtime::read_robot_log_bytes, which opens them as an in-memory HDF5 file
// (H5LTopen_file_image) and validates every attribute and every dataset's shape and dtype, as it
// does for a log on disk (read_robot_log reads the file's bytes and calls it). A refusal is a
// RobotLogError naming the file; what it accepts must be self-consistent: the sizes agree with
// steps, nq, nv, nobs and the joint names, time increases, every mode is 0 or 1, and
// validate_robot_log accepts it again.
#include <hdf5.h>

#include <string>

#include "fuzz/fuzz_targets.h"
#include "runtime/robot_log.h"

namespace stampede::fuzz {
namespace {

const char* const kSource = "fuzz.h5";

void expect(bool ok, const std::string& what) {
  if (!ok) throw FuzzInvariant("robot_log: " + what);
}

// every HDF5 identifier the reader opened is closed again, on success and on refusal; this is what
// keeps the LSan suppression of libhdf5's own allocations (fuzz/robot_log.lsan.supp) from hiding a
// leak of ours
void expect_no_open_ids() {
  const ssize_t open = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  expect(open == 0, "the reader left " + std::to_string(open) + " HDF5 identifiers open");
}

}  // namespace

int robot_log(const uint8_t* data, std::size_t size) {
  runtime::RobotLog log;
  try {
    log = runtime::read_robot_log_bytes(data, size, kSource);
  } catch (const runtime::RobotLogError& e) {
    expect(std::string(e.what()).rfind(std::string(kSource) + ": ", 0) == 0,
           "RobotLogError names the file: " + std::string(e.what()));
    expect_no_open_ids();
    return 0;
  }
  expect_no_open_ids();
  const std::size_t t = log.steps, nj = log.joint_names.size();
  expect(log.steps >= 1 && nj >= 1, "an accepted log has rows and joints");
  expect(log.time.size() == t && log.mode.size() == t, "time and mode have one value per row");
  expect(log.qpos.size() == t * log.nq && log.qvel.size() == t * log.nv, "qpos/qvel are [T, nq] / [T, nv]");
  expect(log.observation.size() == t * log.nobs, "observation is [T, nobs]");
  expect(log.actions.size() == t * nj && log.pd_targets.size() == t * nj && log.torques.size() == t * nj,
         "actions, pd_targets and torques are [T, nj]");
  for (std::size_t k = 1; k < t; ++k) expect(log.time[k] > log.time[k - 1], "time increases");
  for (unsigned char m : log.mode) expect(m <= 1, "mode is 0 or 1");
  try {
    runtime::validate_robot_log(log, kSource);
  } catch (const runtime::RobotLogError& e) {
    expect(false, std::string("an accepted log fails validate_robot_log: ") + e.what());
  }
  return 0;
}

}  // namespace stampede::fuzz
