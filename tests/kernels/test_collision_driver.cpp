// tests/kernels/test_collision_driver.cpp — collision_world (filters, pairs, order, parameters)
// against mj_collision on whole models: MuJoCo's humanoids and ours, plus small inline models
// for <pair>, <exclude>, contype/conaffinity, priority/solmix, margin/gap and filterparent.
// Body and geom poses come from MuJoCo (mj_kinematics) so this tests collision alone.
#include <catch2/catch.hpp>
#include <mujoco/mujoco.h>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/collision_driver.h"
#include "kernels/constraint_impedance.h"
#include "sim/compile.h"
#include "smooth_fixture.h"
#include "sim/data.h"
#include "sim/model.h"

namespace {

using stampede::test::load_file;
using stampede::test::MjDataPtr;
using stampede::test::MjModelPtr;

using stampede::sim::compile_model;
using stampede::sim::Data;
using stampede::sim::DataSizes;
using stampede::sim::Model;




// a random state: joints within (a bit beyond) their ranges, free joints dropped near the floor
void randomize(const mjModel* m, mjData* d, std::mt19937& rng, double zlo, double zhi) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> n(0.0, 1.0);
  for (int i = 0; i < m->nq; i++) d->qpos[i] = m->qpos0[i];
  for (int j = 0; j < m->njnt; j++) {
    double* q = d->qpos + m->jnt_qposadr[j];
    switch (m->jnt_type[j]) {
      case mjJNT_FREE:
        q[0] += 0.3 * n(rng);
        q[1] += 0.3 * n(rng);
        q[2] = zlo + (zhi - zlo) * u(rng);
        for (int i = 3; i < 7; i++) q[i] = (i == 3 ? 3.0 : 0.0) + n(rng);
        mju_normalize4(q + 3);
        break;
      case mjJNT_BALL:
        for (int i = 0; i < 4; i++) q[i] = (i == 0 ? 2.0 : 0.0) + n(rng);
        mju_normalize4(q);
        break;
      default: {
        double lo = -1, hi = 1;
        if (m->jnt_limited[j]) {
          lo = m->jnt_range[2 * j];
          hi = m->jnt_range[2 * j + 1];
        }
        double span = hi - lo;
        q[0] = lo - 0.1 * span + 1.2 * span * u(rng);
      }
    }
  }
}

struct Compared {
  int states = 0;
  int contacts = 0;
  double max_err = 0;
};

// our collision_world vs mj_collision at the state in d (geom poses from MuJoCo). Float:
// the same contacts (the AVX-512 body-pair test where built), values to float's precision.
template <class Real>
void compare_state(const mjModel* mm, mjData* md, const Model<Real>& model,
                   const Data<Real>& data, Compared& stats) {
  const bool dbl = std::is_same_v<Real, double>;
  mj_kinematics(mm, md);
  mj_collision(mm, md);
  const auto& v = data.view();
  std::copy(md->xpos, md->xpos + 3 * mm->nbody, v.xpos.at(0));
  std::copy(md->geom_xpos, md->geom_xpos + 3 * mm->ngeom, v.geom_xpos.at(0));
  std::copy(md->geom_xmat, md->geom_xmat + 9 * mm->ngeom, v.geom_xmat.at(0));
  stampede::kern::constraint::collision_world(model.view(), v, 0);

  int ncon = v.ncon.at(0)[0];
  REQUIRE(v.contact_overflow.at(0)[0] == 0);
  REQUIRE(ncon == md->ncon);
  stats.states++;
  stats.contacts += ncon;
  for (int c = 0; c < ncon; c++) {
    const mjContact& mc = md->contact[c];
    INFO("contact " << c << " geoms " << mc.geom[0] << ", " << mc.geom[1]);
    REQUIRE(v.contact_geom.at(0)[2 * c] == mc.geom[0]);
    REQUIRE(v.contact_geom.at(0)[2 * c + 1] == mc.geom[1]);
    REQUIRE(v.contact_dim.at(0)[c] == mc.dim);
    double err = std::abs(v.contact_dist.at(0)[c] - mc.dist);
    for (int i = 0; i < 3; i++) err = std::max(err, std::abs(v.contact_pos.at(0)[3 * c + i] - mc.pos[i]));
    // float: a frame's tangents are ill-conditioned when capsules are near parallel
    const double frame_scale = dbl ? 1.0 : 0.1;
    for (int i = 0; i < 9; i++) {
      err = std::max(err, frame_scale * std::abs(v.contact_frame.at(0)[9 * c + i] - mc.frame[i]));
    }
    // parameters are copies and mixes of model values: exact up to one rounding
    double perr = std::abs(v.contact_includemargin.at(0)[c] - mc.includemargin);
    for (int i = 0; i < 5; i++) perr = std::max(perr, std::abs(v.contact_friction.at(0)[5 * c + i] - mc.friction[i]));
    for (int i = 0; i < 2; i++) perr = std::max(perr, std::abs(v.contact_solref.at(0)[2 * c + i] - mc.solref[i]));
    for (int i = 0; i < 2; i++) {
      perr = std::max(perr, std::abs(v.contact_solreffriction.at(0)[2 * c + i] - mc.solreffriction[i]));
    }
    for (int i = 0; i < 5; i++) perr = std::max(perr, std::abs(v.contact_solimp.at(0)[5 * c + i] - mc.solimp[i]));
    REQUIRE(perr < (dbl ? 1e-15 : 1e-6));
    REQUIRE(err < (dbl ? 1e-9 : 1e-3));
    stats.max_err = std::max(stats.max_err, err);
  }
}

template <class Real = double>
void check_model(mjModel* mm, int nstate, double zlo, double zhi, unsigned seed,
                 int min_contacts) {
  MjDataPtr md(mj_makeData(mm));
  Model<Real> model = compile_model<Real>(mm);
  Data<Real> data(DataSizes::of(model.view(), 1, 2000, 1));
  std::mt19937 rng(seed);
  Compared stats;
  for (int s = 0; s < nstate; s++) {
    randomize(mm, md.get(), rng, zlo, zhi);
    INFO("state " << s);
    compare_state(mm, md.get(), model, data, stats);
  }
  WARN(stats.states << " states, " << stats.contacts << " contacts, max error " << stats.max_err);
  CHECK(stats.contacts >= min_contacts);
}

}  // namespace

TEST_CASE("collision_world matches MuJoCo on humanoid.xml", "[collision]") {
  MjModelPtr mm(load_file(MUJOCO_SAMPLES_DIR "/humanoid/humanoid.xml"));
  check_model(mm.get(), 300, 0.05, 1.3, 11, 600);
}

TEST_CASE("collision_world matches MuJoCo on 22_humanoids.xml", "[collision]") {
  MjModelPtr mm(load_file(MUJOCO_SAMPLES_DIR "/humanoid/22_humanoids.xml"));
  check_model(mm.get(), 20, 0.05, 1.3, 12, 200);
}

TEST_CASE("collision_world in float finds MuJoCo's contacts on the humanoids", "[collision]") {
  MjModelPtr one(load_file(MUJOCO_SAMPLES_DIR "/humanoid/humanoid.xml"));
  check_model<float>(one.get(), 300, 0.05, 1.3, 11, 600);
  MjModelPtr many(load_file(MUJOCO_SAMPLES_DIR "/humanoid/22_humanoids.xml"));  // 16-pair blocks
  check_model<float>(many.get(), 20, 0.05, 1.3, 12, 200);
}

TEST_CASE("collision_world matches MuJoCo on our robots", "[collision]") {
  for (const char* path : {STAMPEDE_ASSETS_DIR "/humanoid/humanoid.xml", STAMPEDE_ASSETS_DIR "/h1/h1.xml"}) {
    INFO(path);
    MjModelPtr mm(load_file(path));
    if (!stampede::sim::unsupported_features(mm.get()).empty()) {
      WARN(path << " uses features we refuse; skipped");
      continue;
    }
    check_model(mm.get(), 200, 0.05, 1.2, 13, 200);
  }
}

TEST_CASE("collision_world follows pair, exclude, bitmask, priority and gap rules", "[collision]") {
  // boxes, capsules and spheres in a pile: explicit pairs (one overriding a default pair, one
  // between geoms the bitmasks would drop), an exclude, a parent-child pair, priority and
  // solmix mixing, margins and gaps (contacts in the gap band excluded from the solver)
  const char* xml = R"(
<mujoco>
  <option gravity="0 0 0"/>
  <worldbody>
    <geom name="floor" type="plane" size="0 0 1" margin="0.01" gap="0.02" solmix="2"/>
    <body name="a" pos="0 0 0.2">
      <freejoint/>
      <geom name="a1" type="box" size="0.1 0.15 0.08" priority="1" friction="0.7 0.01 0.001"/>
      <geom name="a2" type="capsule" size="0.05 0.2" pos="0 0 0.1" solref="0.03 0.9" margin="0.03" gap="0.01"/>
      <body name="a_child" pos="0 0 0.25">
        <joint type="hinge" axis="1 0 0"/>
        <geom name="c1" type="sphere" size="0.1" solmix="0.5" solimp="0.8 0.9 0.01 0.4 3"/>
      </body>
    </body>
    <body name="b" pos="0.1 0.05 0.3">
      <freejoint/>
      <geom name="b1" type="box" size="0.12 0.1 0.1" contype="2" conaffinity="2"/>
      <geom name="b2" type="sphere" size="0.08" pos="0 0.1 0" solref="-1000 -50"/>
    </body>
    <body name="c" pos="-0.1 0 0.3">
      <freejoint/>
      <geom name="cc" type="capsule" size="0.06 0.15" condim="1" margin="0.02" gap="0.05"/>
    </body>
  </worldbody>
  <contact>
    <pair geom1="b1" geom2="floor" condim="1" friction="0.5 0.5 0.01 0.001 0.001" margin="0.02" gap="0.01"/>
    <pair geom1="cc" geom2="a2" solref="0.05 1" solreffriction="0.04 0.8"/>
    <exclude body1="b" body2="c"/>
  </contact>
</mujoco>)";
  MjModelPtr mm(stampede::test::load_xml_string(xml));
  REQUIRE(mm.get()->npair == 2);
  REQUIRE(mm.get()->nexclude == 1);
  check_model(mm.get(), 400, 0.0, 0.5, 14, 400);

  // filterparent disabled: the parent-child pair a2 : c1 can collide too
  std::string no_filterparent = xml;
  no_filterparent.insert(no_filterparent.find("<option"),
                         "<option><flag filterparent=\"disable\"/></option>");
  MjModelPtr mm2(stampede::test::load_xml_string(no_filterparent));
  check_model(mm2.get(), 200, 0.0, 0.5, 15, 200);
  check_model<float>(mm.get(), 400, 0.0, 0.5, 14, 400);  // the AVX-512 filters with margins and gaps
}

TEST_CASE("the AVX-512 geom-pair filter passes exactly the pairs the scalar one does", "[collision]") {
#if SP_HOST_AVX512
  // every geom pair of the static broadphase, 16 at a time, against collision_sphere_filter, on
  // the humanoids (plane and sphere tests) and on the pile with margins and gaps (the rules
  // model above, with an override margin too): bit for bit, including pairs on the boundary
  int passed = 0, pairs = 0, mismatches = 0;
  std::string first;  // the first mismatch
  for (const char* path : {MUJOCO_SAMPLES_DIR "/humanoid/humanoid.xml", MUJOCO_SAMPLES_DIR "/humanoid/22_humanoids.xml",
                           STAMPEDE_ASSETS_DIR "/h1/h1.xml"}) {
    for (int override_margin = 0; override_margin < 2; override_margin++) {
      INFO(path << ", override " << override_margin);
      MjModelPtr mm(load_file(path));
      if (override_margin) {
        mm.get()->opt.enableflags |= mjENBL_OVERRIDE;
        mm.get()->opt.o_margin = 0.05;
      } else {
        for (int g = 0; g < mm.get()->ngeom; g++) {  // margins and gaps of a few centimetres
          mm.get()->geom_margin[g] = 0.01 * (g % 4);
          mm.get()->geom_gap[g] = 0.005 * (g % 3);
        }
      }
      MjDataPtr md(mj_makeData(mm.get()));
      Model<float> model = compile_model<float>(mm.get());
      const auto& m = model.view();
      std::mt19937 rng(21);
      std::vector<float> xpos(3 * m.ngeom), xmat(9 * m.ngeom);
      for (int s = 0; s < 40; s++) {
        randomize(mm.get(), md.get(), rng, 0.05, 1.3);
        mj_kinematics(mm.get(), md.get());
        std::copy(md.get()->geom_xpos, md.get()->geom_xpos + 3 * m.ngeom, xpos.begin());
        std::copy(md.get()->geom_xmat, md.get()->geom_xmat + 9 * m.ngeom, xmat.begin());
        for (int j0 = 0; j0 < m.ngeompair; j0 += 16) {
          uint32_t near = stampede::kern::constraint::collision_geompairs_near16(m, xpos.data(), xmat.data(), j0);
          for (int j = j0; j < j0 + 16; j++) {
            pairs += j < m.ngeompair;
            bool bit = (near >> (j - j0)) & 1u;
            bool scalar = false;
            if (j < m.ngeompair) {
              int g1 = m.geompair_geom[2 * j], g2 = m.geompair_geom[2 * j + 1];
              float bound = stampede::kern::constraint::contact_margin(m, g1, g2, -1) +
                            stampede::kern::constraint::contact_gap(m, g1, g2, -1);
              scalar = !stampede::kern::constraint::collision_sphere_filter(m, xpos.data(), xmat.data(), g1, g2, bound);
            }
            if (bit != scalar && mismatches++ == 0) first = "state " + std::to_string(s) + ", pair " + std::to_string(j);
            passed += bit;
          }
        }
      }
    }
  }
  WARN(pairs << " geom pairs tested, " << passed << " passed the filter");
  INFO("first mismatch: " << first);
  CHECK(mismatches == 0);
  CHECK(passed > 1000);
  CHECK(passed < pairs);
#else
  WARN("not an AVX-512 build: the scalar filter is the only one");
#endif
}

TEST_CASE("contacts and constraint rows beyond capacity are counted, never written", "[collision]") {
  // a box resting flat on the floor has 4 contacts (and 16 pyramidal rows); capacities of 3
  // contacts and 6 rows keep the first ones, count the rest and flag the world
  const char* xml = R"(
<mujoco>
  <worldbody>
    <geom type="plane" size="0 0 1"/>
    <body pos="0 0 0.099"><freejoint/><geom type="box" size="0.2 0.2 0.1"/></body>
  </worldbody>
</mujoco>)";
  MjModelPtr mm(stampede::test::load_xml_string(xml));
  MjDataPtr md(mj_makeData(mm.get()));
  mj_forward(mm.get(), md.get());
  REQUIRE(md.get()->ncon == 4);
  Model<double> model = compile_model<double>(mm.get());
  for (int ccap : {3, 8}) {
    Data<double> data(DataSizes::of(model.view(), 1, ccap, 6));
    const auto& v = data.view();
    std::copy(md.get()->xpos, md.get()->xpos + 3 * mm.get()->nbody, v.xpos.at(0));
    std::copy(md.get()->geom_xpos, md.get()->geom_xpos + 3 * mm.get()->ngeom, v.geom_xpos.at(0));
    std::copy(md.get()->geom_xmat, md.get()->geom_xmat + 9 * mm.get()->ngeom, v.geom_xmat.at(0));
    std::copy(md.get()->cdof, md.get()->cdof + 6 * mm.get()->nv, v.cdof.at(0));
    std::copy(md.get()->subtree_com, md.get()->subtree_com + 3 * mm.get()->nbody, v.subtree_com.at(0));
    stampede::kern::constraint::collision_world(model.view(), v, 0);
    int kept = std::min(ccap, 4);
    CHECK(v.ncon.at(0)[0] == kept);
    CHECK(v.contact_overflow.at(0)[0] == 4 - kept);
    CHECK(((v.warning_flags.at(0)[0] & stampede::kern::kWarnContactOverflow) != 0) == (ccap < 4));
    for (int c = 0; c < kept; c++) CHECK(v.contact_dist.at(0)[c] == Approx(md.get()->contact[c].dist));
    stampede::kern::constraint::make_constraint_world(model.view(), v, 0);
    // 4 rows per contact: one contact fits in 6 rows, the others are counted
    CHECK(v.nefc.at(0)[0] == 4);
    CHECK(v.efc_overflow.at(0)[0] == 4 * (kept - 1));
    CHECK((v.warning_flags.at(0)[0] & stampede::kern::kWarnConstraintOverflow) != 0);
    CHECK(v.contact_efc_address.at(0)[0] == 0);
    for (int c = 1; c < kept; c++) CHECK(v.contact_efc_address.at(0)[c] == -1);
  }
}
