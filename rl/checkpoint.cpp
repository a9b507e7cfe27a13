// rl/checkpoint.cpp — HDF5 (C API) checkpoint reading and writing.
#include "rl/checkpoint.h"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace stampede::rl {
namespace fs = std::filesystem;
namespace {

constexpr const char* kFormat = "stampede-checkpoint";
constexpr int64_t kFormatVersion = 1;

// an HDF5 handle closed on scope exit
struct H5Handle {
  hid_t id = -1;
  herr_t (*close)(hid_t) = nullptr;
  H5Handle(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  ~H5Handle() {
    if (id >= 0 && close) close(id);
  }
  operator hid_t() const { return id; }
};

class Writer {
 public:
  explicit Writer(const std::string& path) : path_(path), file_(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose) {
    if (file_ < 0) throw std::runtime_error("cannot create checkpoint file '" + path + "'");
  }
  hid_t file() const { return file_; }
  hid_t group(const std::string& name) {
    hid_t g = H5Gcreate2(file_, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    check(g, name);
    groups_.push_back(g);
    return g;
  }
  template <class T>
  void dataset(hid_t loc, const std::string& name, hid_t type, const T* data, std::vector<hsize_t> dims) {
    H5Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
    H5Handle d(H5Dcreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    check(d, name);
    check(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), name);
  }
  void attr(hid_t loc, const std::string& name, hid_t type, const void* value) {
    H5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    H5Handle a(H5Acreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    check(a, name);
    check(H5Awrite(a, type, value), name);
  }
  void attr(hid_t loc, const std::string& name, int64_t v) { attr(loc, name, H5T_NATIVE_INT64, &v); }
  void attr(hid_t loc, const std::string& name, double v) { attr(loc, name, H5T_NATIVE_DOUBLE, &v); }
  void attr(hid_t loc, const std::string& name, const std::string& s) {
    H5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type, s.size() + 1);
    H5Tset_strpad(type, H5T_STR_NULLTERM);
    attr(loc, name, type, s.c_str());
  }
  ~Writer() {
    for (hid_t g : groups_) H5Gclose(g);
  }

 private:
  void check(hid_t rc, const std::string& what) const {
    if (rc < 0) throw std::runtime_error("writing checkpoint '" + path_ + "': failed at '" + what + "'");
  }
  std::string path_;
  H5Handle file_;
  std::vector<hid_t> groups_;
};

class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path), file_(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose) {
    if (file_ < 0) throw std::runtime_error("cannot open checkpoint '" + path + "' (missing or not HDF5)");
  }
  hid_t file() const { return file_; }
  // dims of dataset `name`
  std::vector<hsize_t> dims(const std::string& name) const {
    H5Handle d(H5Dopen2(file_, name.c_str(), H5P_DEFAULT), H5Dclose);
    if (d < 0) fail(name, "dataset is missing");
    H5Handle space(H5Dget_space(d), H5Sclose);
    std::vector<hsize_t> out(H5Sget_simple_extent_ndims(space));
    H5Sget_simple_extent_dims(space, out.data(), nullptr);
    return out;
  }
  template <class T>
  std::vector<T> dataset(const std::string& name, hid_t type, std::size_t expect = 0) const {
    std::size_t n = 1;
    for (hsize_t d : dims(name)) n *= d;
    if (expect && n != expect)
      fail(name, "expected " + std::to_string(expect) + " values, found " + std::to_string(n));
    std::vector<T> out(n);
    H5Handle d(H5Dopen2(file_, name.c_str(), H5P_DEFAULT), H5Dclose);
    if (n && H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) fail(name, "cannot be read");
    return out;
  }
  template <class T>
  T attr(const std::string& obj, const std::string& name, hid_t type) const {
    T v{};
    H5Handle a(H5Aopen_by_name(file_, obj.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    if (a < 0) fail(obj + "@" + name, "attribute is missing");
    if (H5Aread(a, type, &v) < 0) fail(obj + "@" + name, "cannot be read");
    return v;
  }
  int64_t attr_int(const std::string& obj, const std::string& name) const { return attr<int64_t>(obj, name, H5T_NATIVE_INT64); }
  double attr_double(const std::string& obj, const std::string& name) const { return attr<double>(obj, name, H5T_NATIVE_DOUBLE); }
  std::string attr_string(const std::string& obj, const std::string& name) const {
    H5Handle a(H5Aopen_by_name(file_, obj.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    if (a < 0) fail(obj + "@" + name, "attribute is missing");
    H5Handle type(H5Aget_type(a), H5Tclose);
    if (H5Tget_class(type) != H5T_STRING) fail(obj + "@" + name, "is not a string");
    std::string s(H5Tget_size(type), '\0');
    H5Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem, s.size());
    if (H5Aread(a, mem, s.data()) < 0) fail(obj + "@" + name, "cannot be read");
    return s.substr(0, s.find('\0'));
  }
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw std::runtime_error("checkpoint '" + path_ + "': " + field + ": " + what);
  }

 private:
  std::string path_;
  H5Handle file_;
};

// fsync a file or directory by path
void fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) throw std::runtime_error("cannot open '" + path + "' to fsync it");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw std::runtime_error("fsync of '" + path + "' failed");
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : "\n") + x;
  return s;
}

void write_file(const std::string& path, const Checkpoint& ck) {
  Writer w(path);
  const hid_t root = w.file();
  w.attr(root, "format", std::string(kFormat));
  w.attr(root, "format_version", kFormatVersion);
  w.attr(root, "iteration", ck.iteration);
  w.attr(root, "total_samples", ck.total_samples);
  w.attr(root, "total_time", ck.total_time);
  w.attr(root, "task", ck.task);
  w.attr(root, "contract_hash", ck.contract_hash);
  w.attr(root, "config", ck.config_yaml);
  w.attr(root, "obs_dim", static_cast<int64_t>(ck.obs_dim));
  w.attr(root, "act_dim", static_cast<int64_t>(ck.act_dim));

  const LearnerState& s = ck.learner;
  // model tensors by name
  const hid_t model = w.group("model");
  std::vector<std::string> order;
  for (const auto& t : s.tensors) {
    if (t.offset + t.size() > s.params.size()) throw std::logic_error("checkpoint: tensor '" + t.name + "' exceeds the parameters");
    std::vector<hsize_t> dims(t.shape.begin(), t.shape.end());
    w.dataset(model, t.name, H5T_NATIVE_FLOAT, s.params.data() + t.offset, dims);
    order.push_back(t.name);
  }
  w.attr(model, "order", join(order));
  // optimizer
  const hid_t opt = w.group("optimizer");
  const hsize_t np = s.params.size();
  w.dataset(opt, "exp_avg", H5T_NATIVE_FLOAT, s.adam_exp_avg.data(), {np});
  w.dataset(opt, "exp_avg_sq", H5T_NATIVE_FLOAT, s.adam_exp_avg_sq.data(), {np});
  w.attr(opt, "step", s.adam_step);
  w.attr(opt, "learning_rate", s.learning_rate);
  // normalizer
  const hid_t norm = w.group("normalizer");
  w.dataset(norm, "mean", H5T_NATIVE_DOUBLE, s.obs_mean.data(), {s.obs_mean.size()});
  w.dataset(norm, "var", H5T_NATIVE_DOUBLE, s.obs_var.data(), {s.obs_var.size()});
  w.attr(norm, "count", s.obs_count);
  w.attr(norm, "eps", s.obs_eps);
  // rng
  const hid_t rng = w.group("rng");
  w.dataset(rng, "state", H5T_NATIVE_UINT64, s.rng.data(), {4});
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& ck) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are reported by exceptions instead
  const fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const std::string tmp = path + ".tmp";
  try {
    write_file(tmp, ck);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  fsync_path(tmp, false);
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot rename '" + tmp + "' to '" + path + "'");
  fsync_path(target.has_parent_path() ? target.parent_path().string() : ".", true);
}

Checkpoint load_checkpoint(const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Reader r(path);
  Checkpoint ck;
  if (r.attr_string("/", "format") != kFormat) r.fail("/@format", "not a stampede checkpoint");
  const int64_t version = r.attr_int("/", "format_version");
  if (version != kFormatVersion)
    r.fail("/@format_version", "version " + std::to_string(version) + ", this build reads " + std::to_string(kFormatVersion));
  ck.iteration = r.attr_int("/", "iteration");
  ck.total_samples = r.attr_int("/", "total_samples");
  ck.total_time = r.attr_double("/", "total_time");
  ck.task = r.attr_string("/", "task");
  ck.contract_hash = r.attr_string("/", "contract_hash");
  ck.config_yaml = r.attr_string("/", "config");
  ck.obs_dim = static_cast<int>(r.attr_int("/", "obs_dim"));
  ck.act_dim = static_cast<int>(r.attr_int("/", "act_dim"));

  LearnerState& s = ck.learner;
  // model tensors, concatenated in their flat order
  std::istringstream order(r.attr_string("/model", "order"));
  for (std::string name; std::getline(order, name);) {
    ParamTensor t;
    t.name = name;
    for (hsize_t d : r.dims("/model/" + name)) t.shape.push_back(static_cast<int>(d));
    t.offset = s.params.size();
    const auto v = r.dataset<float>("/model/" + name, H5T_NATIVE_FLOAT);
    s.params.insert(s.params.end(), v.begin(), v.end());
    s.tensors.push_back(t);
  }
  const std::size_t np = s.params.size();
  s.adam_exp_avg = r.dataset<float>("/optimizer/exp_avg", H5T_NATIVE_FLOAT, np);
  s.adam_exp_avg_sq = r.dataset<float>("/optimizer/exp_avg_sq", H5T_NATIVE_FLOAT, np);
  s.adam_step = r.attr_int("/optimizer", "step");
  s.learning_rate = r.attr_double("/optimizer", "learning_rate");
  s.obs_mean = r.dataset<double>("/normalizer/mean", H5T_NATIVE_DOUBLE, ck.obs_dim);
  s.obs_var = r.dataset<double>("/normalizer/var", H5T_NATIVE_DOUBLE, ck.obs_dim);
  s.obs_count = r.attr_double("/normalizer", "count");
  s.obs_eps = r.attr_double("/normalizer", "eps");
  const auto rng = r.dataset<uint64_t>("/rng/state", H5T_NATIVE_UINT64, 4);
  for (int i = 0; i < 4; ++i) s.rng[i] = rng[i];
  return ck;
}

std::string checkpoint_path(const std::string& run_dir, int64_t iteration) {
  char name[64];
  std::snprintf(name, sizeof(name), "model_%06lld.h5", static_cast<long long>(iteration));
  return (fs::path(run_dir) / "checkpoints" / name).string();
}

std::string latest_checkpoint(const std::string& run_dir) {
  const fs::path dir = fs::path(run_dir) / "checkpoints";
  if (!fs::is_directory(dir)) return "";
  std::string best;
  long long best_iter = -1;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    long long it = 0;
    char tail[8] = {0};
    // model_<iteration>.h5 exactly (a leftover .h5.tmp from a crash is not a checkpoint)
    if (std::sscanf(f.c_str(), "model_%lld.%7s", &it, tail) == 2 && std::string(tail) == "h5" && it > best_iter) {
      best_iter = it;
      best = e.path().string();
    }
  }
  return best;
}

}  // namespace stampede::rl
