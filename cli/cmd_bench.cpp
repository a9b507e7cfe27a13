// cli/cmd_bench.cpp — `stampede bench <what> ...`: benchmarks. Each <what> is one entry of
// kBenches with its own options and --help: physics (here), walk (cli/cmd_bench_walk.cpp).
//
// bench physics: world-steps/s of one backend (stampede/sim.h) on a model with random controls,
// and in the same run, on the same cores, MuJoCo's own batched engine (plain mjbatch: a
// persistent mjBatch, controls written into its state rows, mjb_step) on the same model, worlds
// and threads; prints the ratio. Workload (as benchmarks/bench_reference.cpp): controls drawn
// uniformly inside each actuator's ctrlrange from a fixed table, the same for both engines;
// episodes of --episode steps staggered across worlds (each world reset to qpos0 when its
// episode ends), so both simulate the same mix of falling and lying robots. After a warm-up of
// one tenth of the steps, the two engines alternate in chunks of a tenth of the steps each.
#include <mujoco/mjbatch.h>
#include <mujoco/mujoco.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifdef STAMPEDE_WITH_CUDA
#include <cuda_runtime.h>
#endif

#include "bench_walk.h"
#include "command.h"
#include "stampede/sim.h"

namespace stampede::cli {
namespace {

namespace ss = stampede::sim;
using Clock = std::chrono::steady_clock;

struct PhysicsOptions {
  std::string model;
  int worlds = 256;
  int threads = 0;  // 0: every hardware thread
  std::string backend = "cpu";
  std::string dtype = "float32";
  long steps = 1000;
  int episode = 200;
  bool json = false;
};

void physics_help() {
  std::printf(
      "usage: stampede bench physics MODEL.xml [--worlds N] [--threads T] [--backend cpu|cuda|mujoco]\n"
      "                              [--dtype float32|float64] [--steps S] [--episode E] [--json]\n\n"
      "World-steps per second of a stampede backend on MODEL.xml with random controls, and of\n"
      "MuJoCo's batched engine (mjb_step) on the same model, worlds and threads in the same run.\n\n"
      "  --worlds N     worlds stepped together (default 256)\n"
      "  --threads T    CPU threads for both engines, the caller's included (default: all)\n"
      "  --backend B    cpu (default), cuda or mujoco (our reference backend over mjbatch)\n"
      "  --dtype D      float32 (default) or float64 (mujoco: float64 only)\n"
      "  --steps S      timed steps per engine (default 1000)\n"
      "  --episode E    steps before a world is reset, staggered across worlds (default 200)\n"
      "  --json         print one JSON object: steps_per_s, mujoco_steps_per_s, ratio, worlds,\n"
      "                 threads, backend, dtype, mean_ncon, mujoco_mean_ncon, steps, model,\n"
      "                 nan_resets, device_bytes_per_world (cuda: the backend's GPU memory; else 0)\n");
}

int parse_int(const std::string& flag, const std::string& v, long lo) {
  std::size_t used = 0;
  long x = 0;
  try {
    x = std::stol(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || x < lo)
    throw std::invalid_argument(flag + " expects an integer >= " + std::to_string(lo) + ", got '" + v + "'");
  return static_cast<int>(x);
}

PhysicsOptions parse_physics(const std::vector<std::string>& args) {
  PhysicsOptions o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
      return args[++i];
    };
    if (a == "--worlds") o.worlds = parse_int(a, value(), 1);
    else if (a == "--threads") o.threads = parse_int(a, value(), 0);
    else if (a == "--backend") o.backend = value();
    else if (a == "--dtype") o.dtype = value();
    else if (a == "--steps") o.steps = parse_int(a, value(), 1);
    else if (a == "--episode") o.episode = parse_int(a, value(), 1);
    else if (a == "--json") o.json = true;
    else if (!a.empty() && a[0] == '-') throw std::invalid_argument("unknown option '" + a + "' (see --help)");
    else if (o.model.empty()) o.model = a;
    else throw std::invalid_argument("one MODEL.xml expected, got '" + o.model + "' and '" + a + "'");
  }
  if (o.model.empty()) throw std::invalid_argument("missing MODEL.xml (see stampede bench physics --help)");
  if (o.threads == 0) o.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return o;
}

// random controls inside each actuator's ctrlrange (or [-1, 1]), a table reused cyclically
struct ControlTable {
  int nu = 0, rows = 0;
  std::vector<double> ctrl;  // (rows, nu)
  ControlTable(const mjModel* m, int nrow) : nu(static_cast<int>(m->nu)), rows(nrow), ctrl(std::size_t(nrow) * m->nu) {
    std::mt19937_64 rng(2024);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (int r = 0; r < rows; ++r)
      for (int i = 0; i < nu; ++i) {
        double lo = -1, hi = 1;
        if (m->actuator_ctrllimited[i]) {
          lo = m->actuator_ctrlrange[2 * i];
          hi = m->actuator_ctrlrange[2 * i + 1];
        }
        ctrl[std::size_t(r) * nu + i] = lo + (hi - lo) * u(rng);
      }
  }
  const double* row(long step, int world) const {
    return ctrl.data() + std::size_t((step * 7919 + long(world) * 104729) % rows) * nu;
  }
};

// device memory in use on the current GPU (bytes; 0 without CUDA or a device). The CUDA backend
// allocates everything at construction, so the growth across a run is its peak
std::size_t device_bytes_in_use() {
#ifdef STAMPEDE_WITH_CUDA
  std::size_t free = 0, total = 0;
  if (cudaFree(nullptr) != cudaSuccess || cudaMemGetInfo(&free, &total) != cudaSuccess) return 0;
  return total - free;
#else
  return 0;
#endif
}

// the worlds whose episode ends at `step`
void episode_ends(long step, int nworld, int episode, std::vector<int>& ids) {
  ids.clear();
  for (int w = 0; w < nworld; ++w)
    if ((step + long(w) * episode / nworld) % episode == episode - 1) ids.push_back(w);
}

// one engine under the workload; run(n) advances n steps and accumulates time and contacts
struct Engine {
  long step = 0;
  double seconds = 0, ncon_sum = 0;
  long timed = 0;
  // one step of every world; returns the contacts that step used, summed over worlds (both
  // engines count the contacts of the state the step integrated from, so on the same
  // trajectories they count the same contacts)
  std::function<double(long)> one;
  std::function<double()> ncon;    // contacts summed over worlds, as the engine reports them now
  void run(long n, bool time_it) {
    auto t0 = Clock::now();
    double nc = 0;
    for (long k = 0; k < n; ++k) nc += one(step++);
    if (!time_it) return;
    seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    ncon_sum += nc;
    timed += n;
  }
};

int bench_physics(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "-h" || a == "--help") {
      physics_help();
      return 0;
    }
  const PhysicsOptions o = parse_physics(args);
  const ss::CompiledModel model = ss::load(o.model);
  const mjModel* m = model.mj_model();
  const ControlTable table(m, 257);
  const int nu = static_cast<int>(m->nu), nw = o.worlds;

  // ours
  const std::size_t device_base = o.backend == "cuda" ? device_bytes_in_use() : 0;
  ss::Batch sim(model, nw, o.backend, o.dtype, o.threads);
  const ss::ArrayView ctrl = sim.ctrl(), ncon_view = sim.ncon();
  // on the cuda backend the arrays are device memory: controls are written on the host and go
  // up in one copy per step, the contact counts come down in one
  const bool device = ctrl.device == ss::Device::kCuda;
  std::vector<unsigned char> ctrl_stage(device ? ctrl.bytes() : 0);
  void* ctrl_host = device ? static_cast<void*>(ctrl_stage.data()) : ctrl.data;
  std::vector<int> ncon_stage(device ? nw : 0);
  std::vector<int> ids;
  Engine ours;
  ours.one = [&](long s) {
    for (int w = 0; w < nw; ++w) {
      const double* r = table.row(s, w);
      if (ctrl.dtype == ss::DType::kFloat32)
        for (int i = 0; i < nu; ++i) static_cast<float*>(ctrl_host)[std::size_t(w) * nu + i] = float(r[i]);
      else
        std::memcpy(static_cast<double*>(ctrl_host) + std::size_t(w) * nu, r, sizeof(double) * nu);
    }
    if (device) {
      ss::ArrayView staged = ctrl;
      staged.device = ss::Device::kCpu;
      staged.data = ctrl_host;
      ctrl.copy_from(staged);
    }
    sim.step(1);
    const double used = ours.ncon();  // after step(): the last substep's contacts
    episode_ends(s, nw, o.episode, ids);
    if (!ids.empty()) sim.reset(ids);
    return used;
  };
  ours.ncon = [&] {
    const int* ncon = static_cast<const int*>(ncon_view.data);
    if (device) {
      ss::copy_to_host(ncon_view, ncon_stage.data());
      ncon = ncon_stage.data();
    }
    double n = 0;
    for (int w = 0; w < nw; ++w) n += ncon[w];
    return n;
  };

  // plain MuJoCo
  mjBatchConfig config;
  mjb_defaultConfig(&config);
  config.nthread = o.threads;
  config.persistent = 1;
  char error[1000] = "";
  mjBatch* b = mjb_makeBatch(m, nw, &config, error, sizeof(error));
  if (!b) throw std::runtime_error(std::string("mjb_makeBatch: ") + error);
  struct BatchDeleter {
    mjBatch* b;
    ~BatchDeleter() { mjb_deleteBatch(b); }
  } b_owner{b};
  const int nstate = mjb_nstate(b);
  mjtNum* mj_ctrl = mjb_stateComponent(b, mjSTATE_CTRL, nullptr);
  const int* mj_ncon = static_cast<const int*>(mjb_output(b, "ncon", nullptr, nullptr));
  mjb_reset(b, nullptr, 0, nullptr, mjSTAGE_VEL);
  std::vector<int> mj_ids;
  Engine mj;
  mj.one = [&](long s) {
    for (int w = 0; w < nw; ++w) std::memcpy(mj_ctrl + std::size_t(w) * nstate, table.row(s, w), sizeof(double) * nu);
    const double used = mj.ncon();  // stage VEL left the current state's contacts: this step's
    mjb_step(b, nullptr, 0, 1, mjSTAGE_VEL);
    episode_ends(s, nw, o.episode, mj_ids);
    if (!mj_ids.empty()) mjb_reset(b, mj_ids.data(), static_cast<int>(mj_ids.size()), nullptr, mjSTAGE_VEL);
    return used;
  };
  mj.ncon = [&] {
    double n = 0;
    for (int w = 0; w < nw; ++w) n += mj_ncon[w];
    return n;
  };

  // warm-up, then alternate chunks
  const long chunk = std::max(1L, o.steps / 10);
  ours.run(chunk, false);
  mj.run(chunk, false);
  for (long done = 0; done < o.steps; done += chunk) {
    const long n = std::min(chunk, o.steps - done);
    ours.run(n, true);
    mj.run(n, true);
  }

  const double sps = double(ours.timed) * nw / ours.seconds;
  const double mj_sps = double(mj.timed) * nw / mj.seconds;
  const double mean_ncon = ours.ncon_sum / (double(ours.timed) * nw);
  const double mj_mean_ncon = mj.ncon_sum / (double(mj.timed) * nw);
  int nan_resets = 0;
  for (int w = 0; w < nw; ++w) nan_resets += static_cast<const int*>(sim.warnings().data)[3 * w + 2];
  const std::size_t device_now = device ? device_bytes_in_use() : 0;
  const double device_per_world = device_now > device_base ? double(device_now - device_base) / nw : 0.0;
  if (o.json) {
    std::printf(
        "{\"model\": \"%s\", \"backend\": \"%s\", \"dtype\": \"%s\", \"worlds\": %d, \"threads\": %d, "
        "\"steps\": %ld, \"steps_per_s\": %.1f, \"mujoco_steps_per_s\": %.1f, \"ratio\": %.4f, "
        "\"mean_ncon\": %.3f, \"mujoco_mean_ncon\": %.3f, \"nan_resets\": %d, \"device_bytes_per_world\": %.0f}\n",
        o.model.c_str(), o.backend.c_str(), o.dtype.c_str(), nw, o.threads, o.steps, sps, mj_sps, sps / mj_sps,
        mean_ncon, mj_mean_ncon, nan_resets, device_per_world);
  } else {
    std::printf("model     %s (nq %d, nv %d, nu %d)\n", o.model.c_str(), int(m->nq), int(m->nv), nu);
    std::printf("workload  %d worlds, %d threads, %ld steps each, episodes of %d steps, random controls\n", nw,
                o.threads, o.steps, o.episode);
    std::printf("stampede  %-6s %-7s %12.0f world-steps/s   mean ncon %.2f   NaN resets %d\n", o.backend.c_str(),
                o.dtype.c_str(), sps, mean_ncon, nan_resets);
    std::printf("MuJoCo    mjb_step float64 %12.0f world-steps/s   mean ncon %.2f\n", mj_sps, mj_mean_ncon);
    std::printf("ratio     %.3f (stampede / MuJoCo)\n", sps / mj_sps);
    if (device) std::printf("device    %.0f bytes of GPU memory per world (all of the backend's, over the run)\n",
                            device_per_world);
  }
  return 0;
}

// the things `stampede bench` measures
struct Bench {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>&);
};
const Bench kBenches[] = {
    {"physics", "world-steps/s of a backend on an MJCF model vs MuJoCo's mjb_step", bench_physics},
    {"walk", "time to train a walking policy (bench walk --help)", run_bench_walk},
};

void bench_help() {
  std::printf("usage: stampede bench <what> [options]   (stampede bench <what> --help)\n\n");
  for (const Bench& b : kBenches) std::printf("  %-10s %s\n", b.name, b.summary);
}

int run_bench(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    bench_help();
    return args.empty() ? 2 : 0;
  }
  for (const Bench& b : kBenches)
    if (args[0] == b.name) return b.run(std::vector<std::string>(args.begin() + 1, args.end()));
  std::fprintf(stderr, "stampede bench: unknown benchmark '%s'\n\n", args[0].c_str());
  bench_help();
  return 2;
}

const Registrar kRegistrar("bench", "benchmarks: bench physics MODEL.xml (ours vs MuJoCo), bench walk", run_bench);

}  // namespace
}  // namespace stampede::cli
