// tests/kernels/smooth_fixture.h — shared by the kernel tests: models (inline XML, our robots,
// MuJoCo's humanoid, random kinematic trees), random states, MuJoCo reference runs, errors.
#pragma once

#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "kernels/smooth.h"
#include "sim/compile.h"
#include "sim/data.h"
#include "sim/model.h"

namespace stampede::test {

struct MjModelDeleter { void operator()(mjModel* m) const { mj_deleteModel(m); } };
struct MjDataDeleter { void operator()(mjData* d) const { mj_deleteData(d); } };
using MjModelPtr = std::unique_ptr<mjModel, MjModelDeleter>;
using MjDataPtr = std::unique_ptr<mjData, MjDataDeleter>;

// compile an XML string with MuJoCo (through a temporary file)
inline MjModelPtr load_xml_string(const std::string& xml) {
  static int counter = 0;
  std::string path = "/tmp/stampede_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + ".xml";
  { std::ofstream(path) << xml; }
  mjModel* m = sim::load_mjcf(path);
  std::remove(path.c_str());
  return MjModelPtr(m);
}

inline MjModelPtr load_file(const std::string& path) { return MjModelPtr(sim::load_mjcf(path)); }

inline bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

// a random kinematic tree: nbody bodies, each with a random parent, random joints (every type:
// free at a root, ball, hinge, slide, also several joints on one body), random inertias,
// armature, damping, stiffness, geoms and sites, one motor or position actuator per hinge/slide
inline std::string random_tree_xml(unsigned seed, int nbody) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1), pos(0.05, 0.5);
  auto r3 = [&](double s) {
    std::ostringstream o;
    o << s * u(rng) << " " << s * u(rng) << " " << s * u(rng);
    return o.str();
  };
  auto quat = [&]() {
    double q[4] = {u(rng), u(rng), u(rng), u(rng)};
    double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    std::ostringstream o;
    o << q[0] / n << " " << q[1] / n << " " << q[2] / n << " " << q[3] / n;
    return o.str();
  };
  std::vector<int> parent(nbody + 1, 0);
  for (int b = 2; b <= nbody; ++b) parent[b] = std::uniform_int_distribution<int>(0, b - 1)(rng);
  std::vector<std::vector<int>> children(nbody + 1);
  for (int b = 1; b <= nbody; ++b) children[parent[b]].push_back(b);

  std::ostringstream xml, act;
  int njoint = 0;
  std::function<void(int, int)> emit = [&](int b, int depth) {
    xml << std::string(2 * depth, ' ') << "<body name=\"b" << b << "\" pos=\"" << r3(0.3) << "\" quat=\"" << quat() << "\">\n";
    xml << "<inertial pos=\"" << r3(0.1) << "\" quat=\"" << quat() << "\" mass=\"" << 0.5 + 2 * pos(rng)
        << "\" diaginertia=\"" << 0.05 + 0.02 * pos(rng) << " " << 0.05 + 0.02 * pos(rng) << " " << 0.05 + 0.02 * pos(rng) << "\"/>\n";
    int kind = std::uniform_int_distribution<int>(0, 9)(rng);
    auto joint_attrs = [&]() {
      std::ostringstream o;
      o << " pos=\"" << r3(0.1) << "\" armature=\"" << 0.05 * pos(rng) << "\" damping=\"" << (u(rng) > 0 ? 0.5 * pos(rng) : 0.0)
        << "\" stiffness=\"" << (u(rng) > 0 ? 2 * pos(rng) : 0.0) << "\"";
      return o.str();
    };
    if (parent[b] == 0 && kind < 5) {
      xml << "<freejoint name=\"j" << njoint++ << "\"/>\n";
    } else if (kind == 0 || kind == 9) {
      xml << "<joint name=\"j" << njoint++ << "\" type=\"ball\"" << joint_attrs() << "/>\n";
    } else if (kind == 1) {
      // no joint: welded to the parent
    } else {
      int nj = kind == 8 ? 2 : 1;  // sometimes two joints on one body
      for (int k = 0; k < nj; ++k) {
        bool slide = u(rng) > 0.6;
        std::string name = "j" + std::to_string(njoint++);
        xml << "<joint name=\"" << name << "\" type=\"" << (slide ? "slide" : "hinge") << "\" axis=\"" << r3(1) << "\" ref=\""
            << 0.2 * u(rng) << "\" springref=\"" << 0.3 * u(rng) << "\"" << joint_attrs() << "/>\n";
        if (u(rng) > 0) {
          act << "<motor joint=\"" << name << "\" gear=\"" << 1 + pos(rng) << "\" ctrlrange=\"-1 1\" ctrllimited=\"" << (u(rng) > 0 ? "true" : "false")
              << "\" forcerange=\"-1.2 1.1\" forcelimited=\"" << (u(rng) > 0 ? "true" : "false") << "\"/>\n";
        } else {
          act << "<position joint=\"" << name << "\" kp=\"" << 5 * pos(rng) << "\" kv=\"" << pos(rng) << "\" gear=\"" << 1 + pos(rng) << "\"/>\n";
        }
      }
    }
    xml << "<geom type=\"capsule\" size=\"0.05\" fromto=\"0 0 0 " << r3(0.2) << "\" contype=\"0\" conaffinity=\"0\" mass=\"0\"/>\n";
    xml << "<site name=\"s" << b << "\" pos=\"" << r3(0.1) << "\" quat=\"" << quat() << "\"/>\n";
    for (int c : children[b]) emit(c, depth + 1);
    xml << std::string(2 * depth, ' ') << "</body>\n";
  };
  std::ostringstream full;
  for (int c : children[0]) emit(c, 1);
  full << "<mujoco><compiler angle=\"radian\"/><option timestep=\"0.002\" gravity=\"0.3 -0.2 -9.81\"/>\n"
       << "<worldbody><geom type=\"plane\" size=\"5 5 0.1\"/>\n" << xml.str() << "</worldbody>\n"
       << "<actuator>\n" << act.str() << "</actuator></mujoco>\n";
  return full.str();
}

// random state for every world: qpos (unit quaternions for free/ball), qvel, ctrl (some outside
// ctrlrange), applied forces; written into MuJoCo order and our Data
struct RandomState {
  std::vector<double> qpos, qvel, ctrl, qfrc_applied, xfrc_applied;  // (nworld, ...)
};

inline RandomState random_state(const mjModel* m, int nworld, unsigned seed, bool applied = true) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  RandomState s;
  s.qpos.resize(size_t(nworld) * m->nq);
  s.qvel.resize(size_t(nworld) * m->nv);
  s.ctrl.resize(size_t(nworld) * m->nu);
  s.qfrc_applied.resize(size_t(nworld) * m->nv, 0.0);
  s.xfrc_applied.resize(size_t(nworld) * m->nbody * 6, 0.0);
  for (int w = 0; w < nworld; ++w) {
    double* qpos = s.qpos.data() + size_t(w) * m->nq;
    for (int i = 0; i < m->nq; ++i) qpos[i] = m->qpos0[i] + 0.8 * u(rng);
    for (int j = 0; j < m->njnt; ++j) {
      int adr = m->jnt_qposadr[j];
      if (m->jnt_type[j] == mjJNT_FREE) adr += 3;
      if (m->jnt_type[j] == mjJNT_FREE || m->jnt_type[j] == mjJNT_BALL) {
        double q[4] = {u(rng), u(rng), u(rng), u(rng)};
        double n = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
        for (int k = 0; k < 4; ++k) qpos[adr + k] = q[k] / n;
      }
    }
    for (int i = 0; i < m->nv; ++i) s.qvel[size_t(w) * m->nv + i] = 2 * u(rng);
    for (int i = 0; i < m->nu; ++i) s.ctrl[size_t(w) * m->nu + i] = 1.5 * u(rng);
    if (applied) {
      for (int i = 0; i < m->nv; ++i) s.qfrc_applied[size_t(w) * m->nv + i] = u(rng);
      for (int b = 1; b < m->nbody; ++b)
        if (u(rng) > 0.5)
          for (int k = 0; k < 6; ++k) s.xfrc_applied[(size_t(w) * m->nbody + b) * 6 + k] = 3 * u(rng);
    }
  }
  return s;
}

// MuJoCo mjData set to world w of a RandomState
inline void set_mj_state(const mjModel* m, mjData* d, const RandomState& s, int w) {
  mj_resetData(m, d);
  std::copy_n(s.qpos.data() + size_t(w) * m->nq, m->nq, d->qpos);
  std::copy_n(s.qvel.data() + size_t(w) * m->nv, m->nv, d->qvel);
  std::copy_n(s.ctrl.data() + size_t(w) * m->nu, m->nu, d->ctrl);
  std::copy_n(s.qfrc_applied.data() + size_t(w) * m->nv, m->nv, d->qfrc_applied);
  std::copy_n(s.xfrc_applied.data() + size_t(w) * m->nbody * 6, m->nbody * 6, d->xfrc_applied);
}

// our Data (any precision) set to a RandomState
template <class Real>
void set_state(const sim::DataView<Real>& d, const RandomState& s) {
  for (int w = 0; w < d.s.nworld; ++w) {
    for (int i = 0; i < d.s.nq; ++i) d.qpos.at(w)[i] = Real(s.qpos[size_t(w) * d.s.nq + i]);
    for (int i = 0; i < d.s.nv; ++i) d.qvel.at(w)[i] = Real(s.qvel[size_t(w) * d.s.nv + i]);
    for (int i = 0; i < d.s.nu; ++i) d.ctrl.at(w)[i] = Real(s.ctrl[size_t(w) * d.s.nu + i]);
    for (int i = 0; i < d.s.nv; ++i) d.qfrc_applied.at(w)[i] = Real(s.qfrc_applied[size_t(w) * d.s.nv + i]);
    for (int i = 0; i < 6 * d.s.nbody; ++i) d.xfrc_applied.at(w)[i] = Real(s.xfrc_applied[size_t(w) * d.s.nbody * 6 + i]);
    d.time.at(w)[0] = 0;
  }
}

template <class Real>
double rel_error_impl(const Real* ours, const double* ref, int n) {
  double scale = 1, err = 0;
  for (int i = 0; i < n; ++i) scale = std::max(scale, std::fabs(ref[i]));
  for (int i = 0; i < n; ++i) {
    double e = std::fabs(double(ours[i]) - ref[i]);
    if (!(e == e)) return INFINITY;
    err = std::max(err, e);
  }
  return err / scale;
}

// largest rel_error seen so far in this process, per precision of `ours` (reported by the tests)
template <class Real>
double& worst_error() {
  static double worst = 0;
  return worst;
}

// max |ours - ref| / max(1, max |ref|) over n values
template <class Real>
double rel_error(const Real* ours, const double* ref, int n) {
  double e = rel_error_impl(ours, ref, n);
  worst_error<Real>() = std::max(worst_error<Real>(), e);
  return e;
}

// tolerance of a precision: double agrees with MuJoCo to rounding, float to float rounding
// amplified by the tree depth (1e-4 relative)
template <class Real> constexpr double tolerance();
template <> constexpr double tolerance<double>() { return 1e-9; }
template <> constexpr double tolerance<float>() { return 1e-4; }

// a model + data pair with nworld worlds, both MuJoCo's and ours
template <class Real>
struct Bench {
  MjModelPtr mj;
  sim::Model<Real> model;
  std::unique_ptr<sim::Data<Real>> data;
  int nworld;

  Bench(MjModelPtr m, int nworld_, int disable = 0) : mj(std::move(m)), nworld(nworld_) {
    mj->opt.disableflags |= disable;
    model = sim::compile_model<Real>(mj.get());
    data = std::make_unique<sim::Data<Real>>(sim::DataSizes::of(model.view(), nworld, 8, 64));
  }
  const sim::ModelView<Real>& m() const { return model.view(); }
  const sim::DataView<Real>& d() const { return data->view(); }
};

// the models every stage test runs on: inline XML, random trees, MuJoCo's humanoid, our robots
inline std::vector<std::pair<std::string, std::string>> test_model_sources() {
  std::vector<std::pair<std::string, std::string>> out;  // (label, "xml:<text>" or "file:<path>")
  out.push_back({"pendulum chain", "xml:<mujoco><option gravity='0 0 -9.81'/><worldbody>"
                                   "<body pos='0 0 1'><joint type='hinge' axis='0 1 0' damping='0.1'/><geom type='capsule' fromto='0 0 0 0 0 -0.5' size='0.05'/>"
                                   "<body pos='0 0 -0.5'><joint type='hinge' axis='1 0 0' stiffness='3'/><geom type='capsule' fromto='0 0 0 0 0 -0.5' size='0.05'/>"
                                   "<body pos='0 0 -0.5'><joint type='slide' axis='0 0 1' armature='0.2'/><geom type='sphere' size='0.1'/></body></body></body>"
                                   "</worldbody></mujoco>"});
  out.push_back({"floating ball joint", "xml:<mujoco><worldbody><body pos='0 0 1'><freejoint/><geom type='box' size='0.2 0.1 0.05'/>"
                                        "<body pos='0.2 0 0'><joint type='ball' stiffness='2' damping='0.3'/><geom type='capsule' fromto='0 0 0 0.3 0 0' size='0.04'/></body>"
                                        "</body></worldbody></mujoco>"});
  for (unsigned seed : {1u, 2u, 3u, 4u, 5u, 6u})
    out.push_back({"random tree " + std::to_string(seed), "xml:" + random_tree_xml(seed, 4 + 3 * int(seed))});
  out.push_back({"MuJoCo humanoid", std::string("file:") + MUJOCO_SAMPLES_DIR + "/humanoid/humanoid.xml"});
  out.push_back({"stampede humanoid", std::string("file:") + STAMPEDE_ASSETS_DIR + "/humanoid/humanoid.xml"});
  out.push_back({"stampede h1", std::string("file:") + STAMPEDE_ASSETS_DIR + "/h1/h1.xml"});
  return out;
}

// load a source from test_model_sources (nullptr when a robot file is not there yet)
inline MjModelPtr load_source(const std::string& src) {
  if (src.rfind("xml:", 0) == 0) return load_xml_string(src.substr(4));
  std::string path = src.substr(5);
  if (!file_exists(path)) return nullptr;
  return load_file(path);
}

// run fn(label, bench, state, mjdata) on every test model in precision Real, nworld worlds with
// random states already written to bench.d(); models that are not there yet are skipped
template <class Real, class F>
void for_each_model(int nworld, int disable, unsigned seed, F&& fn) {
  for (const auto& [label, src] : test_model_sources()) {
    MjModelPtr m = load_source(src);
    if (!m) {
      WARN("skipped (file not there yet): " << label);
      continue;
    }
    Bench<Real> b(std::move(m), nworld, disable);
    RandomState st = random_state(b.mj.get(), nworld, seed);
    set_state(b.d(), st);
    MjDataPtr md(mj_makeData(b.mj.get()));
    fn(label, b, st, md.get());
  }
  WARN("largest relative error vs MuJoCo so far, " << (sizeof(Real) == 4 ? "float" : "double") << ": "
       << worst_error<Real>());
}

// run our stages in order on every world (single thread, forward lane order)
template <class Real>
void run_stages(const Bench<Real>& b, std::initializer_list<kern::Stage> stages,
                kern::LaneOrder order = kern::LaneOrder::kForward) {
  kern::CpuExec exec;
  exec.lane_order = order;
  for (kern::Stage s : stages) kern::run_stage(s, b.m(), b.d(), exec);
}

}  // namespace stampede::test
