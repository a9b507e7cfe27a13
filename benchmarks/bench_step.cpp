// benchmarks/bench_step.cpp — whole-step throughput (world-steps/s) against world count: our CPU
// kernels (the full pipeline: smooth stages, collision, constraints, Newton; float and double)
// and MuJoCo's batched engine (mjb_step), in the same run, on the same threads, the same
// workload.
//
// Workload: every world starts at qpos0 with its free joints lifted by a random height up to
// 0.3 m, holds a random control inside the control range, and is reset to that start every
// `episode` steps (staggered across worlds), so each measurement mixes falling, landing and
// lying bodies with their contacts. A warm-up of one episode precedes timing; then the engines
// alternate in chunks of steps until each ran about `seconds`.
//
// usage: bench_step [--seconds S] [--worlds 1,16,64,256] [--threads T] [--episode STEPS]
//                   [--precision double,float] [MJCF ...]
// Without MJCF arguments: MuJoCo's sample humanoid.xml and our H1 (assets/h1).
#include <mujoco/mjbatch.h>
#include <mujoco/mujoco.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/launch.h"
#include "kernels/smooth.h"
#include "sim/compile.h"
#include "sim/data.h"
#include "sim/model.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  double seconds = 1.0;
  std::vector<int> worlds = {1, 16, 64, 256};
  int threads = 0;
  int episode = 200;
  std::vector<std::string> precisions = {"double", "float"};
  std::vector<std::string> models;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> v;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    v.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return v;
}

// the start state and control of each world
struct Workload {
  int nworld, nq, nv, nu;
  std::vector<double> qpos, ctrl;  // (nworld, nq), (nworld, nu)
  Workload(const mjModel* m, int n) : nworld(n), nq(m->nq), nv(m->nv), nu(m->nu) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    qpos.resize(size_t(n) * nq);
    ctrl.resize(size_t(n) * nu);
    for (int w = 0; w < n; ++w) {
      double* q = qpos.data() + size_t(w) * nq;
      std::copy(m->qpos0, m->qpos0 + nq, q);
      for (int j = 0; j < m->njnt; ++j) {
        if (m->jnt_type[j] == mjJNT_FREE) q[m->jnt_qposadr[j] + 2] += 0.3 * u(rng);
      }
      for (int i = 0; i < nu; ++i) {
        double lo = -1, hi = 1;
        if (m->actuator_ctrllimited[i]) {
          lo = m->actuator_ctrlrange[2 * i];
          hi = m->actuator_ctrlrange[2 * i + 1];
        }
        ctrl[size_t(w) * nu + i] = lo + (hi - lo) * u(rng);
      }
    }
  }
  // worlds whose episode ends after step s (staggered)
  void ends(long s, int episode, std::vector<int>& ids) const {
    ids.clear();
    for (int w = 0; w < nworld; ++w) {
      if ((s + long(w) * episode / std::max(1, nworld)) % episode == episode - 1) ids.push_back(w);
    }
  }
};

struct Runner {
  virtual ~Runner() = default;
  virtual void one(long s) = 0;  // one step of every world (and the resets due)
  double contacts = 0;           // sum of ncon over worlds and steps
};

// MuJoCo's batched engine
struct MjbRunner : Runner {
  const mjModel* m;
  const Workload& load;
  int episode;
  mjBatch* b = nullptr;
  int nstate = 0;
  mjtNum* qpos;
  mjtNum* qvel;
  mjtNum* ctrl;
  const int* ncon;
  std::vector<int> ids;

  MjbRunner(const mjModel* m_, const Workload& l, int nthread, int ep) : m(m_), load(l), episode(ep) {
    mjBatchConfig config;
    mjb_defaultConfig(&config);
    config.nthread = nthread;
    config.persistent = 1;
    char error[1000] = "";
    b = mjb_makeBatch(m, l.nworld, &config, error, sizeof(error));
    if (!b) {
      std::fprintf(stderr, "mjb_makeBatch: %s\n", error);
      std::exit(1);
    }
    nstate = mjb_nstate(b);
    qpos = mjb_stateComponent(b, mjSTATE_QPOS, nullptr);
    qvel = mjb_stateComponent(b, mjSTATE_QVEL, nullptr);
    ctrl = mjb_stateComponent(b, mjSTATE_CTRL, nullptr);
    ncon = static_cast<const int*>(mjb_output(b, "ncon", nullptr, nullptr));
    for (int w = 0; w < l.nworld; ++w) start(w);
  }
  ~MjbRunner() override { mjb_deleteBatch(b); }
  void start(int w) {
    std::memcpy(qpos + size_t(w) * nstate, load.qpos.data() + size_t(w) * load.nq, sizeof(double) * load.nq);
    std::memset(qvel + size_t(w) * nstate, 0, sizeof(double) * load.nv);
    std::memcpy(ctrl + size_t(w) * nstate, load.ctrl.data() + size_t(w) * load.nu, sizeof(double) * load.nu);
  }
  void one(long s) override {
    mjb_step(b, nullptr, 0, 1, mjSTAGE_VEL);
    for (int w = 0; w < load.nworld; ++w) contacts += ncon[w];
    load.ends(s, episode, ids);
    for (int w : ids) start(w);
  }
};

// our CPU kernels
template <class Real>
struct OursRunner : Runner {
  const Workload& load;
  int episode;
  stampede::sim::Model<Real> model;
  std::unique_ptr<stampede::sim::Data<Real>> data;
  stampede::kern::ThreadPool& pool;
  std::vector<int> ids;

  OursRunner(const mjModel* m, const Workload& l, stampede::kern::ThreadPool& p, int ep)
      : load(l), episode(ep), model(stampede::sim::compile_model<Real>(m)), pool(p) {
    int ccap = std::max(64, 8 * static_cast<int>(m->ngeom));
    int ecap = 4 * ccap + 2 * static_cast<int>(m->njnt) + static_cast<int>(m->nv);
    data = std::make_unique<stampede::sim::Data<Real>>(
        stampede::sim::DataSizes::of(model.view(), l.nworld, ccap, ecap));
    for (int w = 0; w < l.nworld; ++w) start(w);
  }
  void start(int w) {
    const auto& v = data->view();
    for (int i = 0; i < load.nq; ++i) v.qpos.at(w)[i] = Real(load.qpos[size_t(w) * load.nq + i]);
    for (int i = 0; i < load.nv; ++i) v.qvel.at(w)[i] = v.qacc_warmstart.at(w)[i] = 0;
    for (int i = 0; i < load.nu; ++i) v.ctrl.at(w)[i] = Real(load.ctrl[size_t(w) * load.nu + i]);
  }
  void one(long s) override {
    stampede::kern::CpuExec exec;
    exec.pool = &pool;
    stampede::kern::step(model.view(), data->view(), exec, 1);
    const auto& v = data->view();
    for (int w = 0; w < load.nworld; ++w) contacts += v.ncon.at(w)[0];
    load.ends(s, episode, ids);
    for (int w : ids) start(w);
  }
};

// time `runners` alternately in chunks until each ran about `seconds`; world-steps/s each
std::vector<double> measure(std::vector<Runner*>& runners, int nworld, const Options& opt) {
  long step = 0;
  for (long s = 0; s < opt.episode; ++s, ++step) {
    for (Runner* r : runners) r->one(step);
  }
  std::vector<double> elapsed(runners.size(), 0.0);
  std::vector<long> steps(runners.size(), 0);
  for (Runner* r : runners) r->contacts = 0;
  int chunk = std::max(1, 2000 / nworld);
  while (*std::min_element(elapsed.begin(), elapsed.end()) < opt.seconds) {
    for (size_t k = 0; k < runners.size(); ++k) {
      auto t0 = Clock::now();
      for (int c = 0; c < chunk; ++c) runners[k]->one(step + c);
      elapsed[k] += std::chrono::duration<double>(Clock::now() - t0).count();
      steps[k] += chunk;
    }
    step += chunk;
  }
  std::vector<double> rate(runners.size());
  for (size_t k = 0; k < runners.size(); ++k) rate[k] = double(steps[k]) * nworld / elapsed[k];
  for (size_t k = 0; k < runners.size(); ++k) {
    runners[k]->contacts /= double(steps[k]) * nworld;  // mean contacts per world-step
  }
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "option %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seconds") {
      opt.seconds = std::stod(value());
    } else if (a == "--worlds") {
      opt.worlds.clear();
      for (const std::string& s : split(value())) opt.worlds.push_back(std::stoi(s));
    } else if (a == "--threads") {
      opt.threads = std::stoi(value());
    } else if (a == "--episode") {
      opt.episode = std::stoi(value());
    } else if (a == "--precision") {
      opt.precisions = split(value());
    } else if (a == "-h" || a == "--help") {
      std::printf("usage: bench_step [--seconds S] [--worlds 1,16,64,256] [--threads T]\n"
                  "                  [--episode STEPS] [--precision double,float] [MJCF ...]\n");
      return 0;
    } else {
      opt.models.push_back(a);
    }
  }
  if (opt.models.empty()) {
    opt.models.push_back(MUJOCO_SAMPLES_DIR "/humanoid/humanoid.xml");
    if (std::filesystem::exists(STAMPEDE_ASSETS_DIR "/h1/h1.xml")) {
      opt.models.push_back(STAMPEDE_ASSETS_DIR "/h1/h1.xml");
    }
  }

  stampede::kern::ThreadPool pool(opt.threads);
  std::printf("bench_step: %d threads, %.1f s per measurement, episodes of %d steps\n", pool.size(),
              opt.seconds, opt.episode);
  for (const std::string& path : opt.models) {
    mjModel* m = stampede::sim::load_mjcf(path);
    std::vector<std::string> bad = stampede::sim::unsupported_features(m);
    if (!bad.empty()) {
      std::printf("%s: unsupported (%s), skipped\n", path.c_str(), bad.front().c_str());
      mj_deleteModel(m);
      continue;
    }
    std::printf("\n%s (nv %d, ngeom %d)\n", path.c_str(), int(m->nv), int(m->ngeom));
    std::printf("  %7s %16s", "worlds", "MuJoCo mjb_step");
    for (const std::string& p : opt.precisions) std::printf(" %16s %7s", ("ours " + p).c_str(), "ratio");
    std::printf(" %9s\n", "contacts");
    for (int nworld : opt.worlds) {
      Workload load(m, nworld);
      MjbRunner mj(m, load, pool.size(), opt.episode);
      std::unique_ptr<Runner> ours_d, ours_f;
      std::vector<Runner*> runners = {&mj};
      for (const std::string& p : opt.precisions) {
        if (p == "double") {
          ours_d = std::make_unique<OursRunner<double>>(m, load, pool, opt.episode);
          runners.push_back(ours_d.get());
        } else if (p == "float") {
          ours_f = std::make_unique<OursRunner<float>>(m, load, pool, opt.episode);
          runners.push_back(ours_f.get());
        }
      }
      std::vector<double> rate = measure(runners, nworld, opt);
      std::printf("  %7d %16.0f", nworld, rate[0]);
      for (size_t k = 1; k < rate.size(); ++k) std::printf(" %16.0f %7.2f", rate[k], rate[k] / rate[0]);
      std::printf(" %9.1f\n", runners[0]->contacts);
      std::fflush(stdout);
    }
    mj_deleteModel(m);
  }
  return 0;
}
