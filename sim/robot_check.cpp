// sim/robot_check.cpp — robot.yaml against the compiled MJCF: every name exists with the right
// kind, each actuator is a plain motor on its joint whose ctrlrange matches the torque limit,
// and the control period is a whole number of physics steps.
#include "sim/robot_check.h"

#include <mujoco/mujoco.h>

#include <cmath>
#include <sstream>
#include <string>

namespace stampede::sim {
namespace {

using robot::RobotError;
using robot::RobotSpec;

std::string num(double v) {
  std::ostringstream s;
  s.precision(10);
  s << v;
  return s.str();
}

// "(robot.yaml:12, joints[3].name)"
std::string where(const RobotSpec& spec, const std::string& field) {
  return "(" + spec.path + ":" + std::to_string(spec.line_of(field)) + ", " + field + ")";
}

[[noreturn]] void fail(const std::string& what) { throw RobotError(what); }

bool close_rel(double a, double b, double rel) { return std::fabs(a - b) <= rel * std::fabs(b); }

const char* joint_type_name(int type) {
  switch (type) {
    case mjJNT_FREE: return "free";
    case mjJNT_BALL: return "ball";
    case mjJNT_SLIDE: return "slide";
    case mjJNT_HINGE: return "hinge";
    default: return "unknown";
  }
}

// why an actuator is not a plain motor (ctrl = force / gear), or "" when it is one
std::string motor_mismatch(const mjModel* m, int a) {
  if (m->actuator_dyntype[a] != mjDYN_NONE) {
    return "has activation dynamics (dyntype " + std::to_string(m->actuator_dyntype[a]) + ")";
  }
  if (m->actuator_gaintype[a] != mjGAIN_FIXED) {
    return "has a non-fixed gain (gaintype " + std::to_string(m->actuator_gaintype[a]) + ")";
  }
  if (m->actuator_gainprm[a * mjNGAIN] != 1) {
    return "has gain " + num(m->actuator_gainprm[a * mjNGAIN]) + ", not 1";
  }
  if (m->actuator_biastype[a] != mjBIAS_NONE) {
    return "has a bias force (biastype " + std::to_string(m->actuator_biastype[a]) +
           ", as a position or velocity servo has)";
  }
  if (m->actuator_ctrlnum[a] != 1 || m->actuator_outnum[a] != 1) return "has more than one control or output";
  if (m->actuator_delay[a] != 0) return "has a delay of " + num(m->actuator_delay[a]) + " s";
  return "";
}

// one actuated joint: joint, actuator, transmission, motor, gear, ctrlrange
void bind_joint(const RobotSpec& spec, const mjModel* m, int i, RobotBinding& b) {
  const robot::JointSpec& j = spec.joints[i];
  const std::string p = "joints[" + std::to_string(i) + "]";
  const std::string& mjcf = spec.mjcf;

  const int jid = mj_name2id(m, mjOBJ_JOINT, j.name.c_str());
  if (jid < 0) fail("joint '" + j.name + "' " + where(spec, p + ".name") + " is not in " + mjcf);
  if (m->jnt_type[jid] != mjJNT_HINGE && m->jnt_type[jid] != mjJNT_SLIDE) {
    fail("joint '" + j.name + "' " + where(spec, p + ".name") + " is a " + joint_type_name(m->jnt_type[jid]) +
         " joint in " + mjcf + "; expected a hinge or slide joint");
  }

  const std::string at = where(spec, p + ".actuator");
  const int a = mj_name2id(m, mjOBJ_ACTUATOR, j.actuator.c_str());
  if (a < 0) fail("actuator '" + j.actuator + "' " + at + " is not in " + mjcf);
  const int trn = m->actuator_trntype[a];
  if ((trn != mjTRN_JOINT && trn != mjTRN_JOINTINPARENT) || m->actuator_trnid[2 * a] != jid) {
    const int target = m->actuator_trnid[2 * a];
    const char* target_name = (trn == mjTRN_JOINT || trn == mjTRN_JOINTINPARENT)
                                  ? mj_id2name(m, mjOBJ_JOINT, target) : nullptr;
    fail("actuator '" + j.actuator + "' " + at + " does not act on joint '" + j.name + "' in " + mjcf +
         " (it acts on " + (target_name ? "joint '" + std::string(target_name) + "'"
                                        : "a transmission of type " + std::to_string(trn)) + ")");
  }
  const std::string why = motor_mismatch(m, a);
  if (!why.empty()) {
    fail("actuator '" + j.actuator + "' " + at + " is not a plain motor in " + mjcf + ": it " + why +
         "; expected <motor> (gaintype fixed with gain 1, biastype none, dyntype none), since the "
         "task computes the PD torque itself");
  }
  const double gear = m->actuator_gear[6 * m->actuator_outadr[a]];
  if (!(gear > 0)) {
    fail("actuator '" + j.actuator + "' " + at + " has gear " + num(gear) + " in " + mjcf +
         "; expected a gear > 0");
  }
  const int c = m->actuator_ctrladr[a];
  if (m->actuator_ctrllimited[c]) {
    const double lo = m->actuator_ctrlrange[2 * c], hi = m->actuator_ctrlrange[2 * c + 1];
    const double limit = j.torque_limit / gear;
    if (!close_rel(lo, -limit, 1e-6) || !close_rel(hi, limit, 1e-6)) {
      fail("actuator '" + j.actuator + "' " + at + " has ctrlrange [" + num(lo) + ", " + num(hi) + "] in " +
           mjcf + "; expected ±torque_limit / gear = ±" + num(limit) + " (torque_limit " +
           num(j.torque_limit) + " " + where(spec, p + ".torque_limit") + ", gear " + num(gear) + ")");
    }
  }

  b.jnt_id.push_back(jid);
  b.jnt_qposadr.push_back(m->jnt_qposadr[jid]);
  b.jnt_dofadr.push_back(m->jnt_dofadr[jid]);
  b.actuator_id.push_back(a);
  b.actuator_ctrladr.push_back(c);
  b.actuator_gear.push_back(gear);
}

int find_body(const RobotSpec& spec, const mjModel* m, const std::string& name, const std::string& field,
              const char* what) {
  const int id = mj_name2id(m, mjOBJ_BODY, name.c_str());
  if (id < 0) fail(std::string(what) + " '" + name + "' " + where(spec, field) + " is not a body in " + spec.mjcf);
  if (id == 0) fail(std::string(what) + " '" + name + "' " + where(spec, field) + " is the world body; expected a moving body");
  return id;
}

// base body (and its free joint, if any), IMU site, foot bodies
void bind_frames(const RobotSpec& spec, const mjModel* m, RobotBinding& b) {
  b.base_body = find_body(spec, m, spec.base_body, "frames.base", "base body");
  if (m->body_jntnum[b.base_body] > 0) {
    const int jid = m->body_jntadr[b.base_body];
    if (m->jnt_type[jid] == mjJNT_FREE) {
      b.base_qposadr = m->jnt_qposadr[jid];
      b.base_dofadr = m->jnt_dofadr[jid];
    }
  }
  b.imu_site = mj_name2id(m, mjOBJ_SITE, spec.imu_site.c_str());
  if (b.imu_site < 0) {
    fail("IMU site '" + spec.imu_site + "' " + where(spec, "frames.imu") + " is not a site in " + spec.mjcf);
  }
  for (std::size_t k = 0; k < spec.feet.size(); ++k) {
    const std::string field = "frames.feet[" + std::to_string(k) + "]";
    b.feet.push_back(find_body(spec, m, spec.feet[k], field, "foot body"));
  }
}

// the policy period must be a whole number of physics steps
void check_period(const RobotSpec& spec, const mjModel* m) {
  const double step = m->opt.timestep * spec.decimation;
  if (!close_rel(spec.control_period, step, 1e-9)) {
    fail("control period " + num(spec.control_period) + " s " + where(spec, "control.period") +
         " is not timestep × decimation = " + num(m->opt.timestep) + " s × " + std::to_string(spec.decimation) +
         " " + where(spec, "control.decimation") + " = " + num(step) + " s of " + spec.mjcf +
         "; expected them equal");
  }
}

}  // namespace

RobotBinding bind_robot(const robot::RobotSpec& spec, const mjModel* m) {
  if (!m) throw RobotError(spec.path + ": no compiled model to check against (" + spec.mjcf + ")");
  RobotBinding b;
  for (int i = 0; i < spec.num_joints(); ++i) bind_joint(spec, m, i, b);
  bind_frames(spec, m, b);
  check_period(spec, m);
  return b;
}

void check_robot_against_model(const robot::RobotSpec& spec, const mjModel* m) { bind_robot(spec, m); }

}  // namespace stampede::sim
