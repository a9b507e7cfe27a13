// benchmarks/bench_reference.cpp — the CPU baseline: world-steps/s of MuJoCo's batched engine,
// plain (mjb_step on state rows) and through our reference backend (MujocoBackend::step with
// its contiguous arrays, contact copy and NaN containment), against world and thread count.
//
// Workload: random controls (a fixed table, the same for both runs, so both simulate the same
// trajectories), episodes of `episode` steps staggered across worlds, each world reset to qpos0
// when its episode ends. After a warm-up of one episode (so that every world count measures the
// same mix of falling and lying humanoids), the two alternate in equal chunks of steps until
// each has run for about `seconds`.
//
// usage: bench_reference [--seconds S] [--worlds 1,16,64,256] [--threads 1,2]
//                        [--episode STEPS] [MJCF ...]
// Without MJCF arguments: MuJoCo's sample humanoid.xml and our H1 (assets/h1) when present.
#include <mujoco/mjbatch.h>
#include <mujoco/mujoco.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "sim/mujoco_backend.h"
#include "sim/robot/robot.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  double seconds = 1.0;
  std::vector<int> worlds = {1, 16, 64, 256};
  std::vector<int> threads = {1, 2};
  int episode = 200;
  std::vector<std::string> models;
};

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> v;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    v.push_back(std::stoi(s.substr(start, end - start)));
    start = end + 1;
  }
  return v;
}

// random controls inside each actuator's ctrlrange (or [-1, 1]), a table reused cyclically
struct ControlTable {
  int nu = 0, rows = 0;
  std::vector<double> ctrl;  // (rows, nu)
  ControlTable(const mjModel* m, int nrow) : nu(m->nu), rows(nrow), ctrl(size_t(nrow) * m->nu) {
    std::mt19937_64 rng(2024);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (int r = 0; r < rows; ++r) {
      for (int i = 0; i < nu; ++i) {
        double lo = -1, hi = 1;
        if (m->actuator_ctrllimited[i]) {
          lo = m->actuator_ctrlrange[2 * i];
          hi = m->actuator_ctrlrange[2 * i + 1];
        }
        ctrl[size_t(r) * nu + i] = lo + (hi - lo) * u(rng);
      }
    }
  }
  const double* row(long step, int world) const {
    return ctrl.data() + size_t((step * 7919 + world * 104729) % rows) * nu;
  }
};

// the worlds whose episode ends at `step` (staggered so resets spread evenly)
void episode_ends(long step, int nworld, int episode, std::vector<int>& ids) {
  ids.clear();
  for (int w = 0; w < nworld; ++w) {
    if ((step + long(w) * episode / nworld) % episode == episode - 1) ids.push_back(w);
  }
}

// one way of stepping the batch: `one(step)` runs policy step `step` on every world
struct Runner {
  virtual ~Runner() = default;
  virtual void one(long step) = 0;
  long step = 0;            // next step to run
  double ncon_sum = 0;      // contacts summed over timed world-steps
  long timed_steps = 0;     // timed steps
  double seconds = 0;       // wall time spent in timed steps
  double cpu_seconds = 0;   // process CPU time spent in timed steps (all threads)
};

// plain MuJoCo: persistent batch, controls written straight into the state rows
struct MjbRunner : Runner {
  const mjModel* m;
  const ControlTable& table;
  const Options& opt;
  mjBatch* b = nullptr;
  int nworld, nstate;
  mjtNum* ctrl;
  const int* ncon;
  std::vector<int> ids;

  MjbRunner(const mjModel* m_, const ControlTable& t, int nworld_, int nthread, const Options& o)
      : m(m_), table(t), opt(o), nworld(nworld_) {
    mjBatchConfig config;
    mjb_defaultConfig(&config);
    config.nthread = nthread;
    config.persistent = 1;
    char error[1000] = "";
    b = mjb_makeBatch(m, nworld, &config, error, sizeof(error));
    if (!b) {
      std::fprintf(stderr, "mjb_makeBatch: %s\n", error);
      std::exit(1);
    }
    nstate = mjb_nstate(b);
    ctrl = mjb_stateComponent(b, mjSTATE_CTRL, nullptr);
    ncon = static_cast<const int*>(mjb_output(b, "ncon", nullptr, nullptr));
    mjb_reset(b, nullptr, 0, nullptr, mjSTAGE_VEL);
  }
  ~MjbRunner() override { mjb_deleteBatch(b); }
  void one(long s) override {
    for (int w = 0; w < nworld; ++w) {
      std::memcpy(ctrl + size_t(w) * nstate, table.row(s, w), sizeof(double) * m->nu);
    }
    mjb_step(b, nullptr, 0, 1, mjSTAGE_VEL);
    for (int w = 0; w < nworld; ++w) ncon_sum += ncon[w];
    episode_ends(s, nworld, opt.episode, ids);
    if (!ids.empty()) mjb_reset(b, ids.data(), int(ids.size()), nullptr, mjSTAGE_VEL);
  }
};

// our reference backend: the same workload through the Backend interface
struct BackendRunner : Runner {
  const mjModel* m;
  const ControlTable& table;
  const Options& opt;
  stampede::sim::MujocoBackend b;
  int nworld;
  std::vector<int> ids;

  BackendRunner(const mjModel* m_, const ControlTable& t, int nworld_, int nthread,
                const Options& o)
      : m(m_), table(t), opt(o), b(m_, nworld_, nthread, 64), nworld(nworld_) {}
  void one(long s) override {
    for (int w = 0; w < nworld; ++w) {
      std::memcpy(b.ctrl() + size_t(w) * m->nu, table.row(s, w), sizeof(double) * m->nu);
    }
    b.step(1);
    for (int w = 0; w < nworld; ++w) ncon_sum += b.ncon()[w];
    episode_ends(s, nworld, opt.episode, ids);
    if (!ids.empty()) b.reset(ids.data(), int(ids.size()));
  }
};

// CPU time of this process, all threads (s)
double cpu_time() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// warm both up for one episode, then alternate equal chunks of steps between them until each
// has run for `seconds`: both simulate the same trajectory segments, and load from other
// processes hits both alike
void time_interleaved(Runner& a, Runner& b, double seconds, int episode) {
  for (Runner* r : {&a, &b}) {
    while (r->step < episode) r->one(r->step++);
  }
  const auto t0 = Clock::now();
  a.one(a.step++);
  b.one(b.step++);
  const double per_step = std::chrono::duration<double>(Clock::now() - t0).count() / 2;
  a.ncon_sum = b.ncon_sum = 0;
  const long chunk = std::max(1L, long(std::min(0.05, seconds / 8) / per_step));
  while (a.seconds < seconds || b.seconds < seconds) {
    for (Runner* r : {&a, &b}) {
      const auto c0 = Clock::now();
      const double cpu0 = cpu_time();
      for (long k = 0; k < chunk; ++k, ++r->timed_steps) r->one(r->step++);
      r->cpu_seconds += cpu_time() - cpu0;
      r->seconds += std::chrono::duration<double>(Clock::now() - c0).count();
    }
  }
}

// default models: MuJoCo's sample humanoid, and our H1 when its robot.yaml is there
std::vector<std::string> default_models() {
  std::vector<std::string> models = {std::string(MUJOCO_SAMPLES_DIR) + "/humanoid/humanoid.xml"};
  const std::string h1 = std::string(STAMPEDE_ASSETS_DIR) + "/h1/robot.yaml";
  if (std::filesystem::exists(h1)) {
    try {
      models.push_back(stampede::robot::load_robot(h1).mjcf);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "skipping H1: %s\n", e.what());
    }
  } else {
    std::fprintf(stderr, "skipping H1: %s not found\n", h1.c_str());
  }
  return models;
}

Options parse_args(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seconds") {
      opt.seconds = std::stod(value());
    } else if (a == "--worlds") {
      opt.worlds = parse_list(value());
    } else if (a == "--threads") {
      opt.threads = parse_list(value());
    } else if (a == "--episode") {
      opt.episode = std::stoi(value());
    } else if (a == "--help" || a == "-h") {
      std::printf("usage: bench_reference [--seconds S] [--worlds 1,16,64,256] [--threads 1,2] "
                  "[--episode STEPS] [MJCF ...]\n");
      std::exit(0);
    } else {
      opt.models.push_back(a);
    }
  }
  if (opt.episode < 1 || opt.seconds <= 0) {
    std::fprintf(stderr, "--episode must be >= 1 and --seconds > 0\n");
    std::exit(2);
  }
  if (opt.models.empty()) opt.models = default_models();
  return opt;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_args(argc, argv);
  std::printf("MuJoCo %s; %.1f s per measurement; random controls, %d-step episodes.\n"
              "mjb_step, MujocoBackend: world-steps/s, wall clock (higher is better); overhead: "
              "the backend's extra time per step over plain mjb_step (wall clock, and process CPU "
              "time, which other load on the machine disturbs less)\n\n",
              mj_versionString(), opt.seconds, opt.episode);
  std::printf("| model | worlds | threads | mjb_step | MujocoBackend | overhead (wall) | "
              "overhead (CPU time) | mean ncon |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const std::string& path : opt.models) {
    char error[1000] = "";
    mjModel* m = mj_loadXML(path.c_str(), nullptr, error, sizeof(error));
    if (!m) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(), error);
      return 1;
    }
    const ControlTable table(m, 4096);
    const std::string name = std::filesystem::path(path).filename().string();
    for (int nworld : opt.worlds) {
      for (int nthread : opt.threads) {
        MjbRunner raw(m, table, nworld, nthread, opt);
        BackendRunner ours(m, table, nworld, nthread, opt);
        time_interleaved(raw, ours, opt.seconds, opt.episode);
        const double raw_rate = raw.timed_steps * double(nworld) / raw.seconds;
        const double our_rate = ours.timed_steps * double(nworld) / ours.seconds;
        const double cpu_overhead = (ours.cpu_seconds / double(ours.timed_steps)) /
                                    (raw.cpu_seconds / double(raw.timed_steps));
        std::printf("| %s | %d | %d | %.0f | %.0f | %+.1f%% | %+.1f%% | %.2f |\n", name.c_str(),
                    nworld, nthread, raw_rate, our_rate, 100.0 * (raw_rate / our_rate - 1.0),
                    100.0 * (cpu_overhead - 1.0),
                    ours.ncon_sum / (double(ours.timed_steps) * nworld));
        std::fflush(stdout);
      }
    }
    mj_deleteModel(m);
  }
  return 0;
}
