// cli/cmd_validate.cpp — `stampede validate MODEL.xml`: our physics pipeline against MuJoCo's,
// side by side from the same randomized states. Prints each stage's largest error over all
// worlds (kinematics, inertia, smooth forces, contacts, constraint rows, constrained
// acceleration) and how far the two trajectories drift apart over --steps steps.
// Exit status: 0 every error within tolerance, 1 some error outside it, 2 the model uses
// features our kernels do not simulate (they are named).
#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "command.h"
#include "kernels/launch.h"
#include "kernels/smooth.h"
#include "sim/compile.h"
#include "sim/cpu_backend.h"
#include "sim/data.h"
#include "sim/model.h"
#if defined(STAMPEDE_WITH_CUDA)
#include "sim/cuda_backend.h"
#endif

namespace stampede::cli {
namespace {

struct Options {
  std::string model;
  int steps = 200;
  int worlds = 16;
  std::string backend = "cpu";
  std::string precision = "double";
  bool json = false;
  unsigned seed = 1;
  double tol_scale = 1;  // every tolerance is multiplied by it
};

void print_help() {
  std::printf(
      "usage: stampede validate MODEL.xml [--steps N] [--worlds W] [--backend cpu|cuda]\n"
      "                         [--precision double|float] [--seed S] [--tol-scale X] [--json]\n\n"
      "Run our physics pipeline and MuJoCo's side by side from the same randomized states\n"
      "(joint positions within their ranges, free bodies dropped near the floor, random\n"
      "velocities and controls) and report each stage's largest error over all worlds:\n"
      "kinematics, inertia, smooth forces, contacts, constraint rows, constrained acceleration,\n"
      "then the divergence of the two trajectories after N steps. Errors are relative:\n"
      "|ours - MuJoCo| / (1 + |MuJoCo|), the maximum over all entries.\n\n"
      "  --steps N       trajectory length in steps (default 200); contact dynamics are chaotic,\n"
      "                  so long trajectories diverge from rounding differences alone\n"
      "  --worlds W      number of random worlds (default 16)\n"
      "  --backend B     cpu (default) or cuda (the CUDA backend on GPU 0; every field of the\n"
      "                  compared state comes back from the device)\n"
      "  --precision P   double (default; rounding-level agreement) or float\n"
      "  --seed S        random seed (default 1)\n"
      "  --tol-scale X   multiply every tolerance by X (default 1; below 1: a stricter check)\n"
      "  --json          print a JSON object instead of a table\n\n"
      "exit status: 0 within tolerance, 1 outside tolerance, 2 unsupported model features,\n"
      "3 the backend cannot run here (no CUDA device, or a build without CUDA)\n");
}

Options parse(const std::vector<std::string>& args) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::invalid_argument("option " + a + " needs a value");
      return args[++i];
    };
    if (a == "--steps") {
      o.steps = std::stoi(value());
    } else if (a == "--worlds") {
      o.worlds = std::stoi(value());
    } else if (a == "--backend") {
      o.backend = value();
    } else if (a == "--precision") {
      o.precision = value();
    } else if (a == "--seed") {
      o.seed = static_cast<unsigned>(std::stoul(value()));
    } else if (a == "--tol-scale") {
      o.tol_scale = std::stod(value());
      if (!(o.tol_scale > 0)) throw std::invalid_argument("--tol-scale must be positive");
    } else if (a == "--json") {
      o.json = true;
    } else if (!a.empty() && a[0] == '-') {
      throw std::invalid_argument("unknown option '" + a + "' (see stampede validate --help)");
    } else if (o.model.empty()) {
      o.model = a;
    } else {
      throw std::invalid_argument("more than one model given: '" + o.model + "', '" + a + "'");
    }
  }
  if (o.model.empty()) throw std::invalid_argument("no MODEL.xml given (see stampede validate --help)");
  if (o.steps < 0 || o.worlds < 1) throw std::invalid_argument("--steps must be >= 0 and --worlds >= 1");
  if (o.backend != "cpu" && o.backend != "cuda") {
    throw std::invalid_argument("--backend must be cpu or cuda, not '" + o.backend + "'");
  }
  if (o.precision != "double" && o.precision != "float") {
    throw std::invalid_argument("--precision must be double or float, not '" + o.precision + "'");
  }
  return o;
}

struct ModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};
struct DataDeleter {
  void operator()(mjData* d) const { mj_deleteData(d); }
};

// the chosen backend cannot run on this machine or build
struct BackendUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// one compared quantity: its largest relative error and the tolerance it must meet
struct Stage {
  std::string name;
  std::string what;
  double error = 0;
  double tolerance = 0;
  std::string note;
  bool ok() const { return error <= tolerance; }
};

// |a - b| / (1 + max|b|) over n entries, accumulated into err
template <class Real>
void accumulate(double& err, const Real* a, const double* b, int n) {
  double scale = 0, diff = 0;
  for (int i = 0; i < n; ++i) scale = std::max(scale, std::abs(b[i]));
  for (int i = 0; i < n; ++i) {
    double d = std::abs(static_cast<double>(a[i]) - b[i]);
    diff = std::isfinite(d) ? std::max(diff, d) : INFINITY;
  }
  err = std::max(err, diff / (1 + scale));
}

// random state for world w, written to MuJoCo's mjData (then copied to ours)
void randomize(const mjModel* m, mjData* d, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> n(0.0, 1.0);
  mj_resetData(m, d);
  for (int j = 0; j < m->njnt; ++j) {
    double* q = d->qpos + m->jnt_qposadr[j];
    switch (m->jnt_type[j]) {
      case mjJNT_FREE:
        q[0] += 0.2 * n(rng);
        q[1] += 0.2 * n(rng);
        q[2] = q[2] * (0.3 + 0.8 * u(rng));
        for (int i = 3; i < 7; ++i) q[i] = (i == 3 ? 4.0 : 0.0) + n(rng);
        mju_normalize4(q + 3);
        break;
      case mjJNT_BALL:
        for (int i = 0; i < 4; ++i) q[i] = (i == 0 ? 3.0 : 0.0) + n(rng);
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
  for (int i = 0; i < m->nv; ++i) d->qvel[i] = 0.3 * n(rng);
  for (int i = 0; i < m->nu; ++i) {
    double lo = -1, hi = 1;
    if (m->actuator_ctrllimited[i]) {
      lo = m->actuator_ctrlrange[2 * i];
      hi = m->actuator_ctrlrange[2 * i + 1];
    }
    d->ctrl[i] = lo + (hi - lo) * u(rng);
  }
}

template <class Real>
struct Run {
  const mjModel* mm;
  const Options& opt;
  sim::Model<Real> model;
  std::unique_ptr<sim::Data<Real>> data;  // --backend cpu: our arena, stepped by the CPU kernels
#if defined(STAMPEDE_WITH_CUDA)
  std::unique_ptr<sim::CudaBackend<Real>> cuda;  // --backend cuda: its host mirror is compared
#endif
  std::vector<std::unique_ptr<mjData, DataDeleter>> mjd;
  std::vector<Stage> stages;
  int contact_overflow = 0, efc_overflow = 0, contacts = 0, rows = 0;

  Run(const mjModel* m, const Options& o) : mm(m), opt(o), model(sim::compile_model<Real>(m)) {
    int ccap = std::max(64, 8 * static_cast<int>(m->ngeom));
    int ecap = 4 * ccap + 2 * static_cast<int>(m->njnt) + static_cast<int>(m->nv);
    if (o.backend == "cuda") {
#if defined(STAMPEDE_WITH_CUDA)
      cuda = std::make_unique<sim::CudaBackend<Real>>(m, o.worlds, sim::Capacities{ccap, ecap});
#else
      throw BackendUnavailable("this build of stampede has no CUDA backend (configure with nvcc available)");
#endif
    } else {
      data = std::make_unique<sim::Data<Real>>(sim::DataSizes::of(model.view(), o.worlds, ccap, ecap));
    }
  }

  // the compared state: our arena, or the CUDA backend's host mirror (complete after each call)
  const sim::DataView<Real>& view() const {
#if defined(STAMPEDE_WITH_CUDA)
    if (cuda) return cuda->data();
#endif
    return data->view();
  }

  template <class T>
  static void copy(T* dst, const double* src, int n) {
    for (int i = 0; i < n; ++i) dst[i] = static_cast<T>(src[i]);
  }

  void set_states() {
    std::mt19937 rng(opt.seed);
    const auto& v = view();
    for (int w = 0; w < opt.worlds; ++w) {
      mjd.emplace_back(mj_makeData(mm));
      mjData* d = mjd.back().get();
      randomize(mm, d, rng);
      copy(v.qpos.at(w), d->qpos, mm->nq);
      copy(v.qvel.at(w), d->qvel, mm->nv);
      copy(v.ctrl.at(w), d->ctrl, mm->nu);
      for (int i = 0; i < mm->nv; ++i) v.qacc_warmstart.at(w)[i] = 0;
    }
  }

  bool cuda_backend() const {
#if defined(STAMPEDE_WITH_CUDA)
    return cuda != nullptr;
#else
    return false;
#endif
  }

  // our forward pass on every world (CPU thread pool, or the device)
  void forward(kern::ThreadPool& pool) {
#if defined(STAMPEDE_WITH_CUDA)
    if (cuda) return cuda->forward();
#endif
    kern::CpuExec exec;
    exec.pool = &pool;
    kern::run_stage(kern::Stage::kForward, model.view(), data->view(), exec);
  }

  // stage-by-stage errors after one forward pass
  void compare_forward(double tol_smooth, double tol_qacc) {
    const auto& v = view();
    int nv = mm->nv, nb = mm->nbody;
    double kin = 0, inertia = 0, smooth = 0, con = 0, efc = 0, acc = 0;
    std::string con_note, efc_note;
    std::vector<double> M(static_cast<std::size_t>(nv) * nv), J;
    for (int w = 0; w < opt.worlds; ++w) {
      mjData* d = mjd[w].get();
      mj_forward(mm, d);
      accumulate(kin, v.xpos.at(w), d->xpos, 3 * nb);
      accumulate(kin, v.xquat.at(w), d->xquat, 4 * nb);
      accumulate(kin, v.geom_xpos.at(w), d->geom_xpos, 3 * static_cast<int>(mm->ngeom));
      accumulate(inertia, v.subtree_com.at(w), d->subtree_com, 3 * nb);
      mj_fullM(mm, d, M.data());
      for (int i = 0; i < nv; ++i) {
        // our qM holds the lower triangle (ancestor pairs)
        accumulate(inertia, v.qM.at(w) + i * nv, M.data() + i * nv, i + 1);
      }
      accumulate(smooth, v.qfrc_bias.at(w), d->qfrc_bias, nv);
      accumulate(smooth, v.qfrc_passive.at(w), d->qfrc_passive, nv);
      accumulate(smooth, v.qfrc_actuator.at(w), d->qfrc_actuator, nv);
      accumulate(smooth, v.qacc_smooth.at(w), d->qacc_smooth, nv);

      int ncon = v.ncon.at(w)[0];
      contact_overflow += v.contact_overflow.at(w)[0];
      efc_overflow += v.efc_overflow.at(w)[0];
      contacts += d->ncon;
      if (ncon != d->ncon) {
        con = INFINITY;
        con_note = "contact count differs in world " + std::to_string(w) + ": " +
                   std::to_string(ncon) + " vs " + std::to_string(d->ncon);
      } else {
        for (int c = 0; c < ncon; ++c) {
          const mjContact& mc = d->contact[c];
          accumulate(con, v.contact_dist.at(w) + c, &mc.dist, 1);
          accumulate(con, v.contact_pos.at(w) + 3 * c, mc.pos, 3);
          accumulate(con, v.contact_frame.at(w) + 9 * c, mc.frame, 9);
        }
      }
      int nefc = v.nefc.at(w)[0];
      rows += d->nefc;
      if (nefc != d->nefc) {
        efc = INFINITY;
        efc_note = "row count differs in world " + std::to_string(w) + ": " +
                   std::to_string(nefc) + " vs " + std::to_string(d->nefc);
      } else if (nefc > 0) {
        J.assign(static_cast<std::size_t>(nefc) * nv, 0.0);
        if (mj_isSparse(mm)) {
          mju_sparse2dense(J.data(), d->efc_J, nefc, nv, d->efc_J_rownnz, d->efc_J_rowadr,
                           d->efc_J_colind);
        } else {
          std::copy(d->efc_J, d->efc_J + nefc * nv, J.begin());
        }
        accumulate(efc, v.efc_J.at(w), J.data(), nefc * nv);
        accumulate(efc, v.efc_pos.at(w), d->efc_pos, nefc);
        accumulate(efc, v.efc_D.at(w), d->efc_D, nefc);
        accumulate(efc, v.efc_aref.at(w), d->efc_aref, nefc);
      }
      accumulate(acc, v.qacc.at(w), d->qacc, nv);
      accumulate(acc, v.qfrc_constraint.at(w), d->qfrc_constraint, nv);
    }
    stages.push_back({"kinematics", "xpos, xquat, geom_xpos", kin, tol_smooth, ""});
    stages.push_back({"inertia", "subtree_com, qM", inertia, tol_smooth, ""});
    stages.push_back({"smooth forces", "qfrc_bias, qfrc_passive, qfrc_actuator, qacc_smooth",
                      smooth, tol_smooth, ""});
    stages.push_back({"contacts", "dist, pos, frame", con, tol_smooth, con_note});
    stages.push_back({"constraints", "efc_J, efc_pos, efc_D, efc_aref", efc, tol_smooth, efc_note});
    stages.push_back({"acceleration", "qacc, qfrc_constraint (Newton)", acc, tol_qacc, ""});
  }

  // both engines step from the compared state; divergence of qpos and qvel at the end
  void compare_trajectory(kern::ThreadPool& pool, double tol) {
    if (opt.steps == 0) return;
    const auto& v = view();
    // restart both from the compared states (MuJoCo's warm start is cold like ours)
    for (int w = 0; w < opt.worlds; ++w) {
      mjData* d = mjd[w].get();
      for (int i = 0; i < mm->nv; ++i) {
        d->qacc_warmstart[i] = 0;
        v.qacc_warmstart.at(w)[i] = 0;
      }
    }
#if defined(STAMPEDE_WITH_CUDA)
    if (cuda) cuda->step(opt.steps);  // uploads the zeroed warm start with the rest
#endif
    if (!cuda_backend()) {
      kern::CpuExec exec;
      exec.pool = &pool;
      kern::step(model.view(), v, exec, opt.steps);
    }
    double div = 0;
    for (int w = 0; w < opt.worlds; ++w) {
      mjData* d = mjd[w].get();
      for (int s = 0; s < opt.steps; ++s) mj_step(mm, d);
      accumulate(div, v.qpos.at(w), d->qpos, mm->nq);
      accumulate(div, v.qvel.at(w), d->qvel, mm->nv);
    }
    char what[96];
    std::snprintf(what, sizeof what, "qpos, qvel after %d steps (%.3g s)", opt.steps,
                  opt.steps * mm->opt.timestep);
    stages.push_back({"trajectory", what, div, tol, ""});
  }
};

// "ellipsoid geom #48" ... "ellipsoid geom #67" -> "ellipsoid geom #48-#67 (20)": one line per
// kind of feature, in the order they first appear; entries without " #<id>" stay as they are
std::vector<std::string> grouped_features(const std::vector<std::string>& bad) {
  std::vector<std::pair<std::string, std::vector<long>>> groups;
  std::vector<std::string> out;
  for (const std::string& f : bad) {
    const std::size_t hash = f.rfind(" #");
    char* end = nullptr;
    const long id = hash == std::string::npos ? -1 : std::strtol(f.c_str() + hash + 2, &end, 10);
    if (hash == std::string::npos || id < 0 || !end || *end != '\0') {
      groups.push_back({f, {}});
      continue;
    }
    const std::string kind = f.substr(0, hash);
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == kind && !g.second.empty(); });
    if (it == groups.end()) groups.push_back({kind, {id}});
    else it->second.push_back(id);
  }
  for (const auto& [kind, ids] : groups) {
    if (ids.empty()) {
      out.push_back(kind);
      continue;
    }
    std::string line = kind + " ";
    for (std::size_t i = 0; i < ids.size();) {
      std::size_t j = i;
      while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
      line += (i ? ", #" : "#") + std::to_string(ids[i]);
      if (j > i) line += "-#" + std::to_string(ids[j]);
      i = j + 1;
    }
    if (ids.size() > 1) line += " (" + std::to_string(ids.size()) + ")";
    out.push_back(line);
  }
  return out;
}

template <class Real>
int run_validation(const mjModel* mm, const Options& opt) {
  // tolerances: double runs the same algorithms as MuJoCo, so the stages agree to rounding
  // (amplified by conditioning: 1e-8); the solver stops at tolerance 1e-8 on a scaled cost,
  // which leaves qacc agreeing to ~1e-6; trajectories accumulate both. Float: single-precision
  // rounding through the same chain.
  bool single = sizeof(Real) == 4;
  double tol_smooth = single ? 1e-3 : 1e-8;
  double tol_qacc = single ? 1e-2 : 1e-6;
  double tol_traj = single ? 1e-1 : 1e-4;
  tol_smooth *= opt.tol_scale;
  tol_qacc *= opt.tol_scale;
  tol_traj *= opt.tol_scale;

  std::unique_ptr<Run<Real>> made;
  try {
    made = std::make_unique<Run<Real>>(mm, opt);
  } catch (const BackendUnavailable& e) {
    std::fprintf(stderr, "stampede validate: --backend %s: %s\n", opt.backend.c_str(), e.what());
    return 3;
  } catch (const std::runtime_error& e) {
    if (opt.backend != "cuda" || std::string(e.what()).rfind("no CUDA device", 0) != 0) throw;
    std::fprintf(stderr, "stampede validate: --backend cuda: %s\n", e.what());
    return 3;
  }
  Run<Real>& run = *made;
  run.set_states();
  kern::ThreadPool pool(0);
  run.forward(pool);
  run.compare_forward(tol_smooth, tol_qacc);
  run.compare_trajectory(pool, tol_traj);

  bool ok = run.contact_overflow == 0 && run.efc_overflow == 0;
  for (const Stage& s : run.stages) ok = ok && s.ok();
  if (opt.json) {
    std::printf("{\"model\": \"%s\", \"backend\": \"%s\", \"precision\": \"%s\", \"worlds\": %d, "
                "\"steps\": %d, \"contacts\": %d, \"constraint_rows\": %d, "
                "\"contact_overflow\": %d, \"constraint_overflow\": %d, \"stages\": [",
                opt.model.c_str(), opt.backend.c_str(), opt.precision.c_str(), opt.worlds,
                opt.steps, run.contacts, run.rows, run.contact_overflow, run.efc_overflow);
    for (std::size_t i = 0; i < run.stages.size(); ++i) {
      const Stage& s = run.stages[i];
      std::printf("%s{\"stage\": \"%s\", \"compared\": \"%s\", \"max_error\": %.3e, "
                  "\"tolerance\": %.1e, \"ok\": %s%s%s%s}",
                  i ? ", " : "", s.name.c_str(), s.what.c_str(), s.error, s.tolerance,
                  s.ok() ? "true" : "false", s.note.empty() ? "" : ", \"note\": \"",
                  s.note.c_str(), s.note.empty() ? "" : "\"");
    }
    std::printf("], \"ok\": %s}\n", ok ? "true" : "false");
  } else {
    std::printf("validate %s: %s backend, %s, %d worlds, %d steps\n", opt.model.c_str(),
                opt.backend.c_str(), opt.precision.c_str(), opt.worlds, opt.steps);
    std::printf("  %d contacts, %d constraint rows at the compared states\n", run.contacts, run.rows);
    std::printf("  %-14s %-52s %11s %9s\n", "stage", "compared", "max error", "tolerance");
    for (const Stage& s : run.stages) {
      std::printf("  %-14s %-52s %11.3e %9.0e  %s\n", s.name.c_str(), s.what.c_str(), s.error,
                  s.tolerance, s.ok() ? "ok" : "FAIL");
      if (!s.note.empty()) std::printf("    %s\n", s.note.c_str());
    }
    if (run.contact_overflow || run.efc_overflow) {
      std::printf("  FAIL: capacity overflow (%d contacts, %d constraint rows dropped)\n",
                  run.contact_overflow, run.efc_overflow);
    }
    std::printf("%s\n", ok ? "PASS" : "FAIL");
  }
  return ok ? 0 : 1;
}

int validate(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "-h" || a == "--help") {
      print_help();
      return 0;
    }
  }
  Options opt = parse(args);
  std::unique_ptr<mjModel, ModelDeleter> mm(sim::load_mjcf(opt.model));
  std::vector<std::string> bad = sim::unsupported_features(mm.get());
  if (!bad.empty()) {
    if (opt.json) {
      std::printf("{\"model\": \"%s\", \"ok\": false, \"unsupported\": [", opt.model.c_str());
      for (std::size_t i = 0; i < bad.size(); ++i) std::printf("%s\"%s\"", i ? ", " : "", bad[i].c_str());
      std::printf("]}\n");
    } else {
      std::printf("validate %s: the model uses features stampede does not simulate:\n", opt.model.c_str());
      for (const std::string& f : grouped_features(bad)) std::printf("  - %s\n", f.c_str());
    }
    return 2;
  }
  return opt.precision == "float" ? run_validation<float>(mm.get(), opt)
                                  : run_validation<double>(mm.get(), opt);
}

Registrar registrar("validate", "compare our physics with MuJoCo's, stage by stage, on a model",
                    validate);

}  // namespace
}  // namespace stampede::cli
