// sim/robot_check.h — checks a robot description against the compiled MJCF it names, and
// resolves its names to MuJoCo indices (the binding the task and the runtime index with).
#pragma once

#include <vector>

#include "sim/robot/robot.h"

struct mjModel_;
typedef struct mjModel_ mjModel;

namespace stampede::sim {

// where each contract entity lives in the mjModel; per-joint arrays are in policy order
struct RobotBinding {
  std::vector<int> jnt_id;         // (njoint) MJCF joint id
  std::vector<int> jnt_qposadr;    // (njoint) address in qpos
  std::vector<int> jnt_dofadr;     // (njoint) address in qvel / qfrc
  std::vector<int> actuator_id;    // (njoint) MJCF actuator id
  std::vector<int> actuator_ctrladr;  // (njoint) address in ctrl: ctrl[adr] = torque / gear
  std::vector<double> actuator_gear;  // (njoint) gear (> 0): joint torque per unit ctrl
  int base_body = -1;              // base body id
  int base_qposadr = -1;           // qpos address of the base's free joint (7: pos, quat); -1: none
  int base_dofadr = -1;            // qvel address of the base's free joint (6: lin, ang); -1: none
  int imu_site = -1;               // IMU site id
  std::vector<int> feet;           // (nfeet) foot body ids
};

// throws robot::RobotError naming robot.yaml's path, line and field, and the MJCF, when the
// description does not fit the model (see docs/robot_yaml.md, "Checks against the MJCF")
RobotBinding bind_robot(const robot::RobotSpec& spec, const mjModel* m);
void check_robot_against_model(const robot::RobotSpec& spec, const mjModel* m);

}  // namespace stampede::sim
