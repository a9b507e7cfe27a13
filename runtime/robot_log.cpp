// runtime/robot_log.cpp — the HDF5 robot log: writer, and a reader that trusts nothing in the file.
#include "runtime/robot_log.h"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

namespace stampede::runtime {
namespace {

// an HDF5 identifier closed by its own close function
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// HDF5 prints its error stack to stderr by default; our errors say what went wrong instead
void quiet_hdf5() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

[[noreturn]] void fail(const std::string& source, const std::string& field, const std::string& what) {
  throw RobotLogError(source + ": " + field + ": " + what);
}

std::vector<std::string> split_names(const std::string& s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::string item;
  std::stringstream in(s);
  while (std::getline(in, item, ',')) out.push_back(item);
  if (s.back() == ',') out.push_back("");
  return out;
}

std::string join_names(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + v[i];
  return s;
}

// ---- reading -----------------------------------------------------------------------------------

struct Reader {
  hid_t file;
  const std::string& source;
  std::size_t file_bytes;

  std::string string_attr(const char* name) const {
    if (H5Aexists(file, name) <= 0) fail(source, std::string("attribute '") + name + "'", "missing");
    Handle a(H5Aopen(file, name, H5P_DEFAULT), H5Aclose);
    if (!a.ok()) fail(source, std::string("attribute '") + name + "'", "cannot be opened");
    Handle type(H5Aget_type(a.get()), H5Tclose);
    Handle space(H5Aget_space(a.get()), H5Sclose);
    const std::string field = std::string("attribute '") + name + "'";
    if (!type.ok() || !space.ok()) fail(source, field, "cannot read its type");
    if (H5Tget_class(type.get()) != H5T_STRING) fail(source, field, "expected a string");
    if (H5Tis_variable_str(type.get()) != 0) fail(source, field, "expected a fixed-length string");
    if (H5Sget_simple_extent_npoints(space.get()) != 1) fail(source, field, "expected one string");
    const std::size_t size = H5Tget_size(type.get());
    if (size == 0 || size > (1u << 20)) fail(source, field, "string length " + std::to_string(size) + " out of [1, 1 MiB]");
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    if (!mem.ok() || H5Tset_size(mem.get(), size) < 0) fail(source, field, "cannot make the string type");
    std::string buf(size, '\0');
    if (H5Aread(a.get(), mem.get(), buf.data()) < 0) fail(source, field, "cannot be read");
    buf.resize(std::find(buf.begin(), buf.end(), '\0') - buf.begin());
    return buf;
  }

  double double_attr(const char* name) const {
    const std::string field = std::string("attribute '") + name + "'";
    if (H5Aexists(file, name) <= 0) fail(source, field, "missing");
    Handle a(H5Aopen(file, name, H5P_DEFAULT), H5Aclose);
    if (!a.ok()) fail(source, field, "cannot be opened");
    Handle type(H5Aget_type(a.get()), H5Tclose);
    Handle space(H5Aget_space(a.get()), H5Sclose);
    if (!type.ok() || !space.ok()) fail(source, field, "cannot read its type");
    if (H5Tget_class(type.get()) != H5T_FLOAT || H5Tget_size(type.get()) != 8) fail(source, field, "expected float64");
    if (H5Sget_simple_extent_npoints(space.get()) != 1) fail(source, field, "expected one value");
    double v = 0;
    if (H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v) < 0) fail(source, field, "cannot be read");
    return v;
  }

  // opens dataset `name`, checks its class, element size and rank, returns the dims
  std::vector<hsize_t> shape(const char* name, H5T_class_t cls, std::size_t elem, int rank, const char* dtype) const {
    const std::string field = std::string("dataset '") + name + "'";
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0) fail(source, field, "missing");
    Handle d(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
    if (!d.ok()) fail(source, field, "cannot be opened as a dataset");
    Handle type(H5Dget_type(d.get()), H5Tclose);
    Handle space(H5Dget_space(d.get()), H5Sclose);
    if (!type.ok() || !space.ok()) fail(source, field, "cannot read its type");
    if (H5Tget_class(type.get()) != cls || H5Tget_size(type.get()) != elem) fail(source, field, std::string("expected ") + dtype);
    if (cls == H5T_INTEGER && H5Tget_sign(type.get()) != H5T_SGN_NONE) fail(source, field, std::string("expected ") + dtype);
    if (H5Sis_simple(space.get()) <= 0 || H5Sget_simple_extent_ndims(space.get()) != rank)
      fail(source, field, "expected rank " + std::to_string(rank));
    std::vector<hsize_t> dims(rank);
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    return dims;
  }

  // reads the whole dataset, converted to `mem_type`. Only what our writer produces is read:
  // contiguous or compact storage holding exactly the dataset's bytes inside the file (libhdf5
  // 1.10 trusts a corrupt layout message and reads through a null pointer, so it is checked first)
  template <class T>
  std::vector<T> data(const char* name, hid_t mem_type, hsize_t count) const {
    const std::string field = std::string("dataset '") + name + "'";
    Handle d(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
    if (!d.ok()) fail(source, field, "cannot be opened as a dataset");
    Handle type(H5Dget_type(d.get()), H5Tclose);
    Handle plist(H5Dget_create_plist(d.get()), H5Pclose);
    if (!type.ok() || !plist.ok()) fail(source, field, "cannot read its type or layout");
    const double bytes = static_cast<double>(count) * static_cast<double>(H5Tget_size(type.get()));
    if (bytes > static_cast<double>(file_bytes)) fail(source, field, "larger than the file can hold");
    const H5D_layout_t layout = H5Pget_layout(plist.get());
    if (layout == H5D_CONTIGUOUS) {
      const haddr_t offset = H5Dget_offset(d.get());
      if (count > 0 && (offset == HADDR_UNDEF || static_cast<double>(offset) + bytes > static_cast<double>(file_bytes)))
        fail(source, field, "its data lies outside the file");
    } else if (layout != H5D_COMPACT) {
      fail(source, field, "expected contiguous or compact storage (chunked or virtual datasets are not read)");
    }
    if (static_cast<double>(H5Dget_storage_size(d.get())) != bytes)
      fail(source, field, "stored size differs from its shape");
    std::vector<T> out(count);
    if (count > 0 && H5Dread(d.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
      fail(source, field, "cannot be read");
    return out;
  }
};

void check_finite(const std::vector<double>& v, const std::string& source, const char* name) {
  for (double x : v) {
    if (!std::isfinite(x)) fail(source, std::string("dataset '") + name + "'", "holds a non-finite value");
  }
}

RobotLog read_from(hid_t file, const std::string& source, std::size_t file_bytes) {
  const Reader r{file, source, file_bytes};
  const std::string format = r.string_attr("format");
  if (format != kRobotLogFormat) fail(source, "attribute 'format'", "'" + format + "', expected '" + kRobotLogFormat + "'");
  RobotLog log;
  log.robot = r.string_attr("robot");
  log.contract_hash = r.string_attr("contract_hash");
  log.control_period = r.double_attr("control_period");
  log.joint_names = split_names(r.string_attr("joint_names"));

  const auto time = r.shape("time", H5T_FLOAT, 8, 1, "float64 [T]");
  const hsize_t steps = time[0];
  if (steps < 1 || steps > static_cast<hsize_t>(std::numeric_limits<int>::max())) fail(source, "dataset 'time'", "expected T >= 1 rows");
  const hsize_t nj = log.joint_names.size();
  // the rows of every per-step dataset, and the widths that must agree with each other
  auto rows = [&](const char* name, H5T_class_t cls, std::size_t elem, const char* dtype, hsize_t want_cols) {
    const auto dims = r.shape(name, cls, elem, 2, dtype);
    if (dims[0] != steps) fail(source, std::string("dataset '") + name + "'", std::to_string(dims[0]) + " rows, 'time' has " + std::to_string(steps));
    if (want_cols && dims[1] != want_cols)
      fail(source, std::string("dataset '") + name + "'", std::to_string(dims[1]) + " columns, expected " + std::to_string(want_cols) + " (joint_names)");
    if (dims[1] < 1 || dims[1] > 100000) fail(source, std::string("dataset '") + name + "'", "expected 1 to 100000 columns");
    return dims[1];
  };
  const hsize_t nq = rows("qpos", H5T_FLOAT, 8, "float64 [T, nq]", 0);
  const hsize_t nv = rows("qvel", H5T_FLOAT, 8, "float64 [T, nv]", 0);
  const hsize_t nobs = rows("observation", H5T_FLOAT, 4, "float32 [T, nobs]", 0);
  rows("actions", H5T_FLOAT, 4, "float32 [T, nj]", nj);
  rows("pd_targets", H5T_FLOAT, 8, "float64 [T, nj]", nj);
  rows("torques", H5T_FLOAT, 8, "float64 [T, nj]", nj);
  const auto mode = r.shape("mode", H5T_INTEGER, 1, 1, "uint8 [T]");
  if (mode[0] != steps) fail(source, "dataset 'mode'", std::to_string(mode[0]) + " rows, 'time' has " + std::to_string(steps));

  log.steps = static_cast<int>(steps);
  log.nq = static_cast<int>(nq);
  log.nv = static_cast<int>(nv);
  log.nobs = static_cast<int>(nobs);
  log.time = r.data<double>("time", H5T_NATIVE_DOUBLE, steps);
  log.qpos = r.data<double>("qpos", H5T_NATIVE_DOUBLE, steps * nq);
  log.qvel = r.data<double>("qvel", H5T_NATIVE_DOUBLE, steps * nv);
  log.observation = r.data<float>("observation", H5T_NATIVE_FLOAT, steps * nobs);
  log.actions = r.data<float>("actions", H5T_NATIVE_FLOAT, steps * nj);
  log.pd_targets = r.data<double>("pd_targets", H5T_NATIVE_DOUBLE, steps * nj);
  log.torques = r.data<double>("torques", H5T_NATIVE_DOUBLE, steps * nj);
  log.mode = r.data<unsigned char>("mode", H5T_NATIVE_UCHAR, steps);
  for (const char* name : {"time", "qpos", "qvel", "pd_targets", "torques"}) {
    const std::string n = name;
    check_finite(n == "time" ? log.time : n == "qpos" ? log.qpos : n == "qvel" ? log.qvel : n == "pd_targets" ? log.pd_targets : log.torques,
                 source, name);
  }
  validate_robot_log(log, source);
  return log;
}

// ---- writing -----------------------------------------------------------------------------------

void write_attr(hid_t file, const std::string& path, const char* name, const std::string& value) {
  if (H5LTset_attribute_string(file, "/", name, value.c_str()) < 0)
    throw RobotLogError(path + ": attribute '" + name + "': cannot be written");
}

template <class T>
void write_dataset(hid_t file, const std::string& path, const char* name, hid_t type, const std::vector<T>& v,
                   hsize_t rows, hsize_t cols) {
  const hsize_t dims[2] = {rows, cols};
  if (H5LTmake_dataset(file, name, cols ? 2 : 1, dims, type, v.data()) < 0)
    throw RobotLogError(path + ": dataset '" + name + "': cannot be written");
}

}  // namespace

void RobotLog::append(double t, const double* qpos_row, const double* qvel_row, const float* obs_row,
                      const float* action_row, const double* target_row, const double* torque_row, bool damping) {
  const int nj = num_joints();
  time.push_back(t);
  qpos.insert(qpos.end(), qpos_row, qpos_row + nq);
  qvel.insert(qvel.end(), qvel_row, qvel_row + nv);
  observation.insert(observation.end(), obs_row, obs_row + nobs);
  actions.insert(actions.end(), action_row, action_row + nj);
  pd_targets.insert(pd_targets.end(), target_row, target_row + nj);
  torques.insert(torques.end(), torque_row, torque_row + nj);
  mode.push_back(damping ? 1 : 0);
  ++steps;
}

void validate_robot_log(const RobotLog& log, const std::string& source) {
  const std::size_t t = log.steps, nj = log.joint_names.size();
  if (log.steps < 1) fail(source, "dataset 'time'", "expected T >= 1 rows");
  if (log.robot.empty()) fail(source, "attribute 'robot'", "empty");
  if (!(log.control_period > 0) || !std::isfinite(log.control_period)) fail(source, "attribute 'control_period'", "expected a finite period > 0 s");
  if (nj < 1) fail(source, "attribute 'joint_names'", "expected at least one joint name");
  for (const auto& n : log.joint_names) {
    if (n.empty()) fail(source, "attribute 'joint_names'", "an empty joint name");
  }
  if (log.nq < 1 || log.nv < 1 || log.nobs < 1) fail(source, "dataset 'qpos'/'qvel'/'observation'", "expected at least one column");
  auto size = [&](const char* name, std::size_t got, std::size_t want) {
    if (got != want) fail(source, std::string("dataset '") + name + "'", std::to_string(got) + " values, expected " + std::to_string(want));
  };
  size("time", log.time.size(), t);
  size("qpos", log.qpos.size(), t * log.nq);
  size("qvel", log.qvel.size(), t * log.nv);
  size("observation", log.observation.size(), t * log.nobs);
  size("actions", log.actions.size(), t * nj);
  size("pd_targets", log.pd_targets.size(), t * nj);
  size("torques", log.torques.size(), t * nj);
  size("mode", log.mode.size(), t);
  for (std::size_t k = 1; k < t; ++k) {
    if (!(log.time[k] > log.time[k - 1])) fail(source, "dataset 'time'", "not strictly increasing at row " + std::to_string(k));
  }
  for (unsigned char m : log.mode) {
    if (m > 1) fail(source, "dataset 'mode'", "value " + std::to_string(m) + ", expected 0 (policy) or 1 (damping)");
  }
}

void write_robot_log(const std::string& path, const RobotLog& log) {
  quiet_hdf5();
  validate_robot_log(log, path);
  for (const auto& n : log.joint_names) {
    if (n.find(',') != std::string::npos) throw RobotLogError(path + ": attribute 'joint_names': '" + n + "' holds a comma");
  }
  const std::string tmp = path + ".tmp";
  {
    // HDF5 1.8+ layout (superblock v2+, link messages instead of symbol tables, v2 B-trees): the
    // reader refuses the older layout, whose symbol-table B-trees libhdf5 1.10 follows around a
    // cycle without end on a corrupt file (fuzzing found it; docs/TRANSFER.md)
    Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
    if (!fapl.ok() || H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0)
      throw RobotLogError(tmp + ": cannot set the HDF5 file format");
    Handle f(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
    if (!f.ok()) throw RobotLogError(tmp + ": cannot create the file");
    const hid_t id = f.get();
    write_attr(id, path, "format", kRobotLogFormat);
    write_attr(id, path, "robot", log.robot);
    write_attr(id, path, "contract_hash", log.contract_hash);
    write_attr(id, path, "joint_names", join_names(log.joint_names));
    if (H5LTset_attribute_double(id, "/", "control_period", &log.control_period, 1) < 0)
      throw RobotLogError(path + ": attribute 'control_period': cannot be written");
    const hsize_t t = log.steps, nj = log.joint_names.size();
    write_dataset(id, path, "time", H5T_IEEE_F64LE, log.time, t, 0);
    write_dataset(id, path, "qpos", H5T_IEEE_F64LE, log.qpos, t, log.nq);
    write_dataset(id, path, "qvel", H5T_IEEE_F64LE, log.qvel, t, log.nv);
    write_dataset(id, path, "observation", H5T_IEEE_F32LE, log.observation, t, log.nobs);
    write_dataset(id, path, "actions", H5T_IEEE_F32LE, log.actions, t, nj);
    write_dataset(id, path, "pd_targets", H5T_IEEE_F64LE, log.pd_targets, t, nj);
    write_dataset(id, path, "torques", H5T_IEEE_F64LE, log.torques, t, nj);
    write_dataset(id, path, "mode", H5T_STD_U8LE, log.mode, t, 0);
    if (H5Fflush(id, H5F_SCOPE_GLOBAL) < 0) throw RobotLogError(tmp + ": cannot be flushed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw RobotLogError(path + ": cannot rename " + tmp + ": " + ec.message());
}

RobotLog read_robot_log(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RobotLogError(path + ": cannot open the file");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return read_robot_log_bytes(bytes.data(), bytes.size(), path);
}

RobotLog read_robot_log_bytes(const void* data, std::size_t size, const std::string& source) {
  quiet_hdf5();
  if (size < 8 || std::string(static_cast<const char*>(data), 8) != "\x89HDF\r\n\x1a\n")
    fail(source, "file", "not an HDF5 file (no HDF5 signature at offset 0)");
  // byte 8: the superblock version. 0 and 1 are HDF5's pre-1.8 layout (symbol tables, v1
  // B-trees, local heaps), which our writer never produces and libhdf5 1.10 cannot read safely
  const unsigned superblock = size > 8 ? static_cast<const unsigned char*>(data)[8] : 0u;
  if (superblock < 2)
    fail(source, "file", "HDF5 superblock version " + std::to_string(superblock) +
                             ": robot logs use HDF5's 1.8+ file layout (superblock 2 or 3), as "
                             "stampede writes them (h5repack --low=1 converts an older file)");
  // H5LTopen_file_image copies the bytes (flags 0) and opens them read-only with the core driver
  Handle f(H5LTopen_file_image(const_cast<void*>(data), size, 0), H5Fclose);
  if (!f.ok()) fail(source, "file", "HDF5 cannot open it");
  return read_from(f.get(), source, size);
}

}  // namespace stampede::runtime
