// tests/kernels/test_velocity.cpp — kernels/velocity.inl vs mj_comVel, mj_passive and mj_rne.
#include <catch2/catch.hpp>

#include "smooth_fixture.h"

using namespace stampede;
using kern::Stage;

template <class Real>
void check_velocity(int disable) {
  const double tol = test::tolerance<Real>();
  test::for_each_model<Real>(3, disable, 31, [&](const std::string& label, test::Bench<Real>& b,
                                                 const test::RandomState& st, mjData* md) {
    const mjModel* m = b.mj.get();
    const int nv = m->nv;
    test::run_stages(b, {Stage::kKinematics, Stage::kComPos, Stage::kComVel, Stage::kPassive, Stage::kRne});
    std::vector<double> bias(nv);
    for (int w = 0; w < b.nworld; ++w) {
      INFO(label << ", world " << w << ", disableflags " << disable);
      test::set_mj_state(m, md, st, w);
      mj_kinematics(m, md);
      mj_comPos(m, md);
      mj_comVel(m, md);
      mj_passive(m, md);
      mj_rne(m, md, 0, bias.data());
      const auto& d = b.d();
      CHECK(test::rel_error(d.cvel.at(w), md->cvel, 6 * m->nbody) < tol);
      CHECK(test::rel_error(d.cdof_dot.at(w), md->cdof_dot, 6 * nv) < tol);
      CHECK(test::rel_error(d.qfrc_spring.at(w), md->qfrc_spring, nv) < tol);
      CHECK(test::rel_error(d.qfrc_damper.at(w), md->qfrc_damper, nv) < tol);
      CHECK(test::rel_error(d.qfrc_passive.at(w), md->qfrc_passive, nv) < tol);
      CHECK(test::rel_error(d.qfrc_bias.at(w), bias.data(), nv) < tol);
    }
  });
}

TEST_CASE("com_vel, passive and rne match MuJoCo (double)", "[velocity]") {
  check_velocity<double>(0);
  check_velocity<double>(mjDSBL_GRAVITY | mjDSBL_SPRING);
  check_velocity<double>(mjDSBL_DAMPER);
}
TEST_CASE("com_vel, passive and rne match MuJoCo (float)", "[velocity]") { check_velocity<float>(0); }

TEST_CASE("per-world gravity and damping act on their world only", "[velocity]") {
  test::Bench<double> b(test::load_xml_string(test::random_tree_xml(3, 6)), 2);
  test::RandomState st = test::random_state(b.mj.get(), 1, 4);
  for (int w = 0; w < 2; ++w) {
    std::copy_n(st.qpos.data(), b.mj->nq, b.d().qpos.at(w));
    std::copy_n(st.qvel.data(), b.mj->nv, b.d().qvel.at(w));
  }
  auto* g = b.model.expand("opt_gravity", 2);
  g->at(1)[2] = -1.62;  // the moon
  auto* damping = b.model.expand("dof_damping", 2);
  for (int i = 0; i < b.mj->nv; ++i) damping->at(1)[i] = 0.7;
  test::run_stages(b, {Stage::kKinematics, Stage::kComPos, Stage::kComVel, Stage::kPassive, Stage::kRne});

  test::MjDataPtr md(mj_makeData(b.mj.get()));
  std::vector<double> bias(b.mj->nv);
  for (int w = 0; w < 2; ++w) {
    if (w == 1) {
      b.mj->opt.gravity[2] = -1.62;
      for (int i = 0; i < b.mj->nv; ++i) b.mj->dof_damping[i] = 0.7;
    }
    std::copy_n(st.qpos.data(), b.mj->nq, md->qpos);
    std::copy_n(st.qvel.data(), b.mj->nv, md->qvel);
    mj_kinematics(b.mj.get(), md.get());
    mj_comPos(b.mj.get(), md.get());
    mj_comVel(b.mj.get(), md.get());
    mj_passive(b.mj.get(), md.get());
    mj_rne(b.mj.get(), md.get(), 0, bias.data());
    INFO("world " << w);
    CHECK(test::rel_error(b.d().qfrc_bias.at(w), bias.data(), b.mj->nv) < 1e-12);
    CHECK(test::rel_error(b.d().qfrc_damper.at(w), md->qfrc_damper, b.mj->nv) < 1e-12);
  }
}
