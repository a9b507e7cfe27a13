// stampede/sim.h — the simulator as a library: MuJoCo-like directness over the batched engine.
//
//   auto m = stampede::sim::load("robot.xml");          // MuJoCo compiles; unsupported features throw
//   stampede::sim::Batch sim(m, 1024, "cpu", "float32"); // cpu | cuda | mujoco; float32 | float64
//   double* qpos = sim.qpos().as<double>();              // (nworld, nq), world-major, writable
//   sim.forward(); sim.step(10); sim.reset();
//
// Field names, units and layouts are MuJoCo's (mjData): quaternions (w, x, y, z), contact frames
// as 3x3 row-major with the normal first. Every array is world-major: world w's block of field f
// starts at f.data + w * (elements per world).
//
// A Batch is a non-template facade over sim::Backend<Real> (sim/backend.h): the dtype is chosen at
// run time and both float32 and float64 are built. Arrays stay valid and at the same address for
// the life of the Batch; outputs are refreshed by forward(), step() and reset().
//
// On the "cuda" backend the state stays in GPU memory between calls and the arrays are device
// arrays (ArrayView::device == Device::kCuda; only warnings() stays on the host): pass them to
// CUDA code as they are, read them with copy_to_host(), write them with ArrayView::copy_from().
//
// Bad input throws: std::invalid_argument (unknown backend, dtype, field; wrong shape or dtype;
// a model with features the kernels do not simulate), std::out_of_range (a world index),
// std::runtime_error (a CUDA backend without a device or in a build without CUDA).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct mjModel_;
typedef struct mjModel_ mjModel;

namespace stampede::sim {

// element type of an array
enum class DType { kFloat32, kFloat64, kInt32, kBool };
const char* dtype_name(DType t);      // "float32", "float64", "int32", "bool" (one byte)
std::size_t dtype_size(DType t);      // bytes per element

// where an array's memory is
enum class Device { kCpu, kCuda };

// a typed view of one array (no ownership): data pointer, shape, dtype, C-contiguous
struct ArrayView {
  void* data = nullptr;
  DType dtype = DType::kFloat64;
  std::vector<std::int64_t> shape;
  bool writable = false;
  Device device = Device::kCpu;
  std::string name;  // the field's name, for error messages

  std::size_t size() const;                          // number of elements
  std::size_t bytes() const { return size() * dtype_size(dtype); }
  std::string shape_str() const;                     // "(4, 28)"

  // the data as T*; throws std::invalid_argument when T is not the dtype, or when the view is
  // read-only and T is not const
  template <class T>
  T* as() const;

  // copy host array `src` (same shape, any float dtype into a float field, int32 into int32) into
  // this view, host or device; throws std::invalid_argument naming the field on a shape or dtype
  // mismatch, a read-only view or a device `src`
  void copy_from(const ArrayView& src) const;
};

// an MJCF model compiled by MuJoCo and accepted by the stampede kernels (shared, immutable)
class CompiledModel {
 public:
  CompiledModel() = default;
  const mjModel* mj_model() const { return model_.get(); }  // MuJoCo's compiled model
  const std::string& path() const { return path_; }
  int nq() const;
  int nv() const;
  int nu() const;
  int na() const;
  int nbody() const;
  int njnt() const;
  int ngeom() const;
  double timestep() const;
  explicit operator bool() const { return model_ != nullptr; }

 private:
  friend CompiledModel load(const std::string& path);
  friend CompiledModel from_mj_model(const mjModel* m);
  std::shared_ptr<const mjModel> model_;
  std::string path_;
};

// parse and compile an MJCF file with MuJoCo. Throws std::invalid_argument for a missing file,
// a file MuJoCo cannot compile (its message) or a model using features the kernels do not
// simulate (every one named, see unsupported_features).
CompiledModel load(const std::string& path);

// the same from a model already compiled by MuJoCo (copied)
CompiledModel from_mj_model(const mjModel* m);

// the features of a model the stampede kernels do not simulate, one string each; empty: none
std::vector<std::string> unsupported_features(const CompiledModel& m);

// per-world warning counters, cumulative since construction (the columns of Batch::warnings())
std::vector<std::string> warning_names();  // "contact_overflow", "constraint_overflow", "nan_reset"

// the contacts of one world, the first ncon of the capacity
struct WorldContacts {
  int ncon = 0;
  ArrayView pos;    // (ncon, 3)     contact point, world frame (m)
  ArrayView frame;  // (ncon, 3, 3)  contact frame, rows: normal, tangent1, tangent2
  ArrayView dist;   // (ncon,)       signed distance, negative: penetration (m)
  ArrayView geom;   // (ncon, 2)     geom ids (int32)
  ArrayView force;  // (ncon, 3)     force in the contact frame: normal, t1, t2 (N)
};

// nworld copies of one model, stepped together by one backend in one dtype
// copy any view (host or device memory) to host memory `dst`, view.bytes() bytes
void copy_to_host(const ArrayView& view, void* dst);
// a new device buffer holding a copy of `bytes` of device memory at `src`, freed when the last
// reference goes (std::runtime_error without CUDA)
std::shared_ptr<void> device_copy(const void* src, std::size_t bytes);
// the same from host memory
std::shared_ptr<void> device_copy_from_host(const void* host, std::size_t bytes);

class Batch {
 public:
  // backend: "cpu" | "cuda" | "mujoco"; dtype: "float32" | "float64" ("mujoco": float64 only);
  // nthread <= 0: every hardware thread (ignored by "cuda")
  Batch(const CompiledModel& model, int nworld, const std::string& backend = "cpu",
        const std::string& dtype = "float32", int nthread = 0);
  ~Batch();
  Batch(Batch&&) noexcept;
  Batch& operator=(Batch&&) noexcept;
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  // identity and sizes
  const CompiledModel& model() const;
  int nworld() const;
  const std::string& backend() const;   // "cpu", "cuda" or "mujoco"
  DType dtype() const;                  // kFloat32 or kFloat64
  int contact_capacity() const;         // contacts kept per world

  // inputs (writable): written between calls, read by the next forward/step
  ArrayView qpos() const;          // (nworld, nq)       generalized position
  ArrayView qvel() const;          // (nworld, nv)       generalized velocity
  ArrayView ctrl() const;          // (nworld, nu)       actuator controls
  ArrayView act() const;           // (nworld, na)       actuator activations (na == 0: empty)
  ArrayView qfrc_applied() const;  // (nworld, nv)       applied generalized force
  ArrayView xfrc_applied() const;  // (nworld, nbody, 6) applied force, torque at the body's com

  // outputs (read-only)
  ArrayView time() const;          // (nworld,)          simulation time (s)
  ArrayView qacc() const;          // (nworld, nv)       acceleration
  ArrayView xpos() const;          // (nworld, nbody, 3) body frame position
  ArrayView xquat() const;         // (nworld, nbody, 4) body frame orientation (w, x, y, z)
  ArrayView subtree_com() const;   // (nworld, nbody, 3) subtree centre of mass
  ArrayView ncon() const;          // (nworld,)          contacts found, int32
  ArrayView warnings() const;      // (nworld, 3)        int32 counters, columns warning_names()
  // all contacts, padded to the capacity: (nworld, capacity, ...), the first ncon[w] valid.
  // After forward() or reset() they describe the current state on every backend. After step()
  // every backend reports the contacts that acted in the last substep, with their forces (as
  // MJX and MuJoCo Warp do); xpos, xquat and subtree_com are at the new state.

  ArrayView contact_pos() const;   // (nworld, cap, 3)
  ArrayView contact_frame() const; // (nworld, cap, 3, 3)
  ArrayView contact_dist() const;  // (nworld, cap)
  ArrayView contact_geom() const;  // (nworld, cap, 2) int32
  ArrayView contact_force() const; // (nworld, cap, 3)
  // the first ncon contacts of world `world` (throws std::out_of_range)
  WorldContacts contact(int world) const;

  // computation (nothing throws inside a step: failures are counted in warnings())
  void forward();                          // mj_forward on every world
  void step(int nstep = 1);                // nstep mj_step on every world (nstep >= 0)
  void reset();                            // every world back to qpos0, qvel 0, time 0
  void reset(const std::vector<int>& worlds);  // the listed worlds (throws std::out_of_range)

  // per-world model fields (domain randomization), MuJoCo's names: "geom_friction",
  // "body_mass", "dof_damping", ... `values` holds one row (size elements, given to every world)
  // or nworld rows. Throws std::invalid_argument for an unknown field or a wrong size/dtype.
  void set_model_field(const std::string& name, const ArrayView& values);
  void set_model_field(const std::string& name, const std::vector<double>& values);
  // the field's current (nworld, size) values, copied as float64
  std::vector<double> model_field(const std::string& name, int* size = nullptr);

  // copy any view of this batch to host memory `dst` (view.bytes() bytes), device or host
  void copy_to_host(const ArrayView& view, void* dst) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace stampede::sim
