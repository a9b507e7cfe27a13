// runtime/io_training.cpp — TrainingIO: the transfer benchmark on one world of the CPU kernel
// backend, read and driven as sim/tasks' LocomotionEnv reads and drives it.
#include "runtime/io_training.h"

#include <mujoco/mujoco.h>

#include <algorithm>
#include <stdexcept>

#include "runtime/io_mujoco.h"
#include "sim/make_backend.h"
#include "sim/robot_check.h"
#include "sim/tasks/locomotion_kernels.h"

namespace stampede::runtime {
namespace {

namespace tasks = sim::tasks;

// a model field the condition writes, or a refusal naming the condition and the target
float* condition_field(sim::Backend<float>& b, const std::string& field, const Condition& c) {
  try {
    return b.model_field(field);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("target training: cannot apply " + c.label() + ": the " + b.name() +
                                " backend has no per-world '" + field + "' (" + e.what() + ")");
  }
}

}  // namespace

TrainingIO::TrainingIO(const robot::RobotSpec& spec, const Condition& condition, uint64_t seed, double push_interval)
    : TransferTarget(spec, condition, seed, push_interval), spec_(spec) {
  char error[1024] = "";
  mjModel* m = mj_loadXML(spec.mjcf.c_str(), nullptr, error, sizeof(error));
  if (!m) throw std::runtime_error(spec.mjcf + ": MuJoCo could not load the model: " + error);
  mj_ = std::shared_ptr<const mjModel>(m, [](const mjModel* p) { mj_deleteModel(const_cast<mjModel*>(p)); });
  sim::check_robot_against_model(spec, m);
  storage_ = tasks::build_task_model<float>(m, spec, tasks::TaskConfig{});
  model_ = storage_.view();
  backend_ = sim::make_backend<float>("cpu", m, 1, 1);
  dt_ = m->opt.timestep;
  limits_ = mujoco_joint_limits(m, map_mujoco_robot(m, spec));

  // the perturbed model, through the fields domain randomization writes
  if (condition.name == "friction") {
    float* friction = condition_field(*backend_, "geom_friction", condition);
    for (int g = 0; g < model_.ngeom; ++g) friction[3 * g] = static_cast<float>(perturbed_friction(friction[3 * g], condition));
  } else if (condition.name == "mass") {
    float* mass = condition_field(*backend_, "body_mass", condition);
    mass[model_.base_body] = static_cast<float>(perturbed_base_mass(mass[model_.base_body], condition, spec.mjcf));
  }

  // the task's initial state, without randomization
  backend_->reset(nullptr, 0);
  std::copy_n(storage_.init_qpos.data(), model_.nq, backend_->qpos());
  std::fill_n(backend_->qvel(), model_.nv, 0.0f);
  backend_->forward();
  nan_resets_ = backend_->warnings()[0].nan_reset;
  base_.assign(tasks::kBaseStride, 0.0f);
  qpos_.resize(model_.nq);
  qvel_.resize(model_.nv);
  tau_.resize(model_.na);
  observe();
}

TrainingIO::~TrainingIO() = default;

void TrainingIO::observe() {
  const float* qpos = backend_->qpos();
  const float* qvel = backend_->qvel();
  tasks::SimView<float> s;
  s.qpos = backend_->qpos();
  s.qvel = backend_->qvel();
  tasks::TaskData<float> d;
  d.base = base_.data();
  tasks::base_state_world(0, model_, s, d);
  // the IMU's orientation, as base_state_world finds it
  float q[4] = {qpos[model_.base_qposadr + 3], qpos[model_.base_qposadr + 4], qpos[model_.base_qposadr + 5],
                qpos[model_.base_qposadr + 6]};
  tasks::quat_normalize(q);
  float omega[3];
  tasks::quat_rotate(omega, qvel + model_.base_dofadr + 3, q);
  tasks::imu_frame_world(imu_quat_, omega, model_, qpos, qvel, q);
  std::copy_n(qpos, model_.nq, qpos_.begin());
  std::copy_n(qvel, model_.nv, qvel_.begin());
}

void TrainingIO::read(SensorReading& out) {
  const std::size_t nj = static_cast<std::size_t>(model_.na);
  out.joint_pos.resize(nj);
  out.joint_vel.resize(nj);
  for (std::size_t j = 0; j < nj; ++j) {
    out.joint_pos[j] = qpos_[model_.jnt_qposadr[j]];
    out.joint_vel[j] = qvel_[model_.jnt_dofadr[j]];
  }
  for (int k = 0; k < 4; ++k) out.imu_quat[k] = imu_quat_[k];
  for (int k = 0; k < 3; ++k) {
    out.imu_ang_vel[k] = base_[tasks::kBImuAngVel + k];
    out.base_lin_vel[k] = base_[tasks::kBLinVel + k];
  }
  out.has_base_lin_vel = true;
  effects_.add_sensor_noise(out);
}

JointLimits TrainingIO::joint_limits() const { return limits_; }

void TrainingIO::set_fall_criteria(const FallCriteria& fall) {
  fall_body_ = fall_bodies(mj_.get(), model_.base_body, fall, spec_.mjcf);
  fall_ = fall;
}

bool TrainingIO::fallen() const {
  if (backend_->warnings()[0].nan_reset != nan_resets_) return true;  // the backend reset a NaN state
  bool contact = false;
  const int n = std::min(backend_->ncon()[0], backend_->contact_capacity());
  const int* geom = backend_->con_geom();
  for (int i = 0; i < n && !contact && !fall_body_.empty(); ++i) {
    for (int side = 0; side < 2; ++side) {
      const int g = geom[2 * i + side];
      if (g >= 0 && g < model_.ngeom && fall_body_[mj_->geom_bodyid[g]]) contact = true;
    }
  }
  const double height = backend_->xpos()[3 * model_.base_body + 2];
  return is_fall(fall_, height, -base_[tasks::kBGravity + 2], contact);
}

double TrainingIO::heading_velocity() const {
  const double* v = qvel_.data() + model_.base_dofadr;  // world linear velocity of the base
  return runtime::heading_velocity(v[0], v[1], base_[tasks::kBYaw]);
}

void TrainingIO::command_torques(double* tau) const {
  const float* qpos = backend_->qpos();
  const float* qvel = backend_->qvel();
  for (int j = 0; j < model_.na; ++j) tau[j] = effects_.torque(j, qpos[model_.jnt_qposadr[j]], qvel[model_.jnt_dofadr[j]]);
}

void TrainingIO::apply_pd() {
  command_torques(tau_.data());
  const float* qvel = backend_->qvel();
  float* ctrl = backend_->ctrl();
  for (int j = 0; j < model_.na; ++j) {
    ctrl[model_.act_id[j]] = static_cast<float>(tau_[j] / model_.act_gear[j]);
    effects_.account(tau_[j], qvel[model_.jnt_dofadr[j]], dt_);
  }
}

void TrainingIO::push_if_due() {
  double dv[2];
  if (!effects_.push(sim_time(), dt_, dv)) return;
  float* qvel = backend_->qvel();
  qvel[model_.base_dofadr] += static_cast<float>(dv[0]);
  qvel[model_.base_dofadr + 1] += static_cast<float>(dv[1]);
}

void TrainingIO::wait_until(double t) {
  while (sim_time() < t - 0.5 * dt_) {
    push_if_due();
    apply_pd();
    backend_->step(1);
    ++steps_;
  }
  observe();
}

}  // namespace stampede::runtime
