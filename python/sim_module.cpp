// python/sim_module.cpp — stampede.sim: the simulator as a Python library, a thin layer over
// include/stampede/sim.h (argument checks and array plumbing only).
//
// Arrays are numpy views of the batch's own memory (no copies) whose base is the Batch object,
// so a view keeps its batch alive. Inputs (qpos, qvel, ctrl, act, qfrc_applied, xfrc_applied)
// are writable; outputs are read-only. Arrays in GPU memory come back as CudaArray objects
// (__cuda_array_interface__, numpy() copies to the host). forward/step/reset release the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <mujoco/mujoco.h>

#include "python/cuda_array.h"
#include "sim/compile.h"
#include "stampede/sim.h"

namespace py = pybind11;
namespace ss = stampede::sim;

namespace {

py::dtype numpy_dtype(ss::DType t) { return py::dtype(ss::dtype_name(t)); }

std::string shape_str(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

// DLPack's ABI (dlpack.h v0.8, stable C structs), for CudaArray.__dlpack__
struct DLDevice { std::int32_t device_type, device_id; };
struct DLDataType { std::uint8_t code, bits; std::uint16_t lanes; };
struct DLTensor {
  void* data;
  DLDevice device;
  std::int32_t ndim;
  DLDataType dtype;
  std::int64_t* shape;
  std::int64_t* strides;
  std::uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor*);
};
constexpr std::int32_t kDLCUDA = 2;

// what a DLManagedTensor owns: the shape and a reference to the batch holding the memory
struct DLPackContext {
  DLManagedTensor tensor;
  std::vector<std::int64_t> shape;
  PyObject* owner;
};

void delete_dlpack(DLManagedTensor* t) {
  DLPackContext* ctx = static_cast<DLPackContext*>(t->manager_ctx);
  PyGILState_STATE gil = PyGILState_Ensure();
  Py_XDECREF(ctx->owner);
  PyGILState_Release(gil);
  delete ctx;
}

// a host array `h` of view's dtype and shape, as a view to copy into `view` from
ss::ArrayView host_twin(const ss::ArrayView& view, py::array& h) {
  ss::ArrayView src;
  src.data = h.mutable_data();
  src.dtype = view.dtype;
  src.shape = view.shape;
  src.name = view.name;
  return src;
}

// an array in GPU memory: described by __cuda_array_interface__ (v3) and DLPack, copied by
// numpy()
struct CudaArray {
  py::object owner;  // the Batch, kept alive
  ss::ArrayView view;

  py::dict interface() const {
    py::dict d;
    py::tuple shape(view.shape.size());
    for (size_t i = 0; i < view.shape.size(); ++i) shape[i] = py::int_(view.shape[i]);
    d["shape"] = shape;
    d["typestr"] = numpy_dtype(view.dtype).attr("str");
    d["data"] = py::make_tuple(py::int_(reinterpret_cast<std::uintptr_t>(view.data)), !view.writable);
    d["strides"] = py::none();
    d["version"] = 3;
    return d;
  }
  // a "dltensor" capsule; the consumer renames it once it owns the tensor
  py::capsule dlpack(const py::object& stream) const {
    (void)stream;  // the batch synchronizes its stream after every call
    auto* ctx = new DLPackContext{};
    ctx->shape = view.shape;
    ctx->owner = owner.ptr();
    Py_INCREF(ctx->owner);
    DLTensor& t = ctx->tensor.dl_tensor;
    t.data = view.data;
    t.device = {kDLCUDA, device_id()};
    t.ndim = static_cast<std::int32_t>(view.shape.size());
    // DLPack type codes: kDLInt 0, kDLFloat 2, kDLBool 6
    const std::uint8_t code = view.dtype == ss::DType::kInt32 ? 0 : view.dtype == ss::DType::kBool ? 6 : 2;
    t.dtype = {code, static_cast<std::uint8_t>(8 * ss::dtype_size(view.dtype)), 1};
    t.shape = ctx->shape.data();
    t.strides = nullptr;  // C-contiguous
    t.byte_offset = 0;
    ctx->tensor.manager_ctx = ctx;
    ctx->tensor.deleter = &delete_dlpack;
    return py::capsule(&ctx->tensor, "dltensor", [](PyObject* cap) {
      if (PyCapsule_IsValid(cap, "dltensor")) {  // never consumed
        auto* t = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap, "dltensor"));
        t->deleter(t);
      }
    });
  }
  int device_id() const { return 0; }  // the batch's device (one GPU per batch)
  py::array numpy() const {
    std::vector<py::ssize_t> shape(view.shape.begin(), view.shape.end());
    py::array out(numpy_dtype(view.dtype), shape);
    ss::copy_to_host(view, out.mutable_data());
    return out;
  }
  void setitem(const py::object& key, const py::object& values) const {
    if (!view.writable) throw py::value_error("'" + view.name + "' is read-only");
    py::array h = numpy();
    h.attr("__setitem__")(key, values);
    view.copy_from(host_twin(view, h));
  }
};

}  // namespace

// python/cuda_array.h
py::object make_cuda_array(py::object owner, const ss::ArrayView& view) { return py::cast(CudaArray{std::move(owner), view}); }

namespace {

// a batch view as a numpy array (host) or a CudaArray (device), owned by `self`
py::object as_python(const py::object& self, const ss::ArrayView& v) {
  if (v.device == ss::Device::kCuda) return py::cast(CudaArray{self, v});
  std::vector<py::ssize_t> shape(v.shape.begin(), v.shape.end()), strides(shape.size());
  py::ssize_t stride = static_cast<py::ssize_t>(ss::dtype_size(v.dtype));
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  py::array a(numpy_dtype(v.dtype), shape, strides, v.data, self);
  if (!v.writable) a.attr("setflags")(py::arg("write") = false);
  return std::move(a);
}

// `sim.<field> = values`: copy into the view with numpy's broadcasting and same-kind casting,
// naming the field when the shape or dtype does not fit
void assign(const py::object& self, const ss::ArrayView& v, const py::object& values) {
  const py::module_ np = py::module_::import("numpy");
  // a device array: the values land in a host array of its shape first, then go up in one copy
  py::array staged;
  if (v.device == ss::Device::kCuda)
    staged = py::array(numpy_dtype(v.dtype), std::vector<py::ssize_t>(v.shape.begin(), v.shape.end()));
  py::array dst = v.device == ss::Device::kCuda ? staged : py::array(as_python(self, v));
  py::array src = np.attr("asarray")(values);
  if (!np.attr("can_cast")(src.dtype(), dst.dtype(), py::arg("casting") = "same_kind").cast<bool>())
    throw py::type_error("'" + v.name + "' holds " + ss::dtype_name(v.dtype) + "; cannot assign " +
                         py::str(src.dtype()).cast<std::string>() + " values");
  try {
    np.attr("copyto")(dst, src, py::arg("casting") = "same_kind");
  } catch (const py::error_already_set&) {
    std::vector<std::int64_t> got;
    for (py::ssize_t i = 0; i < src.ndim(); ++i) got.push_back(src.shape(i));
    throw py::value_error("'" + v.name + "' has shape " + shape_str(v.shape) + "; cannot assign values of shape " +
                          shape_str(got));
  }
  if (v.device == ss::Device::kCuda) v.copy_from(host_twin(v, staged));
}

using Getter = ss::ArrayView (ss::Batch::*)() const;

// a read-write property for an input field
template <class Cls>
void input(Cls& cls, const char* name, Getter get, const char* doc) {
  cls.def_property(
      name, [get](py::object self) { return as_python(self, (self.cast<const ss::Batch&>().*get)()); },
      [get](py::object self, py::object values) { assign(self, (self.cast<const ss::Batch&>().*get)(), values); },
      doc);
}

// a read-only property for an output field
template <class Cls>
void output(Cls& cls, const char* name, Getter get, const char* doc) {
  cls.def_property_readonly(
      name, [get](py::object self) { return as_python(self, (self.cast<const ss::Batch&>().*get)()); }, doc);
}

// the contacts of a batch: padded arrays, and world by world the first ncon of them
struct Contacts {
  py::object batch;
  const ss::Batch& b() const { return batch.cast<const ss::Batch&>(); }

  py::object world(int w) const {
    const int n = b().nworld();
    if (w < -n || w >= n)
      throw py::index_error("world " + std::to_string(w) + " out of range for " + std::to_string(n) + " worlds");
    ss::WorldContacts c = b().contact(w < 0 ? w + n : w);
    py::object ns = py::module_::import("types").attr("SimpleNamespace")(
        py::arg("ncon") = c.ncon, py::arg("pos") = as_python(batch, c.pos), py::arg("frame") = as_python(batch, c.frame),
        py::arg("dist") = as_python(batch, c.dist), py::arg("geom") = as_python(batch, c.geom),
        py::arg("force") = as_python(batch, c.force));
    return ns;
  }
};

// the batch's warning counters as a structured (nworld,) view: fields warning_names()
py::object warnings_view(const py::object& self) {
  ss::ArrayView v = self.cast<const ss::Batch&>().warnings();
  py::list fields;
  for (const auto& n : ss::warning_names()) fields.append(py::make_tuple(n, "<i4"));
  py::dtype dt = py::module_::import("numpy").attr("dtype")(fields);
  py::array a(dt, std::vector<py::ssize_t>{static_cast<py::ssize_t>(v.shape[0])},
              std::vector<py::ssize_t>{static_cast<py::ssize_t>(3 * sizeof(int))}, v.data, self);
  a.attr("setflags")(py::arg("write") = false);
  return std::move(a);
}

// values for set_model_field as a host float view: one row (any shape of `size` elements) or
// nworld rows (leading dimension nworld)
void set_model_field(ss::Batch& sim, const std::string& name, const py::object& values) {
  const py::module_ np = py::module_::import("numpy");
  py::array src = np.attr("asarray")(values);
  const char kind = src.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u')
    throw py::type_error("set_model_field('" + name + "'): expected real numbers, got dtype " +
                         py::str(src.dtype()).cast<std::string>());
  py::array_t<double, py::array::c_style | py::array::forcecast> rows(src);
  std::vector<double> current = sim.model_field(name);  // unknown field: ValueError here
  const std::size_t size = current.size() / std::size_t(sim.nworld());
  const std::size_t n = static_cast<std::size_t>(rows.size());
  const bool one_row = n == size;
  const bool per_world = rows.ndim() >= 1 && rows.shape(0) == sim.nworld() && n == size * sim.nworld();
  if (!one_row && !per_world) {
    std::vector<std::int64_t> got;
    for (py::ssize_t i = 0; i < rows.ndim(); ++i) got.push_back(rows.shape(i));
    throw py::value_error("set_model_field('" + name + "'): expected " + std::to_string(size) +
                          " values for every world, or shape (" + std::to_string(sim.nworld()) + ", " +
                          std::to_string(size) + "), got shape " + shape_str(got));
  }
  ss::ArrayView v;
  v.data = const_cast<double*>(rows.data());
  v.dtype = ss::DType::kFloat64;
  v.shape = {static_cast<std::int64_t>(n)};
  v.name = name;
  sim.set_model_field(name, v);
}

}  // namespace

void bind_sim(py::module_& m) {
  py::module_ s = m.def_submodule("sim", R"doc(The batched simulator as a library, with MuJoCo's field names.

    m = stampede.sim.load("robot.xml")
    sim = stampede.sim.Batch(m, nworld=1024, backend="cpu", dtype="float32")
    sim.qpos[:] = ...          # writable (nworld, nq) view, no copy
    sim.step(nstep=10)
    sim.xpos, sim.qacc, sim.contact[0].pos, sim.warnings["nan_reset"]
)doc");

  py::class_<ss::CompiledModel>(s, "Model", "An MJCF model compiled by MuJoCo and accepted by the stampede kernels.")
      .def_property_readonly("nq", &ss::CompiledModel::nq)
      .def_property_readonly("nv", &ss::CompiledModel::nv)
      .def_property_readonly("nu", &ss::CompiledModel::nu)
      .def_property_readonly("na", &ss::CompiledModel::na)
      .def_property_readonly("nbody", &ss::CompiledModel::nbody)
      .def_property_readonly("njnt", &ss::CompiledModel::njnt)
      .def_property_readonly("ngeom", &ss::CompiledModel::ngeom)
      .def_property_readonly("timestep", &ss::CompiledModel::timestep)
      .def_property_readonly("path", &ss::CompiledModel::path)
      .def("__repr__", [](const ss::CompiledModel& mm) {
        return "<stampede.sim.Model '" + mm.path() + "' nq=" + std::to_string(mm.nq()) +
               " nv=" + std::to_string(mm.nv()) + " nu=" + std::to_string(mm.nu()) +
               " nbody=" + std::to_string(mm.nbody()) + ">";
      });

  s.def("load", &ss::load, py::arg("path"),
        "Compile an MJCF file with MuJoCo. Raises ValueError for a missing or malformed file, or naming "
        "every feature the stampede kernels do not simulate.");
  s.def(
      "unsupported_features",
      [](const std::string& path) {
        mjModel* mm = nullptr;
        try {
          mm = ss::load_mjcf(path);
        } catch (const std::runtime_error& e) {
          throw py::value_error(e.what());
        }
        std::vector<std::string> out = ss::unsupported_features(mm);
        mj_deleteModel(mm);
        return out;
      },
      py::arg("path"), "The features of an MJCF model the stampede kernels do not simulate (empty: none).");
  s.def("warning_names", &ss::warning_names);

  py::class_<CudaArray>(s, "CudaArray",
                        "An array in GPU memory (__cuda_array_interface__ v3, DLPack); numpy() copies it to the host.")
      .def_property_readonly("__cuda_array_interface__", &CudaArray::interface)
      .def_property_readonly("shape", [](const CudaArray& a) { return a.view.shape; })
      .def_property_readonly("dtype", [](const CudaArray& a) { return numpy_dtype(a.view.dtype); })
      .def("__dlpack__", [](const CudaArray& a, const py::object& stream,
                            const py::kwargs&) { return a.dlpack(stream); },  // max_version etc.: a legacy capsule
           py::arg("stream") = py::none())
      .def("__dlpack_device__", [](const CudaArray& a) { return py::make_tuple(kDLCUDA, a.device_id()); })
      .def("__len__", [](const CudaArray& a) { return a.view.shape.at(0); })
      .def("__array__", [](const CudaArray& a, const py::object& dtype, const py::kwargs&) {
             py::array h = a.numpy();
             return dtype.is_none() ? h : py::array(h.attr("astype")(dtype));
           }, py::arg("dtype") = py::none(), "A host copy (np.asarray).")
      .def("__setitem__", &CudaArray::setitem, py::arg("key"), py::arg("values"),
           "sim.qpos[...] = values: numpy indexing and broadcasting on a host copy, then one copy up.")
      .def("__repr__", [](const CudaArray& a) {
             return "CudaArray('" + a.view.name + "', shape=" + shape_str(a.view.shape) + ", dtype=" +
                    ss::dtype_name(a.view.dtype) + ")";
           })
      .def("numpy", &CudaArray::numpy, "A host copy.");

  py::class_<Contacts>(s, "Contacts", "The contacts of a batch: contact[w] holds world w's first ncon contacts.")
      .def("__len__", [](const Contacts& c) { return c.b().nworld(); })
      .def("__getitem__", &Contacts::world, py::arg("world"))
      .def_property_readonly("ncon", [](const Contacts& c) { return as_python(c.batch, c.b().ncon()); })
      .def_property_readonly("pos", [](const Contacts& c) { return as_python(c.batch, c.b().contact_pos()); })
      .def_property_readonly("frame", [](const Contacts& c) { return as_python(c.batch, c.b().contact_frame()); })
      .def_property_readonly("dist", [](const Contacts& c) { return as_python(c.batch, c.b().contact_dist()); })
      .def_property_readonly("geom", [](const Contacts& c) { return as_python(c.batch, c.b().contact_geom()); })
      .def_property_readonly("force", [](const Contacts& c) { return as_python(c.batch, c.b().contact_force()); });

  py::class_<ss::Batch> batch(s, "Batch", "nworld copies of a model stepped together by one backend.");
  batch.def(py::init([](const ss::CompiledModel& model, int nworld, const std::string& backend,
                        const std::string& dtype, int nthread) {
              py::gil_scoped_release release;
              return std::make_unique<ss::Batch>(model, nworld, backend, dtype, nthread);
            }),
            py::arg("model"), py::arg("nworld") = 1, py::arg("backend") = "cpu", py::arg("dtype") = "float32",
            py::arg("nthread") = 0,
            "backend: cpu | cuda | mujoco; dtype: float32 | float64 (mujoco: float64 only); nthread 0: every "
            "hardware thread.")
      .def_property_readonly("model", &ss::Batch::model)
      .def_property_readonly("nworld", &ss::Batch::nworld)
      .def_property_readonly("backend", &ss::Batch::backend)
      .def_property_readonly("dtype", [](const ss::Batch& b) { return numpy_dtype(b.dtype()); })
      .def_property_readonly("contact_capacity", &ss::Batch::contact_capacity);

  input(batch, "qpos", &ss::Batch::qpos, "(nworld, nq) generalized positions, writable view");
  input(batch, "qvel", &ss::Batch::qvel, "(nworld, nv) generalized velocities, writable view");
  input(batch, "ctrl", &ss::Batch::ctrl, "(nworld, nu) actuator controls, writable view");
  input(batch, "act", &ss::Batch::act, "(nworld, na) actuator activations, writable view (na == 0: empty)");
  input(batch, "qfrc_applied", &ss::Batch::qfrc_applied, "(nworld, nv) applied generalized force, writable view");
  input(batch, "xfrc_applied", &ss::Batch::xfrc_applied,
        "(nworld, nbody, 6) applied force and torque at each body's centre of mass (world frame), writable view");
  output(batch, "time", &ss::Batch::time, "(nworld,) simulation time (s)");
  output(batch, "qacc", &ss::Batch::qacc, "(nworld, nv) acceleration");
  output(batch, "xpos", &ss::Batch::xpos, "(nworld, nbody, 3) body frame positions");
  output(batch, "xquat", &ss::Batch::xquat, "(nworld, nbody, 4) body frame orientations (w, x, y, z)");
  output(batch, "subtree_com", &ss::Batch::subtree_com, "(nworld, nbody, 3) subtree centres of mass");
  output(batch, "ncon", &ss::Batch::ncon, "(nworld,) contacts found (int32)");

  batch
      .def_property_readonly("contact", [](py::object self) { return Contacts{self}; },
                             "contact[w]: pos (ncon, 3), frame (ncon, 3, 3), dist (ncon,), geom (ncon, 2), force "
                             "(ncon, 3) of world w; contact.pos etc.: all worlds padded to contact_capacity")
      .def_property_readonly("warnings", &warnings_view,
                             "(nworld,) counters since construction: contact_overflow, constraint_overflow, nan_reset")
      .def("forward", &ss::Batch::forward, py::call_guard<py::gil_scoped_release>(), "mj_forward on every world")
      .def("step", &ss::Batch::step, py::arg("nstep") = 1, py::call_guard<py::gil_scoped_release>(),
           "nstep mj_step on every world")
      .def(
          "reset",
          [](ss::Batch& b, std::optional<std::vector<int>> worlds) {
            py::gil_scoped_release release;
            if (worlds) b.reset(*worlds);
            else b.reset();
          },
          py::arg("worlds") = py::none(), "Reset the listed worlds (None: all) to qpos0, zero velocity, time 0.")
      .def("set_model_field", &set_model_field, py::arg("name"), py::arg("values"),
           "Set a per-world model field (MuJoCo's name, e.g. geom_friction, body_mass, dof_damping, opt_gravity): "
           "one row for every world, or (nworld, size).")
      .def(
          "get_model_field",
          [](ss::Batch& b, const std::string& name) {
            int size = 0;
            std::vector<double> v = b.model_field(name, &size);
            py::array_t<double> out({static_cast<py::ssize_t>(b.nworld()), static_cast<py::ssize_t>(size)});
            std::copy(v.begin(), v.end(), out.mutable_data());
            return out;
          },
          py::arg("name"), "A copy of a per-world model field, shape (nworld, size).");
}
