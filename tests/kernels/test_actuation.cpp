// tests/kernels/test_actuation.cpp — kernels/actuation.inl vs mj_fwdActuation and
// mj_fwdAcceleration (qfrc_applied and xfrc_applied included).
#include <catch2/catch.hpp>

#include "smooth_fixture.h"

using namespace stampede;
using kern::Stage;

template <class Real>
void check_actuation(int disable) {
  const double tol = test::tolerance<Real>();
  test::for_each_model<Real>(3, disable, 41, [&](const std::string& label, test::Bench<Real>& b,
                                                 const test::RandomState& st, mjData* md) {
    const mjModel* m = b.mj.get();
    const int nv = m->nv, nu = m->nu;
    test::run_stages(b, {Stage::kFwdPosition, Stage::kFwdVelocity, Stage::kActuation, Stage::kFwdAcceleration});
    for (int w = 0; w < b.nworld; ++w) {
      INFO(label << ", world " << w << ", disableflags " << disable);
      test::set_mj_state(m, md, st, w);
      mj_fwdPosition(m, md);
      mj_fwdVelocity(m, md);
      mj_fwdActuation(m, md);
      mj_fwdAcceleration(m, md);
      const auto& d = b.d();
      CHECK(test::rel_error(d.actuator_length.at(w), md->actuator_length, nu) < tol);
      CHECK(test::rel_error(d.actuator_velocity.at(w), md->actuator_velocity, nu) < tol);
      CHECK(test::rel_error(d.actuator_force.at(w), md->actuator_force, nu) < tol);
      CHECK(test::rel_error(d.qfrc_actuator.at(w), md->qfrc_actuator, nv) < tol);
      CHECK(test::rel_error(d.qfrc_smooth.at(w), md->qfrc_smooth, nv) < tol);
      // qacc_smooth: a solve with M; float loses the condition number of M on top
      CHECK(test::rel_error(d.qacc_smooth.at(w), md->qacc_smooth, nv) < tol * (sizeof(Real) == 4 ? 30 : 10));
    }
  });
}

TEST_CASE("actuation and fwd_acceleration match MuJoCo (double)", "[actuation]") {
  check_actuation<double>(0);
  check_actuation<double>(mjDSBL_CLAMPCTRL);
  check_actuation<double>(mjDSBL_ACTUATION);
}
TEST_CASE("actuation and fwd_acceleration match MuJoCo (float)", "[actuation]") { check_actuation<float>(0); }

TEST_CASE("a NaN control zeroes all controls for the step and sets a flag", "[actuation]") {
  test::Bench<double> b(test::load_xml_string(test::random_tree_xml(2, 7)), 1);
  REQUIRE(b.mj->nu > 0);
  for (int i = 0; i < b.mj->nu; ++i) b.d().ctrl.at(0)[i] = 0.5;
  for (int i = 0; i < b.mj->nq; ++i) b.d().qpos.at(0)[i] = b.mj->qpos0[i];
  b.d().ctrl.at(0)[0] = NAN;
  test::run_stages(b, {Stage::kFwdPosition, Stage::kFwdVelocity, Stage::kActuation});
  CHECK((b.d().warning_flags.at(0)[0] & kern::kWarnBadCtrl) != 0);
  test::MjDataPtr md(mj_makeData(b.mj.get()));
  for (int i = 0; i < b.mj->nu; ++i) md->ctrl[i] = 0.5;
  md->ctrl[0] = NAN;
  mj_fwdPosition(b.mj.get(), md.get());
  mj_fwdVelocity(b.mj.get(), md.get());
  mj_fwdActuation(b.mj.get(), md.get());
  CHECK(test::rel_error(b.d().actuator_force.at(0), md->actuator_force, b.mj->nu) < 1e-12);
}
