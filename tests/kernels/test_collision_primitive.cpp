// tests/kernels/test_collision_primitive.cpp — each narrowphase function against MuJoCo 4's own
// collider: two geoms of the pair's types in random poses (many touching, many within the
// margin), MuJoCo's contacts (count, dist, pos, frame) vs ours from the same geom poses.
#include <catch2/catch.hpp>
#include <mujoco/mujoco.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernels/collision_narrowphase.h"

namespace {

using stampede::kern::constraint::collide_geoms;
using stampede::kern::constraint::contact_make_frame;
using stampede::kern::constraint::ContactPoint;
using stampede::kern::constraint::kMaxContactsPerPair;

struct ModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};
struct DataDeleter {
  void operator()(mjData* d) const { mj_deleteData(d); }
};

std::unique_ptr<mjModel, ModelDeleter> load_xml(const std::string& xml) {
  char err[1000] = "";
  mjSpec* spec = mj_parseXMLString(xml.c_str(), nullptr, err, sizeof(err));
  if (!spec) FAIL("MJCF parse failed: " << err);
  mjModel* m = mj_compile(spec, nullptr);
  mj_deleteSpec(spec);
  if (!m) FAIL("MJCF compile failed");
  return std::unique_ptr<mjModel, ModelDeleter>(m);
}

const char* type_name(int t) {
  switch (t) {
    case mjGEOM_PLANE: return "plane";
    case mjGEOM_SPHERE: return "sphere";
    case mjGEOM_CAPSULE: return "capsule";
    case mjGEOM_BOX: return "box";
  }
  return "?";
}

std::string geom_xml(int type, std::mt19937& rng, double margin) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  char buf[256];
  if (type == mjGEOM_SPHERE) {
    std::snprintf(buf, sizeof buf, "<geom type='sphere' size='%.6f' margin='%g'/>",
                  0.05 + 0.25 * u(rng), margin);
  } else if (type == mjGEOM_CAPSULE) {
    std::snprintf(buf, sizeof buf, "<geom type='capsule' size='%.6f %.6f' margin='%g'/>",
                  0.04 + 0.15 * u(rng), 0.05 + 0.35 * u(rng), margin);
  } else {
    std::snprintf(buf, sizeof buf, "<geom type='box' size='%.6f %.6f %.6f' margin='%g'/>",
                  0.05 + 0.35 * u(rng), 0.05 + 0.35 * u(rng), 0.05 + 0.35 * u(rng), margin);
  }
  return buf;
}

// a random unit quaternion; a third of them are exact multiples of 90 degrees about an axis
// (aligned faces and parallel edges, the degenerate branches of every collider)
void random_quat(double q[4], std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> n(0.0, 1.0);
  if (u(rng) < 0.33) {
    int axis = static_cast<int>(3 * u(rng)) % 3;
    int k = static_cast<int>(4 * u(rng)) % 4;
    double a = 0.5 * k * mjPI / 2;
    q[0] = std::cos(a);
    q[1] = q[2] = q[3] = 0;
    q[1 + axis] = std::sin(a);
    // half of those slightly off: near-parallel axes (MuJoCo's parallel threshold is sin^2 1e-8)
    if (u(rng) < 0.5) {
      for (int i = 0; i < 4; i++) q[i] += 1e-7 * n(rng);
      mju_normalize4(q);
    }
    return;
  }
  for (int i = 0; i < 4; i++) q[i] = n(rng);
  mju_normalize4(q);
}

// MuJoCo's contacts vs ours for `trials` random poses of a (type1, type2) pair
void check_pair(int type1, int type2, int trials, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double margin = 0.02;  // per geom: pair margin 0.04 (0.02 for plane pairs)
  int compared = 0, with_contacts = 0, max_count = 0;
  double max_err = 0;
  for (int model_index = 0; model_index < 8; model_index++) {
    std::string xml = "<mujoco><option gravity='0 0 0'/><worldbody>";
    if (type1 == mjGEOM_PLANE) {
      double tilt = 0.3 * (u(rng) - 0.5);
      xml += "<geom type='plane' size='0 0 1' euler='" + std::to_string(tilt) + " 0.1 0'/>";
    } else {
      xml += "<body><freejoint/>" + geom_xml(type1, rng, margin) + "</body>";
    }
    xml += "<body><freejoint/>" + geom_xml(type2, rng, margin) + "</body>";
    xml += "</worldbody></mujoco>";
    auto m = load_xml(xml);
    std::unique_ptr<mjData, DataDeleter> d(mj_makeData(m.get()));
    int g1 = 0, g2 = 1;
    REQUIRE(m->geom_type[g1] == type1);
    REQUIRE(m->geom_type[g2] == type2);
    double pair_margin = m->geom_margin[g1] + m->geom_margin[g2];

    for (int t = 0; t < trials; t++) {
      for (int j = 0; j < m->njnt; j++) {
        double* q = d->qpos + m->jnt_qposadr[j];
        double spread = 0.45;
        for (int i = 0; i < 3; i++) q[i] = spread * (2 * u(rng) - 1);
        if (type1 == mjGEOM_PLANE) q[2] = 0.5 * u(rng) - 0.1;
        random_quat(q + 3, rng);
      }
      mj_forward(m.get(), d.get());

      ContactPoint<double> con[kMaxContactsPerPair];
      int n = collide_geoms(con, type1, type2, pair_margin, d->geom_xpos + 3 * g1,
                            d->geom_xmat + 9 * g1, m->geom_size + 3 * g1,
                            d->geom_xpos + 3 * g2, d->geom_xmat + 9 * g2,
                            m->geom_size + 3 * g2);
      INFO(type_name(type1) << " : " << type_name(type2) << ", model " << model_index
                            << ", trial " << t);
      REQUIRE(n == d->ncon);
      compared++;
      with_contacts += n > 0;
      max_count = std::max(max_count, n);
      for (int k = 0; k < n; k++) {
        const mjContact& c = d->contact[k];
        REQUIRE(c.geom[0] == g1);
        REQUIRE(c.geom[1] == g2);
        double frame[9];
        contact_make_frame(frame, con[k].normal, con[k].tangent);
        // rounding-level: the same operations in the same order, up to compiler contraction
        double err = std::abs(con[k].dist - c.dist);
        for (int i = 0; i < 3; i++) err = std::max(err, std::abs(con[k].pos[i] - c.pos[i]));
        for (int i = 0; i < 9; i++) err = std::max(err, std::abs(frame[i] - c.frame[i]));
        INFO("contact " << k << " dist ours " << con[k].dist << " mujoco " << c.dist);
        REQUIRE(err < 1e-9);
        max_err = std::max(max_err, err);
      }
    }
  }
  WARN(type_name(type1) << " : " << type_name(type2) << ": " << compared << " poses, "
                        << with_contacts << " with contacts, up to " << max_count
                        << " per pose, max error " << max_err);
  // the poses must exercise the collider, not just the no-contact branch
  CHECK(with_contacts > compared / 10);
}

}  // namespace

TEST_CASE("plane : sphere matches MuJoCo", "[collision]") {
  check_pair(mjGEOM_PLANE, mjGEOM_SPHERE, 300, 1);
}
TEST_CASE("plane : capsule matches MuJoCo", "[collision]") {
  check_pair(mjGEOM_PLANE, mjGEOM_CAPSULE, 300, 2);
}
TEST_CASE("plane : box matches MuJoCo", "[collision]") {
  check_pair(mjGEOM_PLANE, mjGEOM_BOX, 300, 3);
}
TEST_CASE("sphere : sphere matches MuJoCo", "[collision]") {
  check_pair(mjGEOM_SPHERE, mjGEOM_SPHERE, 300, 4);
}
TEST_CASE("sphere : capsule matches MuJoCo", "[collision]") {
  check_pair(mjGEOM_SPHERE, mjGEOM_CAPSULE, 300, 5);
}
TEST_CASE("sphere : box matches MuJoCo", "[collision]") {
  check_pair(mjGEOM_SPHERE, mjGEOM_BOX, 300, 6);
}
TEST_CASE("capsule : capsule matches MuJoCo", "[collision]") {
  check_pair(mjGEOM_CAPSULE, mjGEOM_CAPSULE, 300, 7);
}
TEST_CASE("capsule : box matches MuJoCo", "[collision]") {
  check_pair(mjGEOM_CAPSULE, mjGEOM_BOX, 500, 8);
}
TEST_CASE("box : box matches MuJoCo", "[collision]") {
  check_pair(mjGEOM_BOX, mjGEOM_BOX, 500, 9);
}

TEST_CASE("float narrowphase agrees with double", "[collision]") {
  // the same pose in float and double: contacts agree to float rounding scaled by the sizes
  const double pos1[3] = {0, 0, 0}, pos2[3] = {0.1, 0.05, 0.33};
  double q[4] = {0.9, 0.1, 0.2, 0.3}, mat2[9];
  mju_normalize4(q);
  mju_quat2Mat(mat2, q);
  const double mat1[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  const double size1[3] = {0.2, 0.3, 0.15}, size2[3] = {0.1, 0.2, 0.25};
  float fpos1[3], fpos2[3], fmat1[9], fmat2[9], fsize1[3], fsize2[3];
  for (int i = 0; i < 3; i++) {
    fpos1[i] = float(pos1[i]); fpos2[i] = float(pos2[i]);
    fsize1[i] = float(size1[i]); fsize2[i] = float(size2[i]);
  }
  for (int i = 0; i < 9; i++) {
    fmat1[i] = float(mat1[i]); fmat2[i] = float(mat2[i]);
  }
  ContactPoint<double> cd[kMaxContactsPerPair];
  ContactPoint<float> cf[kMaxContactsPerPair];
  int nd = collide_geoms(cd, mjGEOM_BOX, mjGEOM_BOX, 0.01, pos1, mat1, size1, pos2, mat2, size2);
  int nf = collide_geoms(cf, mjGEOM_BOX, mjGEOM_BOX, 0.01f, fpos1, fmat1, fsize1, fpos2, fmat2,
                         fsize2);
  REQUIRE(nd > 0);
  REQUIRE(nf == nd);
  for (int k = 0; k < nd; k++) {
    CHECK(std::abs(cf[k].dist - cd[k].dist) < 1e-5);
    for (int i = 0; i < 3; i++) CHECK(std::abs(cf[k].pos[i] - cd[k].pos[i]) < 1e-5);
  }
}
