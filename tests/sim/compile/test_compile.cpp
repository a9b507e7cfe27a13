// tests/sim/compile/test_compile.cpp — sim/compile: MJCF loading errors, the supported-feature
// check, and the mjModel -> Model conversion.
#include <catch2/catch.hpp>

#include <mujoco/mujoco.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include <unistd.h>

#include "sim/compile.h"

using namespace stampede::sim;

namespace {

struct MjModelDeleter { void operator()(mjModel* m) const { mj_deleteModel(m); } };
using MjModelPtr = std::unique_ptr<mjModel, MjModelDeleter>;

MjModelPtr from_string(const std::string& xml) {
  std::string path = "/tmp/stampede_compile_" + std::to_string(::getpid()) + ".xml";
  { std::ofstream(path) << xml; }
  mjModel* m = load_mjcf(path);
  std::remove(path.c_str());
  return MjModelPtr(m);
}

bool has(const std::vector<std::string>& v, const std::string& part) {
  for (const auto& s : v)
    if (s.find(part) != std::string::npos) return true;
  return false;
}

const char* kSupported =
    "<mujoco><option timestep='0.004'/><worldbody><geom name='floor' type='plane' size='5 5 .1'/>"
    "<body name='torso' pos='0 0 1'><freejoint/><geom type='box' size='.2 .1 .3'/><site name='imu'/>"
    "<body name='leg' pos='0 0 -.3'><joint name='hip' type='hinge' axis='0 1 0' range='-1 1' damping='.5'/>"
    "<geom type='capsule' fromto='0 0 0 0 0 -.4' size='.05'/>"
    "<body name='arm' pos='.2 0 0'><joint name='shoulder' type='ball'/><geom type='sphere' size='.05'/></body>"
    "</body></body></worldbody>"
    "<actuator><motor name='hip_motor' joint='hip' gear='50' ctrlrange='-1 1'/>"
    "<position name='hip_servo' joint='hip' kp='20' kv='2'/></actuator></mujoco>";

}  // namespace

TEST_CASE("load_mjcf names the path and gives MuJoCo's message", "[compile]") {
  try {
    load_mjcf("/nonexistent/robot.xml");
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    CHECK(what.find("/nonexistent/robot.xml") != std::string::npos);
    CHECK(what.size() > std::string("cannot load MJCF '/nonexistent/robot.xml': ").size());
  }
  CHECK_THROWS_WITH(from_string("<mujoco><worldbody><body><geom type='sphere'/></body></worldbody></mujoco>"),
                    Catch::Contains("size"));
}

TEST_CASE("a supported model compiles with MuJoCo's sizes and values", "[compile]") {
  MjModelPtr m = from_string(kSupported);
  CHECK(unsupported_features(m.get()).empty());
  Model<double> r = compile_model<double>(m.get());
  CHECK(r.nq == m->nq);
  CHECK(r.nv == m->nv);
  CHECK(r.nu == 2);
  CHECK(r.nbody == 4);
  CHECK(r.njnt == 3);
  CHECK(r.nlevel == 4);
  CHECK(r.opt.timestep == 0.004);
  CHECK(r.opt_gravity.at(0)[2] == m->opt.gravity[2]);
  CHECK(r.body_mass.at(0)[1] == m->body_mass[1]);
  CHECK(r.stat.meaninertia == m->stat.meaninertia);
  CHECK(r.actuator_biasprm.at(0)[10 + 1] == -20);  // position actuator: bias = -kp * length - kv * velocity
  CHECK(r.has_limits == 1);
  CHECK(r.has_contacts == 1);
  CHECK(r.needs_constraints());
  for (int b = 1; b < r.nbody; ++b) CHECK(r.body_depth[b] == r.body_depth[r.body_parentid[b]] + 1);
  // tree levels list every body once, by depth
  CHECK(r.level_bodyadr[r.nlevel] == r.nbody);
  CHECK(r.max_depth_dofs == 6 + 1 + 3);

  Model<float> f = compile_model<float>(m.get());
  CHECK(f.body_mass.at(0)[2] == Approx(m->body_mass[2]));

  // disabling contacts and limits leaves nothing for the constraint pipeline
  m->opt.disableflags |= mjDSBL_CONTACT | mjDSBL_LIMIT;
  CHECK_FALSE(compile_model<double>(m.get()).needs_constraints());
}

TEST_CASE("unsupported features are all listed, by name", "[compile]") {
  MjModelPtr m = from_string(
      "<mujoco><option integrator='RK4' density='1.2'/><asset><mesh name='m' vertex='0 0 0 1 0 0 0 1 0 0 0 1'/></asset>"
      "<worldbody><body name='a'><joint name='ja' type='hinge'/><geom name='foot_mesh' type='mesh' mesh='m'/>"
      "<geom name='egg' type='ellipsoid' size='.1 .2 .3' condim='6'/><site name='s1'/></body>"
      "<body name='b' pos='1 0 0' gravcomp='1'><joint name='jb' type='slide'/><geom size='.1'/><site name='s2'/></body></worldbody>"
      "<tendon><spatial name='t'><site site='s1'/><site site='s2'/></spatial></tendon>"
      "<equality><joint joint1='ja' joint2='jb'/></equality>"
      "<actuator><general name='x' joint='ja' dyntype='filter' dynprm='0.1'/><motor name='y' tendon='t'/></actuator></mujoco>");
  auto f = unsupported_features(m.get());
  CHECK(has(f, "tendons (1 in model)"));
  CHECK(has(f, "equality constraints (1 in model)"));
  CHECK(has(f, "integrator RK4"));
  CHECK(has(f, "fluid forces"));
  CHECK(has(f, "mesh geom 'foot_mesh'"));
  CHECK(has(f, "ellipsoid geom 'egg'"));
  CHECK(has(f, "condim 6 on geom 'egg'"));
  CHECK(has(f, "gravity compensation on body 'b'"));
  CHECK(has(f, "actuator dynamics (dyntype 2) on 'x'"));
  CHECK(has(f, "actuator activation states"));
  CHECK(has(f, "transmission type 3 (not a joint) on 'y'"));
  try {
    compile_model<float>(m.get());
    FAIL("no exception");
  } catch (const UnsupportedModel& e) {
    CHECK(e.features() == f);
    CHECK(std::string(e.what()).find("tendons (1 in model)") != std::string::npos);
  }

  // with contacts disabled, collision geometry no longer matters
  m->opt.disableflags |= mjDSBL_CONTACT;
  CHECK_FALSE(has(unsupported_features(m.get()), "mesh geom"));
}

TEST_CASE("per-world fields expand, copy deeply and stay independent", "[compile]") {
  MjModelPtr m = from_string(kSupported);
  Model<double> r = compile_model<double>(m.get());
  PerWorld<double>* mass = r.expand("body_mass", 4);
  REQUIRE(mass);
  CHECK(mass->dim0 == 4);
  for (int w = 0; w < 4; ++w) CHECK(mass->at(w)[1] == m->body_mass[1]);
  mass->at(2)[1] = 99;
  CHECK(r.expand("no_such_field", 4) == nullptr);

  Model<double> copy = r;
  CHECK(copy.body_mass.dim0 == 4);
  CHECK(copy.body_mass.at(2)[1] == 99);
  CHECK(copy.body_mass.data != r.body_mass.data);
  CHECK(copy.body_parentid != r.body_parentid);
  copy.body_mass.at(2)[1] = 1;
  CHECK(r.body_mass.at(2)[1] == 99);
  CHECK(copy.body_pos[3 * 2 + 2] == r.body_pos[3 * 2 + 2]);
  CHECK(copy.geom_friction.dim0 == 1);
}

TEST_CASE("our robots and MuJoCo's humanoid are supported", "[compile]") {
  for (std::string path : {std::string(MUJOCO_SAMPLES_DIR) + "/humanoid/humanoid.xml",
                           std::string(STAMPEDE_ASSETS_DIR) + "/h1/h1.xml",
                           std::string(STAMPEDE_ASSETS_DIR) + "/humanoid/humanoid.xml"}) {
    if (!std::ifstream(path).good()) {
      WARN("not there yet: " << path);
      continue;
    }
    MjModelPtr m(load_mjcf(path));
    INFO(path);
    auto f = unsupported_features(m.get());
    for (const auto& s : f) UNSCOPED_INFO(s);
    CHECK(f.empty());
  }
}
