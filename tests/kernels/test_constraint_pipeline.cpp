// tests/kernels/test_constraint_pipeline.cpp — the whole forward pass and step (smooth stages +
// collision + constraints + Newton, kernels/forward.inl with ConstraintPipeline) against
// mj_forward / mj_step in double: qacc at random states, a 1 s trajectory, and 10 s of a
// humanoid resting on the floor without growing penetration.
#include <catch2/catch.hpp>
#include <mujoco/mujoco.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/constraint_pipeline.h"
#include "kernels/forward.inl"
#include "kernels/team.h"
#include "sim/compile.h"
#include "smooth_fixture.h"
#include "sim/data.h"
#include "sim/model.h"

namespace {

using stampede::test::load_file;
using stampede::test::MjDataPtr;
using stampede::test::MjModelPtr;

using stampede::kern::ConstraintPipeline;
using stampede::kern::CpuTeam;
using stampede::sim::compile_model;
using stampede::sim::Data;
using stampede::sim::DataSizes;
using stampede::sim::Model;

static_assert(ConstraintPipeline::kSimulatesConstraints, "the constraint pipeline is plugged in");



void randomize(const mjModel* m, mjData* d, std::mt19937& rng, double zlo, double zhi) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> n(0.0, 1.0);
  mj_resetData(m, d);
  for (int j = 0; j < m->njnt; j++) {
    double* q = d->qpos + m->jnt_qposadr[j];
    switch (m->jnt_type[j]) {
      case mjJNT_FREE:
        q[2] = zlo + (zhi - zlo) * u(rng);
        for (int i = 3; i < 7; i++) q[i] = (i == 3 ? 3.0 : 0.0) + n(rng);
        mju_normalize4(q + 3);
        break;
      case mjJNT_BALL:
        for (int i = 0; i < 4; i++) q[i] = (i == 0 ? 2.0 : 0.0) + n(rng);
        mju_normalize4(q);
        break;
      default: {
        double lo = -0.5, hi = 0.5;
        if (m->jnt_limited[j]) {
          lo = m->jnt_range[2 * j];
          hi = m->jnt_range[2 * j + 1];
        }
        q[0] = lo + (hi - lo) * u(rng);
      }
    }
  }
  for (int i = 0; i < m->nv; i++) d->qvel[i] = 0.3 * n(rng);
  for (int i = 0; i < m->nu; i++) d->ctrl[i] = 2 * u(rng) - 1;
}

void copy_state(const mjModel* mm, const mjData* md, const stampede::sim::DataView<double>& v) {
  std::copy(md->qpos, md->qpos + mm->nq, v.qpos.at(0));
  std::copy(md->qvel, md->qvel + mm->nv, v.qvel.at(0));
  std::copy(md->ctrl, md->ctrl + mm->nu, v.ctrl.at(0));
  std::copy(md->qacc_warmstart, md->qacc_warmstart + mm->nv, v.qacc_warmstart.at(0));
  v.time.at(0)[0] = md->time;
}

double max_rel(const double* a, const double* b, int n) {
  double scale = 0, err = 0;
  for (int i = 0; i < n; i++) scale = std::max(scale, std::abs(b[i]));
  for (int i = 0; i < n; i++) err = std::max(err, std::abs(a[i] - b[i]));
  return err / (1 + scale);
}

// forward at random states: qacc, ncon, nefc like mj_forward
void check_forward(const char* path, int nstate, unsigned seed) {
  MjModelPtr mm(load_file(path));
  MjDataPtr md(mj_makeData(mm.get()));
  Model<double> model = compile_model<double>(mm.get());
  Data<double> data(DataSizes::of(model.view(), 1, 1000, 4000));
  const auto& v = data.view();
  std::mt19937 rng(seed);
  CpuTeam team;
  double worst = 0;
  int contacts = 0;
  for (int s = 0; s < nstate; s++) {
    randomize(mm.get(), md.get(), rng, 0.2, 1.3);
    for (int k = 0; k < s % 5; k++) mj_step(mm.get(), md.get());
    mj_forward(mm.get(), md.get());
    copy_state(mm.get(), md.get(), v);
    stampede::kern::forward(model.view(), v, 0, team);
    INFO(path << ", state " << s);
    REQUIRE(v.ncon.at(0)[0] == md.get()->ncon);
    REQUIRE(v.nefc.at(0)[0] == md.get()->nefc);
    double err = max_rel(v.qacc.at(0), md.get()->qacc, mm.get()->nv);
    // converged Newton solutions from the same inputs (rounding differences only)
    CHECK(err < 1e-6);
    worst = std::max(worst, err);
    contacts += md.get()->ncon;
  }
  WARN(path << ": " << nstate << " states, " << contacts << " contacts, max qacc error " << worst);
}

}  // namespace

TEST_CASE("forward with constraints matches mj_forward", "[constraint]") {
  check_forward(MUJOCO_SAMPLES_DIR "/humanoid/humanoid.xml", 100, 31);
  check_forward(MUJOCO_SAMPLES_DIR "/humanoid/22_humanoids.xml", 10, 32);
  for (const char* path : {STAMPEDE_ASSETS_DIR "/humanoid/humanoid.xml", STAMPEDE_ASSETS_DIR "/h1/h1.xml"}) {
    MjModelPtr mm(load_file(path));
    if (!stampede::sim::unsupported_features(mm.get()).empty()) continue;
    check_forward(path, 50, 33);
  }
}

TEST_CASE("a 1 s trajectory with contacts follows mj_step", "[constraint]") {
  // the humanoid falls from 0.3 m above its standing height with random controls: contacts
  // open and close; both engines integrate the same dynamics, so the states stay together to
  // the solver tolerance, amplified by the chaotic contact dynamics over the second
  MjModelPtr mm(load_file(MUJOCO_SAMPLES_DIR "/humanoid/humanoid.xml"));
  MjDataPtr md(mj_makeData(mm.get()));
  Model<double> model = compile_model<double>(mm.get());
  Data<double> data(DataSizes::of(model.view(), 1, 1000, 4000));
  const auto& v = data.view();
  std::mt19937 rng(41);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  mj_resetData(mm.get(), md.get());
  md.get()->qpos[2] += 0.3;
  copy_state(mm.get(), md.get(), v);
  CpuTeam team;
  int nstep = static_cast<int>(std::round(1.0 / mm.get()->opt.timestep));
  double worst = 0;
  int contact_steps = 0;
  for (int s = 0; s < nstep; s++) {
    for (int i = 0; i < mm.get()->nu; i++) md.get()->ctrl[i] = v.ctrl.at(0)[i] = 0.4 * u(rng);
    mj_step(mm.get(), md.get());
    stampede::kern::step(model.view(), v, 0, team);
    double err = std::max(max_rel(v.qpos.at(0), md.get()->qpos, mm.get()->nq),
                          max_rel(v.qvel.at(0), md.get()->qvel, mm.get()->nv));
    worst = std::max(worst, err);
    contact_steps += md.get()->ncon > 0;
    INFO("step " << s);
    REQUIRE(err < 1e-6);
  }
  WARN("1 s humanoid trajectory: " << nstep << " steps, " << contact_steps
                                   << " with contacts, max state divergence " << worst);
  CHECK(contact_steps > nstep / 2);
}

TEST_CASE("a humanoid rests on the floor for 10 s without growing penetration", "[constraint]") {
  MjModelPtr mm(load_file(MUJOCO_SAMPLES_DIR "/humanoid/humanoid.xml"));
  MjDataPtr md(mj_makeData(mm.get()));
  Model<double> model = compile_model<double>(mm.get());
  Data<double> data(DataSizes::of(model.view(), 1, 1000, 4000));
  const auto& v = data.view();
  mj_resetData(mm.get(), md.get());
  copy_state(mm.get(), md.get(), v);
  CpuTeam team;
  int per_second = static_cast<int>(std::round(1.0 / mm.get()->opt.timestep));
  std::vector<double> deepest(10, 0.0), deepest_mj(10, 0.0);  // deepest penetration per second (m)
  for (int sec = 0; sec < 10; sec++) {
    for (int s = 0; s < per_second; s++) {
      stampede::kern::step(model.view(), v, 0, team);
      mj_step(mm.get(), md.get());
      REQUIRE(v.warning_flags.at(0)[0] == 0);
      for (int c = 0; c < v.ncon.at(0)[0]; c++) {
        deepest[sec] = std::min(deepest[sec], v.contact_dist.at(0)[c]);
      }
      for (int c = 0; c < md.get()->ncon; c++) {
        deepest_mj[sec] = std::min(deepest_mj[sec], md.get()->contact[c].dist);
      }
    }
  }
  // after the fall the body lies on the floor: soft contacts about a millimetre deep that do
  // not deepen over time. Lying still is slowly chaotic (rounding differences between two
  // engines grow about 6x per half second), so MuJoCo's depths are compared over the first
  // 5 s only; afterwards the two runs are different, equally valid rests.
  WARN("deepest penetration per second (mm), ours / MuJoCo: " << deepest[0] * 1e3 << " / "
       << deepest_mj[0] * 1e3 << ", " << deepest[4] * 1e3 << " / " << deepest_mj[4] * 1e3
       << ", " << deepest[9] * 1e3 << " / " << deepest_mj[9] * 1e3);
  double settled = 0, late = 0;  // deepest over seconds 2-5 and 6-9
  for (int sec = 0; sec < 10; sec++) {
    CHECK(deepest[sec] > -0.02);
    if (sec < 5) CHECK(std::abs(deepest[sec] - deepest_mj[sec]) < 1e-6);
    if (sec >= 2 && sec < 6) settled = std::min(settled, deepest[sec]);
    if (sec >= 6) late = std::min(late, deepest[sec]);
  }
  CHECK(late > settled - 1e-3);
  CHECK(late > -0.005);
  double z = v.qpos.at(0)[2];
  CHECK(z > 0.05);  // the torso did not sink through the floor
}

TEST_CASE("forward with constraints in float stays close to mj_forward", "[constraint]") {
  // float runs the same algorithms in single precision: contact-stiff rows (D ~ 1e5) amplify
  // float rounding (~1e-7) in the Newton solution; 1e-3 relative bounds what we measure (2e-5)
  MjModelPtr mm(load_file(MUJOCO_SAMPLES_DIR "/humanoid/humanoid.xml"));
  MjDataPtr md(mj_makeData(mm.get()));
  Model<float> model = compile_model<float>(mm.get());
  Data<float> data(DataSizes::of(model.view(), 1, 1000, 4000));
  const auto& v = data.view();
  std::mt19937 rng(51);
  CpuTeam team;
  double worst = 0;
  int contacts = 0;
  for (int s = 0; s < 50; s++) {
    randomize(mm.get(), md.get(), rng, 0.2, 1.3);
    mj_forward(mm.get(), md.get());
    for (int i = 0; i < mm.get()->nq; i++) v.qpos.at(0)[i] = float(md.get()->qpos[i]);
    for (int i = 0; i < mm.get()->nv; i++) v.qvel.at(0)[i] = float(md.get()->qvel[i]);
    for (int i = 0; i < mm.get()->nv; i++) v.qacc_warmstart.at(0)[i] = 0;
    for (int i = 0; i < mm.get()->nu; i++) v.ctrl.at(0)[i] = float(md.get()->ctrl[i]);
    stampede::kern::forward(model.view(), v, 0, team);
    INFO("state " << s);
    REQUIRE(v.ncon.at(0)[0] == md.get()->ncon);
    double scale = 0, err = 0;
    for (int i = 0; i < mm.get()->nv; i++) scale = std::max(scale, std::abs(md.get()->qacc[i]));
    for (int i = 0; i < mm.get()->nv; i++) err = std::max(err, std::abs(double(v.qacc.at(0)[i]) - md.get()->qacc[i]));
    err /= 1 + scale;
    CHECK(err < 1e-3);
    worst = std::max(worst, err);
    contacts += md.get()->ncon;
  }
  WARN("float forward: " << contacts << " contacts, max qacc error " << worst);
  CHECK(contacts > 50);
}
