// sim/tasks/task_model.h — resolves a robot description and a task config against a compiled
// MuJoCo model: the constant TaskModel arrays (joint addresses, actuators, IMU chain, foot and
// collision geoms, observation layout) and the scalar TaskParams the per-world functions read.
#pragma once

#include <string>
#include <vector>

#include "sim/robot/robot.h"
#include "sim/tasks/locomotion_kernels.h"
#include "sim/tasks/task_config.h"

struct mjModel_;
typedef struct mjModel_ mjModel;

namespace stampede::sim::tasks {

// owns the arrays a TaskModel points into
template <class Real>
struct TaskModelStorage {
  TaskModel<Real> sizes;  // scalars (sizes, addresses); pointers filled by view()
  std::vector<int> jnt_qposadr, jnt_dofadr, act_id;
  std::vector<Real> act_gear, default_pos, kp, kd, torque_limit, soft_lower, soft_upper;
  std::vector<Real> imu_step_quat, imu_step_qpos0, imu_step_axis;
  std::vector<int> imu_step_type, imu_step_qposadr, imu_step_dofadr;
  std::vector<int> foot_body, geom_foot, geom_collision;
  std::vector<unsigned char> geom_terminate;
  std::vector<int> obs_kind, obs_offset, obs_size;
  std::vector<Real> obs_clip, obs_scale, obs_noise;
  std::vector<Real> init_qpos;
  std::vector<std::string> collision_body_names;  // bodies the collision penalty counts

  TaskModel<Real> view() const;
};

// the ObsKind of a robot.yaml term name; -1 if unknown
int obs_kind_from_name(const std::string& term);

// throws std::invalid_argument naming the robot.yaml / MJCF field that does not fit
template <class Real>
TaskModelStorage<Real> build_task_model(const mjModel* m, const robot::RobotSpec& spec,
                                        const TaskConfig& cfg);

template <class Real>
TaskParams<Real> make_task_params(const mjModel* m, const robot::RobotSpec& spec,
                                  const TaskConfig& cfg);

}  // namespace stampede::sim::tasks
