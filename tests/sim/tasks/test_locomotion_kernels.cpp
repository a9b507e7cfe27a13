// tests/sim/tasks/test_locomotion_kernels.cpp — every per-world function of the task on
// constructed states, against values computed by hand (or by MuJoCo, for the IMU chain).
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "sim/tasks/locomotion_kernels.h"
#include "sim/tasks/task_model.h"
#include "task_fixture.h"

using namespace stampede;
using namespace stampede::sim::tasks;

namespace {

// biped ids (see task_fixture.h): qpos = root(7) neck left_hip left_knee right_hip right_knee
constexpr int kNq = 12, kNv = 11, kNbody = 9, kNgeom = 9;
constexpr int kLeftFoot = 5, kRightFoot = 8;
constexpr int kGeomFloor = 0, kGeomTorso = 1, kGeomLeftThigh = 3, kGeomRightThigh = 6,
              kGeomRightShin = 7, kGeomLeftFoot = 5;

// the task's buffers and a fake simulator state for nworld worlds of the biped
struct Bench {
  test::Biped biped;
  sim::tasks::TaskConfig cfg;
  TaskModelStorage<double> storage;
  TaskModel<double> m;
  TaskParams<double> p;
  int nw;
  int ccap = 8;
  std::vector<double> qpos, qvel, ctrl, xpos, con_force, friction, mass;
  std::vector<int> ncon, con_geom;
  std::vector<double> commands, actions, prev_actions, hist, targets, torques, dof_vel_prev, air,
      feet_prev, ms, kps, kds, base, contact, terms, reward;
  std::vector<int> step, latency;
  std::vector<unsigned char> last_contact, terminated, truncated;
  std::vector<uint64_t> rng;
  TaskData<double> d;
  SimView<double> s;

  explicit Bench(sim::tasks::TaskConfig c = test::quiet_config(), int nworld = 2)
      : cfg(c), nw(nworld) {
    rebuild();
  }

  void rebuild() {
    storage = build_task_model<double>(biped.model.get(), biped.spec, cfg);
    m = storage.view();
    p = make_task_params<double>(biped.model.get(), biped.spec, cfg);
    const int na = m.na, nf = m.nfeet;
    qpos.assign(nw * kNq, 0);
    qvel.assign(nw * kNv, 0);
    ctrl.assign(nw * 4, 0);
    xpos.assign(nw * kNbody * 3, 0);
    con_force.assign(nw * ccap * 3, 0);
    con_geom.assign(nw * ccap * 2, -1);
    ncon.assign(nw, 0);
    friction.assign(nw * kNgeom * 3, 1);
    mass.assign(nw * kNbody, 1);
    for (int w = 0; w < nw; ++w) {
      qpos[w * kNq + 2] = 1.0;
      qpos[w * kNq + 3] = 1.0;
    }
    commands.assign(nw * 4, 0);
    actions.assign(nw * na, 0);
    prev_actions.assign(nw * na, 0);
    hist.assign(nw * na * m.hist_len, 0);
    targets.assign(nw * na, 0);
    torques.assign(nw * na, 0);
    dof_vel_prev.assign(nw * na, 0);
    air.assign(nw * nf, 0);
    feet_prev.assign(nw * nf * 3, 0);
    ms.assign(nw * na, 1);
    kps.assign(nw * na, 1);
    kds.assign(nw * na, 1);
    base.assign(nw * kBaseStride, 0);
    contact.assign(nw * m.contact_stride(), 0);
    terms.assign(nw * kNumRewardTerms, 0);
    reward.assign(nw, 0);
    step.assign(nw, 0);
    latency.assign(nw, 0);
    last_contact.assign(nw * nf, 0);
    terminated.assign(nw, 0);
    truncated.assign(nw, 0);
    rng.assign(nw, 0);
    for (int w = 0; w < nw; ++w) rng[w] = rng_seed_world(7, w);
    d = TaskData<double>{commands.data(), step.data(),  actions.data(),   prev_actions.data(),
                         hist.data(),     latency.data(), targets.data(), torques.data(),
                         dof_vel_prev.data(), air.data(), last_contact.data(), feet_prev.data(),
                         ms.data(),       kps.data(),    kds.data(),      rng.data(),
                         base.data(),     contact.data(), terms.data(),   reward.data(),
                         terminated.data(), truncated.data()};
    s.qpos = qpos.data();
    s.qvel = qvel.data();
    s.ctrl = ctrl.data();
    s.xpos = xpos.data();
    s.ncon = ncon.data();
    s.con_geom = con_geom.data();
    s.con_force = con_force.data();
    s.contact_capacity = ccap;
    s.geom_friction = friction.data();
    s.body_mass = mass.data();
  }
  double* q(int w) { return qpos.data() + w * kNq; }
  double* v(int w) { return qvel.data() + w * kNv; }
  void add_contact(int w, int g1, int g2, double fn) {
    const int i = ncon[w]++;
    con_geom[(w * ccap + i) * 2] = g1;
    con_geom[(w * ccap + i) * 2 + 1] = g2;
    con_force[(w * ccap + i) * 3] = fn;
  }
};

}  // namespace

TEST_CASE("task model resolves the biped's addresses, limits and layout", "[tasks]") {
  Bench b;
  const auto& m = b.m;
  REQUIRE(m.nq == kNq);
  REQUIRE(m.nv == kNv);
  REQUIRE(m.na == 4);
  CHECK(std::vector<int>(m.jnt_qposadr, m.jnt_qposadr + 4) == std::vector<int>{8, 9, 10, 11});
  CHECK(std::vector<int>(m.jnt_dofadr, m.jnt_dofadr + 4) == std::vector<int>{7, 8, 9, 10});
  CHECK(m.act_gear[0] == 2.0);
  // soft limits at 90% of the range around its middle: [-1, 1] -> [-0.9, 0.9], [0, 2] -> [0.1, 1.9]
  CHECK(m.soft_lower[0] == Approx(-0.9).epsilon(1e-15));
  CHECK(m.soft_upper[1] == Approx(1.9).epsilon(1e-15));
  CHECK(m.soft_lower[1] == Approx(0.1).epsilon(1e-15));
  CHECK(m.foot_body[0] == kLeftFoot);
  CHECK(m.foot_body[1] == kRightFoot);
  CHECK(m.geom_foot[kGeomLeftFoot] == 0);
  CHECK(m.geom_foot[kGeomFloor] == -1);
  CHECK(m.geom_collision[kGeomFloor] == -1);   // not the robot
  CHECK(m.geom_collision[kGeomLeftFoot] == -1);  // feet are not collisions
  CHECK(m.geom_collision[kGeomTorso] >= 0);
  CHECK(m.geom_terminate[kGeomTorso] == 1);
  CHECK(m.geom_terminate[kGeomLeftThigh] == 0);
  CHECK(m.obs_dim == 3 + 3 + 3 + 3 + 4 + 4 + 4 + 2);
  CHECK(m.imu_nstep == 1);  // torso -> head through the neck hinge
  // control period 0.02 s = 0.005 s x 4; 20 s episodes; dt-scaled weights
  CHECK(b.p.max_episode_steps == 1000);
  CHECK(b.p.weight[kTrackingLinVel] == Approx(0.02).epsilon(1e-15));
  CHECK(b.p.weight[kTermination] == Approx(-4.0).epsilon(1e-15));
}

TEST_CASE("task model refuses a robot that does not fit the MJCF", "[tasks]") {
  test::Biped biped;
  auto spec = biped.spec;
  spec.joints[1].name = "no_such_joint";
  CHECK_THROWS_WITH(build_task_model<double>(biped.model.get(), spec, test::quiet_config()),
                    Catch::Contains("no_such_joint"));
  spec = biped.spec;
  spec.base_body = "left_thigh";
  CHECK_THROWS_WITH(build_task_model<double>(biped.model.get(), spec, test::quiet_config()),
                    Catch::Contains("free joint"));
  spec = biped.spec;
  spec.decimation = 5;
  CHECK_THROWS_WITH(make_task_params<double>(biped.model.get(), spec, test::quiet_config()),
                    Catch::Contains("decimation"));
}

TEST_CASE("actions are clipped, delayed and turned into PD targets", "[tasks]") {
  auto cfg = test::quiet_config();
  cfg.domain_rand.max_action_latency = 1;
  Bench b(cfg);
  const float a1[8] = {0, 0, 0, 0, 3.0f, -0.5f, NAN, 1.0f};
  process_actions_world(1, b.m, b.p, a1, b.d);
  // clip 2, NaN -> 0; target = default + 0.5 a
  CHECK(b.actions[4] == 2.0);
  CHECK(b.actions[6] == 0.0);
  CHECK(b.targets[4] == Approx(0.8).epsilon(1e-15));
  CHECK(b.targets[5] == Approx(0.15).epsilon(1e-15));
  CHECK(b.targets[6] == Approx(-0.2).epsilon(1e-15));
  CHECK(b.targets[7] == Approx(0.9).epsilon(1e-15));

  // one control step of latency: the first step applies zeros, the second the first action
  b.latency[0] = 1;
  const float x1[8] = {1, 1, 1, 1, 0, 0, 0, 0};
  const float x2[8] = {-1, -1, -1, -1, 0, 0, 0, 0};
  process_actions_world(0, b.m, b.p, x1, b.d);
  CHECK(b.targets[0] == Approx(-0.2).epsilon(1e-15));
  CHECK(b.actions[0] == 1.0);  // the observation sees the policy's own action
  b.step[0] = 1;
  process_actions_world(0, b.m, b.p, x2, b.d);
  CHECK(b.targets[0] == Approx(-0.2 + 0.5).epsilon(1e-15));
  CHECK(b.prev_actions[0] == 1.0);
  CHECK(b.actions[0] == -1.0);
}

TEST_CASE("PD torques are computed, scaled, torque-limited and divided by the gear", "[tasks]") {
  Bench b;
  const int w = 1;
  const double target[4] = {0.8, 0.15, -0.2, 0.9};
  for (int i = 0; i < 4; ++i) b.targets[w * 4 + i] = target[i];
  const double q[4] = {0.0, 0.15, 0.5, 0.9}, qd[4] = {1.0, 0.0, 0.0, -2.0};
  for (int i = 0; i < 4; ++i) {
    b.q(w)[8 + i] = q[i];
    b.v(w)[7 + i] = qd[i];
  }
  pd_torque_world(w, b.m, b.s, b.d);
  // tau = kp (target - q) - kd qd
  CHECK(b.torques[4] == Approx(50 * 0.8 - 1.0).epsilon(1e-14));  // 39
  CHECK(b.torques[5] == Approx(0.0).margin(1e-14));
  CHECK(b.torques[6] == Approx(-35.0).epsilon(1e-14));
  CHECK(b.torques[7] == Approx(4.0).epsilon(1e-14));
  CHECK(b.ctrl[w * 4 + 0] == Approx(19.5).epsilon(1e-14));  // gear 2
  CHECK(b.ctrl[w * 4 + 3] == Approx(2.0).epsilon(1e-14));

  // limit: 50 * 1.3 - 1 = 64 -> 40; knee -> 60 * 0.75 = 45 -> 30
  b.q(w)[8] = -0.5;
  b.q(w)[11] = 0.15;
  b.v(w)[10] = 0;
  pd_torque_world(w, b.m, b.s, b.d);
  CHECK(b.torques[4] == 40.0);
  CHECK(b.torques[7] == 30.0);
  CHECK(b.ctrl[w * 4 + 0] == 20.0);

  // randomized motor strength and gain scales: 0.5 (2 * 60 * 0 - 3 * 2 * (-2)) = 6
  b.q(w)[11] = 0.9;
  b.v(w)[10] = -2.0;
  b.ms[7] = 0.5;
  b.kps[7] = 2.0;
  b.kds[7] = 3.0;
  pd_torque_world(w, b.m, b.s, b.d);
  CHECK(b.torques[7] == Approx(6.0).epsilon(1e-14));
  // world 0 untouched
  CHECK(b.ctrl[0] == 0.0);
}

TEST_CASE("base state: velocities and gravity in the base frame, height, heading", "[tasks]") {
  Bench b;
  const double c = std::cos(M_PI / 4), s = std::sin(M_PI / 4);
  double* q = b.q(0);
  q[2] = 0.93;
  q[3] = c;  // yaw +90 degrees: base x = world y
  q[6] = s;
  const double vw[3] = {1.0, 0.0, 0.5}, wl[3] = {0.1, 0.2, 0.3};
  for (int k = 0; k < 3; ++k) {
    b.v(0)[k] = vw[k];
    b.v(0)[3 + k] = wl[k];
  }
  base_state_world(0, b.m, b.s, b.d);
  const double* st = b.base.data();
  CHECK(st[kBLinVel] == Approx(0.0).margin(1e-15));
  CHECK(st[kBLinVel + 1] == Approx(-1.0).epsilon(1e-15));
  CHECK(st[kBLinVel + 2] == Approx(0.5).epsilon(1e-15));
  CHECK(st[kBAngVel + 2] == 0.3);  // a free joint's angular velocity is already local
  CHECK(st[kBGravity + 2] == Approx(-1.0).epsilon(1e-15));
  CHECK(st[kBHeight] == 0.93);
  CHECK(st[kBYaw] == Approx(M_PI / 2).epsilon(1e-15));

  // roll by 0.3 rad: gravity in the base frame is (0, -sin 0.3, -cos 0.3)
  q[3] = std::cos(0.15);
  q[4] = std::sin(0.15);
  q[6] = 0;
  base_state_world(0, b.m, b.s, b.d);
  CHECK(st[kBGravity] == Approx(0.0).margin(1e-15));
  CHECK(st[kBGravity + 1] == Approx(-std::sin(0.3)).epsilon(1e-14));
  CHECK(st[kBGravity + 2] == Approx(-std::cos(0.3)).epsilon(1e-14));
}

TEST_CASE("IMU angular velocity and gravity match MuJoCo's gyro and site frame", "[tasks]") {
  Bench b;
  const mjModel* mm = b.biped.model.get();
  mjData* md = mj_makeData(mm);
  uint64_t rng = 12345;
  for (int trial = 0; trial < 20; ++trial) {
    for (int i = 0; i < kNq; ++i) md->qpos[i] = rng_uniform(rng, -1.0, 1.0);
    mju_normalize4(md->qpos + 3);
    for (int i = 0; i < kNv; ++i) md->qvel[i] = rng_uniform(rng, -2.0, 2.0);
    mj_forward(mm, md);
    std::copy(md->qpos, md->qpos + kNq, b.q(0));
    std::copy(md->qvel, md->qvel + kNv, b.v(0));
    base_state_world(0, b.m, b.s, b.d);
    const int site = mj_name2id(mm, mjOBJ_SITE, "imu");
    const double* R = md->site_xmat + 9 * site;
    for (int k = 0; k < 3; ++k) {
      // double rounding of a few quaternion products: 1e-12
      CHECK(b.base[kBImuAngVel + k] == Approx(md->sensordata[k]).margin(1e-12));
      CHECK(b.base[kBImuGravity + k] == Approx(-R[6 + k]).margin(1e-12));
    }
  }
  mj_deleteData(md);
}

TEST_CASE("contacts: foot forces, distinct collision bodies, base contact", "[tasks]") {
  Bench b;
  b.add_contact(1, kGeomFloor, kGeomLeftFoot, 100.0);
  b.add_contact(1, kGeomLeftFoot, kGeomFloor, 20.0);
  b.add_contact(1, kGeomRightShin, kGeomFloor, 0.05);       // below the collision threshold
  b.add_contact(1, kGeomLeftThigh, kGeomRightThigh, 5.0);   // two collision bodies
  b.add_contact(1, kGeomLeftThigh, kGeomFloor, 3.0);        // the same body again
  contact_state_world(1, b.m, b.p, b.s, b.d);
  const double* c = b.contact.data() + b.m.contact_stride();
  CHECK(c[0] == 120.0);
  CHECK(c[1] == 0.0);
  CHECK(c[2] == 2.0);
  CHECK(c[3] == 0.0);
  b.add_contact(1, kGeomTorso, kGeomFloor, 2.0);
  contact_state_world(1, b.m, b.p, b.s, b.d);
  CHECK(c[2] == 3.0);
  CHECK(c[3] == 1.0);
  // only the first contact_capacity contacts are read
  b.ncon[1] = 100;
  contact_state_world(1, b.m, b.p, b.s, b.d);
  CHECK(c[0] == 120.0);
  // world 0 has none
  contact_state_world(0, b.m, b.p, b.s, b.d);
  CHECK(b.contact[0] == 0.0);
  CHECK(b.contact[2] == 0.0);
}

TEST_CASE("each reward term matches its hand-computed value", "[tasks]") {
  auto cfg = test::quiet_config();
  cfg.rewards.weights.fill(1.0);
  cfg.rewards.scale_by_dt = false;
  cfg.rewards.only_positive = false;
  Bench b(cfg);
  const int w = 1;
  // base: rolled by 0.2 rad, world velocity (0.4, 0.1, 0.2), local angular velocity
  const double th = 0.2;
  double* q = b.q(w);
  q[2] = 0.9;
  q[3] = std::cos(th / 2);
  q[4] = std::sin(th / 2);
  double* v = b.v(w);
  v[0] = 0.4, v[1] = 0.1, v[2] = 0.2;
  v[3] = 0.1, v[4] = -0.2, v[5] = 0.25;
  const double vlx = 0.4, vly = std::cos(th) * 0.1 + std::sin(th) * 0.2,
               vlz = -std::sin(th) * 0.1 + std::cos(th) * 0.2;
  b.commands[4 * w + 0] = 0.5;
  b.commands[4 * w + 1] = -0.2;
  b.commands[4 * w + 2] = 0.3;
  // joints
  const double qj[4] = {0.95, 0.05, 0.0, 1.0}, qdj[4] = {1, -1, 2, 0};
  for (int i = 0; i < 4; ++i) {
    q[8 + i] = qj[i];
    v[7 + i] = qdj[i];
    b.torques[w * 4 + i] = i + 1;
  }
  const double prev_vel[4] = {0, -1, 1, 0}, acts[4] = {0.5, -0.5, 1, 0};
  for (int i = 0; i < 4; ++i) {
    b.dof_vel_prev[w * 4 + i] = prev_vel[i];
    b.actions[w * 4 + i] = acts[i];
  }
  // feet: left in contact (50 N) after 0.3 s in the air, moved (1, 2) mm in the last 5 ms step;
  // right in the air 0.2 s, 0.1 m high
  double* con = b.contact.data() + w * b.m.contact_stride();
  con[0] = 50.0;
  con[2] = 2.0;  // collision bodies
  b.air[w * 2 + 0] = 0.3;
  b.air[w * 2 + 1] = 0.2;
  double* xl = b.xpos.data() + (w * kNbody + kLeftFoot) * 3;
  double* xr = b.xpos.data() + (w * kNbody + kRightFoot) * 3;
  xl[0] = 0.001, xl[1] = 0.002, xl[2] = 0.03;
  xr[2] = 0.1;
  b.step[w] = 10;  // t = 0.2 s: left phase 0.25 (stance), right 0.75 (swing)
  b.terminated[w] = 1;

  base_state_world(w, b.m, b.s, b.d);
  rewards_world(w, b.m, b.p, b.s, b.d);
  const double* r = b.terms.data() + w * kNumRewardTerms;
  const double ex = 0.5 - vlx, ey = -0.2 - vly;
  CHECK(r[kTrackingLinVel] == Approx(std::exp(-(ex * ex + ey * ey) / 0.25)).epsilon(1e-13));
  CHECK(r[kTrackingAngVel] == Approx(std::exp(-0.05 * 0.05 / 0.25)).epsilon(1e-13));
  CHECK(r[kLinVelZ] == Approx(vlz * vlz).epsilon(1e-13));
  CHECK(r[kAngVelXy] == Approx(0.05).epsilon(1e-13));
  CHECK(r[kOrientation] == Approx(std::sin(th) * std::sin(th)).epsilon(1e-13));
  CHECK(r[kBaseHeight] == Approx(0.08 * 0.08).epsilon(1e-12));
  CHECK(r[kTorques] == 30.0);
  CHECK(r[kDofVel] == 6.0);
  CHECK(r[kDofAcc] == Approx(5000.0).epsilon(1e-12));
  CHECK(r[kActionRate] == Approx(1.5).epsilon(1e-15));
  CHECK(r[kDofPosLimits] == Approx(0.1).epsilon(1e-12));
  CHECK(r[kCollision] == 2.0);
  CHECK(r[kFeetAirTime] == Approx(0.32 - 0.5).epsilon(1e-12));
  CHECK(r[kFeetSlip] == Approx(0.2 * 0.2 + 0.4 * 0.4).epsilon(1e-10));
  CHECK(r[kFeetSwingHeight] == Approx(0.02 * 0.02).epsilon(1e-10));
  CHECK(r[kFeetContactPhase] == 2.0);
  CHECK(r[kAlive] == 1.0);
  CHECK(r[kTermination] == 1.0);
  double total = 0;
  for (int t = 0; t < kNumRewardTerms; ++t) total += r[t];
  CHECK(b.reward[w] == Approx(total).epsilon(1e-14));
  // memories: left touched down (air time cleared), right accumulates; joint velocities saved
  CHECK(b.air[w * 2 + 0] == 0.0);
  CHECK(b.air[w * 2 + 1] == Approx(0.22).epsilon(1e-14));
  CHECK(b.last_contact[w * 2 + 0] == 1);
  CHECK(b.dof_vel_prev[w * 4 + 2] == 2.0);

  // weights multiply; only_positive clips everything but the termination penalty at 0
  b.p.weight[kAlive] = -100.0;
  b.p.weight[kTermination] = -3.0;
  b.p.only_positive = 1;
  rewards_world(w, b.m, b.p, b.s, b.d);
  CHECK(r[kAlive] == -100.0);
  CHECK(b.reward[w] == -3.0);
}

TEST_CASE("terminations are falls, truncations are time-outs, never both", "[tasks]") {
  auto cfg = test::quiet_config();
  cfg.termination.min_base_height = 0.5;
  cfg.termination.max_tilt = 0.8;
  Bench b(cfg);
  auto run = [&](double height, double tilt, bool base_contact, int step) {
    b.q(0)[2] = height;
    b.q(0)[3] = std::cos(tilt / 2);
    b.q(0)[5] = std::sin(tilt / 2);  // pitch
    b.q(0)[4] = b.q(0)[6] = 0;
    b.contact[b.m.nfeet + 1] = base_contact ? 1 : 0;
    b.step[0] = step;
    base_state_world(0, b.m, b.s, b.d);
    termination_world(0, b.m, b.p, b.d);
    return std::make_pair(int(b.terminated[0]), int(b.truncated[0]));
  };
  CHECK(run(0.9, 0.0, false, 10) == std::make_pair(0, 0));
  CHECK(run(0.4, 0.0, false, 10) == std::make_pair(1, 0));
  CHECK(run(0.9, 0.79, false, 10) == std::make_pair(0, 0));
  CHECK(run(0.9, 0.81, false, 10) == std::make_pair(1, 0));
  CHECK(run(0.9, 0.0, true, 10) == std::make_pair(1, 0));
  CHECK(run(0.9, 0.0, false, 999) == std::make_pair(0, 0));
  CHECK(run(0.9, 0.0, false, 1000) == std::make_pair(0, 1));
  CHECK(run(0.4, 0.0, false, 1000) == std::make_pair(1, 0));  // a fall at the limit is a fall
  b.p.base_contact = 0;
  CHECK(run(0.9, 0.0, true, 10) == std::make_pair(0, 0));
}

TEST_CASE("observation: each term in layout order, scaled, clipped and noised", "[tasks]") {
  Bench b;
  const int w = 1;
  double* q = b.q(w);
  q[2] = 1.0;
  q[3] = 1.0;
  q[7] = 0.3;  // neck: the IMU frame differs from the base frame
  double* v = b.v(w);
  v[0] = 0.3, v[1] = -0.1, v[2] = 0.05, v[3] = 0.4, v[4] = 0.0, v[5] = -0.8, v[6] = 1.0;
  const double qj[4] = {0.1, 0.5, -0.3, 0.2}, qdj[4] = {3, -30, 10, 0};
  for (int i = 0; i < 4; ++i) {
    q[8 + i] = qj[i];
    v[7 + i] = qdj[i];
    b.actions[w * 4 + i] = 0.1 * (i + 1);
  }
  b.commands[4 * w + 0] = 0.7;
  b.commands[4 * w + 1] = -0.3;
  b.commands[4 * w + 2] = 0.5;
  b.step[w] = 30;  // t = 0.6 s: phase 0.75
  base_state_world(w, b.m, b.s, b.d);
  std::vector<float> obs(2 * b.m.obs_dim, -7.0f);
  observation_world(w, b.m, b.p, b.s, b.d, obs.data());
  const float* o = obs.data() + b.m.obs_dim;
  // IMU on the head: angular velocity (0.4, 1.0, -0.8) rotated by the neck pitch 0.3 and the
  // site's 45-degree yaw; gravity likewise
  const double c = std::cos(0.3), s = std::sin(0.3);
  const double wh[3] = {c * 0.4 - s * -0.8, 1.0, s * 0.4 + c * -0.8};  // head frame
  const double gh[3] = {s, 0, -c};  // R_y(0.3)^T (0, 0, -1) = (s, 0, -c)
  const double cy = std::cos(M_PI / 4), sy = std::sin(M_PI / 4);
  auto yaw_inv = [&](const double x[3], int k) {
    return k == 0 ? cy * x[0] + sy * x[1] : (k == 1 ? -sy * x[0] + cy * x[1] : x[2]);
  };
  const double expected[] = {
      0.3 * 2, -0.1 * 2, 0.05 * 2,                                                    // lin vel
      yaw_inv(wh, 0) * 0.25, yaw_inv(wh, 1) * 0.25, yaw_inv(wh, 2) * 0.25,            // IMU gyro
      yaw_inv(gh, 0), yaw_inv(gh, 1), yaw_inv(gh, 2),                                 // gravity
      0.7 * 2, -0.3 * 2, 0.5 * 0.25,                                                  // commands
      0.1 + 0.2, 0.5 - 0.4, -0.3 + 0.2, 0.2 - 0.4,                                    // q - default
      3 * 0.05, -1.0, 0.5, 0.0,                                                       // qd, clip 1
      0.1, 0.2, 0.3, 0.4,                                                             // actions
      std::sin(2 * M_PI * 0.75), std::cos(2 * M_PI * 0.75)};                          // gait clock
  REQUIRE(b.m.obs_dim == static_cast<int>(std::size(expected)));
  for (int i = 0; i < b.m.obs_dim; ++i) {
    INFO("component " << i);
    CHECK(o[i] == Approx(expected[i]).margin(1e-6));  // float output
  }
  CHECK(obs[0] == -7.0f);  // world 0's row untouched

  // noise: uniform within noise x level x scale, different draws per call
  b.p.obs_noise_level = 1.0;
  std::vector<float> noisy(2 * b.m.obs_dim);
  double max_dev_gyro = 0;
  bool changed = false;
  for (int rep = 0; rep < 200; ++rep) {
    observation_world(w, b.m, b.p, b.s, b.d, noisy.data());
    const float* n = noisy.data() + b.m.obs_dim;
    for (int i = 0; i < b.m.obs_dim; ++i) {
      const double bound = b.m.obs_noise[i] * b.m.obs_scale[i] + 1e-6;
      CHECK(std::abs(n[i] - o[i]) <= bound);
      if (n[i] != o[i]) changed = true;
    }
    max_dev_gyro = std::max(max_dev_gyro, std::abs(double(n[3] - o[3])));
  }
  CHECK(changed);
  CHECK(max_dev_gyro > 0.04);  // half-width 0.2 x 0.25 = 0.05 is reached in 200 draws
  CHECK(noisy[12 + b.m.obs_dim] != o[12]);  // joint_pos noise 0.01
  CHECK(noisy[9 + b.m.obs_dim] == o[9]);    // commands carry no noise
}

TEST_CASE("commands: ranges, standing below min_lin_vel, heading mode", "[tasks]") {
  auto cfg = test::quiet_config();
  cfg.commands.lin_vel_x = {0.5, 1.0};
  cfg.commands.lin_vel_y = {-0.1, 0.1};
  cfg.commands.ang_vel_yaw = {-0.4, 0.4};
  Bench b(cfg);
  for (int i = 0; i < 100; ++i) {
    sample_commands_world(0, b.p, b.d);
    CHECK(b.commands[0] >= 0.5);
    CHECK(b.commands[0] < 1.0);
    CHECK(std::abs(b.commands[1]) <= 0.1);
    CHECK(std::abs(b.commands[2]) <= 0.4);
  }
  b.p.lin_vel_x[0] = 0.0;
  b.p.lin_vel_x[1] = 0.1;
  b.p.min_lin_vel = 0.2;
  sample_commands_world(0, b.p, b.d);
  CHECK(b.commands[0] == 0.0);
  CHECK(b.commands[1] == 0.0);

  // heading: yaw rate = clip(0.5 * wrap(heading - yaw), yaw range)
  b.p.heading_command = 1;
  b.p.heading_stiffness = 0.5;
  b.base[kBYaw] = 3.0;
  b.commands[3] = -3.0;  // error wraps to 2 pi - 6 = 0.283
  heading_to_yaw_rate_world(0, b.p, b.d);
  CHECK(b.commands[2] == Approx(0.5 * (2 * M_PI - 6.0)).epsilon(1e-12));
  b.commands[3] = 2.0;  // error -1 -> -0.5 -> clipped to -0.4
  heading_to_yaw_rate_world(0, b.p, b.d);
  CHECK(b.commands[2] == Approx(-0.4).epsilon(1e-15));
}

TEST_CASE("reset: randomized initial state, domain randomization, cleared buffers", "[tasks]") {
  auto cfg = sim::tasks::default_task_config();
  cfg.init.joint_pos_noise = 0.1;
  cfg.domain_rand.max_action_latency = 2;
  Bench b(cfg, 3);
  // dirty buffers in world 2
  b.step[2] = 55;
  for (int i = 0; i < 4; ++i) b.actions[8 + i] = b.prev_actions[8 + i] = 1.0;
  b.air[4] = 0.7;
  b.last_contact[5] = 1;
  std::fill(b.hist.begin(), b.hist.end(), 9.0);
  reset_world(2, b.m, b.p, b.s, b.d);
  CHECK(b.step[2] == 0);
  for (int i = 0; i < 4; ++i) {
    CHECK(b.actions[8 + i] == 0.0);
    CHECK(b.prev_actions[8 + i] == 0.0);
    CHECK(std::abs(b.q(2)[8 + i] - b.m.default_pos[i]) <= 0.1);
    CHECK(b.ms[8 + i] >= 0.9);
    CHECK(b.ms[8 + i] <= 1.1);
    CHECK(b.kps[8 + i] >= 0.9);
    CHECK(b.kds[8 + i] <= 1.1);
  }
  for (int i = 0; i < 3 * 4; ++i) CHECK(b.hist[2 * 3 * 4 + i] == 0.0);
  CHECK(b.hist[0] == 9.0);  // world 0's ring untouched
  CHECK(b.air[4] == 0.0);
  CHECK(b.last_contact[5] == 0);
  CHECK(b.latency[2] >= 0);
  CHECK(b.latency[2] <= 2);
  // base: upright (a yaw only), at the MJCF height, unit quaternion
  const double* q = b.q(2);
  CHECK(q[2] == 1.0);
  CHECK(q[3] * q[3] + q[6] * q[6] == Approx(1.0).epsilon(1e-14));
  CHECK(q[4] == 0.0);
  CHECK(q[5] == 0.0);
  CHECK(std::abs(b.v(2)[0]) <= 0.1);
  // friction of every geom of world 2 set to one draw in [0.5, 1.25]; other worlds untouched
  const double mu = b.friction[(2 * kNgeom) * 3];
  CHECK(mu >= 0.5);
  CHECK(mu <= 1.25);
  for (int g = 0; g < kNgeom; ++g) CHECK(b.friction[(2 * kNgeom + g) * 3] == mu);
  CHECK(b.friction[0] == 1.0);
  const double m0 = b.biped.model->body_mass[1];
  CHECK(b.mass[2 * kNbody + 1] >= m0 - 1.0);
  CHECK(b.mass[2 * kNbody + 1] <= m0 + 3.0);
  // a new command in range
  CHECK(std::abs(b.commands[8 + 0]) <= 1.0);

  // latency draws cover 0..2
  std::vector<int> seen(3, 0);
  for (int i = 0; i < 200; ++i) {
    reset_world(2, b.m, b.p, b.s, b.d);
    seen[b.latency[2]]++;
  }
  CHECK(seen[0] > 0);
  CHECK(seen[1] > 0);
  CHECK(seen[2] > 0);
}

TEST_CASE("pushes kick the base horizontally every push interval", "[tasks]") {
  auto cfg = sim::tasks::default_task_config();
  cfg.domain_rand.push_interval = 1.0;  // 50 control steps
  cfg.domain_rand.push_vel_xy = 0.5;
  Bench b(cfg);
  b.step[0] = 49;
  push_world(0, b.m, b.p, b.s, b.d);
  CHECK(b.v(0)[0] == 0.0);
  b.step[0] = 50;
  push_world(0, b.m, b.p, b.s, b.d);
  CHECK(b.v(0)[0] != 0.0);
  CHECK(std::abs(b.v(0)[0]) <= 0.5);
  CHECK(std::abs(b.v(0)[1]) <= 0.5);
  CHECK(b.v(0)[2] == 0.0);
}
