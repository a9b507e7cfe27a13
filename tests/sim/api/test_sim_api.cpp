// tests/sim/api/test_sim_api.cpp — the public simulator API (stampede/sim.h) against MuJoCo's
// mj_forward / mj_step, world by world, on the project robots and random trees: after forward()
// qacc, xpos, xquat and the contact set; after 100 steps the trajectory. Backend cpu in float64
// (tight comparison), plus the mujoco backend (bit-exact) and a float32 smoke comparison.
#include <mujoco/mujoco.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "stampede/sim.h"

namespace {

namespace ss = stampede::sim;

const std::string kH1 = std::string(STAMPEDE_ASSETS_DIR) + "/h1/h1.xml";
const std::string kHumanoid = std::string(STAMPEDE_ASSETS_DIR) + "/humanoid/humanoid.xml";

struct DataDeleter {
  void operator()(mjData* d) const { mj_deleteData(d); }
};
using DataPtr = std::unique_ptr<mjData, DataDeleter>;

// a random but physical state: free roots 0.2-1.3 m high, joints inside their ranges, small
// velocities and controls in [-1, 1]
void randomize(const mjModel* m, mjData* d, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> n(0.0, 1.0);
  mj_resetData(m, d);
  for (int j = 0; j < m->njnt; j++) {
    double* q = d->qpos + m->jnt_qposadr[j];
    switch (m->jnt_type[j]) {
      case mjJNT_FREE:
        q[0] += 0.2 * n(rng);
        q[1] += 0.2 * n(rng);
        q[2] = 0.2 + 1.1 * u(rng);
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

// largest |a - b| relative to 1 + max |b|
double max_rel(const double* a, const double* b, long n) {
  double scale = 0, err = 0;
  for (long i = 0; i < n; i++) scale = std::max(scale, std::abs(b[i]));
  for (long i = 0; i < n; i++) err = std::max(err, std::abs(a[i] - b[i]));
  return err / (1 + scale);
}

// one contact, for comparing sets independently of order
struct Contact {
  int g1, g2;
  double dist, pos[3], frame[9];
  bool operator<(const Contact& o) const {
    if (g1 != o.g1) return g1 < o.g1;
    if (g2 != o.g2) return g2 < o.g2;
    return dist < o.dist;
  }
};

std::vector<Contact> ours(const ss::Batch& sim, int w) {
  ss::WorldContacts c = sim.contact(w);
  std::vector<Contact> out(c.ncon);
  for (int i = 0; i < c.ncon; i++) {
    out[i].g1 = c.geom.as<const int>()[2 * i];
    out[i].g2 = c.geom.as<const int>()[2 * i + 1];
    out[i].dist = c.dist.as<const double>()[i];
    std::copy_n(c.pos.as<const double>() + 3 * i, 3, out[i].pos);
    std::copy_n(c.frame.as<const double>() + 9 * i, 9, out[i].frame);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Contact> theirs(const mjData* d) {
  std::vector<Contact> out(d->ncon);
  for (int i = 0; i < d->ncon; i++) {
    out[i].g1 = d->contact[i].geom[0];
    out[i].g2 = d->contact[i].geom[1];
    out[i].dist = d->contact[i].dist;
    std::copy_n(d->contact[i].pos, 3, out[i].pos);
    std::copy_n(d->contact[i].frame, 9, out[i].frame);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// the same random state in every world of `sim` and in mjData `ref[w]`
void set_random_states(ss::Batch& sim, const mjModel* m, std::vector<DataPtr>& ref, std::mt19937& rng) {
  double* qpos = sim.qpos().as<double>();
  double* qvel = sim.qvel().as<double>();
  double* ctrl = sim.ctrl().as<double>();
  for (int w = 0; w < sim.nworld(); w++) {
    randomize(m, ref[w].get(), rng);
    std::copy_n(ref[w]->qpos, m->nq, qpos + w * m->nq);
    std::copy_n(ref[w]->qvel, m->nv, qvel + w * m->nv);
    std::copy_n(ref[w]->ctrl, m->nu, ctrl + w * m->nu);
  }
}

struct Errors {
  double qacc = 0, xpos = 0, xquat = 0, contact = 0, traj = 0;
  int contacts = 0;
};

// forward at random states, then 100 steps with the states' controls
Errors compare(const ss::CompiledModel& model, int nworld, unsigned seed) {
  const mjModel* m = model.mj_model();
  ss::Batch sim(model, nworld, "cpu", "float64", 2);
  std::vector<DataPtr> ref;
  for (int w = 0; w < nworld; w++) ref.emplace_back(mj_makeData(m));
  std::mt19937 rng(seed);
  set_random_states(sim, m, ref, rng);

  Errors e;
  sim.forward();
  const double* qacc = sim.qacc().as<const double>();
  const double* xpos = sim.xpos().as<const double>();
  const double* xquat = sim.xquat().as<const double>();
  for (int w = 0; w < nworld; w++) {
    mjData* d = ref[w].get();
    mj_forward(m, d);
    INFO("world " << w);
    e.qacc = std::max(e.qacc, max_rel(qacc + w * m->nv, d->qacc, m->nv));
    e.xpos = std::max(e.xpos, max_rel(xpos + w * 3 * m->nbody, d->xpos, 3 * m->nbody));
    e.xquat = std::max(e.xquat, max_rel(xquat + w * 4 * m->nbody, d->xquat, 4 * m->nbody));
    std::vector<Contact> a = ours(sim, w), b = theirs(d);
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); i++) {
      REQUIRE(a[i].g1 == b[i].g1);
      REQUIRE(a[i].g2 == b[i].g2);
      e.contact = std::max({e.contact, std::abs(a[i].dist - b[i].dist), max_rel(a[i].pos, b[i].pos, 3),
                            max_rel(a[i].frame, b[i].frame, 9)});
    }
    e.contacts += static_cast<int>(b.size());
  }

  // 100 steps; MuJoCo integrates the same states with the same controls
  sim.step(100);
  const double* qpos = sim.qpos().as<const double>();
  const double* qvel = sim.qvel().as<const double>();
  for (int w = 0; w < nworld; w++) {
    mjData* d = ref[w].get();
    for (int s = 0; s < 100; s++) mj_step(m, d);
    e.traj = std::max({e.traj, max_rel(qpos + w * m->nq, d->qpos, m->nq), max_rel(qvel + w * m->nv, d->qvel, m->nv)});
    CHECK(std::abs(sim.time().as<const double>()[w] - d->time) < 1e-12);
  }
  CHECK(sim.warnings().as<const int>()[2] == 0);
  return e;
}

// tolerances, relative to 1 + the largest magnitude (measured: kinematics <= 2e-16, contacts
// <= 2e-15, qacc <= 5e-14, 100-step trajectories <= 7e-14 on these models and seeds):
// - kinematics (xpos, xquat) and contact geometry are closed-form: rounding level;
// - qacc goes through the mass-matrix factorization and the Newton solver (a linear solve per
//   iteration, same iterations as MuJoCo from the same warm start); conditioning of M and of
//   the constraint Hessian amplifies rounding by up to ~1e3 for these trees, hence 1e-11;
// - 100 steps of falling robots with contacts opening and closing are chaotic: rounding
//   differences grow every step. The worst case seen (tests/python/test_sim.py, a random tree
//   whose bodies stay 6 cm interpenetrated) grows smoothly by ~2.5x per 10 steps to 4e-9 at
//   step 100; hence 1e-7
void check(const Errors& e, const std::string& what) {
  WARN(what << ": max rel. error qacc " << e.qacc << ", xpos " << e.xpos << ", xquat " << e.xquat
            << ", contacts (" << e.contacts << ") " << e.contact << ", 100-step trajectory " << e.traj);
  CHECK(e.xpos < 1e-14);
  CHECK(e.xquat < 1e-14);
  CHECK(e.contact < 1e-13);
  CHECK(e.qacc < 1e-11);
  CHECK(e.traj < 1e-7);
}

// a random kinematic tree over a floor: hinge, slide and ball joints under a free root, capsule,
// sphere and box geoms, a motor on every hinge and slide
std::string random_tree_xml(std::mt19937& rng, int nbody) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::ostringstream x;
  x << "<mujoco><option timestep='0.004'/><worldbody>"
    << "<geom name='floor' type='plane' size='5 5 0.1'/>";
  std::vector<std::string> actuated;
  std::vector<int> depth_stack;
  // depth-first: each body closes 0..depth of the open bodies before the next opens
  int open = 0;
  for (int b = 0; b < nbody; b++) {
    if (b > 0) {
      int close = static_cast<int>(u(rng) * open);
      for (int k = 0; k < close; k++) x << "</body>";
      open -= close;
    }
    double px = b == 0 ? 0 : 0.3 * (u(rng) - 0.5), py = b == 0 ? 0 : 0.3 * (u(rng) - 0.5);
    double pz = b == 0 ? 1.0 : -0.15 - 0.2 * u(rng);
    x << "<body name='b" << b << "' pos='" << px << " " << py << " " << pz << "'>";
    open++;
    if (b == 0) {
      x << "<freejoint/>";
    } else {
      double r = u(rng);
      const char* type = r < 0.5 ? "hinge" : r < 0.75 ? "slide" : "ball";
      double ax = u(rng) - 0.5, ay = u(rng) - 0.5, az = u(rng) - 0.5;
      x << "<joint name='j" << b << "' type='" << type << "' axis='" << ax << " " << ay << " " << az
        << "' damping='" << 0.5 * u(rng) << "'";
      if (std::string(type) != "ball") {
        x << " range='-0.6 0.6'";
        actuated.push_back("j" + std::to_string(b));
      }
      x << "/>";
    }
    double g = u(rng);
    if (g < 0.4)
      x << "<geom type='capsule' size='" << 0.03 + 0.03 * u(rng) << "' fromto='0 0 0 0 0 " << -0.1 - 0.1 * u(rng) << "'/>";
    else if (g < 0.7)
      x << "<geom type='sphere' size='" << 0.04 + 0.05 * u(rng) << "'/>";
    else
      x << "<geom type='box' size='" << 0.03 + 0.05 * u(rng) << " " << 0.03 + 0.05 * u(rng) << " "
        << 0.03 + 0.05 * u(rng) << "'/>";
  }
  for (; open > 0; open--) x << "</body>";
  x << "</worldbody><actuator>";
  for (const auto& j : actuated) x << "<motor joint='" << j << "' gear='" << 5 + 20 * u(rng) << "' ctrlrange='-1 1'/>";
  x << "</actuator></mujoco>";
  return x.str();
}

std::string write_temp(const std::string& text, const std::string& name) {
  auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

TEST_CASE("the sim API matches MuJoCo on the project robots", "[simapi]") {
  for (const std::string& path : {kH1, kHumanoid}) {
    ss::CompiledModel m = ss::load(path);
    check(compare(m, 8, 11), path);
  }
}

TEST_CASE("the sim API matches MuJoCo on random trees", "[simapi]") {
  std::mt19937 rng(5);
  for (int t = 0; t < 12; t++) {
    std::string xml = random_tree_xml(rng, 2 + t % 7);
    std::string path = write_temp(xml, "stampede_simapi_tree_" + std::to_string(t) + ".xml");
    INFO(xml);
    ss::CompiledModel m = ss::load(path);
    check(compare(m, 4, 100 + t), "random tree " + std::to_string(t));
    std::filesystem::remove(path);
  }
}

TEST_CASE("the mujoco backend through the API is MuJoCo itself", "[simapi]") {
  ss::CompiledModel model = ss::load(kH1);
  const mjModel* m = model.mj_model();
  ss::Batch sim(model, 3, "mujoco", "float64", 1);
  std::vector<DataPtr> ref;
  for (int w = 0; w < 3; w++) ref.emplace_back(mj_makeData(m));
  std::mt19937 rng(3);
  set_random_states(sim, m, ref, rng);
  sim.step(20);
  for (int w = 0; w < 3; w++) {
    for (int s = 0; s < 20; s++) mj_step(m, ref[w].get());
    CHECK(max_rel(sim.qpos().as<const double>() + w * m->nq, ref[w]->qpos, m->nq) == 0);
    CHECK(max_rel(sim.qvel().as<const double>() + w * m->nv, ref[w]->qvel, m->nv) == 0);
  }
}

TEST_CASE("float32 follows float64 to float rounding after forward", "[simapi]") {
  ss::CompiledModel model = ss::load(kHumanoid);
  ss::Batch s32(model, 4, "cpu", "float32", 1), s64(model, 4, "cpu", "float64", 1);
  REQUIRE(s32.dtype() == ss::DType::kFloat32);
  // the same random joint angles in both (float-representable values)
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-0.3f, 0.3f);
  const int nq = model.nq();
  for (int w = 0; w < 4; w++)
    for (int i = 7; i < nq; i++) {
      float q = u(rng);
      s32.qpos().as<float>()[w * nq + i] = q;
      s64.qpos().as<double>()[w * nq + i] = q;
    }
  s32.forward();
  s64.forward();
  const int n = 3 * model.nbody() * 4;
  double err = 0;
  for (int i = 0; i < n; i++)
    err = std::max(err, std::abs(double(s32.xpos().as<const float>()[i]) - s64.xpos().as<const double>()[i]));
  // body positions are sums of ~10 rotated offsets of ~1 m: float rounding ~1e-6
  CHECK(err < 1e-5);
}

TEST_CASE("set_model_field and reset act per world", "[simapi]") {
  ss::CompiledModel model = ss::load(kHumanoid);
  const mjModel* m = model.mj_model();
  ss::Batch sim(model, 2, "cpu", "float64", 1);
  // heavier bodies in world 1 only: its free fall is the same (gravity), its qacc under a
  // joint torque is not
  std::vector<double> mass(2 * m->nbody);
  for (int b = 0; b < m->nbody; b++) {
    mass[b] = m->body_mass[b];
    mass[m->nbody + b] = 3 * m->body_mass[b];
  }
  sim.set_model_field("body_mass", mass);
  int size = 0;
  std::vector<double> back = sim.model_field("body_mass", &size);
  REQUIRE(size == m->nbody);
  CHECK(back == mass);
  for (int w = 0; w < 2; w++) sim.ctrl().as<double>()[w * m->nu] = 1.0;
  sim.forward();
  const double* qacc = sim.qacc().as<const double>();
  CHECK(std::abs(qacc[6] - qacc[m->nv + 6]) > 1e-3);

  sim.step(10);
  CHECK(sim.time().as<const double>()[0] > 0);
  sim.reset({1});
  CHECK(sim.time().as<const double>()[0] > 0);
  CHECK(sim.time().as<const double>()[1] == 0);
  for (int i = 0; i < m->nq; i++) CHECK(sim.qpos().as<const double>()[m->nq + i] == m->qpos0[i]);
}
