// tests/sim/mujoco/test_mujoco_backend.cpp — the reference backend against MuJoCo's own serial
// loop (one mjData per world, mj_step). Every comparison is bit-exact: the backend runs the same
// MuJoCo functions on the same inputs, so any difference is a bug in the wrapper.
#include <mujoco/mujoco.h>

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "sim/mujoco_backend.h"

namespace {

using stampede::sim::Backend;
using stampede::sim::MujocoBackend;

const std::string kHumanoid = std::string(MUJOCO_SAMPLES_DIR) + "/humanoid/humanoid.xml";

struct ModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};
using ModelPtr = std::unique_ptr<mjModel, ModelDeleter>;

ModelPtr load_model(const std::string& path) {
  char error[1000] = "";
  mjModel* m = mj_loadXML(path.c_str(), nullptr, error, sizeof(error));
  INFO(path << ": " << error);
  REQUIRE(m != nullptr);
  return ModelPtr(m);
}

ModelPtr copy_model(const mjModel* m) { return ModelPtr(mj_copyModel(nullptr, m)); }

// MuJoCo's warnings while a LogCapture lives: counted instead of printed and appended to
// MUJOCO_LOG.TXT (the handler runs on the batch's threads, hence atomic)
std::atomic<int> mujoco_warnings{0};
void count_warning(const mjLogMessage* message) {
  if (message->level == mjLOG_WARNING) mujoco_warnings++;
}
struct LogCapture {
  mjfLogHandler previous;
  LogCapture() : previous(mju_setLogHandler(&count_warning)) { mujoco_warnings = 0; }
  ~LogCapture() { mju_setLogHandler(previous); }
};

bool same(const double* a, const double* b, int n) {
  return std::memcmp(a, b, sizeof(double) * n) == 0;
}

// one contact as MuJoCo reports it, with its force in the contact frame
struct OracleContact {
  int geom[2];
  double dist, pos[3], frame[9], force[3];
};

// MuJoCo's own serial loop: one mjData (and model) per world
struct Oracle {
  std::vector<const mjModel*> m;
  std::vector<mjData*> d;
  std::vector<std::vector<OracleContact>> contacts;  // captured after the last step or forward
  std::vector<double> qfrc_applied, xfrc_applied;    // applied in step(), world-major

  Oracle(const mjModel* model, int nworld)
      : m(nworld, model), d(nworld), contacts(nworld),
        qfrc_applied(size_t(nworld) * model->nv, 0.0),
        xfrc_applied(size_t(nworld) * 6 * model->nbody, 0.0) {
    for (int w = 0; w < nworld; ++w) {
      d[w] = mj_makeData(model);
      reset(w);
    }
  }
  ~Oracle() {
    for (mjData* x : d) mj_deleteData(x);
  }
  Oracle(const Oracle&) = delete;
  Oracle& operator=(const Oracle&) = delete;

  // like mjb_reset(mjSTAGE_ACC)
  void reset(int w) {
    mj_resetData(m[w], d[w]);
    forward(w);
  }
  void forward(int w) {
    mj_forward(m[w], d[w]);
    capture(w);
  }
  // nstep mj_step, then positions at the new state (what mjSTAGE_VEL makes current)
  void step(int w, const double* ctrl, int nstep) {
    std::memcpy(d[w]->ctrl, ctrl, sizeof(double) * m[w]->nu);
    std::memcpy(d[w]->qfrc_applied, qfrc_applied.data() + w * m[w]->nv,
                sizeof(double) * m[w]->nv);
    std::memcpy(d[w]->xfrc_applied, xfrc_applied.data() + w * 6 * m[w]->nbody,
                sizeof(double) * 6 * m[w]->nbody);
    for (int k = 0; k < nstep; ++k) mj_step(m[w], d[w]);
    capture(w);
    mj_kinematics(m[w], d[w]);
    mj_comPos(m[w], d[w]);
  }
  void capture(int w) {
    contacts[w].clear();
    for (int i = 0; i < d[w]->ncon; ++i) {
      const mjContact& c = d[w]->contact[i];
      OracleContact o;
      o.geom[0] = c.geom[0];
      o.geom[1] = c.geom[1];
      o.dist = c.dist;
      std::memcpy(o.pos, c.pos, sizeof(o.pos));
      std::memcpy(o.frame, c.frame, sizeof(o.frame));
      mjtNum f[6];
      mj_contactForce(m[w], d[w], i, f);
      std::memcpy(o.force, f, sizeof(o.force));
      contacts[w].push_back(o);
    }
  }
};

// world w of the backend, bit for bit against the oracle's world ow
void require_world_equal(const Backend<double>& b, int w, const Oracle& o, int ow) {
  const mjModel* m = b.mj_model();
  const mjData* d = o.d[ow];
  auto& bb = const_cast<Backend<double>&>(b);
  INFO("world " << w);
  REQUIRE(same(bb.qpos() + w * m->nq, d->qpos, m->nq));
  REQUIRE(same(bb.qvel() + w * m->nv, d->qvel, m->nv));
  REQUIRE(same(bb.ctrl() + w * m->nu, d->ctrl, m->nu));
  REQUIRE(bb.time()[w] == d->time);
  REQUIRE(same(b.qacc() + w * m->nv, d->qacc, m->nv));
  REQUIRE(same(b.xpos() + w * 3 * m->nbody, d->xpos, 3 * m->nbody));
  REQUIRE(same(b.xquat() + w * 4 * m->nbody, d->xquat, 4 * m->nbody));
  REQUIRE(same(b.subtree_com() + w * 3 * m->nbody, d->subtree_com, 3 * m->nbody));

  // contacts
  const auto& want = o.contacts[ow];
  REQUIRE(static_cast<int>(want.size()) <= b.contact_capacity());
  REQUIRE(b.ncon()[w] == static_cast<int>(want.size()));
  for (int i = 0; i < b.ncon()[w]; ++i) {
    INFO("contact " << i);
    const int k = w * b.contact_capacity() + i;
    REQUIRE(b.con_geom()[2 * k] == want[i].geom[0]);
    REQUIRE(b.con_geom()[2 * k + 1] == want[i].geom[1]);
    REQUIRE(b.con_dist()[k] == want[i].dist);
    REQUIRE(same(b.con_pos() + 3 * k, want[i].pos, 3));
    REQUIRE(same(b.con_frame() + 9 * k, want[i].frame, 9));
    REQUIRE(same(b.con_force() + 3 * k, want[i].force, 3));
  }
}

// per-world random controls inside the humanoid's ctrlrange [-1, 1]
struct Controls {
  std::mt19937_64 rng{12345};
  std::uniform_real_distribution<double> u{-1.0, 1.0};
  void fill(double* ctrl, int n) {
    for (int i = 0; i < n; ++i) ctrl[i] = u(rng);
  }
};

// write random ctrl into every world, step backend and oracle alike
void step_both(Backend<double>& b, Oracle& o, Controls& c, int nstep) {
  const int nu = b.mj_model()->nu;
  for (int w = 0; w < b.nworld(); ++w) c.fill(b.ctrl() + w * nu, nu);
  std::vector<double> ctrl(b.ctrl(), b.ctrl() + b.nworld() * nu);
  b.step(nstep);
  for (int w = 0; w < b.nworld(); ++w) o.step(w, ctrl.data() + w * nu, nstep);
}

int total_contacts(const Backend<double>& b) {
  int n = 0;
  for (int w = 0; w < b.nworld(); ++w) n += b.ncon()[w];
  return n;
}

}  // namespace

TEST_CASE("mujoco backend: worlds step bit-identically to a serial mj_step loop", "[mujoco]") {
  const int nthread = GENERATE(1, 2);
  const int block = GENERATE(0, 4);  // automatic (all 6 worlds in one pass), or passes of 4 + 2
  INFO(nthread << " threads, block size " << block);
  ModelPtr m = load_model(kHumanoid);
  const int nworld = 6;
  MujocoBackend b(m.get(), nworld, nthread);
  REQUIRE(b.nthread() == nthread);
  b.set_block_size(block);
  REQUIRE(b.block_size() == (block ? block : nworld));
  Oracle o(m.get(), nworld);
  Controls c;

  // the initial state is the model's reset state, fully computed
  for (int w = 0; w < nworld; ++w) require_world_equal(b, w, o, w);

  // applied forces: a sideways push on world 3's torso, a hip torque in world 4
  b.xfrc_applied()[3 * 6 * m->nbody + 6 * 1 + 1] = 60.0;
  b.qfrc_applied()[4 * m->nv + 9] = -15.0;
  o.xfrc_applied.assign(b.xfrc_applied(), b.xfrc_applied() + nworld * 6 * m->nbody);
  o.qfrc_applied.assign(b.qfrc_applied(), b.qfrc_applied() + nworld * m->nv);

  // long enough for every humanoid to fall and touch the floor; some calls take 3 substeps
  int contacts_seen = 0;
  double normal_force = 0;
  for (int call = 0; call < 150; ++call) {
    const int nstep = call % 10 == 9 ? 3 : 1;
    step_both(b, o, c, nstep);
    for (int w = 0; w < nworld; ++w) {
      require_world_equal(b, w, o, w);
      for (int i = 0; i < b.ncon()[w]; ++i) normal_force += b.con_force()[3 * (w * 64 + i)];
    }
    contacts_seen += total_contacts(b);
  }
  REQUIRE(contacts_seen > 0);
  REQUIRE(normal_force > 0);  // the floor carries the fallen humanoids
  for (int w = 0; w < nworld; ++w) {
    REQUIRE(b.warnings()[w].nan_reset == 0);
    REQUIRE(b.warnings()[w].contact_overflow == 0);
  }
}

TEST_CASE("mujoco backend: forward() equals mj_forward at a written state", "[mujoco]") {
  ModelPtr m = load_model(kHumanoid);
  MujocoBackend b(m.get(), 3, 2);
  Oracle o(m.get(), 3);

  // world 1: torso lowered into the floor, moving; world 2: pushed by applied forces
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  double* qpos1 = b.qpos() + m->nq;
  qpos1[2] = 0.25;
  for (int i = 0; i < m->nv; ++i) b.qvel()[m->nv + i] = u(rng);
  for (int i = 0; i < m->nu; ++i) b.ctrl()[2 * m->nu + i] = u(rng);
  b.xfrc_applied()[2 * 6 * m->nbody + 6 * 1 + 0] = 40.0;
  b.qfrc_applied()[2 * m->nv + 7] = 3.0;
  b.time()[2] = 1.25;
  for (int w = 0; w < 3; ++w) {
    std::memcpy(o.d[w]->qpos, b.qpos() + w * m->nq, sizeof(double) * m->nq);
    std::memcpy(o.d[w]->qvel, b.qvel() + w * m->nv, sizeof(double) * m->nv);
    std::memcpy(o.d[w]->ctrl, b.ctrl() + w * m->nu, sizeof(double) * m->nu);
    std::memcpy(o.d[w]->qfrc_applied, b.qfrc_applied() + w * m->nv, sizeof(double) * m->nv);
    std::memcpy(o.d[w]->xfrc_applied, b.xfrc_applied() + w * 6 * m->nbody,
                sizeof(double) * 6 * m->nbody);
    o.d[w]->time = b.time()[w];
  }
  b.forward();
  for (int w = 0; w < 3; ++w) {
    o.forward(w);
    require_world_equal(b, w, o, w);
  }
  REQUIRE(b.ncon()[1] > 0);
  bool any_force = false;
  for (int i = 0; i < b.ncon()[1]; ++i) any_force |= b.con_force()[3 * (b.contact_capacity() + i)] > 0;
  REQUIRE(any_force);

  // a world whose state is not finite is reset
  LogCapture log;
  b.qpos()[0 * m->nq + 3] = std::numeric_limits<double>::infinity();
  b.forward();
  o.reset(0);
  REQUIRE(b.warnings()[0].nan_reset == 1);
  for (int w = 0; w < 3; ++w) {
    if (w) o.forward(w);
    require_world_equal(b, w, o, w);
  }
}

TEST_CASE("mujoco backend: reset of a subset returns those worlds to qpos0", "[mujoco]") {
  ModelPtr m = load_model(kHumanoid);
  const int nworld = 5;
  MujocoBackend b(m.get(), nworld, 2);
  Oracle o(m.get(), nworld);
  Controls c;
  for (int call = 0; call < 120; ++call) step_both(b, o, c, 1);

  // unsorted, with a duplicate: the backend sorts and dedupes for mjbatch
  const int worlds[] = {3, 1, 3};
  b.reset(worlds, 3);
  o.reset(1);
  o.reset(3);
  for (int w : {1, 3}) {
    REQUIRE(same(b.qpos() + w * m->nq, m->qpos0, m->nq));
    for (int i = 0; i < m->nv; ++i) REQUIRE(b.qvel()[w * m->nv + i] == 0.0);
    for (int i = 0; i < m->nu; ++i) REQUIRE(b.ctrl()[w * m->nu + i] == 0.0);
    REQUIRE(b.time()[w] == 0.0);
  }
  REQUIRE(b.time()[0] > 0.5);
  for (int w = 0; w < nworld; ++w) require_world_equal(b, w, o, w);

  // and they go on exactly as a freshly reset mjData would
  for (int call = 0; call < 40; ++call) {
    step_both(b, o, c, 1);
    for (int w = 0; w < nworld; ++w) require_world_equal(b, w, o, w);
  }

  // reset of everything
  b.reset(nullptr, 0);
  for (int w = 0; w < nworld; ++w) {
    o.reset(w);
    require_world_equal(b, w, o, w);
  }

  const int bad[] = {nworld};
  REQUIRE_THROWS_AS(b.reset(bad, 1), std::invalid_argument);
}

TEST_CASE("mujoco backend: model_field changes one world's model only", "[mujoco]") {
  ModelPtr m = load_model(kHumanoid);
  const int nworld = 3;
  MujocoBackend b(m.get(), nworld, 2);
  ModelPtr changed = copy_model(m.get());
  const int target = 1;

  SECTION("body_mass") {
    int size = 0;
    double* mass = b.model_field("body_mass", &size);
    REQUIRE(size == m->nbody);
    REQUIRE(same(mass + target * size, m->body_mass, size));
    mass[target * size + 1] *= 2.0;  // torso of world 1
    changed->body_mass[1] *= 2.0;
  }
  SECTION("geom_friction") {
    int size = 0;
    double* friction = b.model_field("geom_friction", &size);
    REQUIRE(size == 3 * m->ngeom);
    friction[target * size + 0] = 0.05;  // the floor (geom 0), sliding friction
    changed->geom_friction[0] = 0.05;
  }
  SECTION("opt.gravity") {
    int size = 0;
    double* gravity = b.model_field("opt.gravity", &size);
    REQUIRE(size == 3);
    gravity[target * size + 2] = -3.0;
    changed->opt.gravity[2] = -3.0;
  }

  // worlds 0 and 1 get the same controls; world 1 must follow the changed model only
  Oracle o(m.get(), nworld);
  o.m[target] = changed.get();
  o.reset(target);
  Controls c;
  const int nu = m->nu;
  for (int call = 0; call < 150; ++call) {
    for (int w = 0; w < nworld; ++w) c.fill(b.ctrl() + w * nu, nu);
    std::memcpy(b.ctrl() + target * nu, b.ctrl(), sizeof(double) * nu);
    std::vector<double> ctrl(b.ctrl(), b.ctrl() + nworld * nu);
    b.step(1);
    for (int w = 0; w < nworld; ++w) {
      o.step(w, ctrl.data() + w * nu, 1);
      require_world_equal(b, w, o, w);
    }
  }
  REQUIRE_FALSE(same(b.qpos(), b.qpos() + target * m->nq, m->nq));
}

TEST_CASE("mujoco backend: a model_field write between steps takes effect at the next step",
          "[mujoco]") {
  const std::string field = GENERATE("body_mass", "geom_friction", "dof_damping", "opt.gravity");
  INFO(field);
  ModelPtr m = load_model(kHumanoid);
  const int nworld = 2, target = 1;
  MujocoBackend b(m.get(), nworld, 1);
  Oracle o(m.get(), nworld);
  Controls c;
  for (int call = 0; call < 100; ++call) step_both(b, o, c, 1);

  // mid-run, after steps that leave continuable stages behind
  ModelPtr changed = copy_model(m.get());
  int size = 0;
  double* value = b.model_field(field, &size);
  if (field == "body_mass") {
    value[target * size + 4] *= 3.0;
    changed->body_mass[4] *= 3.0;
  } else if (field == "geom_friction") {
    value[target * size + 0] = 0.02;
    changed->geom_friction[0] = 0.02;
  } else if (field == "dof_damping") {
    value[target * size + 10] = 20.0;
    changed->dof_damping[10] = 20.0;
  } else {
    value[target * size + 0] = 4.0;
    changed->opt.gravity[0] = 4.0;
  }
  o.m[target] = changed.get();
  for (int call = 0; call < 30; ++call) {
    step_both(b, o, c, 1);
    for (int w = 0; w < nworld; ++w) require_world_equal(b, w, o, w);
  }
}

TEST_CASE("mujoco backend: model_field rejects unknown and non-double fields", "[mujoco]") {
  ModelPtr m = load_model(kHumanoid);
  MujocoBackend b(m.get(), 2, 1);
  REQUIRE_THROWS_AS(b.model_field("no_such_field"), std::invalid_argument);
  REQUIRE_THROWS_WITH(b.model_field("no_such_field"), Catch::Contains("no_such_field"));
  REQUIRE_THROWS_WITH(b.model_field("body_parentid"), Catch::Contains("int"));
  REQUIRE_THROWS_AS(b.model_field("opt.iterations"), std::invalid_argument);
  REQUIRE_THROWS_AS(b.model_field("opt.no_such_option"), std::invalid_argument);
  int size = 0;
  REQUIRE(b.model_field("dof_damping", &size) != nullptr);
  REQUIRE(size == m->nv);
}

TEST_CASE("mujoco backend: a world with a NaN input is reset and counted, the others untouched",
          "[mujoco]") {
  const std::string input =
      GENERATE("ctrl", "qvel", "qpos", "xfrc_applied", "qfrc_applied", "time");
  INFO("NaN in " << input);
  ModelPtr m = load_model(kHumanoid);
  const int nworld = 4, sick = 2;
  MujocoBackend b(m.get(), nworld, 2);
  b.set_block_size(3);  // the sick world in the first pass, one world in the second
  Oracle o(m.get(), nworld);
  Controls c;
  for (int call = 0; call < 60; ++call) step_both(b, o, c, 1);

  // controls for the poisoned call; NaN goes into world `sick` only
  const int nu = m->nu;
  for (int w = 0; w < nworld; ++w) c.fill(b.ctrl() + w * nu, nu);
  std::vector<double> ctrl(b.ctrl(), b.ctrl() + nworld * nu);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  LogCapture log;
  if (input == "ctrl") b.ctrl()[sick * nu + 3] = nan;
  if (input == "qvel") b.qvel()[sick * m->nv + 8] = nan;
  if (input == "qpos") b.qpos()[sick * m->nq + 9] = nan;
  if (input == "xfrc_applied") b.xfrc_applied()[sick * 6 * m->nbody + 6 * 2 + 1] = nan;
  if (input == "qfrc_applied") b.qfrc_applied()[sick * m->nv + 4] = nan;
  if (input == "time") b.time()[sick] = nan;
  b.step(1);
  for (int w = 0; w < nworld; ++w) {
    if (w != sick) o.step(w, ctrl.data() + w * nu, 1);
  }
  o.reset(sick);

  REQUIRE(b.warnings()[sick].nan_reset == 1);
  if (input != "time") REQUIRE(mujoco_warnings > 0);  // MuJoCo's own check fired (not for time)
  REQUIRE(same(b.qpos() + sick * m->nq, m->qpos0, m->nq));
  REQUIRE(b.time()[sick] == 0.0);
  for (int i = 0; i < 6 * m->nbody; ++i) REQUIRE(b.xfrc_applied()[sick * 6 * m->nbody + i] == 0.0);
  for (int w = 0; w < nworld; ++w) {
    if (w != sick) REQUIRE(b.warnings()[w].nan_reset == 0);
    require_world_equal(b, w, o, w);
  }

  // everything goes on as if world `sick` had been reset by hand
  for (int call = 0; call < 30; ++call) {
    step_both(b, o, c, 1);
    for (int w = 0; w < nworld; ++w) require_world_equal(b, w, o, w);
  }
  REQUIRE(b.warnings()[sick].nan_reset == 1);
}

TEST_CASE("mujoco backend: contacts beyond contact_capacity are counted", "[mujoco]") {
  ModelPtr m = load_model(kHumanoid);
  const int nworld = 3;
  MujocoBackend big(m.get(), nworld, 1, 64);
  MujocoBackend small(m.get(), nworld, 1, 1);
  REQUIRE(small.contact_capacity() == 1);
  Controls c;
  const int nu = m->nu;
  std::vector<int> expected_overflow(nworld, 0);
  for (int call = 0; call < 250; ++call) {
    for (int w = 0; w < nworld; ++w) c.fill(big.ctrl() + w * nu, nu);
    std::memcpy(small.ctrl(), big.ctrl(), sizeof(double) * nworld * nu);
    big.step(1);
    small.step(1);
    for (int w = 0; w < nworld; ++w) {
      // the capacity changes what is kept, never the physics
      REQUIRE(same(small.qpos() + w * m->nq, big.qpos() + w * m->nq, m->nq));
      REQUIRE(small.ncon()[w] == std::min(big.ncon()[w], 1));
      if (big.ncon()[w] > 1) expected_overflow[w]++;
      if (small.ncon()[w] == 1) {
        REQUIRE(small.con_geom()[2 * w] == big.con_geom()[2 * w * 64]);
        REQUIRE(small.con_force()[3 * w] == big.con_force()[3 * w * 64]);
      }
      REQUIRE(small.warnings()[w].contact_overflow == expected_overflow[w]);
      REQUIRE(big.warnings()[w].contact_overflow == 0);
    }
  }
  int overflows = 0;
  for (int w = 0; w < nworld; ++w) overflows += expected_overflow[w];
  REQUIRE(overflows > 0);
}

TEST_CASE("mujoco backend: owns its model; factory and bad arguments", "[mujoco]") {
  ModelPtr m = load_model(kHumanoid);
  std::unique_ptr<Backend<double>> b = stampede::sim::make_mujoco_backend(m.get(), 2, 1, 8);
  REQUIRE(b->name() == "mujoco");
  REQUIRE(b->nworld() == 2);
  REQUIRE(b->contact_capacity() == 8);
  REQUIRE(b->mj_model() != m.get());
  REQUIRE(b->mj_model()->nq == m->nq);
  m.reset();  // the backend keeps its own copy
  b->step(5);
  REQUIRE(b->time()[1] == Approx(5 * b->mj_model()->opt.timestep));

  ModelPtr m2 = load_model(kHumanoid);
  REQUIRE_THROWS_AS(stampede::sim::make_mujoco_backend(nullptr, 2), std::invalid_argument);
  REQUIRE_THROWS_AS(stampede::sim::make_mujoco_backend(m2.get(), 0), std::invalid_argument);
  REQUIRE_THROWS_AS(stampede::sim::make_mujoco_backend(m2.get(), 2, 1, -1), std::invalid_argument);
}
