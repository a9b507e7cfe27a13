// tests/sim/tasks/test_standing.cpp — issue #4's long-horizon check: the H1 standing for 10 s
// (500 control steps, 2000 physics steps) under the task's PD law at the default pose, on our CPU
// kernel backend (float) and on MuJoCo: contact penetration does not grow and the mechanical
// energy stays bounded. Energy is MuJoCo's own (mj_energyPos + mj_energyVel) evaluated at each
// backend's state, so both engines are measured with one definition.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <mujoco/mujoco.h>

#include "sim/tasks/locomotion_env.h"
#include "sim/tasks/make_env.h"
#include "task_fixture.h"

using namespace stampede;
using namespace stampede::sim::tasks;

namespace {

struct Trace {
  double max_pen_first = 0, max_pen_last = 0;  // deepest penetration (m), first and last second
  double e_min = 1e300, e_max = -1e300;        // total energy over the last 9 s (J)
  double ke_max_last = 0;                       // kinetic energy, last 5 s (J)
  double z_first = 0, z_last = 0;               // pelvis height after 1 s and at the end (m)
  int nan_resets = 0, falls = 0;
};

template <class Real>
Trace stand(const std::string& device) {
  set_data_dir(STAMPEDE_SOURCE_DIR);
  TaskConfig cfg = test::quiet_config();
  cfg.robot = "h1";
  cfg.episode_length = 30.0;  // no time-out inside the 10 s
  cfg.commands.lin_vel_x = {0.0, 0.0};
  cfg.commands.lin_vel_y = {0.0, 0.0};
  cfg.commands.ang_vel_yaw = {0.0, 0.0};
  const int n = 4;
  auto venv = make_locomotion_vec_env("h1-walk", n, device, /*seed=*/3, &cfg, /*nthread=*/1);
  auto* env = dynamic_cast<LocomotionEnv<Real>*>(venv.get());
  REQUIRE(env != nullptr);
  sim::Backend<Real>& b = env->backend();
  const mjModel* m = b.mj_model();
  std::unique_ptr<mjData, void (*)(mjData*)> d(mj_makeData(m), mj_deleteData);
  const int nq = m->nq, nv = m->nv, od = env->obs_dim(), ad = env->act_dim();
  std::vector<float> obs(static_cast<std::size_t>(n) * od), fobs(obs.size()), rew(n), act(static_cast<std::size_t>(n) * ad, 0.0f);
  std::vector<unsigned char> term(n), trunc(n);
  env->reset(obs.data());

  Trace t;
  const int steps = 500;  // 10 s at 50 Hz
  const int per_second = 50;
  for (int k = 1; k <= steps; ++k) {
    venv->step(act.data(), obs.data(), rew.data(), term.data(), trunc.data(), fobs.data());
    for (int w = 0; w < n; ++w) t.falls += term[w] ? 1 : 0;
    // penetration of every contact the last substep used
    double pen = 0;
    for (int w = 0; w < n; ++w)
      for (int c = 0; c < b.ncon()[w]; ++c)
        pen = std::max(pen, -static_cast<double>(b.con_dist()[w * b.contact_capacity() + c]));
    if (k <= per_second) t.max_pen_first = std::max(t.max_pen_first, pen);
    if (k > steps - per_second) t.max_pen_last = std::max(t.max_pen_last, pen);
    // MuJoCo's energy at world 0's state
    for (int i = 0; i < nq; ++i) d->qpos[i] = static_cast<double>(b.qpos()[i]);
    for (int i = 0; i < nv; ++i) d->qvel[i] = static_cast<double>(b.qvel()[i]);
    mj_kinematics(m, d.get());
    mj_comPos(m, d.get());
    mj_crb(m, d.get());
    mj_energyPos(m, d.get());
    mj_energyVel(m, d.get());
    const double e = d->energy[0] + d->energy[1];
    if (k > per_second) {
      t.e_min = std::min(t.e_min, e);
      t.e_max = std::max(t.e_max, e);
    }
    if (k > steps / 2) t.ke_max_last = std::max(t.ke_max_last, d->energy[1]);
    const double z = static_cast<double>(b.qpos()[2]);
    if (k == per_second) t.z_first = z;
    if (k == steps) t.z_last = z;
  }
  for (int w = 0; w < n; ++w) t.nan_resets += b.warnings()[w].nan_reset;
  std::printf("%s: penetration first s %.3g m, last s %.3g m; energy range %.4g J over 9 s; "
              "max kinetic energy (last 5 s) %.3g J; pelvis %.4f -> %.4f m\n",
              device.c_str(), t.max_pen_first, t.max_pen_last, t.e_max - t.e_min, t.ke_max_last,
              t.z_first, t.z_last);
  return t;
}

void check(const Trace& t) {
  CHECK(t.falls == 0);
  CHECK(t.nan_resets == 0);
  // no growth in penetration: the last second is no deeper than the first (plus 0.1 mm), and
  // shallow in absolute terms (MuJoCo's soft contacts settle at about a millimetre here)
  CHECK(t.max_pen_last <= t.max_pen_first + 1e-4);
  CHECK(t.max_pen_last < 5e-3);
  // bounded energy: once settled, the total varies by less than 1 J (H1 weighs ~51 kg: 1 J is
  // 2 mm of centre-of-mass height) and the robot is nearly at rest
  CHECK(t.e_max - t.e_min < 1.0);
  CHECK(t.ke_max_last < 0.05);
  CHECK(std::fabs(t.z_last - t.z_first) < 2e-3);
}

}  // namespace

TEST_CASE("H1 stands 10 s on MuJoCo: no penetration growth, bounded energy", "[tasks][standing]") {
  check(stand<double>("mujoco"));
}

#if __has_include("sim/make_backend.h")  // the kernel backends are part of this tree
TEST_CASE("H1 stands 10 s on our CPU kernels: no penetration growth, bounded energy", "[tasks][standing]") {
  check(stand<float>("cpu"));
}
#endif
