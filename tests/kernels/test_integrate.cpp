// tests/kernels/test_integrate.cpp — kernels/integrate.inl: one Euler step (implicit joint
// damping on and off) vs mj_step with constraints disabled.
#include <catch2/catch.hpp>

#include "smooth_fixture.h"

using namespace stampede;
using kern::Stage;

template <class Real>
void check_euler(int disable) {
  const double tol = test::tolerance<Real>();
  disable |= mjDSBL_CONSTRAINT;
  test::for_each_model<Real>(3, disable, 51, [&](const std::string& label, test::Bench<Real>& b,
                                                 const test::RandomState& st, mjData* md) {
    const mjModel* m = b.mj.get();
    test::run_stages(b, {Stage::kForward, Stage::kEuler});
    for (int w = 0; w < b.nworld; ++w) {
      INFO(label << ", world " << w << ", disableflags " << disable);
      test::set_mj_state(m, md, st, w);
      mj_step(m, md);
      const auto& d = b.d();
      CHECK(test::rel_error(d.qpos.at(w), md->qpos, m->nq) < tol);
      CHECK(test::rel_error(d.qvel.at(w), md->qvel, m->nv) < tol * 10);  // qvel += h * qacc: qacc's solve error
      CHECK(test::rel_error(d.qacc_warmstart.at(w), md->qacc_warmstart, m->nv) < tol * 30);
      CHECK(std::fabs(double(d.time.at(w)[0]) - md->time) < tol * 1e-3);  // time: h in Real
    }
  });
}

TEST_CASE("Euler step matches mj_step (double)", "[integrate]") {
  check_euler<double>(0);
  check_euler<double>(mjDSBL_EULERDAMP);
}
TEST_CASE("Euler step matches mj_step (float)", "[integrate]") { check_euler<float>(0); }

TEST_CASE("implicit damping is used: a heavily damped joint stays stable", "[integrate]") {
  // h * damping / inertia = 0.01 * 1e4 / 1 = 100: explicit Euler would blow up
  auto mj = test::load_xml_string(
      "<mujoco><option timestep='0.01' gravity='0 0 0'/><worldbody><body><joint type='hinge' damping='10000'/>"
      "<inertial pos='0 0 0' mass='1' diaginertia='1 1 1'/></body></worldbody></mujoco>");
  test::Bench<double> b(std::move(mj), 1);
  b.d().qvel.at(0)[0] = 1;
  for (int s = 0; s < 10; ++s) test::run_stages(b, {Stage::kStep});
  double v = b.d().qvel.at(0)[0];
  CHECK(std::fabs(v) < 1e-10);
  CHECK(std::isfinite(v));
}
