// tests/kernels/test_kinematics.cpp — kernels/kinematics.inl vs mj_kinematics and mj_comPos.
#include <catch2/catch.hpp>

#include "smooth_fixture.h"

using namespace stampede;
using kern::Stage;

template <class Real>
void check_kinematics() {
  const double tol = test::tolerance<Real>();
  test::for_each_model<Real>(3, 0, 11, [&](const std::string& label, test::Bench<Real>& b,
                                           const test::RandomState& st, mjData* md) {
    const mjModel* m = b.mj.get();
    test::run_stages(b, {Stage::kKinematics, Stage::kComPos});
    for (int w = 0; w < b.nworld; ++w) {
      test::set_mj_state(m, md, st, w);
      mj_kinematics(m, md);
      mj_comPos(m, md);
      const auto& d = b.d();
      INFO(label << ", world " << w);
      CHECK(test::rel_error(d.xpos.at(w), md->xpos, 3 * m->nbody) < tol);
      CHECK(test::rel_error(d.xquat.at(w), md->xquat, 4 * m->nbody) < tol);
      CHECK(test::rel_error(d.xmat.at(w), md->xmat, 9 * m->nbody) < tol);
      CHECK(test::rel_error(d.xipos.at(w), md->xipos, 3 * m->nbody) < tol);
      CHECK(test::rel_error(d.ximat.at(w), md->ximat, 9 * m->nbody) < tol);
      CHECK(test::rel_error(d.xanchor.at(w), md->xanchor, 3 * m->njnt) < tol);
      CHECK(test::rel_error(d.xaxis.at(w), md->xaxis, 3 * m->njnt) < tol);
      CHECK(test::rel_error(d.geom_xpos.at(w), md->geom_xpos, 3 * m->ngeom) < tol);
      CHECK(test::rel_error(d.geom_xmat.at(w), md->geom_xmat, 9 * m->ngeom) < tol);
      CHECK(test::rel_error(d.site_xpos.at(w), md->site_xpos, 3 * m->nsite) < tol);
      CHECK(test::rel_error(d.site_xmat.at(w), md->site_xmat, 9 * m->nsite) < tol);
      CHECK(test::rel_error(d.subtree_com.at(w), md->subtree_com, 3 * m->nbody) < tol);
      CHECK(test::rel_error(d.subtree_mass.at(w), m->body_subtreemass, m->nbody) < tol);
      CHECK(test::rel_error(d.cinert.at(w), md->cinert, 10 * m->nbody) < tol);
      CHECK(test::rel_error(d.cdof.at(w), md->cdof, 6 * m->nv) < tol);
    }
  });
}

TEST_CASE("kinematics and com_pos match MuJoCo (double)", "[kinematics]") { check_kinematics<double>(); }
TEST_CASE("kinematics and com_pos match MuJoCo (float)", "[kinematics]") { check_kinematics<float>(); }

TEST_CASE("per-world body_mass changes subtree_com and cinert of that world only", "[kinematics]") {
  test::Bench<double> b(test::load_xml_string(test::random_tree_xml(7, 8)), 3);
  test::RandomState st = test::random_state(b.mj.get(), 1, 3);
  for (int w = 0; w < 3; ++w) {
    std::copy_n(st.qpos.data(), b.mj->nq, b.d().qpos.at(w));
  }
  auto* mass = b.model.expand("body_mass", 3);
  REQUIRE(mass->dim0 == 3);
  mass->at(1)[2] *= 3;  // world 1: body 2 three times heavier
  test::run_stages(b, {Stage::kKinematics, Stage::kComPos});
  const int n = 3 * b.mj->nbody;
  CHECK(test::rel_error(b.d().subtree_com.at(2), std::vector<double>(b.d().subtree_com.at(0), b.d().subtree_com.at(0) + n).data(), n) == 0);
  CHECK(test::rel_error(b.d().subtree_com.at(1), std::vector<double>(b.d().subtree_com.at(0), b.d().subtree_com.at(0) + n).data(), n) > 1e-6);

  // and equals MuJoCo with that mass
  test::MjDataPtr md(mj_makeData(b.mj.get()));
  b.mj->body_mass[2] *= 3;
  mj_setConst(b.mj.get(), md.get());
  std::copy_n(st.qpos.data(), b.mj->nq, md->qpos);
  mj_kinematics(b.mj.get(), md.get());
  mj_comPos(b.mj.get(), md.get());
  CHECK(test::rel_error(b.d().subtree_com.at(1), md->subtree_com, n) < 1e-12);
  CHECK(test::rel_error(b.d().cinert.at(1), md->cinert, 10 * b.mj->nbody) < 1e-12);
}
