// sim/api/sim.cpp — the non-template facade of include/stampede/sim.h over sim::Backend<Real>.
#include "stampede/sim.h"

#include <mujoco/mujoco.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include "sim/backend.h"
#include "sim/compile.h"
#include "sim/make_backend.h"
#if defined(STAMPEDE_WITH_CUDA)
#include <cuda_runtime_api.h>

#include "sim/cuda_backend.h"
#endif

namespace stampede::sim {

static_assert(sizeof(WorldWarnings) == 3 * sizeof(int), "warnings() exposes WorldWarnings as (nworld, 3) int32");

// ---------------------------------------------------------------------------------------------
// dtypes and views

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kInt32: return "int32";
    case DType::kBool: return "bool";
  }
  return "unknown";
}

std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::kFloat64: return 8;
    case DType::kBool: return 1;
    default: return 4;
  }
}

std::size_t ArrayView::size() const {
  std::size_t n = 1;
  for (std::int64_t s : shape) n *= static_cast<std::size_t>(s);
  return n;
}

std::string ArrayView::shape_str() const {
  std::ostringstream os;
  os << "(";
  for (std::size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << (shape.size() == 1 ? ",)" : ")");
  return os.str();
}

namespace {

template <class T>
constexpr DType dtype_of() {
  using U = std::remove_const_t<T>;
  static_assert(std::is_same_v<U, float> || std::is_same_v<U, double> || std::is_same_v<U, int>,
                "ArrayView::as<T>: T must be float, double or int");
  if constexpr (std::is_same_v<U, float>) return DType::kFloat32;
  else if constexpr (std::is_same_v<U, double>) return DType::kFloat64;
  else return DType::kInt32;
}

std::string field_label(const ArrayView& v) { return v.name.empty() ? std::string("array") : "'" + v.name + "'"; }

}  // namespace

template <class T>
T* ArrayView::as() const {
  constexpr DType want = dtype_of<T>();
  if (dtype != want)
    throw std::invalid_argument(field_label(*this) + " holds " + dtype_name(dtype) + ", not " + dtype_name(want));
  if (!std::is_const_v<T> && !writable)
    throw std::invalid_argument(field_label(*this) + " is read-only; use as<const " + dtype_name(want) + ">()");
  return static_cast<T*>(data);
}

template float* ArrayView::as<float>() const;
template double* ArrayView::as<double>() const;
template int* ArrayView::as<int>() const;
template const float* ArrayView::as<const float>() const;
template const double* ArrayView::as<const double>() const;
template const int* ArrayView::as<const int>() const;

namespace {

template <class D, class S>
void convert(void* dst, const void* src, std::size_t n) {
  if constexpr (std::is_same_v<D, S>) {
    std::memcpy(dst, src, n * sizeof(D));
  } else {
    D* d = static_cast<D*>(dst);
    const S* s = static_cast<const S*>(src);
    for (std::size_t i = 0; i < n; ++i) d[i] = static_cast<D>(s[i]);
  }
}

// copy n elements between host buffers of float dtypes (or int32 to int32)
void convert_any(void* dst, DType dt, const void* src, DType st, std::size_t n, const std::string& what) {
  if (dt == DType::kInt32 || st == DType::kInt32 || dt == DType::kBool || st == DType::kBool) {
    if (dt != st)
      throw std::invalid_argument(what + ": expected " + dtype_name(dt) + " values, got " + dtype_name(st));
    std::memcpy(dst, src, n * dtype_size(dt));
    return;
  }
  if (dt == DType::kFloat32 && st == DType::kFloat32) convert<float, float>(dst, src, n);
  if (dt == DType::kFloat32 && st == DType::kFloat64) convert<float, double>(dst, src, n);
  if (dt == DType::kFloat64 && st == DType::kFloat32) convert<double, float>(dst, src, n);
  if (dt == DType::kFloat64 && st == DType::kFloat64) convert<double, double>(dst, src, n);
}

}  // namespace

void ArrayView::copy_from(const ArrayView& src) const {
  if (!writable) throw std::invalid_argument(field_label(*this) + " is read-only");
  if (src.device != Device::kCpu)
    throw std::invalid_argument(field_label(*this) + ": copy_from reads host arrays only");
  if (src.shape != shape)
    throw std::invalid_argument(field_label(*this) + ": expected shape " + shape_str() + ", got " + src.shape_str());
  if (device == Device::kCpu) {
    convert_any(data, dtype, src.data, src.dtype, size(), field_label(*this));
    return;
  }
  // a device array: convert on the host, then one copy up
  std::vector<unsigned char> staged(bytes());
  convert_any(staged.data(), dtype, src.data, src.dtype, size(), field_label(*this));
#if defined(STAMPEDE_WITH_CUDA)
  const cudaError_t err = cudaMemcpy(data, staged.data(), staged.size(), cudaMemcpyHostToDevice);
  if (err != cudaSuccess) throw std::runtime_error(field_label(*this) + ": " + cudaGetErrorString(err));
#else
  throw std::runtime_error(field_label(*this) + ": a device array in a build without CUDA");
#endif
}

// ---------------------------------------------------------------------------------------------
// models

int CompiledModel::nq() const { return static_cast<int>(model_->nq); }
int CompiledModel::nv() const { return static_cast<int>(model_->nv); }
int CompiledModel::nu() const { return static_cast<int>(model_->nu); }
int CompiledModel::na() const { return static_cast<int>(model_->na); }
int CompiledModel::nbody() const { return static_cast<int>(model_->nbody); }
int CompiledModel::njnt() const { return static_cast<int>(model_->njnt); }
int CompiledModel::ngeom() const { return static_cast<int>(model_->ngeom); }
double CompiledModel::timestep() const { return model_->opt.timestep; }

namespace {

std::shared_ptr<const mjModel> own(mjModel* m) {
  return std::shared_ptr<const mjModel>(m, [](const mjModel* p) { mj_deleteModel(const_cast<mjModel*>(p)); });
}

// throw std::invalid_argument naming every unsupported feature of m
void require_supported(const mjModel* m, const std::string& where) {
  std::vector<std::string> bad = unsupported_features(m);
  if (bad.empty()) return;
  std::string msg = where + ": the model uses features the stampede kernels do not simulate:";
  for (const auto& f : bad) msg += "\n  - " + f;
  throw std::invalid_argument(msg);
}

}  // namespace

CompiledModel load(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw std::invalid_argument("stampede::sim::load: no such MJCF file '" + path + "'");
  mjModel* raw = nullptr;
  try {
    raw = load_mjcf(path);
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(e.what());
  }
  CompiledModel m;
  m.model_ = own(raw);
  m.path_ = path;
  require_supported(raw, "'" + path + "'");
  return m;
}

CompiledModel from_mj_model(const mjModel* src) {
  if (!src) throw std::invalid_argument("stampede::sim::from_mj_model: null model");
  require_supported(src, "from_mj_model");
  CompiledModel m;
  m.model_ = own(mj_copyModel(nullptr, src));
  return m;
}

std::vector<std::string> unsupported_features(const CompiledModel& m) {
  if (!m) throw std::invalid_argument("unsupported_features: empty model");
  return unsupported_features(m.mj_model());
}

std::vector<std::string> warning_names() { return {"contact_overflow", "constraint_overflow", "nan_reset"}; }

// ---------------------------------------------------------------------------------------------
// the batch

struct Batch::Impl {
  CompiledModel model;
  int nworld = 0;
  std::string backend;
  DType dtype = DType::kFloat32;
  std::unique_ptr<Backend<float>> f32;
  std::unique_ptr<Backend<double>> f64;
  alignas(64) double empty[1] = {0};  // storage of zero-size arrays (act with na == 0)
  // the CUDA backend keeps the state on the device (CudaBackend::set_device_resident): a host
  // mirror address -> its device address (null for arrays that stay on the host: warnings)
  std::function<void*(const void*)> device_address;

  // call fn with the backend, typed
  template <class Fn>
  decltype(auto) with(Fn&& fn) const {
    if (f32) return fn(*f32);
    return fn(*f64);
  }

  // a view of a backend array; `per_world` elements per world after nworld
  ArrayView view(const char* name, const void* p, DType t, std::vector<std::int64_t> tail, bool writable) const {
    ArrayView v;
    v.name = name;
    v.dtype = t;
    v.writable = writable;
    v.device = Device::kCpu;
    v.shape.push_back(nworld);
    for (auto s : tail) v.shape.push_back(s);
    v.data = v.size() == 0 ? const_cast<double*>(empty) : const_cast<void*>(p);
    if (device_address && v.size() != 0) {
      if (void* d = device_address(p)) {
        v.data = d;
        v.device = Device::kCuda;
      }
    }
    return v;
  }
  ArrayView real(const char* name, const void* p, std::vector<std::int64_t> tail, bool writable) const {
    return view(name, p, dtype, std::move(tail), writable);
  }

  const mjModel* mj() const { return model.mj_model(); }

  void check_world(int w) const {
    if (w < 0 || w >= nworld)
      throw std::out_of_range("world " + std::to_string(w) + " out of range [0, " + std::to_string(nworld) + ")");
  }
};

Batch::Batch(const CompiledModel& model, int nworld, const std::string& backend, const std::string& dtype,
             int nthread)
    : impl_(std::make_unique<Impl>()) {
  if (!model) throw std::invalid_argument("Batch: empty model (use stampede::sim::load)");
  if (nworld <= 0) throw std::invalid_argument("Batch: nworld must be positive, got " + std::to_string(nworld));
  if (backend != "cpu" && backend != "cuda" && backend != "mujoco")
    throw std::invalid_argument("Batch: unknown backend '" + backend + "' (expected cpu, cuda or mujoco)");
  if (dtype != "float32" && dtype != "float64")
    throw std::invalid_argument("Batch: unknown dtype '" + dtype + "' (expected float32 or float64)");
  if (backend == "mujoco" && dtype != "float64")
    throw std::invalid_argument("Batch: backend 'mujoco' runs in float64 only (got dtype '" + dtype +
                                "'); use dtype='float64', or backend 'cpu'/'cuda' for float32");
  Impl& s = *impl_;
  s.model = model;
  s.nworld = nworld;
  s.backend = backend;
  if (dtype == "float32") {
    s.dtype = DType::kFloat32;
    s.f32 = make_backend<float>(backend, model.mj_model(), nworld, nthread);
  } else {
    s.dtype = DType::kFloat64;
    s.f64 = make_backend<double>(backend, model.mj_model(), nworld, nthread);
  }
#if defined(STAMPEDE_WITH_CUDA)
  // the state lives on the device between calls; the arrays are device arrays
  if (backend == "cuda") {
    s.with([&](auto& b) {
      using Real = std::remove_reference_t<decltype(*b.qpos())>;
      auto* cuda = dynamic_cast<CudaBackend<Real>*>(&b);
      if (!cuda) throw std::logic_error("Batch: backend 'cuda' is not a CudaBackend");
      cuda->set_device_resident(true);
      s.device_address = [cuda](const void* p) { return cuda->device_address(p); };
    });
  }
#endif
}

Batch::~Batch() = default;
Batch::Batch(Batch&&) noexcept = default;
Batch& Batch::operator=(Batch&&) noexcept = default;

const CompiledModel& Batch::model() const { return impl_->model; }
int Batch::nworld() const { return impl_->nworld; }
const std::string& Batch::backend() const { return impl_->backend; }
DType Batch::dtype() const { return impl_->dtype; }
int Batch::contact_capacity() const {
  return impl_->with([](auto& b) { return b.contact_capacity(); });
}

// inputs
ArrayView Batch::qpos() const {
  return impl_->with([&](auto& b) { return impl_->real("qpos", b.qpos(), {impl_->mj()->nq}, true); });
}
ArrayView Batch::qvel() const {
  return impl_->with([&](auto& b) { return impl_->real("qvel", b.qvel(), {impl_->mj()->nv}, true); });
}
ArrayView Batch::ctrl() const {
  return impl_->with([&](auto& b) { return impl_->real("ctrl", b.ctrl(), {impl_->mj()->nu}, true); });
}
ArrayView Batch::act() const {
  // load() refuses activation states, so na is 0 and act is an empty (nworld, 0) array
  return impl_->real("act", nullptr, {impl_->mj()->na}, true);
}
ArrayView Batch::qfrc_applied() const {
  return impl_->with([&](auto& b) { return impl_->real("qfrc_applied", b.qfrc_applied(), {impl_->mj()->nv}, true); });
}
ArrayView Batch::xfrc_applied() const {
  return impl_->with(
      [&](auto& b) { return impl_->real("xfrc_applied", b.xfrc_applied(), {impl_->mj()->nbody, 6}, true); });
}

// outputs
ArrayView Batch::time() const {
  return impl_->with([&](auto& b) { return impl_->real("time", b.time(), {}, false); });
}
ArrayView Batch::qacc() const {
  return impl_->with([&](auto& b) { return impl_->real("qacc", b.qacc(), {impl_->mj()->nv}, false); });
}
ArrayView Batch::xpos() const {
  return impl_->with([&](auto& b) { return impl_->real("xpos", b.xpos(), {impl_->mj()->nbody, 3}, false); });
}
ArrayView Batch::xquat() const {
  return impl_->with([&](auto& b) { return impl_->real("xquat", b.xquat(), {impl_->mj()->nbody, 4}, false); });
}
ArrayView Batch::subtree_com() const {
  return impl_->with(
      [&](auto& b) { return impl_->real("subtree_com", b.subtree_com(), {impl_->mj()->nbody, 3}, false); });
}
ArrayView Batch::ncon() const {
  return impl_->with([&](auto& b) { return impl_->view("ncon", b.ncon(), DType::kInt32, {}, false); });
}
ArrayView Batch::warnings() const {
  return impl_->with([&](auto& b) { return impl_->view("warnings", b.warnings(), DType::kInt32, {3}, false); });
}
ArrayView Batch::contact_pos() const {
  return impl_->with([&](auto& b) {
    return impl_->real("contact_pos", b.con_pos(), {b.contact_capacity(), 3}, false);
  });
}
ArrayView Batch::contact_frame() const {
  return impl_->with([&](auto& b) {
    return impl_->real("contact_frame", b.con_frame(), {b.contact_capacity(), 3, 3}, false);
  });
}
ArrayView Batch::contact_dist() const {
  return impl_->with([&](auto& b) { return impl_->real("contact_dist", b.con_dist(), {b.contact_capacity()}, false); });
}
ArrayView Batch::contact_geom() const {
  return impl_->with([&](auto& b) {
    return impl_->view("contact_geom", b.con_geom(), DType::kInt32, {b.contact_capacity(), 2}, false);
  });
}
ArrayView Batch::contact_force() const {
  return impl_->with([&](auto& b) {
    return impl_->real("contact_force", b.con_force(), {b.contact_capacity(), 3}, false);
  });
}

namespace {

// rows [0, n) of world w of a padded (nworld, cap, ...) view, as an (n, ...) view
ArrayView world_rows(const ArrayView& all, int w, int n) {
  ArrayView v = all;
  v.shape.erase(v.shape.begin());
  std::size_t per_world = v.size();
  v.shape[0] = n;
  v.data = static_cast<char*>(all.data) + std::size_t(w) * per_world * dtype_size(all.dtype);
  return v;
}

}  // namespace

WorldContacts Batch::contact(int world) const {
  impl_->check_world(world);
  WorldContacts c;
  const ArrayView all = ncon();
  if (all.device == Device::kCpu) {
    c.ncon = static_cast<const int*>(all.data)[world];
  } else {
    std::vector<int> n(static_cast<std::size_t>(impl_->nworld));
    copy_to_host(all, n.data());
    c.ncon = n[static_cast<std::size_t>(world)];
  }
  c.pos = world_rows(contact_pos(), world, c.ncon);
  c.frame = world_rows(contact_frame(), world, c.ncon);
  c.dist = world_rows(contact_dist(), world, c.ncon);
  c.geom = world_rows(contact_geom(), world, c.ncon);
  c.force = world_rows(contact_force(), world, c.ncon);
  return c;
}

// computation
void Batch::forward() {
  impl_->with([](auto& b) { b.forward(); });
}

void Batch::step(int nstep) {
  if (nstep < 0) throw std::invalid_argument("Batch::step: nstep must be >= 0, got " + std::to_string(nstep));
  impl_->with([&](auto& b) { b.step(nstep); });
}

void Batch::reset() {
  impl_->with([](auto& b) { b.reset(nullptr, 0); });
}

void Batch::reset(const std::vector<int>& worlds) {
  for (int w : worlds) impl_->check_world(w);
  if (worlds.empty()) return;
  impl_->with([&](auto& b) { b.reset(worlds.data(), static_cast<int>(worlds.size())); });
}

namespace {

// MuJoCo's batch spells option fields "opt.<name>", our kernel model "opt_<name>"
std::string backend_field_name(const std::string& backend, const std::string& name) {
  if (backend == "mujoco" && name.rfind("opt_", 0) == 0) return "opt." + name.substr(4);
  if (backend != "mujoco" && name.rfind("opt.", 0) == 0) return "opt_" + name.substr(4);
  return name;
}

}  // namespace

void Batch::set_model_field(const std::string& name, const ArrayView& values) {
  if (values.device != Device::kCpu) throw std::invalid_argument("set_model_field('" + name + "'): values must be host memory");
  if (values.dtype == DType::kInt32)
    throw std::invalid_argument("set_model_field('" + name + "'): expected float32 or float64 values, got int32");
  const std::string field = backend_field_name(impl_->backend, name);
  impl_->with([&](auto& b) {
    int size = 0;
    auto* dst = b.model_field(field, &size);
    const std::size_t n = values.size(), nw = std::size_t(impl_->nworld);
    if (n != std::size_t(size) && n != nw * std::size_t(size))
      throw std::invalid_argument("set_model_field('" + name + "'): expected " + std::to_string(size) +
                                  " values (one row for every world) or " + std::to_string(nw * size) +
                                  " (nworld rows of " + std::to_string(size) + "), got shape " +
                                  values.shape_str());
    using Real = std::remove_pointer_t<decltype(dst)>;
    const DType dt = std::is_same_v<Real, float> ? DType::kFloat32 : DType::kFloat64;
    for (std::size_t w = 0; w < nw; ++w) {
      const std::size_t row = n == std::size_t(size) ? 0 : w;
      const char* src = static_cast<const char*>(values.data) + row * size * dtype_size(values.dtype);
      convert_any(dst + w * size, dt, src, values.dtype, std::size_t(size), name);
    }
  });
}

void Batch::set_model_field(const std::string& name, const std::vector<double>& values) {
  ArrayView v;
  v.data = const_cast<double*>(values.data());
  v.dtype = DType::kFloat64;
  v.shape = {static_cast<std::int64_t>(values.size())};
  v.name = name;
  set_model_field(name, v);
}

std::vector<double> Batch::model_field(const std::string& name, int* size) {
  const std::string field = backend_field_name(impl_->backend, name);
  return impl_->with([&](auto& b) {
    int n = 0;
    auto* p = b.model_field(field, &n);
    if (size) *size = n;
    return std::vector<double>(p, p + std::size_t(n) * impl_->nworld);
  });
}

void Batch::copy_to_host(const ArrayView& view, void* dst) const { sim::copy_to_host(view, dst); }

namespace {

// a new device buffer of `bytes`, filled from `src` (device or host memory, as `from_host` says)
std::shared_ptr<void> new_device_copy(const void* src, std::size_t bytes, bool from_host, const char* what) {
#if defined(STAMPEDE_WITH_CUDA)
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, bytes ? bytes : 1);
  if (err == cudaSuccess && bytes)
    err = cudaMemcpy(p, src, bytes, from_host ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToDevice);
  if (err != cudaSuccess) {
    if (p) cudaFree(p);
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
  }
  return std::shared_ptr<void>(p, [](void* q) { cudaFree(q); });
#else
  (void)src;
  (void)bytes;
  (void)from_host;
  throw std::runtime_error(std::string(what) + ": a build without CUDA");
#endif
}

}  // namespace

std::shared_ptr<void> device_copy(const void* src, std::size_t bytes) {
  return new_device_copy(src, bytes, false, "device_copy");
}

std::shared_ptr<void> device_copy_from_host(const void* host, std::size_t bytes) {
  return new_device_copy(host, bytes, true, "device_copy_from_host");
}

void copy_to_host(const ArrayView& view, void* dst) {
  if (view.device == Device::kCpu) {
    std::memcpy(dst, view.data, view.bytes());
    return;
  }
#if defined(STAMPEDE_WITH_CUDA)
  cudaError_t err = cudaMemcpy(dst, view.data, view.bytes(), cudaMemcpyDeviceToHost);
  if (err != cudaSuccess)
    throw std::runtime_error("copy_to_host('" + view.name + "'): " + cudaGetErrorString(err));
#else
  throw std::runtime_error("copy_to_host('" + view.name + "'): a device array in a build without CUDA");
#endif
}

}  // namespace stampede::sim
