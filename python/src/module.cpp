// python/src/module.cpp — stampede._core: the batched locomotion env for Python.
//
// Thin by design (DESIGN.md): argument checks and array plumbing only; every computation is the
// C++ env's. Arrays handed to Python are fresh buffers written by the env in place and owned by
// a capsule (no copy); the GIL is released while the env resets or steps.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "python/cuda_array.h"
#include "sim/tasks/make_env.h"
#include "sim/tasks/task_config.h"
#include "stampede/sim.h"

namespace py = pybind11;
using stampede::sim::tasks::LocomotionVecEnv;
using stampede::sim::tasks::TaskConfig;

namespace {

// a new C-contiguous array of `shape` whose memory a capsule owns; *data points at it
template <class T>
py::array owned_array(const std::vector<py::ssize_t>& shape, T** data, const py::dtype& dtype) {
  size_t n = 1;
  for (py::ssize_t s : shape) n *= static_cast<size_t>(s);
  std::vector<py::ssize_t> strides(shape.size());
  py::ssize_t stride = static_cast<py::ssize_t>(sizeof(T));
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  T* p = new T[n > 0 ? n : 1]();
  py::capsule owner(p, [](void* q) { delete[] static_cast<T*>(q); });
  *data = p;
  return py::array(dtype, shape, strides, p, owner);
}

std::string shape_str(const py::array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s << (i ? ", " : "") << a.shape(i);
  s << (a.ndim() == 1 ? ",)" : ")");
  return s.str();
}

namespace ss = stampede::sim;

// a fresh device array holding a copy of `bytes` of the env's device memory at `src`; a capsule
// owns the copy
py::object device_array_copy(const void* src, ss::DType dtype, std::vector<std::int64_t> shape, const char* name) {
  ss::ArrayView v;
  v.dtype = dtype;
  v.shape = std::move(shape);
  v.device = ss::Device::kCuda;
  v.name = name;
  auto* mem = new std::shared_ptr<void>(ss::device_copy(src, v.bytes()));
  v.data = mem->get();
  py::capsule owner(mem, [](void* p) { delete static_cast<std::shared_ptr<void>*>(p); });
  return make_cuda_array(owner, v);
}

// the device address of a (n, na) float32 C-contiguous array given through
// __cuda_array_interface__; nullptr when `a` has none
const float* cuda_actions(const py::handle& a, int n, int na) {
  if (!py::hasattr(a, "__cuda_array_interface__")) return nullptr;
  const py::dict cai = a.attr("__cuda_array_interface__");
  const std::string want = "(" + std::to_string(n) + ", " + std::to_string(na) + ")";
  const py::tuple shape = cai["shape"];
  if (shape.size() != 2 || shape[0].cast<long>() != n || shape[1].cast<long>() != na)
    throw py::value_error("step(actions): expected shape " + want + ", got " + py::repr(shape).cast<std::string>());
  const std::string typestr = cai["typestr"].cast<std::string>();
  if (typestr != "<f4")
    throw py::type_error("step(actions): expected float32 ('<f4'), got '" + typestr + "' (use .float())");
  if (cai.contains("strides") && !cai["strides"].is_none()) {
    const py::tuple st = cai["strides"];
    if (st[0].cast<long>() != 4L * na || st[1].cast<long>() != 4)
      throw py::value_error("step(actions): the array must be C-contiguous (use .contiguous())");
  }
  const py::tuple data = cai["data"];
  return reinterpret_cast<const float*>(data[0].cast<std::uintptr_t>());
}

class PyVecEnv {
 public:
  PyVecEnv(std::unique_ptr<LocomotionVecEnv> env, std::string task)
      : env_(std::move(env)), task_(std::move(task)) {}

  LocomotionVecEnv& env() const {
    if (!env_) throw std::runtime_error("this env was closed");
    return *env_;
  }
  const std::string& task() const { return task_; }

  // -> (obs, info)
  py::tuple reset(std::optional<uint64_t> seed, const py::object& options) {
    if (!options.is_none() && !py::isinstance<py::dict>(options))
      throw py::type_error("reset(options=...) expects a dict or None");
    LocomotionVecEnv& e = env();
    if (e.device_resident()) {
      {
        py::gil_scoped_release release;
        std::lock_guard<std::mutex> lock(mu_);
        if (seed) e.seed(*seed);
        e.reset_device();
      }
      return py::make_tuple(device_array_copy(e.device_outputs().obs, ss::DType::kFloat32, {e.num_envs(), e.obs_dim()}, "obs"),
                            py::dict());
    }
    float* obs = nullptr;
    py::array obs_arr = owned_array<float>({e.num_envs(), e.obs_dim()}, &obs, py::dtype::of<float>());
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      if (seed) e.seed(*seed);
      e.reset(obs);
    }
    return py::make_tuple(obs_arr, py::dict());
  }

  // -> (obs, reward, terminated, truncated, info)
  py::tuple step(const py::handle& actions) {
    LocomotionVecEnv& e = env();
    const int n = e.num_envs(), na = e.act_dim(), no = e.obs_dim();
    if (e.device_resident()) return step_device(actions);
    const py::array act = checked_actions(actions, n, na);

    float *obs = nullptr, *reward = nullptr, *final_obs = nullptr, *terms = nullptr;
    unsigned char *terminated = nullptr, *truncated = nullptr;
    const std::vector<std::string> names = e.reward_term_names();
    const py::ssize_t nterm = static_cast<py::ssize_t>(names.size());
    py::array obs_arr = owned_array<float>({n, no}, &obs, py::dtype::of<float>());
    py::array rew_arr = owned_array<float>({n}, &reward, py::dtype::of<float>());
    py::array term_arr = owned_array<unsigned char>({n}, &terminated, py::dtype("bool"));
    py::array trunc_arr = owned_array<unsigned char>({n}, &truncated, py::dtype("bool"));
    py::array final_arr = owned_array<float>({n, no}, &final_obs, py::dtype::of<float>());
    py::array terms_arr = owned_array<float>({nterm, n}, &terms, py::dtype::of<float>());
    py::array done_arr;
    std::map<std::string, double> stats;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      e.step(static_cast<const float*>(act.data()), obs, reward, terminated, truncated, final_obs);
      term_rows(e, nterm, terms);
      stats = e.step_stats();
    }
    unsigned char* done = nullptr;
    done_arr = owned_array<unsigned char>({n}, &done, py::dtype("bool"));
    for (int w = 0; w < n; ++w) done[w] = (terminated[w] || truncated[w]) ? 1 : 0;

    return py::make_tuple(obs_arr, rew_arr, term_arr, trunc_arr, step_info(final_arr, done_arr, names, terms_arr, stats));
  }

  // the env lives on the GPU: actions from device memory (__cuda_array_interface__: torch,
  // CuPy, ...) or host memory (numpy, copied up); outputs are fresh device arrays
  py::tuple step_device(const py::handle& actions) {
    LocomotionVecEnv& e = env();
    const int n = e.num_envs(), na = e.act_dim(), no = e.obs_dim();
    const float* dev_actions = cuda_actions(actions, n, na);
    std::shared_ptr<void> uploaded;
    if (!dev_actions) {
      const py::array act = checked_actions(actions, n, na);
      uploaded = ss::device_copy_from_host(act.data(), sizeof(float) * static_cast<std::size_t>(n) * na);
      dev_actions = static_cast<const float*>(uploaded.get());
    }
    const std::vector<std::string> names = e.reward_term_names();
    const py::ssize_t nterm = static_cast<py::ssize_t>(names.size());
    float* terms = nullptr;
    py::array terms_arr = owned_array<float>({nterm, n}, &terms, py::dtype::of<float>());
    std::map<std::string, double> stats;
    LocomotionVecEnv::DeviceOutputs out;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      e.step_device(dev_actions);
      term_rows(e, nterm, terms);
      stats = e.step_stats();
      out = e.device_outputs();
    }
    py::object obs = device_array_copy(out.obs, ss::DType::kFloat32, {n, no}, "obs");
    py::object reward = device_array_copy(out.reward, ss::DType::kFloat32, {n}, "reward");
    py::object terminated = device_array_copy(out.terminated, ss::DType::kBool, {n}, "terminated");
    py::object truncated = device_array_copy(out.truncated, ss::DType::kBool, {n}, "truncated");
    py::object final_obs = device_array_copy(out.final_obs, ss::DType::kFloat32, {n, no}, "final_obs");
    // the done mask on the host, as gymnasium's info["_final_observation"]
    unsigned char* done = nullptr;
    py::array done_arr = owned_array<unsigned char>({n}, &done, py::dtype("bool"));
    std::vector<unsigned char> t(n), u(n);
    ss::ArrayView tv;
    tv.dtype = ss::DType::kBool;
    tv.shape = {n};
    tv.device = ss::Device::kCuda;
    tv.data = const_cast<unsigned char*>(out.terminated);
    ss::copy_to_host(tv, t.data());
    tv.data = const_cast<unsigned char*>(out.truncated);
    ss::copy_to_host(tv, u.data());
    for (int w = 0; w < n; ++w) done[w] = (t[w] || u[w]) ? 1 : 0;

    return py::make_tuple(obs, reward, terminated, truncated, step_info(final_obs, done_arr, names, terms_arr, stats));
  }

  void close() {
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mu_);
    env_.reset();
  }

 private:
  // the last step's per-term rewards as one contiguous row per term: terms (nterm, num_envs)
  void term_rows(LocomotionVecEnv& e, py::ssize_t nterm, float* terms) {
    const int n = e.num_envs();
    scratch_.resize(static_cast<size_t>(n) * nterm);
    e.reward_terms_out(scratch_.data());
    for (int w = 0; w < n; ++w)
      for (py::ssize_t k = 0; k < nterm; ++k) terms[k * n + w] = scratch_[w * nterm + k];
  }

  // step's info dict (gymnasium's final-observation keys, the reward terms, the statistics);
  // final_obs rows are valid where done
  static py::dict step_info(const py::object& final_obs, const py::array& done, const std::vector<std::string>& names,
                            const py::array& terms, const std::map<std::string, double>& stats) {
    py::dict info;
    info["final_obs"] = final_obs;
    info["final_observation"] = final_obs;
    info["_final_observation"] = done;
    py::dict reward_terms;
    for (std::size_t k = 0; k < names.size(); ++k) reward_terms[py::str(names[k])] = terms[py::int_(k)];
    info["reward_terms"] = reward_terms;
    info["stats"] = stats;
    return info;
  }

  // a (num_envs, act_dim) float32 ndarray, made C-contiguous when it is not
  static py::array checked_actions(const py::handle& actions, int n, int na) {
    const std::string want = "a numpy.ndarray of float32 with shape (" + std::to_string(n) + ", " +
                             std::to_string(na) + ")";
    if (!py::isinstance<py::array>(actions))
      throw py::type_error("step(actions): expected " + want + ", got " +
                           std::string(py::str(py::type::of(actions).attr("__name__"))));
    py::array a = py::reinterpret_borrow<py::array>(actions);
    if (!a.dtype().is(py::dtype::of<float>()))
      throw py::type_error("step(actions): expected dtype float32, got " +
                           std::string(py::str(a.dtype())) + " (use actions.astype(numpy.float32))");
    if (a.ndim() != 2 || a.shape(0) != n || a.shape(1) != na)
      throw py::value_error("step(actions): expected shape (" + std::to_string(n) + ", " +
                            std::to_string(na) + "), got " + shape_str(a));
    return py::array_t<float, py::array::c_style>::ensure(a);
  }

  std::unique_ptr<LocomotionVecEnv> env_;
  std::string task_;
  std::mutex mu_;               // one reset/step at a time (the GIL is released inside)
  std::vector<float> scratch_;  // (num_envs, num_terms)
};

std::unique_ptr<PyVecEnv> make_env(const std::string& task, int num_envs, const std::string& device,
                                   uint64_t seed, const std::optional<std::string>& config,
                                   int num_threads) {
  if (num_threads < 0) throw py::value_error("num_threads must be >= 0 (0: every CPU)");
  std::unique_ptr<LocomotionVecEnv> env;
  {
    py::gil_scoped_release release;
    if (config) {
      const TaskConfig cfg = stampede::sim::tasks::load_task_config(*config);
      env = stampede::sim::tasks::make_locomotion_vec_env(task, num_envs, device, seed, &cfg, num_threads);
    } else {
      env = stampede::sim::tasks::make_locomotion_vec_env(task, num_envs, device, seed, nullptr, num_threads);
    }
  }
  return std::make_unique<PyVecEnv>(std::move(env), task);
}

}  // namespace

void bind_sim(pybind11::module_& m);  // python/sim_module.cpp: the stampede.sim submodule
void bind_train(pybind11::module_& m);  // python/src/train.cpp: stampede._core._train

PYBIND11_MODULE(_core, m) {
  bind_sim(m);
  bind_train(m);
  m.doc() = "stampede: batched humanoid locomotion environments (C++ core)";

  py::class_<PyVecEnv>(m, "VecEnv",
                       "A batch of num_envs locomotion worlds stepped together (gymnasium's vector "
                       "API: reset() -> (obs, info), step(actions) -> (obs, reward, terminated, "
                       "truncated, info)). Worlds that end reset automatically; info['final_obs'] "
                       "holds their last observation.")
      .def("reset", &PyVecEnv::reset, py::arg("seed") = py::none(), py::arg("options") = py::none(),
           "Reset every world; returns (obs, info). obs: float32 (num_envs, obs_dim).")
      .def("step", &PyVecEnv::step, py::arg("actions"),
           "Apply float32 actions of shape (num_envs, act_dim); returns (obs, reward, terminated, "
           "truncated, info) with float32 obs/reward and bool terminated/truncated. info has "
           "'final_obs', 'reward_terms' (name -> float32 (num_envs,)) and 'stats'. On device "
           "'cuda' the arrays are stampede.sim.CudaArray (__cuda_array_interface__, DLPack; "
           ".numpy() copies to the host) and actions may be a CUDA array (torch, CuPy) or numpy.")
      .def("close", &PyVecEnv::close)
      .def("__enter__", [](PyVecEnv& self) -> PyVecEnv& { return self; }, py::return_value_policy::reference)
      .def("__exit__", [](PyVecEnv& self, py::args) { self.close(); })
      .def_property_readonly("task", &PyVecEnv::task)
      .def_property_readonly("num_envs", [](const PyVecEnv& s) { return s.env().num_envs(); })
      .def_property_readonly("obs_dim", [](const PyVecEnv& s) { return s.env().obs_dim(); })
      .def_property_readonly("act_dim", [](const PyVecEnv& s) { return s.env().act_dim(); })
      .def_property_readonly("max_episode_steps", [](const PyVecEnv& s) { return s.env().max_episode_steps(); })
      .def_property_readonly("device", [](const PyVecEnv& s) { return s.env().device(); })
      .def_property_readonly("control_dt", [](const PyVecEnv& s) { return s.env().control_dt(); })
      .def_property_readonly("contract_hash", [](const PyVecEnv& s) { return s.env().contract_hash(); })
      .def_property_readonly("reward_term_names", [](const PyVecEnv& s) { return s.env().reward_term_names(); })
      .def_property_readonly("observation_terms", [](const PyVecEnv& s) { return s.env().observation_terms(); },
                             "[(term, size), ...] in observation order (robot.yaml's layout)")
      .def("__repr__", [](const PyVecEnv& s) {
        return "<stampede.VecEnv task='" + s.task() + "' num_envs=" + std::to_string(s.env().num_envs()) +
               " device='" + s.env().device() + "'>";
      });

  m.def("make_env", &make_env, py::arg("task"), py::arg("num_envs") = 4096, py::arg("device") = "mujoco",
        py::arg("seed") = 0, py::arg("config") = py::none(), py::arg("num_threads") = 0,
        "Build a batched env: task is a name under configs/tasks/ (e.g. 'h1-walk') or a YAML path; "
        "device 'mujoco' (MuJoCo's batched CPU engine), 'cpu' or 'cuda' (the kernel backends); "
        "config: a task YAML overriding the task's own; num_threads 0: every CPU.");
  m.def("tasks", &stampede::sim::tasks::locomotion_task_names, "Names of the available tasks.");
  m.def("devices", &stampede::sim::tasks::available_devices, "Devices this build can run.");
  m.def("data_dir", &stampede::sim::tasks::data_dir, "Folder holding assets/ and configs/.");
  m.def("set_data_dir", &stampede::sim::tasks::set_data_dir, py::arg("path"));
}
