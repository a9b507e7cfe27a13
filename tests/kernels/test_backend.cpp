// tests/kernels/test_backend.cpp — sim/cpu_backend and sim/make_backend: the CPU backend
// steps like MuJoCo's reference backend, refuses what it cannot simulate, resets worlds, and
// the factory names its errors.
#include <catch2/catch.hpp>

#include "sim/cpu_backend.h"
#include "sim/make_backend.h"
#include "smooth_fixture.h"

using namespace stampede;

TEST_CASE("cpu backend steps like the MuJoCo reference backend", "[backend]") {
  auto mj = test::load_file(std::string(MUJOCO_SAMPLES_DIR) + "/humanoid/humanoid.xml");
  mj->opt.disableflags |= mjDSBL_CONSTRAINT;
  const int nworld = 5;
  auto ours = sim::make_backend<double>("cpu", mj.get(), nworld, 2);
  auto ref = sim::make_backend<double>("mujoco", mj.get(), nworld, 2);
  CHECK(ours->name() == "cpu");
  test::RandomState st = test::random_state(mj.get(), nworld, 81, false);
  for (auto* b : {ours.get(), ref.get()}) {
    std::copy(st.qpos.begin(), st.qpos.end(), b->qpos());
    std::copy(st.qvel.begin(), st.qvel.end(), b->qvel());
    std::copy(st.ctrl.begin(), st.ctrl.end(), b->ctrl());
    b->step(40);
  }
  const int nq = mj->nq, nv = mj->nv, nb = mj->nbody;
  CHECK(test::rel_error(ours->qpos(), ref->qpos(), nworld * nq) < 1e-9);
  CHECK(test::rel_error(ours->qvel(), ref->qvel(), nworld * nv) < 1e-9);
  CHECK(test::rel_error(ours->xpos(), ref->xpos(), nworld * nb * 3) < 1e-9);
  CHECK(test::rel_error(ours->xquat(), ref->xquat(), nworld * nb * 4) < 1e-9);
  CHECK(test::rel_error(ours->subtree_com(), ref->subtree_com(), nworld * nb * 3) < 1e-9);
  CHECK(test::rel_error(ours->time(), ref->time(), nworld) < 1e-12);
  for (int w = 0; w < nworld; ++w) CHECK(ours->ncon()[w] == 0);

  // reset one world: back to qpos0, time 0, others untouched
  std::vector<double> before(ours->qpos() + nq * 3, ours->qpos() + nq * 4);
  int w1 = 1;
  ours->reset(&w1, 1);
  for (int i = 0; i < nq; ++i) CHECK(ours->qpos()[nq + i] == mj->qpos0[i]);
  CHECK(ours->time()[1] == 0);
  CHECK(std::equal(before.begin(), before.end(), ours->qpos() + nq * 3));
}

TEST_CASE("cpu backend in float follows the double trajectory", "[backend]") {
  auto mj = test::load_file(std::string(MUJOCO_SAMPLES_DIR) + "/humanoid/humanoid.xml");
  mj->opt.disableflags |= mjDSBL_CONSTRAINT;
  sim::CpuBackend<float> f(mj.get(), 2, 1);
  sim::CpuBackend<double> d(mj.get(), 2, 1);
  test::RandomState st = test::random_state(mj.get(), 2, 82, false);
  for (size_t i = 0; i < st.qpos.size(); ++i) { f.qpos()[i] = float(st.qpos[i]); d.qpos()[i] = st.qpos[i]; }
  for (size_t i = 0; i < st.qvel.size(); ++i) { f.qvel()[i] = float(st.qvel[i]); d.qvel()[i] = st.qvel[i]; }
  f.step(10);
  d.step(10);
  // 10 steps of float rounding on a 27-dof chain
  CHECK(test::rel_error(f.qpos(), d.qpos(), 2 * mj->nq) < 1e-4);
}

TEST_CASE("cpu backend refuses a model that needs constraints, naming what to disable", "[backend]") {
  auto mj = test::load_file(std::string(MUJOCO_SAMPLES_DIR) + "/humanoid/humanoid.xml");
  if (kern::constraints_simulated()) {
    SUCCEED("constraint pipeline present: nothing to refuse");
    return;
  }
  CHECK_THROWS_WITH(sim::CpuBackend<double>(mj.get(), 1), Catch::Contains("contacts") && Catch::Contains("joint limits"));
  mj->opt.disableflags |= mjDSBL_CONTACT | mjDSBL_LIMIT;
  CHECK_NOTHROW(sim::CpuBackend<double>(mj.get(), 1));
}

TEST_CASE("make_backend names its errors", "[backend]") {
  auto mj = test::load_file(std::string(MUJOCO_SAMPLES_DIR) + "/humanoid/humanoid.xml");
  mj->opt.disableflags |= mjDSBL_CONSTRAINT;
  CHECK_THROWS_WITH(sim::make_backend<float>("mujoco", mj.get(), 1, 1), Catch::Contains("double"));
  CHECK_THROWS_AS(sim::make_backend<double>("gpu", mj.get(), 1, 1), std::invalid_argument);
  auto cpu = sim::make_backend<float>("cpu", mj.get(), 2, 1);
  int size = 0;
  float* mass = cpu->model_field("body_mass", &size);
  CHECK(size == mj->nbody);
  CHECK(mass[size + 1] == float(mj->body_mass[1]));
  CHECK_THROWS_AS(cpu->model_field("body_colour"), std::invalid_argument);
  try {
    sim::make_backend<double>("cuda", mj.get(), 1, 1);
    WARN("a CUDA device is present: the cuda backend was constructed");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("CUDA") != std::string::npos);
  }
}
