// benchmarks/bench_smooth.cpp — steps/s of the contact-free pipeline (constraints disabled) on
// the CPU backend (double and float) against MuJoCo's reference backend and a plain mj_step
// loop, same model, same threads, same run; and tree-sparse L'DL vs dense Cholesky.
//
//   bench_smooth [nthread=2] [seconds per point=0.4]
#include <mujoco/mujoco.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/inertia.inl"
#include "kernels/smooth.h"
#include "sim/compile.h"
#include "sim/cpu_backend.h"
#include "sim/make_backend.h"

using namespace stampede;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// world-steps per second of backend b, stepping chunks of `chunk` until `budget` seconds pass
template <class Real>
double steps_per_second(sim::Backend<Real>& b, double budget) {
  const int chunk = 10;
  b.step(chunk);  // warm up
  long long steps = 0;
  auto t0 = Clock::now();
  double el = 0;
  while ((el = seconds_since(t0)) < budget) {
    b.step(chunk);
    steps += chunk;
  }
  return double(steps) * b.nworld() / el;
}

template <class Real>
void randomize(sim::Backend<Real>& b, const mjModel* m, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-0.1, 0.1);
  for (int w = 0; w < b.nworld(); ++w) {
    for (int i = 0; i < m->nq; ++i) b.qpos()[w * m->nq + i] = Real(m->qpos0[i] + (m->jnt_type[0] == mjJNT_FREE && i >= 3 && i < 7 ? 0 : u(rng)));
    for (int i = 0; i < m->nu; ++i) b.ctrl()[w * m->nu + i] = Real(u(rng));
  }
}

double mj_step_loop(const mjModel* m, double budget) {
  mjData* d = mj_makeData(m);
  for (int i = 0; i < 10; ++i) mj_step(m, d);
  long long steps = 0;
  auto t0 = Clock::now();
  double el = 0;
  while ((el = seconds_since(t0)) < budget) {
    for (int i = 0; i < 10; ++i) mj_step(m, d);
    steps += 10;
  }
  mj_deleteData(d);
  return steps / el;
}

// microseconds per factor+solve, tree-sparse vs dense, at the model's qpos0
void factor_comparison(const mjModel* mj) {
  auto model = sim::compile_model<double>(mj);
  sim::Data<double> data(sim::DataSizes::of(model.view(), 1, 1, 1));
  kern::CpuExec exec;
  kern::run_stage(kern::Stage::kFwdPosition, model.view(), data.view(), exec);
  const int nv = model.nv;
  std::vector<double> full(nv * nv), l(nv * nv), ld(nv * nv), dinv(nv), x(nv);
  kern::expand_tree_matrix(full.data(), data.view().qM.at(0), model.dof_parentid, nv);
  const int reps = 20000;
  auto t0 = Clock::now();
  for (int r = 0; r < reps; ++r) {
    std::copy(data.view().qM.at(0), data.view().qM.at(0) + nv * nv, ld.begin());
    kern::factor_ldl(ld.data(), dinv.data(), model.dof_parentid, nv);
    for (int i = 0; i < nv; ++i) x[i] = 1.0 + i;
    kern::solve_ldl(x.data(), ld.data(), dinv.data(), model.dof_parentid, nv);
  }
  double sparse_us = seconds_since(t0) / reps * 1e6;
  double check = x[0];
  t0 = Clock::now();
  for (int r = 0; r < reps; ++r) {
    kern::factor_dense(l.data(), full.data(), nv);
    for (int i = 0; i < nv; ++i) x[i] = 1.0 + i;
    kern::solve_dense(x.data(), l.data(), nv);
  }
  double dense_us = seconds_since(t0) / reps * 1e6;
  std::printf("  factor+solve (nv=%d): tree-sparse L'DL %.2f us, dense Cholesky %.2f us (x0 %.6g vs %.6g)\n", nv,
              sparse_us, dense_us, check, x[0]);
}

}  // namespace

int main(int argc, char** argv) {
  int nthread = argc > 1 ? std::atoi(argv[1]) : 2;
  double budget = argc > 2 ? std::atof(argv[2]) : 0.4;
  std::vector<std::pair<std::string, std::string>> models = {
      {"MuJoCo humanoid", std::string(MUJOCO_SAMPLES_DIR) + "/humanoid/humanoid.xml"},
      {"stampede h1", std::string(STAMPEDE_ASSETS_DIR) + "/h1/h1.xml"},
      {"stampede humanoid", std::string(STAMPEDE_ASSETS_DIR) + "/humanoid/humanoid.xml"}};
  std::printf("contact-free pipeline (constraints disabled), %d threads, world-steps/s\n", nthread);
  for (const auto& [label, path] : models) {
    if (!std::ifstream(path).good()) continue;
    mjModel* mj = sim::load_mjcf(path);
    mj->opt.disableflags |= mjDSBL_CONSTRAINT;
    std::printf("\n%s (nq %d, nv %d, nbody %d), timestep %g\n", label.c_str(), int(mj->nq), int(mj->nv),
                int(mj->nbody), mj->opt.timestep);
    std::printf("  mj_step loop, 1 thread: %.0f\n", mj_step_loop(mj, budget));
    std::printf("  %7s %14s %14s %14s %10s\n", "worlds", "mujoco(mjb)", "cpu double", "cpu float", "cpu/mjb");
    for (int nworld : {1, 8, 64, 256}) {
      auto ref = sim::make_backend<double>("mujoco", mj, nworld, nthread);
      auto cpu = sim::make_backend<double>("cpu", mj, nworld, nthread);
      auto cpuf = sim::make_backend<float>("cpu", mj, nworld, nthread);
      randomize(*ref, mj, 1);
      randomize(*cpu, mj, 1);
      randomize(*cpuf, mj, 1);
      double r = steps_per_second(*ref, budget);
      double c = steps_per_second(*cpu, budget);
      double f = steps_per_second(*cpuf, budget);
      std::printf("  %7d %14.0f %14.0f %14.0f %10.2f\n", nworld, r, c, f, c / r);
    }
    factor_comparison(mj);
    mj_deleteModel(mj);
  }
  return 0;
}
