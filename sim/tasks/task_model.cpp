// sim/tasks/task_model.cpp — robot.yaml + task config + mjModel -> TaskModel / TaskParams.
#include "sim/tasks/task_model.h"

#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace stampede::sim::tasks {
namespace {

[[noreturn]] void fail(const robot::RobotSpec& spec, const std::string& field, const std::string& what) {
  throw std::invalid_argument((spec.path.empty() ? std::string("robot") : spec.path) + ": " + field +
                              ": " + what);
}

int body_id(const mjModel* m, const robot::RobotSpec& spec, const std::string& field,
            const std::string& name) {
  const int id = mj_name2id(m, mjOBJ_BODY, name.c_str());
  if (id < 0) fail(spec, field, "no body named '" + name + "' in the MJCF " + spec.mjcf);
  return id;
}

// true when body b is `ancestor` or below it
bool is_below(const mjModel* m, int b, int ancestor) {
  for (; b > 0; b = m->body_parentid[b])
    if (b == ancestor) return true;
  return ancestor == 0;
}

template <class Real>
void resolve_joints(const mjModel* m, const robot::RobotSpec& spec, const TaskConfig& cfg,
                    TaskModelStorage<Real>& s) {
  for (int i = 0; i < spec.num_joints(); ++i) {
    const robot::JointSpec& js = spec.joints[i];
    const std::string field = "joints[" + std::to_string(i) + "] (" + js.name + ")";
    const int j = mj_name2id(m, mjOBJ_JOINT, js.name.c_str());
    if (j < 0) fail(spec, field, "no joint of that name in the MJCF " + spec.mjcf);
    if (m->jnt_type[j] != mjJNT_HINGE && m->jnt_type[j] != mjJNT_SLIDE)
      fail(spec, field, "expected a hinge or slide joint");
    const std::string act = js.actuator.empty() ? js.name : js.actuator;
    const int a = mj_name2id(m, mjOBJ_ACTUATOR, act.c_str());
    if (a < 0) fail(spec, field, "no actuator named '" + act + "' in the MJCF");
    if (m->actuator_trntype[a] != mjTRN_JOINT || m->actuator_trnid[2 * a] != j)
      fail(spec, field, "actuator '" + act + "' does not drive joint '" + js.name + "'");
    const mjtNum gear = m->actuator_gear[6 * m->actuator_outadr[a]];
    if (gear == 0) fail(spec, field, "actuator '" + act + "' has gear 0");
    s.jnt_qposadr.push_back(m->jnt_qposadr[j]);
    s.jnt_dofadr.push_back(m->jnt_dofadr[j]);
    s.act_id.push_back(m->actuator_ctrladr[a]);
    s.act_gear.push_back(static_cast<Real>(gear));
    s.default_pos.push_back(static_cast<Real>(js.default_pos));
    s.kp.push_back(static_cast<Real>(js.kp));
    s.kd.push_back(static_cast<Real>(js.kd));
    s.torque_limit.push_back(static_cast<Real>(js.torque_limit));
    if (m->jnt_limited[j]) {
      const double lo = m->jnt_range[2 * j], hi = m->jnt_range[2 * j + 1];
      const double mid = 0.5 * (lo + hi), half = 0.5 * (hi - lo) * cfg.rewards.soft_dof_pos_limit;
      s.soft_lower.push_back(static_cast<Real>(mid - half));
      s.soft_upper.push_back(static_cast<Real>(mid + half));
    } else {
      s.soft_lower.push_back(static_cast<Real>(-1e30));
      s.soft_upper.push_back(static_cast<Real>(1e30));
    }
  }
}

// the orientation chain from the base body down to the IMU site's body
template <class Real>
void resolve_imu(const mjModel* m, const robot::RobotSpec& spec, int base, TaskModelStorage<Real>& s) {
  const int site = mj_name2id(m, mjOBJ_SITE, spec.imu_site.c_str());
  if (site < 0) fail(spec, "frames.imu", "no site named '" + spec.imu_site + "' in the MJCF");
  std::vector<int> path;
  for (int b = m->site_bodyid[site]; b != base; b = m->body_parentid[b]) {
    if (b == 0) fail(spec, "frames.imu", "site '" + spec.imu_site + "' is not on the base body or below it");
    path.push_back(b);
  }
  std::reverse(path.begin(), path.end());
  for (int b : path) {
    const int nj = m->body_jntnum[b];
    for (int k = 0; k < std::max(nj, 1); ++k) {
      for (int c = 0; c < 4; ++c)
        s.imu_step_quat.push_back(k == 0 ? static_cast<Real>(m->body_quat[4 * b + c]) : Real(c == 0));
      int type = 0, qadr = 0, dadr = 0;
      Real qpos0 = 0, axis[3] = {0, 0, 1};
      if (nj > 0) {
        const int j = m->body_jntadr[b] + k;
        if (m->jnt_type[j] == mjJNT_HINGE) type = 1;
        else if (m->jnt_type[j] == mjJNT_SLIDE) type = 2;
        else fail(spec, "frames.imu", "the chain from the base to the IMU has a ball or free joint (unsupported)");
        qadr = m->jnt_qposadr[j];
        dadr = m->jnt_dofadr[j];
        qpos0 = static_cast<Real>(m->qpos0[qadr]);
        for (int c = 0; c < 3; ++c) axis[c] = static_cast<Real>(m->jnt_axis[3 * j + c]);
      }
      s.imu_step_type.push_back(type);
      s.imu_step_qposadr.push_back(qadr);
      s.imu_step_dofadr.push_back(dadr);
      s.imu_step_qpos0.push_back(qpos0);
      for (int c = 0; c < 3; ++c) s.imu_step_axis.push_back(axis[c]);
    }
  }
  s.sizes.imu_nstep = static_cast<int>(s.imu_step_type.size());
  for (int c = 0; c < 4; ++c) s.sizes.imu_site_quat[c] = static_cast<Real>(m->site_quat[4 * site + c]);
}

// foot, collision and termination roles of every geom
template <class Real>
void resolve_geoms(const mjModel* m, const robot::RobotSpec& spec, const TaskConfig& cfg, int base,
                   TaskModelStorage<Real>& s) {
  if (spec.feet.empty() || static_cast<int>(spec.feet.size()) > kMaxFeet)
    fail(spec, "frames.feet", "expected 1 to " + std::to_string(kMaxFeet) + " foot bodies");
  for (const auto& f : spec.feet) s.foot_body.push_back(body_id(m, spec, "frames.feet", f));
  std::set<int> terminate;
  if (cfg.termination.base_contact) {
    terminate.insert(base);
    for (const auto& name : cfg.termination.contact_bodies)
      terminate.insert(body_id(m, spec, "termination.contact_bodies (task config)", name));
  }
  const int root = m->body_rootid[base];
  std::vector<int> collision_index(m->nbody, -1);
  for (int g = 0; g < m->ngeom; ++g) {
    const int b = m->geom_bodyid[g];
    int foot = -1;
    for (int f = 0; f < static_cast<int>(s.foot_body.size()); ++f)
      if (is_below(m, b, s.foot_body[f])) foot = f;
    s.geom_foot.push_back(foot);
    s.geom_terminate.push_back(terminate.count(b) ? 1 : 0);
    int ci = -1;
    if (b > 0 && foot < 0 && m->body_rootid[b] == root) {
      if (collision_index[b] < 0) {
        collision_index[b] = static_cast<int>(s.collision_body_names.size());
        s.collision_body_names.push_back(mj_id2name(m, mjOBJ_BODY, b) ? mj_id2name(m, mjOBJ_BODY, b)
                                                                       : std::to_string(b));
      }
      ci = collision_index[b];
      if (ci >= kMaxCollisionBodies)
        fail(spec, "mjcf", "more than 64 non-foot bodies with geoms (collision penalty capacity)");
    }
    s.geom_collision.push_back(ci);
  }
}

template <class Real>
void resolve_observation(const robot::RobotSpec& spec, TaskModelStorage<Real>& s) {
  int offset = 0;
  const int na = spec.num_joints();
  for (size_t t = 0; t < spec.observation.size(); ++t) {
    const robot::ObsTerm& term = spec.observation[t];
    const std::string field = "observation[" + std::to_string(t) + "] (" + term.term + ")";
    const int kind = obs_kind_from_name(term.term);
    if (kind < 0) fail(spec, field, "unknown observation term");
    int expected = 3;
    if (kind == kObsJointPos || kind == kObsJointVel || kind == kObsLastAction) expected = na;
    const bool ok = kind == kObsCommands   ? (term.size == 3 || term.size == 4)
                    : kind == kObsGaitPhase ? (term.size >= 2 && term.size % 2 == 0)
                                            : term.size == expected;
    if (!ok) fail(spec, field, "size " + std::to_string(term.size) + " does not fit the term");
    if (term.scale.size() != 1 && static_cast<int>(term.scale.size()) != term.size)
      fail(spec, field, "expected 1 or size scale values");
    s.obs_kind.push_back(kind);
    s.obs_offset.push_back(offset);
    s.obs_size.push_back(term.size);
    s.obs_clip.push_back(static_cast<Real>(term.clip));
    for (int i = 0; i < term.size; ++i) {
      s.obs_scale.push_back(static_cast<Real>(term.scale.size() == 1 ? term.scale[0] : term.scale[i]));
      s.obs_noise.push_back(static_cast<Real>(term.noise));
    }
    offset += term.size;
  }
  s.sizes.nobs_term = static_cast<int>(s.obs_kind.size());
  s.sizes.obs_dim = offset;
}

}  // namespace

int obs_kind_from_name(const std::string& term) {
  static const char* const names[] = {"base_lin_vel", "base_ang_vel", "projected_gravity", "commands",
                                      "joint_pos",    "joint_vel",    "last_action",       "gait_phase"};
  for (int k = 0; k < 8; ++k)
    if (term == names[k]) return k;
  return -1;
}

template <class Real>
TaskModel<Real> TaskModelStorage<Real>::view() const {
  TaskModel<Real> v = sizes;
  v.jnt_qposadr = jnt_qposadr.data();
  v.jnt_dofadr = jnt_dofadr.data();
  v.act_id = act_id.data();
  v.act_gear = act_gear.data();
  v.default_pos = default_pos.data();
  v.kp = kp.data();
  v.kd = kd.data();
  v.torque_limit = torque_limit.data();
  v.soft_lower = soft_lower.data();
  v.soft_upper = soft_upper.data();
  v.imu_step_quat = imu_step_quat.data();
  v.imu_step_type = imu_step_type.data();
  v.imu_step_qposadr = imu_step_qposadr.data();
  v.imu_step_dofadr = imu_step_dofadr.data();
  v.imu_step_qpos0 = imu_step_qpos0.data();
  v.imu_step_axis = imu_step_axis.data();
  v.foot_body = foot_body.data();
  v.geom_foot = geom_foot.data();
  v.geom_collision = geom_collision.data();
  v.geom_terminate = geom_terminate.data();
  v.obs_kind = obs_kind.data();
  v.obs_offset = obs_offset.data();
  v.obs_size = obs_size.data();
  v.obs_clip = obs_clip.data();
  v.obs_scale = obs_scale.data();
  v.obs_noise = obs_noise.data();
  v.init_qpos = init_qpos.data();
  return v;
}

template <class Real>
TaskModelStorage<Real> build_task_model(const mjModel* m, const robot::RobotSpec& spec,
                                        const TaskConfig& cfg) {
  TaskModelStorage<Real> s;
  TaskModel<Real>& z = s.sizes;
  z.nq = static_cast<int>(m->nq);
  z.nv = static_cast<int>(m->nv);
  z.nu = static_cast<int>(m->nu);
  z.nbody = static_cast<int>(m->nbody);
  z.ngeom = static_cast<int>(m->ngeom);
  z.na = spec.num_joints();
  z.nfeet = static_cast<int>(spec.feet.size());
  z.hist_len = cfg.domain_rand.max_action_latency + 1;
  if (z.na == 0) fail(spec, "joints", "expected at least one actuated joint");
  resolve_joints(m, spec, cfg, s);

  // floating base
  const int base = body_id(m, spec, "frames.base", spec.base_body);
  if (m->body_jntnum[base] < 1 || m->jnt_type[m->body_jntadr[base]] != mjJNT_FREE)
    fail(spec, "frames.base", "body '" + spec.base_body + "' has no free joint (a floating base is required)");
  z.base_body = base;
  z.base_qposadr = m->jnt_qposadr[m->body_jntadr[base]];
  z.base_dofadr = m->jnt_dofadr[m->body_jntadr[base]];
  z.base_mass = static_cast<Real>(m->body_mass[base]);

  resolve_imu(m, spec, base, s);
  resolve_geoms(m, spec, cfg, base, s);
  resolve_observation(spec, s);

  // initial state: keyframe "home", else qpos0 with the default pose
  const int key = mj_name2id(m, mjOBJ_KEY, "home");
  for (int i = 0; i < z.nq; ++i)
    s.init_qpos.push_back(static_cast<Real>(key >= 0 ? m->key_qpos[key * m->nq + i] : m->qpos0[i]));
  if (key < 0)
    for (int i = 0; i < z.na; ++i) s.init_qpos[s.jnt_qposadr[i]] = s.default_pos[i];
  return s;
}

template <class Real>
TaskParams<Real> make_task_params(const mjModel* m, const robot::RobotSpec& spec, const TaskConfig& cfg) {
  TaskParams<Real> p;
  const double dt = spec.control_period;
  if (std::abs(m->opt.timestep * spec.decimation - dt) > 1e-9 * std::max(1.0, dt))
    fail(spec, "control", "period " + std::to_string(dt) + " s != MJCF timestep " +
                              std::to_string(m->opt.timestep) + " s x decimation " +
                              std::to_string(spec.decimation));
  p.dt = static_cast<Real>(dt);
  p.physics_dt = static_cast<Real>(m->opt.timestep);
  p.max_episode_steps = std::max(1, static_cast<int>(std::lround(cfg.episode_length / dt)));
  p.resample_steps = std::max(1, static_cast<int>(std::lround(cfg.commands.resampling_time / dt)));
  const auto& dr = cfg.domain_rand;
  p.push_steps = dr.push_interval > 0 ? std::max(1, static_cast<int>(std::lround(dr.push_interval / dt))) : 0;
  p.action_scale = static_cast<Real>(spec.action_scale);
  p.action_clip = static_cast<Real>(spec.action_clip);

  const auto& c = cfg.commands;
  p.heading_command = c.heading_command ? 1 : 0;
  p.heading_stiffness = static_cast<Real>(c.heading_stiffness);
  for (int k = 0; k < 2; ++k) {
    p.lin_vel_x[k] = static_cast<Real>(c.lin_vel_x[k]);
    p.lin_vel_y[k] = static_cast<Real>(c.lin_vel_y[k]);
    p.ang_vel_yaw[k] = static_cast<Real>(c.ang_vel_yaw[k]);
    p.heading[k] = static_cast<Real>(c.heading[k]);
  }
  p.min_lin_vel = static_cast<Real>(c.min_lin_vel);

  const auto& r = cfg.rewards;
  for (int t = 0; t < kNumRewardTerms; ++t)
    p.weight[t] = static_cast<Real>(r.weights[t] * (r.scale_by_dt ? dt : 1.0));
  p.only_positive = r.only_positive ? 1 : 0;
  p.tracking_sigma = static_cast<Real>(r.tracking_sigma);
  p.base_height_target = static_cast<Real>(r.base_height_target);
  p.feet_air_time_target = static_cast<Real>(r.feet_air_time_target);
  p.swing_height_target = static_cast<Real>(r.swing_height_target);
  p.contact_force_threshold = static_cast<Real>(r.contact_force_threshold);
  p.collision_force_threshold = static_cast<Real>(r.collision_force_threshold);
  p.gait_period = static_cast<Real>(r.gait_period);
  p.gait_offset = static_cast<Real>(r.gait_offset);
  p.stance_fraction = static_cast<Real>(r.stance_fraction);

  const auto& t = cfg.termination;
  p.base_contact = t.base_contact ? 1 : 0;
  p.min_base_height = static_cast<Real>(t.min_base_height);
  p.min_up_z = t.max_tilt > 0 ? static_cast<Real>(std::cos(t.max_tilt)) : Real(-2);

  const auto& i = cfg.init;
  p.joint_pos_noise = static_cast<Real>(i.joint_pos_noise);
  p.joint_vel_noise = static_cast<Real>(i.joint_vel_noise);
  p.base_lin_vel_noise = static_cast<Real>(i.base_lin_vel_noise);
  p.base_ang_vel_noise = static_cast<Real>(i.base_ang_vel_noise);
  p.base_yaw_range = static_cast<Real>(i.base_yaw_range);
  p.base_height_offset = static_cast<Real>(i.base_height_offset);

  p.randomize = dr.enabled ? 1 : 0;
  for (int k = 0; k < 2; ++k) {
    p.friction[k] = static_cast<Real>(dr.friction[k]);
    p.added_base_mass[k] = static_cast<Real>(dr.added_base_mass[k]);
    p.motor_strength[k] = static_cast<Real>(dr.motor_strength[k]);
    p.kp_scale[k] = static_cast<Real>(dr.kp_scale[k]);
    p.kd_scale[k] = static_cast<Real>(dr.kd_scale[k]);
  }
  p.max_action_latency = dr.max_action_latency;
  p.obs_noise_level = dr.enabled ? static_cast<Real>(dr.observation_noise_level) : Real(0);
  p.push_vel_xy = static_cast<Real>(dr.push_vel_xy);
  return p;
}

template struct TaskModelStorage<float>;
template struct TaskModelStorage<double>;
template TaskModelStorage<float> build_task_model<float>(const mjModel*, const robot::RobotSpec&, const TaskConfig&);
template TaskModelStorage<double> build_task_model<double>(const mjModel*, const robot::RobotSpec&, const TaskConfig&);
template TaskParams<float> make_task_params<float>(const mjModel*, const robot::RobotSpec&, const TaskConfig&);
template TaskParams<double> make_task_params<double>(const mjModel*, const robot::RobotSpec&, const TaskConfig&);

}  // namespace stampede::sim::tasks
