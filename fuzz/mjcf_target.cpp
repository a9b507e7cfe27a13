// fuzz/mjcf_target.cpp — (b) MJCF -> mjModel -> Model on arbitrary MJCF text.
//
// MuJoCo parses and compiles the text from a VFS buffer; what it refuses is not ours. What it
// accepts, sim::compile_model converts (in double and float) into a Model whose indices,
// ranges and tree tables are consistent with the mjModel, or refuses with UnsupportedModel
// naming each feature. MuJoCo's warnings are silenced; its errors inside the compiler come back
// as mj_loadXML's error text.
#include <mujoco/mujoco.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/fuzz_targets.h"
#include "sim/compile.h"

namespace stampede::fuzz {
namespace {

void expect(bool ok, const std::string& what) {
  if (!ok) throw FuzzInvariant("mjcf: converted model violates: " + what);
}

bool in_range(int v, int n) { return v >= 0 && v < n; }

// an [adr, adr + num) range inside [0, n); adr is -1 when num is 0 (MuJoCo's convention)
bool range_ok(int adr, int num, int n) { return num == 0 || (adr >= 0 && num > 0 && adr + num <= n); }

int jnt_qpos_size(int type) { return type == mjJNT_FREE ? 7 : type == mjJNT_BALL ? 4 : 1; }
int jnt_dof_size(int type) { return type == mjJNT_FREE ? 6 : type == mjJNT_BALL ? 3 : 1; }

template <class Real>
void check_bodies(const sim::Model<Real>& r, const mjModel* m) {
  const int nb = r.nbody;
  std::vector<int> depth(nb, 0);
  for (int b = 1; b < nb; ++b) {
    const std::string at = "body " + std::to_string(b);
    expect(in_range(r.body_parentid[b], b), at + ": parent id < own id");
    depth[b] = depth[r.body_parentid[b]] + 1;
    expect(r.body_depth[b] == depth[b], at + ": body_depth");
    expect(in_range(r.body_rootid[b], nb) && in_range(r.body_weldid[b], nb), at + ": root/weld ids");
    expect(range_ok(r.body_jntadr[b], r.body_jntnum[b], r.njnt), at + ": joint range");
    expect(range_ok(r.body_dofadr[b], r.body_dofnum[b], r.nv), at + ": dof range");
    expect(range_ok(r.body_geomadr[b], r.body_geomnum[b], r.ngeom), at + ": geom range");
    expect(r.body_mass.data[b] == Real(m->body_mass[b]), at + ": body_mass copied");
  }
  // children grouped by parent
  int children = 0;
  for (int p = 0; p < nb; ++p) {
    expect(range_ok(r.body_childadr[p], r.body_childnum[p], nb) || r.body_childnum[p] == 0, "child range of body " + std::to_string(p));
    for (int k = 0; k < r.body_childnum[p]; ++k) {
      const int c = r.body_child[r.body_childadr[p] + k];
      expect(in_range(c, nb) && c > 0 && r.body_parentid[c] == p, "child of body " + std::to_string(p));
    }
    children += r.body_childnum[p];
  }
  expect(children == nb - 1, "every body but the world is somebody's child");
  // bodies grouped by depth: a permutation, world first
  expect(r.nlevel >= 1 && r.level_bodyadr[0] == 0 && r.level_bodyadr[r.nlevel] == nb, "level_bodyadr ends");
  std::vector<int> seen(nb, 0);
  for (int lev = 0; lev < r.nlevel; ++lev) {
    expect(r.level_bodyadr[lev] <= r.level_bodyadr[lev + 1], "level_bodyadr nondecreasing");
    for (int k = r.level_bodyadr[lev]; k < r.level_bodyadr[lev + 1]; ++k) {
      const int b = r.level_body[k];
      expect(in_range(b, nb) && depth[b] == lev && !seen[b]++, "level_body is a permutation by depth");
    }
  }
}

template <class Real>
void check_joints_dofs(const sim::Model<Real>& r) {
  for (int j = 0; j < r.njnt; ++j) {
    const std::string at = "joint " + std::to_string(j);
    const int t = r.jnt_type[j];
    expect(t >= mjJNT_FREE && t <= mjJNT_HINGE, at + ": type");
    expect(range_ok(r.jnt_qposadr[j], jnt_qpos_size(t), r.nq), at + ": qpos range");
    expect(range_ok(r.jnt_dofadr[j], jnt_dof_size(t), r.nv), at + ": dof range");
    expect(in_range(r.jnt_bodyid[j], r.nbody) && r.jnt_bodyid[j] > 0, at + ": body id");
  }
  for (int i = 0; i < r.nv; ++i) {
    const std::string at = "dof " + std::to_string(i);
    expect(in_range(r.dof_bodyid[i], r.nbody) && in_range(r.dof_jntid[i], r.njnt), at + ": body/joint ids");
    expect(r.dof_parentid[i] >= -1 && r.dof_parentid[i] < i, at + ": parent dof precedes it");
  }
  expect(r.nv == 0 ? r.max_depth_dofs == 0 : r.max_depth_dofs >= 1 && r.max_depth_dofs <= r.nv, "max_depth_dofs in [1, nv]");
}

template <class Real>
void check_rest(const sim::Model<Real>& r) {
  for (int g = 0; g < r.ngeom; ++g) expect(in_range(r.geom_bodyid[g], r.nbody), "geom body id");
  for (int s = 0; s < r.nsite; ++s) expect(in_range(r.site_bodyid[s], r.nbody), "site body id");
  for (int u = 0; u < r.nu; ++u) {
    expect(r.actuator_trntype[u] == mjTRN_JOINT && in_range(r.actuator_trnid[2 * u], r.njnt), "actuator joint id");
    const int t = r.jnt_type[r.actuator_trnid[2 * u]];
    expect(t == mjJNT_HINGE || t == mjJNT_SLIDE, "accepted actuator drives a hinge or slide");
  }
  for (int p = 0; p < r.npair; ++p)
    expect(in_range(r.pair_geom1[p], r.ngeom) && in_range(r.pair_geom2[p], r.ngeom), "pair geom ids");
  expect(r.opt.integrator == mjINT_EULER && r.opt.solver == mjSOL_NEWTON, "accepted options: Euler, Newton");
}

template <class Real>
void convert(const mjModel* m) {
  sim::Model<Real> r = sim::compile_model<Real>(m);
  expect(r.nq == m->nq && r.nv == m->nv && r.nu == m->nu && r.nbody == m->nbody && r.njnt == m->njnt &&
             r.ngeom == m->ngeom && r.nsite == m->nsite && r.npair == m->npair,
         "sizes equal MuJoCo's");
  check_bodies(r, m);
  check_joints_dofs(r);
  check_rest(r);
  // a deep copy owns its own arrays with the same content
  const sim::Model<Real> copy = r;
  expect(r.nbody == 0 || (copy.body_parentid != r.body_parentid &&
                          std::equal(r.body_parentid, r.body_parentid + r.nbody, copy.body_parentid)),
         "Model copy is deep");
}

struct ModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};

// MuJoCo opens what the MJCF names (meshes, includes) from disk when it is not in the VFS:
// keep the fuzzer away from device and kernel files, which never end
bool names_special_files(const std::string& xml) {
  for (const char* p : {"/dev/", "/proc/", "/sys/"})
    if (xml.find(p) != std::string::npos) return true;
  return false;
}

}  // namespace

int mjcf(const uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    mju_user_warning = [](const char*) {};
    return true;
  }();
  (void)quiet;
  const std::string xml(reinterpret_cast<const char*>(data), size);
  if (names_special_files(xml)) return 0;

  mjVFS vfs;
  mj_defaultVFS(&vfs);
  if (mj_addBufferVFS(&vfs, "fuzz.xml", xml.data(), static_cast<int>(xml.size())) != 0) {
    mj_deleteVFS(&vfs);
    return 0;
  }
  char error[1024] = {0};
  std::unique_ptr<mjModel, ModelDeleter> m(mj_loadXML("fuzz.xml", &vfs, error, sizeof(error)));
  mj_deleteVFS(&vfs);
  if (!m) return 0;  // MuJoCo refused it

  const std::vector<std::string> features = sim::unsupported_features(m.get());
  for (const auto& f : features) expect(!f.empty(), "unsupported feature names are non-empty");
  try {
    convert<double>(m.get());
    expect(features.empty(), "compile_model<double> accepted a model with unsupported features");
  } catch (const sim::UnsupportedModel& e) {
    expect(!features.empty() && e.features() == features, "UnsupportedModel lists unsupported_features()");
    for (const auto& f : features)
      expect(std::string(e.what()).find(f) != std::string::npos, "UnsupportedModel::what() names '" + f + "'");
    return 0;
  }
  convert<float>(m.get());
  return 0;
}

}  // namespace stampede::fuzz
