// tests/kernels/test_gpu_smooth.cpp — the CUDA backend against the CPU backend on the same
// states (label gpu). Without a device it says so and skips.
#include <catch2/catch.hpp>

#include "sim/cpu_backend.h"
#include "sim/make_backend.h"
#include "smooth_fixture.h"

using namespace stampede;

template <class Real>
void compare_cuda_cpu(const std::string& label, test::MjModelPtr mj, double tol) {
  const int nworld = 37;  // not a multiple of the warps per block
  std::unique_ptr<sim::Backend<Real>> gpu;
  try {
    gpu = sim::make_backend<Real>("cuda", mj.get(), nworld, 0);
  } catch (const std::runtime_error& e) {
    WARN("SKIPPED (no usable CUDA device): " << e.what());
    return;
  }
  auto cpu = sim::make_backend<Real>("cpu", mj.get(), nworld, 2);
  test::RandomState st = test::random_state(mj.get(), nworld, 91, false);
  for (auto* b : {gpu.get(), cpu.get()}) {
    for (size_t i = 0; i < st.qpos.size(); ++i) b->qpos()[i] = Real(st.qpos[i]);
    for (size_t i = 0; i < st.qvel.size(); ++i) b->qvel()[i] = Real(st.qvel[i]);
    for (size_t i = 0; i < st.ctrl.size(); ++i) b->ctrl()[i] = Real(st.ctrl[i]);
    b->forward();
  }
  INFO(label);
  const int nv = mj->nv, nq = mj->nq, nb = mj->nbody;
  std::vector<double> ref(cpu->qacc(), cpu->qacc() + nworld * nv);
  CHECK(test::rel_error(gpu->qacc(), ref.data(), nworld * nv) < tol);
  for (auto* b : {gpu.get(), cpu.get()}) b->step(50);
  ref.assign(cpu->qpos(), cpu->qpos() + nworld * nq);
  CHECK(test::rel_error(gpu->qpos(), ref.data(), nworld * nq) < tol * 100);  // 50 steps of FMA-vs-not rounding
  ref.assign(cpu->xpos(), cpu->xpos() + nworld * nb * 3);
  CHECK(test::rel_error(gpu->xpos(), ref.data(), nworld * nb * 3) < tol * 100);
}

TEST_CASE("CUDA backend matches the CPU backend", "[gpu]") {
  for (const auto& [label, src] : test::test_model_sources()) {
    auto mj = test::load_source(src);
    if (!mj) continue;
    mj->opt.disableflags |= mjDSBL_CONSTRAINT;
    compare_cuda_cpu<double>(label, std::move(mj), 1e-10);
    auto mjf = test::load_source(src);
    mjf->opt.disableflags |= mjDSBL_CONSTRAINT;
    compare_cuda_cpu<float>(label, std::move(mjf), 1e-4);
  }
}
