// tests/sim/robot/test_robot_check.cpp — robot.yaml against compiled MJCF models (inline XML
// through MuJoCo's VFS): the binding holds MuJoCo's own indices, and every mismatch is refused
// with robot.yaml's path, line and field.
#include <catch2/catch.hpp>

#include <mujoco/mujoco.h>

#include <filesystem>
#include <memory>
#include <string>

#include "robot_fixture.h"
#include "sim/robot_check.h"

using namespace stampede::robot;
using namespace stampede::robot::test;
using stampede::sim::bind_robot;
using stampede::sim::check_robot_against_model;
using stampede::sim::RobotBinding;

namespace {

// floating pelvis, hip (hinge) -> knee (hinge) -> ankle (slide) -> left_foot; a ball-jointed
// right_foot; motors whose ctrlrange is torque_limit / gear for kRobotYaml's joints
const char* kTinyXml = R"(
<mujoco model="tiny">
  <option timestep="0.005"/>
  <worldbody>
    <body name="pelvis" pos="0 0 1">
      <freejoint name="root"/>
      <geom type="sphere" size="0.1"/>
      <site name="imu" pos="0 0 0.05"/>
      <body name="thigh">
        <joint name="hip" type="hinge" axis="0 1 0"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.4" size="0.05"/>
        <body name="shin" pos="0 0 -0.4">
          <joint name="knee" type="hinge" axis="0 1 0"/>
          <geom type="capsule" fromto="0 0 0 0 0 -0.4" size="0.04"/>
          <body name="left_foot" pos="0 0 -0.4">
            <joint name="ankle" type="slide" axis="0 0 1"/>
            <geom type="box" size="0.1 0.05 0.02"/>
          </body>
        </body>
      </body>
      <body name="right_foot" pos="0 0.2 -0.8">
        <joint name="wrist" type="ball"/>
        <geom type="box" size="0.1 0.05 0.02"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="hip" joint="hip" gear="1" ctrlrange="-200 200"/>
    <motor name="knee_motor" joint="knee" gear="2" ctrlrange="-60 60"/>
    <motor name="ankle" joint="ankle"/>
    <position name="hip_servo" joint="hip" kp="10"/>
  </actuator>
</mujoco>
)";

struct ModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};
using ModelPtr = std::unique_ptr<mjModel, ModelDeleter>;

// compile an MJCF text (fails the test if MuJoCo refuses it)
ModelPtr load_xml(const std::string& xml) {
  mjVFS vfs;
  mj_defaultVFS(&vfs);
  REQUIRE(mj_addBufferVFS(&vfs, "tiny.xml", xml.data(), static_cast<int>(xml.size())) == 0);
  char err[1000] = "";
  ModelPtr m(mj_loadXML("tiny.xml", &vfs, err, sizeof(err)));
  mj_deleteVFS(&vfs);
  INFO("MuJoCo: " << err);
  REQUIRE(m);
  return m;
}

// the RobotError message of checking `yaml` against `xml`, or "" when it passes
std::string check_error(const std::string& yaml, const std::string& xml) {
  const RobotSpec spec = parse_robot(yaml, kRobotPath);
  const ModelPtr m = load_xml(xml);
  try {
    check_robot_against_model(spec, m.get());
  } catch (const RobotError& e) {
    return e.what();
  }
  return "";
}

// the check fails, the message names robot.yaml:line and the field, and says `expected`
void require_mismatch(const std::string& yaml, const std::string& xml, int line, const std::string& field,
                      const std::string& expected) {
  const std::string msg = check_error(yaml, xml);
  INFO("message: " << msg);
  REQUIRE_FALSE(msg.empty());
  CHECK(msg.find("(" + std::string(kRobotPath) + ":" + std::to_string(line) + ", " + field + ")") !=
        std::string::npos);
  CHECK(msg.find(expected) != std::string::npos);
}

}  // namespace

TEST_CASE("robot_check: the binding holds MuJoCo's indices", "[robot][robot_check]") {
  const RobotSpec spec = parse_robot(kRobotYaml, kRobotPath);
  const ModelPtr m = load_xml(kTinyXml);
  const RobotBinding b = bind_robot(spec, m.get());
  REQUIRE(b.jnt_id.size() == 3);
  // free joint: qpos 0..6, dof 0..5; then hip, knee, ankle
  CHECK(b.jnt_qposadr == std::vector<int>{7, 8, 9});
  CHECK(b.jnt_dofadr == std::vector<int>{6, 7, 8});
  CHECK(b.actuator_id == std::vector<int>{0, 1, 2});
  CHECK(b.actuator_ctrladr == std::vector<int>{0, 1, 2});
  CHECK(b.actuator_gear == std::vector<double>{1, 2, 1});
  for (int i = 0; i < 3; ++i) {
    CHECK(b.jnt_id[i] == mj_name2id(m.get(), mjOBJ_JOINT, spec.joints[i].name.c_str()));
    CHECK(b.actuator_id[i] == mj_name2id(m.get(), mjOBJ_ACTUATOR, spec.joints[i].actuator.c_str()));
  }
  CHECK(b.base_body == mj_name2id(m.get(), mjOBJ_BODY, "pelvis"));
  CHECK(b.base_body == 1);
  CHECK(b.base_qposadr == 0);
  CHECK(b.base_dofadr == 0);
  CHECK(b.imu_site == mj_name2id(m.get(), mjOBJ_SITE, "imu"));
  CHECK(b.imu_site == 0);
  CHECK(b.feet == std::vector<int>{mj_name2id(m.get(), mjOBJ_BODY, "left_foot"),
                                   mj_name2id(m.get(), mjOBJ_BODY, "right_foot")});
  CHECK_NOTHROW(check_robot_against_model(spec, m.get()));
}

TEST_CASE("robot_check: a base without a free joint binds with no base address", "[robot][robot_check]") {
  const std::string xml = replace_once(kTinyXml, "<freejoint name=\"root\"/>", "");
  const RobotBinding b = bind_robot(parse_robot(kRobotYaml, kRobotPath), load_xml(xml).get());
  CHECK(b.base_qposadr == -1);
  CHECK(b.base_dofadr == -1);
  CHECK(b.jnt_qposadr == std::vector<int>{0, 1, 2});
}

TEST_CASE("robot_check: a joint that is not in the MJCF is refused", "[robot][robot_check]") {
  const std::string yaml = replace_once(kRobotYaml, "name: knee", "name: kneee");
  require_mismatch(yaml, kTinyXml, 10, "joints[1].name", "joint 'kneee' (" + std::string(kRobotPath) +
                                                             ":10, joints[1].name) is not in /robots/tiny/tiny.xml");
}

TEST_CASE("robot_check: a joint that is not hinge or slide is refused", "[robot][robot_check]") {
  const std::string yaml = replace_once(kRobotYaml, "{name: ankle,", "{name: wrist, actuator: ankle,");
  require_mismatch(yaml, kTinyXml, 16, "joints[2].name", "is a ball joint");
  const std::string yaml2 = replace_once(kRobotYaml, "{name: ankle,", "{name: root, actuator: ankle,");
  require_mismatch(yaml2, kTinyXml, 16, "joints[2].name", "is a free joint");
}

TEST_CASE("robot_check: a missing actuator, or one on another joint, is refused", "[robot][robot_check]") {
  std::string yaml = replace_once(kRobotYaml, "actuator: knee_motor", "actuator: knee_drive");
  require_mismatch(yaml, kTinyXml, 11, "joints[1].actuator", "actuator 'knee_drive'");
  require_mismatch(yaml, kTinyXml, 11, "joints[1].actuator", "is not in /robots/tiny/tiny.xml");
  // defaulted actuator name: the joint's own line
  const std::string xml = replace_once(kTinyXml, "<motor name=\"ankle\"", "<motor name=\"ankle_m\"");
  require_mismatch(kRobotYaml, xml, 16, "joints[2].actuator", "actuator 'ankle'");
  // knee driven by the hip's servo
  yaml = replace_once(kRobotYaml, "actuator: knee_motor", "actuator: hip_servo");
  require_mismatch(yaml, kTinyXml, 11, "joints[1].actuator", "does not act on joint 'knee'");
  require_mismatch(yaml, kTinyXml, 11, "joints[1].actuator", "it acts on joint 'hip'");
}

TEST_CASE("robot_check: an actuator that is not a plain motor is refused", "[robot][robot_check]") {
  const std::string motor = "<motor name=\"knee_motor\" joint=\"knee\" gear=\"2\" ctrlrange=\"-60 60\"/>";
  // a position servo has a bias force
  require_mismatch(kRobotYaml,
                   replace_once(kTinyXml, motor, "<position name=\"knee_motor\" joint=\"knee\" kp=\"50\"/>"), 11,
                   "joints[1].actuator", "is not a plain motor");
  require_mismatch(kRobotYaml,
                   replace_once(kTinyXml, motor, "<velocity name=\"knee_motor\" joint=\"knee\" kv=\"5\"/>"), 11,
                   "joints[1].actuator", "bias");
  // a gain other than 1
  require_mismatch(kRobotYaml,
                   replace_once(kTinyXml, motor,
                                "<general name=\"knee_motor\" joint=\"knee\" gear=\"2\" gainprm=\"3\" "
                                "ctrlrange=\"-60 60\"/>"),
                   11, "joints[1].actuator", "has gain 3, not 1");
  // activation dynamics
  require_mismatch(kRobotYaml,
                   replace_once(kTinyXml, motor,
                                "<general name=\"knee_motor\" joint=\"knee\" gear=\"2\" dyntype=\"filter\" "
                                "dynprm=\"0.05\" ctrlrange=\"-60 60\"/>"),
                   11, "joints[1].actuator", "activation dynamics");
  // an affine gain
  require_mismatch(kRobotYaml,
                   replace_once(kTinyXml, motor,
                                "<general name=\"knee_motor\" joint=\"knee\" gear=\"2\" gaintype=\"affine\" "
                                "gainprm=\"1 0 1\" ctrlrange=\"-60 60\"/>"),
                   11, "joints[1].actuator", "non-fixed gain");
  // a delayed control: the actuator reads ctrl from its history, not from this step's ctrl
  require_mismatch(kRobotYaml,
                   replace_once(kTinyXml, motor,
                                "<motor name=\"knee_motor\" joint=\"knee\" gear=\"2\" ctrlrange=\"-60 60\" "
                                "nsample=\"2\" delay=\"0.01\"/>"),
                   11, "joints[1].actuator", "has a delay of 0.01 s");
  // the same actuator written as <general> with the motor's settings passes
  CHECK(check_error(kRobotYaml, replace_once(kTinyXml, motor,
                                             "<general name=\"knee_motor\" joint=\"knee\" gear=\"2\" "
                                             "ctrlrange=\"-60 60\"/>")) == "");
}

TEST_CASE("robot_check: a gear that is not > 0 is refused", "[robot][robot_check]") {
  const std::string xml = replace_once(kTinyXml, "joint=\"knee\" gear=\"2\" ctrlrange=\"-60 60\"",
                                       "joint=\"knee\" gear=\"-2\" ctrlrange=\"-60 60\"");
  require_mismatch(kRobotYaml, xml, 11, "joints[1].actuator", "has gear -2");
  const std::string xml0 = replace_once(kTinyXml, "joint=\"knee\" gear=\"2\" ctrlrange=\"-60 60\"",
                                        "joint=\"knee\" gear=\"0\"");
  require_mismatch(kRobotYaml, xml0, 11, "joints[1].actuator", "expected a gear > 0");
}

TEST_CASE("robot_check: a ctrlrange other than ±torque_limit / gear is refused", "[robot][robot_check]") {
  // 120 N·m through gear 2 is ±60; ±120 would allow twice the torque
  std::string xml = replace_once(kTinyXml, "ctrlrange=\"-60 60\"", "ctrlrange=\"-120 120\"");
  require_mismatch(kRobotYaml, xml, 11, "joints[1].actuator", "expected ±torque_limit / gear = ±60");
  require_mismatch(kRobotYaml, xml, 11, "joints[1].actuator", "(" + std::string(kRobotPath) + ":15, joints[1].torque_limit)");
  xml = replace_once(kTinyXml, "ctrlrange=\"-200 200\"", "ctrlrange=\"-200 150\"");
  require_mismatch(kRobotYaml, xml, 5, "joints[0].actuator", "has ctrlrange [-200, 150]");
  // within the relative tolerance of 1e-6: accepted; just beyond it: refused
  xml = replace_once(kTinyXml, "ctrlrange=\"-200 200\"", "ctrlrange=\"-200.0001 200.0001\"");
  CHECK(check_error(kRobotYaml, xml) == "");
  xml = replace_once(kTinyXml, "ctrlrange=\"-200 200\"", "ctrlrange=\"-200.001 200.001\"");
  require_mismatch(kRobotYaml, xml, 5, "joints[0].actuator", "ctrlrange");
  // the torque limit in robot.yaml is what moves
  require_mismatch(replace_once(kRobotYaml, "torque_limit: 200.0", "torque_limit: 180"), kTinyXml, 5,
                   "joints[0].actuator", "±180");
  // an unlimited ctrl (the ankle) is not checked: the task clips the torque itself
  CHECK(check_error(replace_once(kRobotYaml, "torque_limit: 50", "torque_limit: 77"), kTinyXml) == "");
}

TEST_CASE("robot_check: a missing base body, IMU site or foot body is refused", "[robot][robot_check]") {
  require_mismatch(replace_once(kRobotYaml, "base: pelvis", "base: torso"), kTinyXml, 27, "frames.base",
                   "base body 'torso'");
  require_mismatch(replace_once(kRobotYaml, "base: pelvis", "base: world"), kTinyXml, 27, "frames.base",
                   "world body");
  require_mismatch(replace_once(kRobotYaml, "imu: imu", "imu: pelvis"), kTinyXml, 27, "frames.imu",
                   "IMU site 'pelvis'");
  require_mismatch(replace_once(kRobotYaml, "[left_foot, right_foot]", "[left_foot, right_toe]"), kTinyXml, 27,
                   "frames.feet[1]", "foot body 'right_toe'");
  // a multi-line list: the foot's own line
  const std::string yaml = replace_once(kRobotYaml, "frames: {base: pelvis, imu: imu, feet: [left_foot, right_foot]}",
                                        "frames:\n  base: pelvis\n  imu: imu\n  feet:\n    - left_foot\n    - rite_foot");
  require_mismatch(yaml, kTinyXml, 32, "frames.feet[1]", "is not a body in /robots/tiny/tiny.xml");
}

TEST_CASE("robot_check: the control period must be timestep × decimation", "[robot][robot_check]") {
  std::string xml = replace_once(kTinyXml, "timestep=\"0.005\"", "timestep=\"0.004\"");
  require_mismatch(kRobotYaml, xml, 18, "control.period", "is not timestep × decimation = 0.004 s × 4");
  require_mismatch(replace_once(kRobotYaml, "decimation: 4", "decimation: 5"), kTinyXml, 18, "control.period",
                   "= 0.025 s");
  // 0.02 / 4 in floating point is not exactly 0.005: relative 1e-9 absorbs the rounding
  CHECK(check_error(replace_once(kRobotYaml, "period: 0.02, decimation: 4", "period: 0.03, decimation: 6"),
                    kTinyXml) == "");
  CHECK(check_error(replace_once(kRobotYaml, "period: 0.02", "period: 0.0200001"), kTinyXml) != "");
}

TEST_CASE("robot_check: every robot under assets/ fits its MJCF", "[robot][robot_check]") {
  namespace fs = std::filesystem;
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(STAMPEDE_ASSETS_DIR)) {
    const fs::path yaml = entry.path() / "robot.yaml";
    if (!fs::is_regular_file(yaml)) continue;
    INFO(yaml.string());
    const RobotSpec spec = load_robot(resolve_robot_path(entry.path().filename().string(), STAMPEDE_ASSETS_DIR));
    CHECK(spec.path == yaml.string());
    char err[1000] = "";
    ModelPtr m(mj_loadXML(spec.mjcf.c_str(), nullptr, err, sizeof(err)));
    INFO("MuJoCo: " << err);
    REQUIRE(m);
    const RobotBinding b = bind_robot(spec, m.get());
    CHECK(static_cast<int>(b.jnt_qposadr.size()) == spec.num_joints());
    CHECK(b.base_qposadr >= 0);  // a walking robot has a floating base
    ++checked;
  }
  CHECK(checked >= 1);
}
