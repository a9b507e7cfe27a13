// tests/sim/api/test_gpu_sim_api.cpp — stampede::sim::Batch on the CUDA backend (label gpu):
// the state lives in GPU memory between calls, the arrays are device arrays, and forward, step
// and reset agree with the CPU backend in float64 on the project robots with contacts. Without a
// device (or in a build without CUDA) it says so and skips.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "stampede/sim.h"

namespace {

namespace ss = stampede::sim;

ss::ArrayView host(std::vector<double>& v, std::vector<std::int64_t> shape) {
  ss::ArrayView a;
  a.data = v.data();
  a.dtype = ss::DType::kFloat64;
  a.shape = std::move(shape);
  a.writable = true;
  return a;
}

template <class T>
std::vector<T> read(const ss::Batch& b, const ss::ArrayView& v) {
  std::vector<T> out(v.size());
  b.copy_to_host(v, out.data());
  return out;
}

double max_rel(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double e = 0;
  for (std::size_t i = 0; i < a.size(); ++i) e = std::fmax(e, std::fabs(a[i] - b[i]) / (1.0 + std::fabs(b[i])));
  return e;
}

// qpos0 with the free root lifted and turned a little, the hinges moved, small velocities
void random_state(const ss::CompiledModel& m, int nworld, std::vector<double>& qpos, std::vector<double>& qvel,
                  std::vector<double>& ctrl) {
  std::mt19937 rng(7);
  std::normal_distribution<double> n(0.0, 1.0);
  ss::Batch ref(m, nworld, "cpu", "float64", 1);
  qpos = read<double>(ref, ref.qpos());
  qvel.assign(std::size_t(nworld) * m.nv(), 0.0);
  ctrl.assign(std::size_t(nworld) * m.nu(), 0.0);
  for (int w = 0; w < nworld; ++w) {
    double* q = qpos.data() + std::size_t(w) * m.nq();
    q[2] += 0.05 * w;  // some worlds start in the floor (contacts), some above it
    for (int i = 7; i < m.nq(); ++i) q[i] += 0.1 * n(rng);
    for (int i = 0; i < m.nv(); ++i) qvel[std::size_t(w) * m.nv() + i] = 0.2 * n(rng);
    for (int i = 0; i < m.nu(); ++i) ctrl[std::size_t(w) * m.nu() + i] = 0.5 * n(rng);
  }
}

}  // namespace

TEST_CASE("Batch on CUDA: device arrays, and forward/step/reset agree with the CPU backend", "[gpu]") {
  for (const char* robot : {"h1/h1.xml", "humanoid/humanoid.xml"}) {
    INFO(robot);
    const ss::CompiledModel m = ss::load(std::string(STAMPEDE_ASSETS_DIR) + "/" + robot);
    const int nworld = 37;  // not a multiple of the warps per block
    std::unique_ptr<ss::Batch> gpu;
    try {
      gpu = std::make_unique<ss::Batch>(m, nworld, "cuda", "float64");
    } catch (const std::runtime_error& e) {
      WARN("SKIPPED (no usable CUDA device): " << e.what());
      return;
    }
    ss::Batch cpu(m, nworld, "cpu", "float64", 2);

    // every array but the host-side warning counters is in GPU memory
    for (const ss::ArrayView& v : {gpu->qpos(), gpu->qvel(), gpu->ctrl(), gpu->qacc(), gpu->xpos(), gpu->ncon(),
                                   gpu->contact_pos(), gpu->time()})
      CHECK(v.device == ss::Device::kCuda);
    CHECK(gpu->warnings().device == ss::Device::kCpu);
    CHECK(cpu.qpos().device == ss::Device::kCpu);

    std::vector<double> qpos, qvel, ctrl;
    random_state(m, nworld, qpos, qvel, ctrl);
    for (ss::Batch* b : {gpu.get(), &cpu}) {
      b->qpos().copy_from(host(qpos, {nworld, m.nq()}));
      b->qvel().copy_from(host(qvel, {nworld, m.nv()}));
      b->ctrl().copy_from(host(ctrl, {nworld, m.nu()}));
    }
    CHECK(read<double>(*gpu, gpu->qpos()) == qpos);  // a write lands as written

    gpu->forward();
    cpu.forward();
    CHECK(read<int>(*gpu, gpu->ncon()) == read<int>(cpu, cpu.ncon()));
    CHECK(max_rel(read<double>(*gpu, gpu->qacc()), read<double>(cpu, cpu.qacc())) < 1e-8);
    CHECK(max_rel(read<double>(*gpu, gpu->xpos()), read<double>(cpu, cpu.xpos())) < 1e-12);
    const ss::WorldContacts cg = gpu->contact(0), cc = cpu.contact(0);
    CHECK(cg.ncon == cc.ncon);
    CHECK(cg.pos.device == ss::Device::kCuda);

    gpu->step(100);
    cpu.step(100);
    CHECK(max_rel(read<double>(*gpu, gpu->qpos()), read<double>(cpu, cpu.qpos())) < 1e-6);
    CHECK(max_rel(read<double>(*gpu, gpu->time()), read<double>(cpu, cpu.time())) < 1e-12);

    // reset of one world leaves the others where the device had them
    gpu->reset({1});
    cpu.reset({1});
    CHECK(max_rel(read<double>(*gpu, gpu->qpos()), read<double>(cpu, cpu.qpos())) < 1e-6);
    CHECK(read<double>(*gpu, gpu->time())[1] == 0.0);
    for (int i = 0; i < nworld * 3; ++i) CHECK(gpu->warnings().as<const int>()[i] == cpu.warnings().as<const int>()[i]);
  }
}
