// sim/compile.cpp — MJCF loading, the supported-feature check, mjModel -> Model<Real>.
#include "sim/compile.h"

#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <utility>
#include <vector>

namespace stampede::sim {

namespace {

std::string name_of(const mjModel* m, int type, int id) {
  const char* n = mj_id2name(m, type, id);
  if (n && n[0]) return std::string("'") + n + "'";
  return "#" + std::to_string(id);
}

const char* geom_type_name(int t) {
  switch (t) {
    case mjGEOM_PLANE: return "plane";
    case mjGEOM_HFIELD: return "hfield";
    case mjGEOM_SPHERE: return "sphere";
    case mjGEOM_CAPSULE: return "capsule";
    case mjGEOM_ELLIPSOID: return "ellipsoid";
    case mjGEOM_CYLINDER: return "cylinder";
    case mjGEOM_BOX: return "box";
    case mjGEOM_MESH: return "mesh";
    case mjGEOM_SDF: return "sdf";
    default: return "unknown";
  }
}

bool is_zero(const mjtNum* v, int n) {
  for (int i = 0; i < n; ++i)
    if (v[i] != 0) return false;
  return true;
}

// geom g can take part in contacts at all
bool collidable(const mjModel* m, int g) { return m->geom_contype[g] || m->geom_conaffinity[g]; }

}  // namespace

mjModel* load_mjcf(const std::string& path) {
  char error[1024] = {0};
  mjModel* m = mj_loadXML(path.c_str(), nullptr, error, sizeof(error));
  if (!m) {
    throw std::runtime_error("cannot load MJCF '" + path + "': " +
                             (error[0] ? std::string(error) : std::string("unknown MuJoCo error")));
  }
  return m;
}

UnsupportedModel::UnsupportedModel(std::vector<std::string> features)
    : std::runtime_error([&] {
        std::ostringstream os;
        os << "model uses features the stampede kernels do not simulate:";
        for (const auto& f : features) os << "\n  - " << f;
        return os.str();
      }()),
      features_(std::move(features)) {}

std::vector<std::string> unsupported_features(const mjModel* m) {
  std::vector<std::string> out;
  auto count = [](const char* what, long long n) {
    return std::string(what) + " (" + std::to_string(n) + " in model)";
  };

  // model elements with dynamics we do not have
  if (m->ntendon) out.push_back(count("tendons", m->ntendon));
  if (m->neq) out.push_back(count("equality constraints", m->neq));
  if (m->nflex) out.push_back(count("flexes", m->nflex));
  if (m->nmocap) out.push_back(count("mocap bodies", m->nmocap));
  if (m->nplugin) out.push_back(count("plugins", m->nplugin));
  if (m->na) out.push_back(count("actuator activation states", m->na));
  if (m->nhistory) out.push_back(count("delayed controls or sensors (history buffers)", m->nhistory));

  // options
  switch (m->opt.integrator) {
    case mjINT_EULER: break;
    case mjINT_RK4: out.push_back("integrator RK4"); break;
    case mjINT_IMPLICIT: out.push_back("integrator implicit"); break;
    case mjINT_IMPLICITFAST: out.push_back("integrator implicitfast"); break;
    default: out.push_back("integrator #" + std::to_string(m->opt.integrator)); break;
  }
  if (m->opt.density > 0 || m->opt.viscosity > 0) out.push_back("fluid forces (density/viscosity)");
  if (m->opt.noslip_iterations > 0) out.push_back("noslip solver (noslip_iterations > 0)");
  if (m->opt.disableactuator) out.push_back("disabled actuator groups (option disableactuator)");
  if (m->opt.solver != mjSOL_NEWTON) out.push_back(std::string("solver ") + (m->opt.solver == mjSOL_PGS ? "PGS" : "CG"));
  if (m->opt.enableflags & mjENBL_SLEEP) out.push_back("flag: sleep");
  if (m->opt.enableflags & mjENBL_IPC) out.push_back("flag: ipc");
  if (m->opt.enableflags & mjENBL_SPECULATIVE) out.push_back("flag: speculative contacts");

  // bodies and joints
  for (int b = 0; b < m->nbody; ++b)
    if (m->body_gravcomp[b] != 0) out.push_back("gravity compensation on body " + name_of(m, mjOBJ_BODY, b));
  for (int j = 0; j < m->njnt; ++j) {
    std::string jn = "joint " + name_of(m, mjOBJ_JOINT, j);
    if (!is_zero(m->jnt_stiffnesspoly + mjNPOLY * j, mjNPOLY)) out.push_back("nonlinear stiffness on " + jn);
    if (m->jnt_actgravcomp[j]) out.push_back("actuator gravity compensation on " + jn);
    if (m->jnt_actfrclimited[j] && (m->jnt_type[j] == mjJNT_FREE || m->jnt_type[j] == mjJNT_BALL))
      out.push_back("actuator force range on multi-dof " + jn);
  }
  for (int i = 0; i < m->nv; ++i)
    if (!is_zero(m->dof_dampingpoly + mjNPOLY * i, mjNPOLY))
      out.push_back("nonlinear damping on dof " + std::to_string(i) + " (joint " +
                    name_of(m, mjOBJ_JOINT, m->dof_jntid[i]) + ")");

  // actuators: joint transmission on hinge/slide, no dynamics, fixed/affine gain, none/affine bias
  if (m->nu != m->nactuator) out.push_back("actuators with several controls");
  for (int i = 0; i < m->nactuator; ++i) {
    std::string an = "'" + std::string(mj_id2name(m, mjOBJ_ACTUATOR, i) ? mj_id2name(m, mjOBJ_ACTUATOR, i) : "") + "'";
    if (an == "''") an = "#" + std::to_string(i);
    int trn = m->actuator_trntype[i];
    if (trn != mjTRN_JOINT) {
      out.push_back("actuator transmission type " + std::to_string(trn) + " (not a joint) on " + an);
    } else {
      int jt = m->jnt_type[m->actuator_trnid[2 * i]];
      if (jt == mjJNT_FREE || jt == mjJNT_BALL) out.push_back("actuator on a ball/free joint: " + an);
    }
    if (m->actuator_dyntype[i] != mjDYN_NONE)
      out.push_back("actuator dynamics (dyntype " + std::to_string(m->actuator_dyntype[i]) + ") on " + an);
    if (m->actuator_gaintype[i] != mjGAIN_FIXED && m->actuator_gaintype[i] != mjGAIN_AFFINE)
      out.push_back("actuator gain type " + std::to_string(m->actuator_gaintype[i]) + " on " + an);
    if (m->actuator_biastype[i] != mjBIAS_NONE && m->actuator_biastype[i] != mjBIAS_AFFINE)
      out.push_back("actuator bias type " + std::to_string(m->actuator_biastype[i]) + " on " + an);
    if (m->actuator_ctrlnum[i] != 1 || m->actuator_outnum[i] != 1 || m->actuator_ctrladr[i] != i ||
        m->actuator_outadr[i] != i)
      out.push_back("actuator with several controls or outputs: " + an);
    if (m->actuator_delay[i] != 0) out.push_back("actuator delay on " + an);
    if (m->actuator_damping[i] != 0 || !is_zero(m->actuator_dampingpoly + mjNPOLY * i, mjNPOLY))
      out.push_back("actuator damping on " + an);
    if (m->actuator_armature[i] != 0) out.push_back("actuator armature on " + an);
    if (m->actuator_plugin[i] >= 0) out.push_back("actuator plugin on " + an);
  }

  // collision geometry (contacts are simulated unless disabled)
  bool contacts_on = !(m->opt.disableflags & (mjDSBL_CONTACT | mjDSBL_CONSTRAINT));
  if (contacts_on) {
    for (int g = 0; g < m->ngeom; ++g) {
      if (!collidable(m, g)) continue;
      int t = m->geom_type[g];
      if (t != mjGEOM_PLANE && t != mjGEOM_SPHERE && t != mjGEOM_CAPSULE && t != mjGEOM_BOX)
        out.push_back(std::string(geom_type_name(t)) + " geom " + name_of(m, mjOBJ_GEOM, g));
      if (m->geom_condim[g] != 1 && m->geom_condim[g] != 3)
        out.push_back("condim " + std::to_string(m->geom_condim[g]) + " on geom " + name_of(m, mjOBJ_GEOM, g));
    }
    for (int p = 0; p < m->npair; ++p)
      if (m->pair_dim[p] != 1 && m->pair_dim[p] != 3)
        out.push_back("condim " + std::to_string(m->pair_dim[p]) + " on contact pair #" + std::to_string(p));
  }
  return out;
}

// the static part of the collision broadphase, done once here instead of every step: the body
// pairs (b1 < b2, in signature order) that MuJoCo's filters let through whatever the state
// (filterBodyPair: different weld bodies, not both static, not parent-child unless
// filterparent is disabled; not <exclude>d), and for each the geom pairs that pass the
// contype/conaffinity test and are not replaced by an explicit <pair> of the same geoms, in
// MuJoCo's midphase order (by lower-type geom, then the other; the plain nested order for
// single-geom bodies or with the midphase disabled). Body pairs without such geom pairs are
// left out. The kernel keeps the state-dependent tests: bounding spheres, then narrowphase.
namespace {

struct StaticPairs {
  std::vector<int> bodypair;          // (b1, b2) per body pair
  std::vector<int> bodypair_geomadr;  // first geom pair of each body pair, then the total
  std::vector<int> geompair;          // (g1, g2) per geom pair, as collide_pair receives them
};

StaticPairs static_collision_pairs(const mjModel* m) {
  StaticPairs out;
  const int nb = static_cast<int>(m->nbody);
  const bool filterparent = !(m->opt.disableflags & mjDSBL_FILTERPARENT);
  const bool midphase = !(m->opt.disableflags & mjDSBL_MIDPHASE);
  auto excluded = [&](int sig) {
    for (int k = 0; k < m->nexclude; ++k)
      if (m->exclude_signature[k] == sig) return true;
    return false;
  };
  auto replaced = [&](int sig, int g1, int g2) {
    for (int p = 0; p < m->npair; ++p)
      if (m->pair_signature[p] == sig && ((m->pair_geom1[p] == g1 && m->pair_geom2[p] == g2) ||
                                          (m->pair_geom1[p] == g2 && m->pair_geom2[p] == g1)))
        return true;
    return false;
  };
  out.bodypair_geomadr.push_back(0);
  for (int b1 = 0; b1 < nb; ++b1) {
    for (int b2 = b1 + 1; b2 < nb; ++b2) {
      const int sig = (b1 << 16) + b2;
      const int num1 = m->body_geomnum[b1], num2 = m->body_geomnum[b2];
      if (num1 == 0 || num2 == 0) continue;
      const int weld1 = m->body_weldid[b1], weld2 = m->body_weldid[b2];
      if (weld1 == weld2) continue;
      if (m->body_dofnum[weld1] == 0 && m->body_dofnum[weld2] == 0) continue;
      const int parent1 = m->body_weldid[m->body_parentid[weld1]];
      const int parent2 = m->body_weldid[m->body_parentid[weld2]];
      if (filterparent && weld1 != 0 && weld2 != 0 && (weld1 == parent2 || weld2 == parent1)) continue;
      if (excluded(sig)) continue;
      // candidate geom pairs with their midphase keys
      std::vector<std::pair<long long, std::pair<int, int>>> cand;
      const int adr1 = m->body_geomadr[b1], adr2 = m->body_geomadr[b2];
      for (int g1 = adr1; g1 < adr1 + num1; ++g1) {
        for (int g2 = adr2; g2 < adr2 + num2; ++g2) {
          if (!((m->geom_contype[g1] & m->geom_conaffinity[g2]) || (m->geom_contype[g2] & m->geom_conaffinity[g1])))
            continue;
          if (replaced(sig, g1, g2)) continue;
          int a = g1, b = g2;
          if (m->geom_type[a] > m->geom_type[b]) std::swap(a, b);
          cand.push_back({(static_cast<long long>(a) << 32) | b, {g1, g2}});
        }
      }
      if (cand.empty()) continue;
      if (midphase && !(num1 == 1 && num2 == 1))
        std::stable_sort(cand.begin(), cand.end(),
                         [](const auto& x, const auto& y) { return x.first < y.first; });
      out.bodypair.push_back(b1);
      out.bodypair.push_back(b2);
      for (const auto& c : cand) {
        out.geompair.push_back(c.second.first);
        out.geompair.push_back(c.second.second);
      }
      out.bodypair_geomadr.push_back(static_cast<int>(out.geompair.size() / 2));
    }
  }
  return out;
}

}  // namespace

template <class Real>
Model<Real> compile_model(const mjModel* m) {
  std::vector<std::string> bad = unsupported_features(m);
  if (!bad.empty()) throw UnsupportedModel(std::move(bad));

  Model<Real> r;
  r.nq = static_cast<int>(m->nq);
  r.nv = static_cast<int>(m->nv);
  r.nu = static_cast<int>(m->nu);
  r.na = 0;
  r.nbody = static_cast<int>(m->nbody);
  r.njnt = static_cast<int>(m->njnt);
  r.ngeom = static_cast<int>(m->ngeom);
  r.nsite = static_cast<int>(m->nsite);
  r.npair = static_cast<int>(m->npair);
  r.nexclude = static_cast<int>(m->nexclude);
  r.ntree = static_cast<int>(m->ntree);

  // tree depths
  std::vector<int> depth(r.nbody, 0);
  int maxdepth = 0;
  for (int b = 1; b < r.nbody; ++b) {
    depth[b] = depth[m->body_parentid[b]] + 1;
    maxdepth = std::max(maxdepth, depth[b]);
  }
  r.nlevel = maxdepth + 1;
  const StaticPairs pairs = static_collision_pairs(m);
  r.nbodypair = static_cast<int>(pairs.bodypair.size() / 2);
  r.ngeompair = static_cast<int>(pairs.geompair.size() / 2);
  r.allocate();
  std::copy(pairs.bodypair.begin(), pairs.bodypair.end(), r.bodypair_body);
  std::copy(pairs.bodypair_geomadr.begin(), pairs.bodypair_geomadr.end(), r.bodypair_geomadr);
  std::copy(pairs.geompair.begin(), pairs.geompair.end(), r.geompair_geom);

  // options and statistics
  r.opt.timestep = Real(m->opt.timestep);
  r.opt.integrator = m->opt.integrator;
  r.opt.cone = m->opt.cone;
  r.opt.jacobian = m->opt.jacobian;
  r.opt.solver = m->opt.solver;
  r.opt.iterations = m->opt.iterations;
  r.opt.tolerance = Real(m->opt.tolerance);
  r.opt.ls_iterations = m->opt.ls_iterations;
  r.opt.ls_tolerance = Real(m->opt.ls_tolerance);
  r.opt.impratio = Real(m->opt.impratio);
  r.opt.disableflags = m->opt.disableflags;
  r.opt.enableflags = m->opt.enableflags;
  r.opt.o_margin = Real(m->opt.o_margin);
  for (int k = 0; k < kNRef; ++k) r.opt.o_solref[k] = Real(m->opt.o_solref[k]);
  for (int k = 0; k < kNImp; ++k) r.opt.o_solimp[k] = Real(m->opt.o_solimp[k]);
  for (int k = 0; k < 5; ++k) r.opt.o_friction[k] = Real(m->opt.o_friction[k]);
  r.stat.meaninertia = Real(m->stat.meaninertia);
  r.stat.meanmass = Real(m->stat.meanmass);
  r.stat.meansize = Real(m->stat.meansize);
  r.stat.extent = Real(m->stat.extent);
  for (int k = 0; k < 3; ++k) r.opt_gravity.data[k] = Real(m->opt.gravity[k]);

  auto copy = [](auto* dst, const auto* src, long long n) {
    using T = std::remove_pointer_t<decltype(dst)>;
    for (long long i = 0; i < n; ++i) dst[i] = static_cast<T>(src[i]);
  };

  // joint space
  copy(r.qpos0, m->qpos0, r.nq);
  copy(r.qpos_spring, m->qpos_spring, r.nq);

  // bodies
  const int nb = r.nbody;
  copy(r.body_parentid, m->body_parentid, nb);
  copy(r.body_rootid, m->body_rootid, nb);
  copy(r.body_weldid, m->body_weldid, nb);
  copy(r.body_jntnum, m->body_jntnum, nb);
  copy(r.body_jntadr, m->body_jntadr, nb);
  copy(r.body_dofnum, m->body_dofnum, nb);
  copy(r.body_dofadr, m->body_dofadr, nb);
  copy(r.body_geomnum, m->body_geomnum, nb);
  copy(r.body_geomadr, m->body_geomadr, nb);
  copy(r.body_pos, m->body_pos, 3 * nb);
  copy(r.body_quat, m->body_quat, 4 * nb);
  copy(r.body_ipos, m->body_ipos, 3 * nb);
  copy(r.body_iquat, m->body_iquat, 4 * nb);
  copy(r.body_invweight0, m->body_invweight0, 2 * nb);
  copy(r.body_mass.data, m->body_mass, nb);
  copy(r.body_inertia.data, m->body_inertia, 3 * nb);
  for (int b = 0; b < nb; ++b) r.body_depth[b] = depth[b];

  // children grouped by parent, and bodies grouped by depth (both in increasing id)
  {
    int adr = 0;
    for (int p = 0; p < nb; ++p) {
      r.body_childadr[p] = adr;
      r.body_childnum[p] = 0;
      for (int b = 1; b < nb; ++b)
        if (m->body_parentid[b] == p) {
          r.body_child[adr++] = b;
          r.body_childnum[p]++;
        }
    }
    int k = 0;
    for (int lev = 0; lev < r.nlevel; ++lev) {
      r.level_bodyadr[lev] = k;
      for (int b = 0; b < nb; ++b)
        if (depth[b] == lev) r.level_body[k++] = b;
    }
    r.level_bodyadr[r.nlevel] = k;
  }

  // joints
  const int nj = r.njnt;
  copy(r.jnt_type, m->jnt_type, nj);
  copy(r.jnt_qposadr, m->jnt_qposadr, nj);
  copy(r.jnt_dofadr, m->jnt_dofadr, nj);
  copy(r.jnt_bodyid, m->jnt_bodyid, nj);
  copy(r.jnt_limited, m->jnt_limited, nj);
  copy(r.jnt_actfrclimited, m->jnt_actfrclimited, nj);
  copy(r.jnt_pos, m->jnt_pos, 3 * nj);
  copy(r.jnt_axis, m->jnt_axis, 3 * nj);
  copy(r.jnt_stiffness, m->jnt_stiffness, nj);
  copy(r.jnt_range, m->jnt_range, 2 * nj);
  copy(r.jnt_actfrcrange, m->jnt_actfrcrange, 2 * nj);
  copy(r.jnt_margin, m->jnt_margin, nj);
  copy(r.jnt_solref, m->jnt_solref, kNRef * nj);
  copy(r.jnt_solimp, m->jnt_solimp, kNImp * nj);

  // dofs
  const int nv = r.nv;
  copy(r.dof_bodyid, m->dof_bodyid, nv);
  copy(r.dof_jntid, m->dof_jntid, nv);
  copy(r.dof_parentid, m->dof_parentid, nv);
  copy(r.dof_treeid, m->dof_treeid, nv);
  copy(r.dof_armature, m->dof_armature, nv);
  copy(r.dof_frictionloss, m->dof_frictionloss, nv);
  copy(r.dof_solref, m->dof_solref, kNRef * nv);
  copy(r.dof_solimp, m->dof_solimp, kNImp * nv);
  copy(r.dof_invweight0, m->dof_invweight0, nv);
  copy(r.dof_damping.data, m->dof_damping, nv);
  // ancestor lists, root first (the tree pattern of qM as index lists)
  for (int i = 0, adr = 0; i < nv; ++i) {
    int n = 0;
    for (int j = m->dof_parentid[i]; j >= 0; j = m->dof_parentid[j]) ++n;
    r.dof_ancnum[i] = n;
    r.dof_ancadr[i] = adr;
    int k = adr + n;
    for (int j = m->dof_parentid[i]; j >= 0; j = m->dof_parentid[j]) r.dof_ancestor[--k] = j;
    adr += n;
  }
  for (int i = 0, adr = 0; i < nv; ++i) {
    r.dof_treeadr[i] = adr;
    adr += (r.dof_ancnum[i] + 7) / 8 * 8;  // kTreePad
  }
  // the same sets as 32-bit masks, for the SIMD solves (kernels/inertia.inl) of models with
  // nv <= kMaskDofs; zero otherwise. Ancestors precede a dof (dof_parentid[i] < i).
  for (int i = 0; i < nv; ++i) {
    r.dof_ancmask[i] = 0;
    r.dof_descmask[i] = 0;
  }
  if (nv <= kMaskDofs) {
    for (int i = 0; i < nv; ++i) {
      int p = m->dof_parentid[i];
      if (p >= 0) r.dof_ancmask[i] = static_cast<int>(static_cast<uint32_t>(r.dof_ancmask[p]) | (1u << p));
    }
    for (int i = nv - 1; i >= 0; --i) {
      int p = m->dof_parentid[i];
      if (p >= 0) {
        r.dof_descmask[p] = static_cast<int>(static_cast<uint32_t>(r.dof_descmask[p]) |
                                             static_cast<uint32_t>(r.dof_descmask[i]) | (1u << i));
      }
    }
  }
  r.max_depth_dofs = 0;
  for (int i = 0; i < nv; ++i) {
    int n = 0;
    for (int j = i; j >= 0; j = m->dof_parentid[j]) ++n;
    r.max_depth_dofs = std::max(r.max_depth_dofs, n);
  }

  // geoms
  const int ng = r.ngeom;
  copy(r.geom_type, m->geom_type, ng);
  copy(r.geom_contype, m->geom_contype, ng);
  copy(r.geom_conaffinity, m->geom_conaffinity, ng);
  copy(r.geom_condim, m->geom_condim, ng);
  copy(r.geom_bodyid, m->geom_bodyid, ng);
  copy(r.geom_priority, m->geom_priority, ng);
  copy(r.geom_size, m->geom_size, 3 * ng);
  copy(r.geom_pos, m->geom_pos, 3 * ng);
  copy(r.geom_quat, m->geom_quat, 4 * ng);
  copy(r.geom_solmix, m->geom_solmix, ng);
  copy(r.geom_solref, m->geom_solref, kNRef * ng);
  copy(r.geom_solimp, m->geom_solimp, kNImp * ng);
  copy(r.geom_margin, m->geom_margin, ng);
  copy(r.geom_gap, m->geom_gap, ng);
  copy(r.geom_rbound, m->geom_rbound, ng);
  copy(r.geom_aabb, m->geom_aabb, 6 * ng);
  copy(r.geom_friction.data, m->geom_friction, 3 * ng);

  // sites
  copy(r.site_bodyid, m->site_bodyid, r.nsite);
  copy(r.site_pos, m->site_pos, 3 * r.nsite);
  copy(r.site_quat, m->site_quat, 4 * r.nsite);

  // actuators
  const int nu = r.nu;
  copy(r.actuator_trntype, m->actuator_trntype, nu);
  copy(r.actuator_dyntype, m->actuator_dyntype, nu);
  copy(r.actuator_gaintype, m->actuator_gaintype, nu);
  copy(r.actuator_biastype, m->actuator_biastype, nu);
  copy(r.actuator_trnid, m->actuator_trnid, 2 * nu);
  copy(r.actuator_ctrllimited, m->actuator_ctrllimited, nu);
  copy(r.actuator_forcelimited, m->actuator_forcelimited, nu);
  copy(r.actuator_gear, m->actuator_gear, 6 * nu);
  copy(r.actuator_ctrlrange, m->actuator_ctrlrange, 2 * nu);
  copy(r.actuator_forcerange, m->actuator_forcerange, 2 * nu);
  copy(r.actuator_gainprm.data, m->actuator_gainprm, kNGain * nu);
  copy(r.actuator_biasprm.data, m->actuator_biasprm, kNBias * nu);

  // contact pairs and excludes
  const int np = r.npair;
  copy(r.pair_dim, m->pair_dim, np);
  copy(r.pair_geom1, m->pair_geom1, np);
  copy(r.pair_geom2, m->pair_geom2, np);
  copy(r.pair_signature, m->pair_signature, np);
  copy(r.pair_solref, m->pair_solref, kNRef * np);
  copy(r.pair_solreffriction, m->pair_solreffriction, kNRef * np);
  copy(r.pair_solimp, m->pair_solimp, kNImp * np);
  copy(r.pair_margin, m->pair_margin, np);
  copy(r.pair_gap, m->pair_gap, np);
  copy(r.pair_friction, m->pair_friction, 5 * np);
  copy(r.exclude_signature, m->exclude_signature, r.nexclude);

  // bounding sphere of each body's geoms about the body origin (the collision broadphase's
  // body-pair test), computed in Real as the kernels computed it per pair before
  for (int b = 0; b < r.nbody; ++b) {
    Real rad = 0, reach = 0;
    for (int k = r.body_geomadr[b]; k < r.body_geomadr[b] + r.body_geomnum[b]; ++k) {
      if (r.geom_rbound[k] <= 0) rad = Real(1e10);  // a plane
      const Real* p = r.geom_pos + 3 * k;
      rad = std::max(rad, Real(std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2])) + r.geom_rbound[k]);
      reach = std::max(reach, r.geom_margin[k] + r.geom_gap[k]);
    }
    r.body_rbound[b] = rad;
    r.body_margin_gap[b] = reach;
  }

  // which constraint sources exist
  r.has_limits = 0;
  for (int j = 0; j < nj; ++j) r.has_limits |= m->jnt_limited[j] ? 1 : 0;
  r.has_frictionloss = 0;
  for (int i = 0; i < nv; ++i) r.has_frictionloss |= m->dof_frictionloss[i] > 0 ? 1 : 0;
  r.has_contacts = (r.npair > 0 || r.nbodypair > 0) ? 1 : 0;  // the static broadphase's verdict
  return r;
}

template Model<float> compile_model<float>(const mjModel*);
template Model<double> compile_model<double>(const mjModel*);

}  // namespace stampede::sim
