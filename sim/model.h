// sim/model.h — the constant model our kernels read: MuJoCo's mjModel, converted to
// structure-of-arrays in Real (float or double), with MuJoCo's field names.
//
// Layout
// - ModelView<Real> is a trivially copyable struct of sizes, options and pointers: it is what a
//   kernel receives (on the host, or by value in a CUDA launch with device pointers).
// - Model<Real> (below) owns the host memory: one arena holding every array, plus separate
//   buffers for fields expanded per world. Copying a Model deep-copies and re-points.
// - Per-world fields (domain randomization) are PerWorld<T>: `dim0` is 1 (shared) or nworld;
//   world w reads `field.at(w)[i]` == data[(w % dim0) * size + i], as MuJoCo Warp does.
// - Every field is listed once, in the X-macros below, with its element count in terms of the
//   sizes and a comment giving meaning, unit and shape. Quaternions are (w, x, y, z);
//   rotation matrices are row-major 3x3; all frames are right-handed; SI units.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "kernels/config.h"

namespace stampede::sim {

// number of MuJoCo parameter slots (same as mjNREF, mjNIMP, mjNGAIN, mjNBIAS in MuJoCo 4.0)
constexpr int kNRef = 2;
constexpr int kNImp = 5;
constexpr int kNGain = 10;
constexpr int kNBias = 10;
// the most dofs that dof_ancmask / dof_descmask describe (one bit per dof)
constexpr int kMaskDofs = 32;

// joint types, geom types, actuator types: MuJoCo's enum values (mjtJoint, mjtGeom, ...)
enum JointType : int { kJntFree = 0, kJntBall = 1, kJntSlide = 2, kJntHinge = 3 };
enum GeomType : int {
  kGeomPlane = 0, kGeomHField = 1, kGeomSphere = 2, kGeomCapsule = 3, kGeomEllipsoid = 4,
  kGeomCylinder = 5, kGeomBox = 6, kGeomMesh = 7
};
enum TrnType : int { kTrnJoint = 0 };
enum DynType : int { kDynNone = 0 };
enum GainType : int { kGainFixed = 0, kGainAffine = 1 };
enum BiasType : int { kBiasNone = 0, kBiasAffine = 1 };
enum ConeType : int { kConePyramidal = 0, kConeElliptic = 1 };
enum SolverType : int { kSolverPGS = 0, kSolverCG = 1, kSolverNewton = 2 };
enum IntegratorType : int { kIntEuler = 0 };
// constraint row types (mjtConstraint values)
enum ConstraintType : int {
  kCnstrEquality = 0, kCnstrFrictionDof = 1, kCnstrFrictionTendon = 2, kCnstrLimitJoint = 3,
  kCnstrLimitTendon = 4, kCnstrContactFrictionless = 5, kCnstrContactPyramidal = 6,
  kCnstrContactElliptic = 7
};
// disable / enable bits: MuJoCo 4.0's mjtDisableBit / mjtEnableBit values
enum DisableBit : int {
  kDsblConstraint = 1 << 0, kDsblEquality = 1 << 1, kDsblFrictionloss = 1 << 2,
  kDsblLimit = 1 << 3, kDsblContact = 1 << 4, kDsblSpring = 1 << 5, kDsblDamper = 1 << 6,
  kDsblGravity = 1 << 7, kDsblClampCtrl = 1 << 8, kDsblWarmstart = 1 << 9,
  kDsblFilterParent = 1 << 10, kDsblActuation = 1 << 11, kDsblRefsafe = 1 << 12,
  kDsblSensor = 1 << 13, kDsblMidphase = 1 << 14, kDsblEulerdamp = 1 << 15,
  kDsblAutoreset = 1 << 16, kDsblNativeccd = 1 << 17, kDsblIsland = 1 << 18,
  kDsblMulticcd = 1 << 19
};
enum EnableBit : int { kEnblOverride = 1 << 0, kEnblEnergy = 1 << 1, kEnblFwdinv = 1 << 2 };

// a model field that may differ per world: (dim0, size) with dim0 in {1, nworld}
template <class T>
struct PerWorld {
  T* data = nullptr;  // dim0 * size elements
  int dim0 = 1;       // 1: shared by all worlds; nworld: one row per world
  int size = 0;       // elements per world
  SP_HD SP_INLINE T* at(int w) const { return data + static_cast<std::ptrdiff_t>(w % dim0) * size; }
};

// physics options (mjOption), constant over worlds except gravity (opt_gravity, a PerWorld field)
template <class Real>
struct ModelOption {
  Real timestep = 0;        // simulation step (s)
  int integrator = 0;       // IntegratorType (only Euler is supported)
  int cone = 0;             // ConeType for contact friction
  int jacobian = 0;         // mjtJacobian (dense/sparse/auto): informational, we use dense efc_J
  int solver = 0;           // SolverType
  int iterations = 0;       // maximum solver iterations
  Real tolerance = 0;       // solver cost-improvement tolerance (relative)
  int ls_iterations = 0;    // maximum line-search iterations
  Real ls_tolerance = 0;    // line-search gradient tolerance (relative)
  Real impratio = 0;        // ratio of frictional to normal constraint impedance
  int disableflags = 0;     // DisableBit mask
  int enableflags = 0;      // EnableBit mask
  Real o_margin = 0;        // contact margin override (m), used when kEnblOverride
  Real o_solref[kNRef] = {};   // solref override
  Real o_solimp[kNImp] = {};   // solimp override
  Real o_friction[5] = {};     // friction override (tangent, tangent, torsional, rolling, rolling)
};

// statistics computed by MuJoCo's compiler (mjStatistic)
template <class Real>
struct ModelStat {
  Real meaninertia = 0;  // mean diagonal of the inertia matrix at qpos0 (kg m^2): Newton scaling
  Real meanmass = 0;     // mean body mass (kg)
  Real meansize = 0;     // mean body size (m)
  Real extent = 0;       // spatial extent of the model (m)
};

// ---------------------------------------------------------------------------------------------
// fields shared by all worlds: X(type, name, count per model, comment)
#define SP_MODEL_FIELDS(X, Real) \
  /* joint-space */ \
  X(Real, qpos0, nq)                  /* qpos at the reference configuration (nq) */ \
  X(Real, qpos_spring, nq)            /* reference qpos of joint springs (nq) */ \
  /* bodies (body 0 is the world) */ \
  X(int, body_parentid, nbody)        /* id of the parent body; world: 0 (nbody) */ \
  X(int, body_rootid, nbody)          /* id of the root of this body's tree (nbody) */ \
  X(int, body_weldid, nbody)          /* id of the body this one is welded to (nbody) */ \
  X(int, body_jntnum, nbody)          /* number of joints of this body (nbody) */ \
  X(int, body_jntadr, nbody)          /* first joint id; -1: none (nbody) */ \
  X(int, body_dofnum, nbody)          /* number of dofs of this body (nbody) */ \
  X(int, body_dofadr, nbody)          /* first dof id; -1: none (nbody) */ \
  X(int, body_geomnum, nbody)         /* number of geoms (nbody) */ \
  X(int, body_geomadr, nbody)         /* first geom id; -1: none (nbody) */ \
  X(int, body_depth, nbody)           /* depth in the kinematic tree; world: 0 (nbody) */ \
  X(int, body_childnum, nbody)        /* number of child bodies (nbody) */ \
  X(int, body_childadr, nbody)        /* first index into body_child (nbody) */ \
  X(int, body_child, nbody)           /* child body ids grouped by parent (nbody) */ \
  X(Real, body_rbound, nbody)         /* radius of the body's geoms about its origin; 1e10 with a \
                                         plane (m) (nbody) */ \
  X(Real, body_margin_gap, nbody)     /* largest geom margin + gap of the body (m) (nbody) */ \
  X(Real, body_pos, nbody * 3)        /* position offset rel. to parent body (m) (nbody x 3) */ \
  X(Real, body_quat, nbody * 4)       /* orientation offset rel. to parent body (nbody x 4) */ \
  X(Real, body_ipos, nbody * 3)       /* local position of centre of mass (m) (nbody x 3) */ \
  X(Real, body_iquat, nbody * 4)      /* local orientation of inertia ellipsoid (nbody x 4) */ \
  X(Real, body_invweight0, nbody * 2) /* mean inv inert. in qpos0 (trn 1/kg, rot 1/kg m^2) (nbody x 2) */ \
  /* tree levels: bodies grouped by depth, for parallel sweeps over one level */ \
  X(int, level_bodyadr, nlevel + 1)   /* first index into level_body of each depth (nlevel+1) */ \
  X(int, level_body, nbody)           /* body ids sorted by depth, world first (nbody) */ \
  /* joints */ \
  X(int, jnt_type, njnt)              /* JointType (njnt) */ \
  X(int, jnt_qposadr, njnt)           /* start address in qpos (njnt) */ \
  X(int, jnt_dofadr, njnt)            /* start address in qvel (njnt) */ \
  X(int, jnt_bodyid, njnt)            /* id of the joint's body (njnt) */ \
  X(int, jnt_limited, njnt)           /* 1 if the joint has a limit constraint (njnt) */ \
  X(int, jnt_actfrclimited, njnt)     /* 1 if actuator force on the joint is clamped (njnt) */ \
  X(Real, jnt_pos, njnt * 3)          /* local anchor position (m) (njnt x 3) */ \
  X(Real, jnt_axis, njnt * 3)         /* local joint axis, unit (njnt x 3) */ \
  X(Real, jnt_stiffness, njnt)        /* spring stiffness (N/m, Nm/rad) (njnt) */ \
  X(Real, jnt_range, njnt * 2)        /* joint limits (m or rad; ball: [0, max angle]) (njnt x 2) */ \
  X(Real, jnt_actfrcrange, njnt * 2)  /* clamp range of actuator force on the joint (njnt x 2) */ \
  X(Real, jnt_margin, njnt)           /* limit becomes active when closer than margin (njnt) */ \
  X(Real, jnt_solref, njnt * kNRef)   /* limit constraint solver reference (njnt x 2) */ \
  X(Real, jnt_solimp, njnt * kNImp)   /* limit constraint solver impedance (njnt x 5) */ \
  /* dofs */ \
  X(int, dof_bodyid, nv)              /* id of the dof's body (nv) */ \
  X(int, dof_jntid, nv)               /* id of the dof's joint (nv) */ \
  X(int, dof_parentid, nv)            /* id of the parent dof in the tree; -1: none (nv) */ \
  X(int, dof_treeid, nv)              /* id of the kinematic tree (root body order) (nv) */ \
  X(int, dof_ancnum, nv)              /* number of ancestor dofs (nv) */ \
  X(int, dof_ancadr, nv)              /* first index into dof_ancestor (nv) */ \
  X(int, dof_treeadr, nv)             /* first value of the dof's row in compact tree matrices, \
                                         rows padded to multiples of 8 (kernels/inertia.inl) (nv) */ \
  X(int, dof_ancmask, nv)             /* ancestor dofs as a bitmask (bit j: dof j), nv <= 32 \
                                         only, else 0: the SIMD solves' lane masks (nv) */ \
  X(int, dof_descmask, nv)            /* descendant dofs as a bitmask, likewise (nv) */ \
  X(int, dof_ancestor, nv * nv)       /* ancestor dofs of each dof, root first: the columns of \
                                         its row of qM below the diagonal (first sum(ancnum)) */ \
  X(Real, dof_armature, nv)           /* rotor inertia added to M's diagonal (kg m^2 or kg) (nv) */ \
  X(Real, dof_frictionloss, nv)       /* dry friction force (N or Nm) (nv) */ \
  X(Real, dof_solref, nv * kNRef)     /* frictionloss constraint solref (nv x 2) */ \
  X(Real, dof_solimp, nv * kNImp)     /* frictionloss constraint solimp (nv x 5) */ \
  X(Real, dof_invweight0, nv)         /* diag. inverse inertia in qpos0 (nv) */ \
  /* geoms */ \
  X(int, geom_type, ngeom)            /* GeomType (ngeom) */ \
  X(int, geom_contype, ngeom)         /* contact type bitmask (ngeom) */ \
  X(int, geom_conaffinity, ngeom)     /* contact affinity bitmask (ngeom) */ \
  X(int, geom_condim, ngeom)          /* contact dimensionality: 1, 3 (4, 6 unsupported) (ngeom) */ \
  X(int, geom_bodyid, ngeom)          /* id of the geom's body (ngeom) */ \
  X(int, geom_priority, ngeom)        /* geom contact priority (ngeom) */ \
  X(Real, geom_size, ngeom * 3)       /* type-specific size (m) (ngeom x 3) */ \
  X(Real, geom_pos, ngeom * 3)        /* local position offset rel. to body (m) (ngeom x 3) */ \
  X(Real, geom_quat, ngeom * 4)       /* local orientation offset rel. to body (ngeom x 4) */ \
  X(Real, geom_solmix, ngeom)         /* mixing of solref/solimp between two geoms (ngeom) */ \
  X(Real, geom_solref, ngeom * kNRef) /* contact solref (ngeom x 2) */ \
  X(Real, geom_solimp, ngeom * kNImp) /* contact solimp (ngeom x 5) */ \
  X(Real, geom_margin, ngeom)         /* detect contact if dist < margin (m) (ngeom) */ \
  X(Real, geom_gap, ngeom)            /* include in solver if dist < margin - gap (m) (ngeom) */ \
  X(Real, geom_rbound, ngeom)         /* radius of the bounding sphere; 0: plane (m) (ngeom) */ \
  X(Real, geom_aabb, ngeom * 6)       /* local bounding box: centre (3), half sizes (3) (m) (ngeom x 6) */ \
  /* sites */ \
  X(int, site_bodyid, nsite)          /* id of the site's body (nsite) */ \
  X(Real, site_pos, nsite * 3)        /* local position offset rel. to body (m) (nsite x 3) */ \
  X(Real, site_quat, nsite * 4)       /* local orientation offset rel. to body (nsite x 4) */ \
  /* actuators (dyntype none, joint transmission, one control and one output each) */ \
  X(int, actuator_trntype, nu)        /* TrnType (nu) */ \
  X(int, actuator_dyntype, nu)        /* DynType (nu) */ \
  X(int, actuator_gaintype, nu)       /* GainType (nu) */ \
  X(int, actuator_biastype, nu)       /* BiasType (nu) */ \
  X(int, actuator_trnid, nu * 2)      /* transmission target id: joint id, -1 (nu x 2) */ \
  X(int, actuator_ctrllimited, nu)    /* 1 if ctrl is clamped to ctrlrange (nu) */ \
  X(int, actuator_forcelimited, nu)   /* 1 if force is clamped to forcerange (nu) */ \
  X(Real, actuator_gear, nu * 6)      /* transmission gear: length and force scale (nu x 6) */ \
  X(Real, actuator_ctrlrange, nu * 2) /* control range (nu x 2) */ \
  X(Real, actuator_forcerange, nu * 2) /* force range (N or Nm) (nu x 2) */ \
  /* explicit contact pairs and excludes */ \
  X(int, pair_dim, npair)             /* contact dimensionality (npair) */ \
  X(int, pair_geom1, npair)           /* id of geom1 (npair) */ \
  X(int, pair_geom2, npair)           /* id of geom2 (npair) */ \
  X(int, pair_signature, npair)       /* body1 << 16 + body2 (npair) */ \
  X(Real, pair_solref, npair * kNRef) /* normal solref (npair x 2) */ \
  X(Real, pair_solreffriction, npair * kNRef) /* frictional solref (npair x 2) */ \
  X(Real, pair_solimp, npair * kNImp) /* solimp (npair x 5) */ \
  X(Real, pair_margin, npair)         /* detect contact if dist < margin (m) (npair) */ \
  X(Real, pair_gap, npair)            /* include in solver if dist < margin - gap (m) (npair) */ \
  X(Real, pair_friction, npair * 5)   /* tangent1, 2, spin, roll1, 2 (npair x 5) */ \
  X(int, exclude_signature, nexclude) /* body1 << 16 + body2 (nexclude) */ \
  /* the static broadphase (sim/compile.cpp, static_collision_pairs) */ \
  X(int, bodypair_body, nbodypair * 2) /* body pairs that can collide, signature order (nbodypair x 2) */ \
  X(int, bodypair_geomadr, nbodypair + 1) /* first index into geompair_geom of each body pair, \
                                         then the total (nbodypair+1) */ \
  X(int, geompair_geom, ngeompair * 2) /* their geom pairs, midphase order (ngeompair x 2) */

// fields that may differ per world (domain randomization): X(type, name, count per world, comment)
#define SP_MODEL_PERWORLD_FIELDS(X, Real) \
  X(Real, opt_gravity, 3)             /* gravitational acceleration (m/s^2) (3) */ \
  X(Real, body_mass, nbody)           /* mass (kg) (nbody) */ \
  X(Real, body_inertia, nbody * 3)    /* diagonal inertia in the ipos/iquat frame (kg m^2) (nbody x 3) */ \
  X(Real, dof_damping, nv)            /* viscous damping (Ns/m, Nms/rad) (nv) */ \
  X(Real, geom_friction, ngeom * 3)   /* friction: sliding, torsional, rolling (ngeom x 3) */ \
  X(Real, actuator_gainprm, nu * kNGain) /* gain parameters (nu x 10) */ \
  X(Real, actuator_biasprm, nu * kNBias) /* bias parameters (nu x 10) */

// ---------------------------------------------------------------------------------------------
// what a kernel receives: sizes, options and pointers (host or device), trivially copyable
template <class Real>
struct ModelView {
  // sizes
  int nq = 0;        // number of generalized coordinates
  int nv = 0;        // number of degrees of freedom
  int nu = 0;        // number of actuators (= controls)
  int na = 0;        // number of activation states (always 0: dynamics unsupported)
  int nbody = 0;     // number of bodies, world included
  int njnt = 0;      // number of joints
  int ngeom = 0;     // number of geoms
  int nsite = 0;     // number of sites
  int npair = 0;     // number of explicit contact pairs
  int nexclude = 0;  // number of excluded body pairs
  int nbodypair = 0; // body pairs that pass the static collision filters
  int ngeompair = 0; // geom pairs of those body pairs that pass them
  int nlevel = 0;    // number of tree depths (world is depth 0)
  int ntree = 0;     // number of kinematic trees (children of the world with dofs or geoms)
  int max_depth_dofs = 0;  // most dofs on one root-to-leaf chain (bounds ancestor loops)

  // flags derived at compile time
  int has_limits = 0;        // any jnt_limited (limit constraints possible)
  int has_frictionloss = 0;  // any dof_frictionloss > 0 (friction constraints possible)
  int has_contacts = 0;      // an explicit pair or a static-broadphase pair exists (contacts possible)

  ModelOption<Real> opt;
  ModelStat<Real> stat;

#define SP_DECLARE_FIELD(T, name, count) T* name = nullptr;
#define SP_DECLARE_PW_FIELD(T, name, count) PerWorld<T> name;
  SP_MODEL_FIELDS(SP_DECLARE_FIELD, Real)
  SP_MODEL_PERWORLD_FIELDS(SP_DECLARE_PW_FIELD, Real)
#undef SP_DECLARE_FIELD
#undef SP_DECLARE_PW_FIELD

  // true when the forward pass needs the constraint pipeline (contacts, limits, frictionloss)
  SP_HD bool needs_constraints() const {
    if (opt.disableflags & kDsblConstraint) return false;
    bool contact = has_contacts && !(opt.disableflags & kDsblContact);
    bool limit = has_limits && !(opt.disableflags & kDsblLimit);
    bool friction = has_frictionloss && !(opt.disableflags & kDsblFrictionloss);
    return contact || limit || friction;
  }
};

// ---------------------------------------------------------------------------------------------
// host owner of a model: one arena for all arrays, per-world fields expanded on demand
template <class Real>
class Model : public ModelView<Real> {
 public:
  Model() = default;
  Model(const Model& o) { copy_from(o); }
  Model& operator=(const Model& o) {
    if (this != &o) copy_from(o);
    return *this;
  }
  Model(Model&& o) noexcept = default;
  Model& operator=(Model&& o) noexcept = default;

  const ModelView<Real>& view() const { return *this; }

  // allocate every array for the sizes already set in the view part, zero-filled
  void allocate() {
    [[maybe_unused]] const int nq = this->nq, nv = this->nv, nu = this->nu, nbody = this->nbody,
                               njnt = this->njnt, ngeom = this->ngeom, nsite = this->nsite,
                               npair = this->npair, nexclude = this->nexclude,
                               nlevel = this->nlevel, nbodypair = this->nbodypair,
                               ngeompair = this->ngeompair;
    std::size_t bytes = 0;
    auto reserve = [&](std::size_t count, std::size_t elem) {
      std::size_t off = bytes;
      bytes += (count * elem + 63) / 64 * 64;
      return off;
    };
    std::vector<std::size_t> offsets;
#define SP_RESERVE(T, name, count) offsets.push_back(reserve(std::size_t(count), sizeof(T)));
    SP_MODEL_FIELDS(SP_RESERVE, Real)
    SP_MODEL_PERWORLD_FIELDS(SP_RESERVE, Real)
#undef SP_RESERVE
    arena_.assign(bytes / sizeof(Chunk) + 1, Chunk{});
    unsigned char* base = reinterpret_cast<unsigned char*>(arena_.data());
    std::size_t k = 0;
#define SP_POINT(T, name, count) this->name = reinterpret_cast<T*>(base + offsets[k++]);
#define SP_POINT_PW(T, name, count) \
    this->name.data = reinterpret_cast<T*>(base + offsets[k++]);         \
    this->name.dim0 = 1;                                                 \
    this->name.size = static_cast<int>(count);
    SP_MODEL_FIELDS(SP_POINT, Real)
    SP_MODEL_PERWORLD_FIELDS(SP_POINT_PW, Real)
#undef SP_POINT
#undef SP_POINT_PW
    expanded_.clear();
  }

  // a copy of the view whose arrays live elsewhere (e.g. on a GPU): place(host, bytes) returns
  // the new address of each array (per-world fields: all dim0 rows)
  template <class Place>
  ModelView<Real> relocated(Place&& place) const {
    ModelView<Real> v = *this;
    [[maybe_unused]] const int nq = this->nq, nv = this->nv, nu = this->nu, nbody = this->nbody,
                               njnt = this->njnt, ngeom = this->ngeom, nsite = this->nsite,
                               npair = this->npair, nexclude = this->nexclude,
                               nlevel = this->nlevel, nbodypair = this->nbodypair,
                               ngeompair = this->ngeompair;
#define SP_RELOCATE(T, name, count) \
    v.name = static_cast<T*>(place(static_cast<const void*>(this->name), sizeof(T) * std::size_t(count)));
#define SP_RELOCATE_PW(T, name, count)                                                            \
    v.name.data = static_cast<T*>(place(static_cast<const void*>(this->name.data),                \
                                        sizeof(T) * std::size_t(count) * std::size_t(this->name.dim0)));
    SP_MODEL_FIELDS(SP_RELOCATE, Real)
    SP_MODEL_PERWORLD_FIELDS(SP_RELOCATE_PW, Real)
#undef SP_RELOCATE
#undef SP_RELOCATE_PW
    return v;
  }

  // names of the per-world fields (MuJoCo's names)
  static std::vector<std::string> perworld_field_names() {
    std::vector<std::string> names;
#define SP_NAME(T, name, count) names.push_back(#name);
    SP_MODEL_PERWORLD_FIELDS(SP_NAME, Real)
#undef SP_NAME
    return names;
  }

  // the per-world field `name`, or nullptr when no such field exists
  PerWorld<Real>* perworld_field(const std::string& name) {
#define SP_FIND(T, fname, count) if (name == #fname) return &this->fname;
    SP_MODEL_PERWORLD_FIELDS(SP_FIND, Real)
#undef SP_FIND
    return nullptr;
  }

  // give field `name` one row per world (copies of its shared row); returns it (nullptr: unknown)
  PerWorld<Real>* expand(const std::string& name, int nworld) {
    PerWorld<Real>* f = perworld_field(name);
    if (!f || f->dim0 == nworld || f->size == 0) return f;
    std::vector<Real> rows(static_cast<std::size_t>(nworld) * f->size);
    for (int w = 0; w < nworld; ++w)
      for (int i = 0; i < f->size; ++i) rows[std::size_t(w) * f->size + i] = f->at(w)[i];
    expanded_[name] = std::move(rows);
    f->data = expanded_[name].data();
    f->dim0 = nworld;
    return f;
  }

 private:
  struct alignas(64) Chunk { unsigned char b[64]; };
  std::vector<Chunk> arena_;                              // every array, 64-byte aligned
  std::map<std::string, std::vector<Real>> expanded_;     // per-world rows of expanded fields

  void copy_from(const Model& o) {
    static_cast<ModelView<Real>&>(*this) = static_cast<const ModelView<Real>&>(o);
    allocate();
    [[maybe_unused]] const int nq = this->nq, nv = this->nv, nu = this->nu, nbody = this->nbody,
                               njnt = this->njnt, ngeom = this->ngeom, nsite = this->nsite,
                               npair = this->npair, nexclude = this->nexclude,
                               nlevel = this->nlevel, nbodypair = this->nbodypair,
                               ngeompair = this->ngeompair;
#define SP_COPY(T, name, count) \
    if (std::size_t(count) > 0) std::memcpy(this->name, o.name, sizeof(T) * std::size_t(count));
#define SP_COPY_PW(T, name, count) \
    std::memcpy(this->name.data, o.name.data, sizeof(T) * std::size_t(count));
    SP_MODEL_FIELDS(SP_COPY, Real)
#undef SP_COPY
    // shared rows (row 0 of an expanded field), then the expanded rows themselves
    SP_MODEL_PERWORLD_FIELDS(SP_COPY_PW, Real)
    for (const auto& kv : o.expanded_) {
      expanded_[kv.first] = kv.second;
      PerWorld<Real>* f = perworld_field(kv.first);
      f->data = expanded_[kv.first].data();
      f->dim0 = static_cast<int>(kv.second.size() / std::size_t(std::max(1, f->size)));
    }
#undef SP_COPY_PW
  }
};

}  // namespace stampede::sim
