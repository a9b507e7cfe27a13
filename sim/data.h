// sim/data.h — the mutable state of a batch of worlds, in one arena per backend.
//
// Layout
// - Every field is a world-major block: field `f` of world `w` starts at `f.data + w * f.stride`
//   (stride = elements per world). Kernel bodies never compute that themselves: they call
//   `d.qpos.at(w)` on a DataView, so the backend may change the layout without touching them.
// - DataLayout computes every field's byte offset in one arena for given sizes; the CPU backend
//   (Data<Real>, host memory) and the CUDA backend (device memory) use the same layout, and
//   a DataView is the layout applied to a base pointer.
// - Contacts and constraint rows have fixed per-world capacities (contact_capacity,
//   efc_capacity). A stage that needs more sets a bit in warning_flags (kernels/config.h) and
//   counts the excess in contact_overflow / efc_overflow; it never writes past the capacity.
// - Nothing is allocated inside a step.
// - Names, units and meanings follow mjData; quaternions are (w, x, y, z), matrices row-major.
#pragma once

#include <cstddef>
#include <cstring>
#include <vector>

#include "kernels/config.h"
#include "sim/model.h"

namespace stampede::sim {

// the sizes a Data is built for
struct DataSizes {
  int nworld = 1;
  int nq = 0, nv = 0, nu = 0, na = 0, nbody = 0, njnt = 0, ngeom = 0, nsite = 0;
  int contact_capacity = 0;  // contacts kept per world
  int efc_capacity = 0;      // constraint rows kept per world

  template <class Real>
  static DataSizes of(const ModelView<Real>& m, int nworld, int contact_capacity, int efc_capacity) {
    DataSizes s;
    s.nworld = nworld;
    s.nq = m.nq; s.nv = m.nv; s.nu = m.nu; s.na = m.na; s.nbody = m.nbody; s.njnt = m.njnt;
    s.ngeom = m.ngeom; s.nsite = m.nsite;
    s.contact_capacity = contact_capacity;
    s.efc_capacity = efc_capacity;
    return s;
  }
};

// X(type, name, elements per world) /* meaning (unit) (shape per world) */
#define SP_DATA_FIELDS(X, Real) \
  /* state */ \
  X(Real, time, 1)                          /* simulation time (s) (1) */ \
  X(Real, qpos, s.nq)                       /* generalized position (m, rad, quat) (nq) */ \
  X(Real, qvel, s.nv)                       /* generalized velocity (m/s, rad/s) (nv) */ \
  X(Real, qacc_warmstart, s.nv)             /* qacc of the previous step, solver warm start (nv) */ \
  /* inputs */ \
  X(Real, ctrl, s.nu)                       /* actuator controls (nu) */ \
  X(Real, qfrc_applied, s.nv)               /* applied generalized force (N, Nm) (nv) */ \
  X(Real, xfrc_applied, s.nbody * 6)        /* applied force (3), torque (3) at xipos, world frame (nbody x 6) */ \
  /* position-dependent: kinematics */ \
  X(Real, xpos, s.nbody * 3)                /* body frame position (m) (nbody x 3) */ \
  X(Real, xquat, s.nbody * 4)               /* body frame orientation (nbody x 4) */ \
  X(Real, xmat, s.nbody * 9)                /* body frame orientation (nbody x 9) */ \
  X(Real, xipos, s.nbody * 3)               /* body centre of mass (m) (nbody x 3) */ \
  X(Real, ximat, s.nbody * 9)               /* body inertia frame orientation (nbody x 9) */ \
  X(Real, xanchor, s.njnt * 3)              /* joint anchor, world frame (m) (njnt x 3) */ \
  X(Real, xaxis, s.njnt * 3)                /* joint axis, world frame (njnt x 3) */ \
  X(Real, geom_xpos, s.ngeom * 3)           /* geom position (m) (ngeom x 3) */ \
  X(Real, geom_xmat, s.ngeom * 9)           /* geom orientation (ngeom x 9) */ \
  X(Real, site_xpos, s.nsite * 3)           /* site position (m) (nsite x 3) */ \
  X(Real, site_xmat, s.nsite * 9)           /* site orientation (nsite x 9) */ \
  X(Real, qpos_kinematics, s.nq)            /* qpos the frames above were computed at (nq) */ \
  X(int, kinematics_valid, 1)               /* 1: the frames above are those of qpos_kinematics (1) */ \
  /* position-dependent: com-based quantities and inertia */ \
  X(Real, subtree_mass, s.nbody)            /* mass of the subtree rooted at the body (kg) (nbody) */ \
  X(Real, subtree_com, s.nbody * 3)         /* centre of mass of the subtree (m) (nbody x 3) */ \
  X(Real, cinert, s.nbody * 10)             /* body inertia about subtree_com[root], world axes (nbody x 10) */ \
  X(Real, crb, s.nbody * 10)                /* composite rigid-body inertia (nbody x 10) */ \
  X(Real, cdof, s.nv * 6)                   /* dof motion axis (rot, lin) about subtree_com[root] (nv x 6) */ \
  X(Real, qM, s.nv * s.nv)                  /* inertia matrix, dense row-major; lower triangle and \
                                               diagonal valid on ancestor pairs (kg, kg m^2) (nv x nv) */ \
  X(Real, qLD, s.nv * s.nv)                 /* L'DL factor of qM: L below the diagonal (unit, \
                                               ancestor pairs only), D on it (nv x nv) */ \
  X(Real, qLDiagInv, s.nv)                  /* 1 / diag(D) (nv) */ \
  /* velocity-dependent */ \
  X(Real, cvel, s.nbody * 6)                /* body velocity (rot, lin) about subtree_com[root] (nbody x 6) */ \
  X(Real, cdof_dot, s.nv * 6)               /* time derivative of cdof (nv x 6) */ \
  X(Real, cacc, s.nbody * 6)                /* body acceleration incl. -gravity, in rne (nbody x 6) */ \
  X(Real, cfrc_body, s.nbody * 6)           /* body force (rot, lin) in rne, then subtree sum (nbody x 6) */ \
  X(Real, qfrc_bias, s.nv)                  /* Coriolis, centrifugal and gravity force C(q, v) (nv) */ \
  X(Real, qfrc_spring, s.nv)                /* joint spring force (nv) */ \
  X(Real, qfrc_damper, s.nv)                /* joint damping force (nv) */ \
  X(Real, qfrc_passive, s.nv)               /* total passive force (nv) */ \
  /* actuation */ \
  X(Real, actuator_length, s.nu)            /* actuator length (gear * joint position) (nu) */ \
  X(Real, actuator_velocity, s.nu)          /* actuator velocity (nu) */ \
  X(Real, actuator_force, s.nu)             /* actuator force in actuation space (nu) */ \
  X(Real, qfrc_actuator, s.nv)              /* actuator force in joint space (nv) */ \
  /* acceleration */ \
  X(Real, qfrc_smooth, s.nv)                /* net unconstrained force (nv) */ \
  X(Real, qacc_smooth, s.nv)                /* unconstrained acceleration M^-1 qfrc_smooth (nv) */ \
  X(Real, qfrc_constraint, s.nv)            /* constraint force (nv) */ \
  X(Real, qacc, s.nv)                       /* acceleration (m/s^2, rad/s^2) (nv) */ \
  /* integrator scratch: implicit damping (M + h D) and its factor */ \
  X(Real, qH, s.nv * (s.nv + 8))            /* L'DL factor of M + h diag(damping), compact tree \
                                               storage (kernels/inertia.inl) (nv x (nv + 8)) */ \
  X(Real, qHDiagInv, s.nv)                  /* 1 / diag of qH's D (nv) */ \
  X(Real, qacc_integrate, s.nv)             /* acceleration the last Euler step integrated (nv) */ \
  /* contacts, the first ncon valid */ \
  X(int, ncon, 1)                           /* contacts found, <= contact_capacity (1) */ \
  X(int, contact_overflow, 1)               /* contacts dropped in the last step for capacity (1) */ \
  X(Real, contact_dist, s.contact_capacity) /* signed distance, negative: penetration (m) (ncon) */ \
  X(Real, contact_pos, s.contact_capacity * 3)   /* contact point, world frame (m) (ncon x 3) */ \
  X(Real, contact_frame, s.contact_capacity * 9) /* contact frame, normal first (rows) (ncon x 9) */ \
  X(Real, contact_includemargin, s.contact_capacity) /* include if dist < includemargin (m) (ncon) */ \
  X(Real, contact_friction, s.contact_capacity * 5)  /* tangent1, 2, spin, roll1, 2 (ncon x 5) */ \
  X(Real, contact_solref, s.contact_capacity * kNRef)         /* normal solref (ncon x 2) */ \
  X(Real, contact_solreffriction, s.contact_capacity * kNRef) /* friction solref (ncon x 2) */ \
  X(Real, contact_solimp, s.contact_capacity * kNImp)         /* solimp (ncon x 5) */ \
  X(Real, contact_force, s.contact_capacity * 3) /* force in contact frame: normal, t1, t2 (N) (ncon x 3) */ \
  X(int, contact_dim, s.contact_capacity)        /* contact dimensionality (ncon) */ \
  X(int, contact_geom, s.contact_capacity * 2)   /* geom ids (ncon x 2) */ \
  X(int, contact_efc_address, s.contact_capacity) /* first efc row; -1: not in solver (ncon) */ \
  /* constraint rows, the first nefc valid: equality, friction, limit, contact, in that order */ \
  X(int, nefc, 1)                           /* constraint rows in use (1) */ \
  X(int, ne, 1)                             /* equality rows (1) */ \
  X(int, nf, 1)                             /* friction rows (1) */ \
  X(int, nl, 1)                             /* limit rows (1) */ \
  X(int, efc_overflow, 1)                   /* rows dropped in the last step for capacity (1) */ \
  X(int, efc_type, s.efc_capacity)          /* ConstraintType (nefc) */ \
  X(int, efc_id, s.efc_capacity)            /* id of the source: joint, dof or contact (nefc) */ \
  X(int, efc_state, s.efc_capacity)         /* solver state: mjtConstraintState values (nefc) */ \
  X(Real, efc_J, s.efc_capacity * s.nv)     /* constraint Jacobian, dense rows (nefc x nv) */ \
  X(Real, efc_pos, s.efc_capacity)          /* constraint position (violation) (nefc) */ \
  X(Real, efc_margin, s.efc_capacity)       /* inclusion margin (nefc) */ \
  X(Real, efc_frictionloss, s.efc_capacity) /* frictionloss (friction rows) (nefc) */ \
  X(Real, efc_diagA, s.efc_capacity)        /* approximation to diag(A) (nefc) */ \
  X(Real, efc_KBIP, s.efc_capacity * 4)     /* stiffness, damping, impedance, imp' (nefc x 4) */ \
  X(Real, efc_D, s.efc_capacity)            /* constraint mass (nefc) */ \
  X(Real, efc_R, s.efc_capacity)            /* inverse constraint mass (regularizer) (nefc) */ \
  X(Real, efc_vel, s.efc_capacity)          /* velocity in constraint space J qvel (nefc) */ \
  X(Real, efc_aref, s.efc_capacity)         /* reference acceleration (nefc) */ \
  X(Real, efc_force, s.efc_capacity)        /* constraint force in constraint space (nefc) */ \
  /* Newton solver scratch (per world) */ \
  X(int, solver_niter, 1)                   /* iterations of the last solve (1) */ \
  X(Real, solver_cost, 2)                   /* cost at the end, cost before the last iteration (2) */ \
  X(Real, efc_Jaref, s.efc_capacity)        /* J qacc - aref (nefc) */ \
  X(Real, efc_jv, s.efc_capacity)           /* J search (nefc) */ \
  X(Real, efc_quad, s.efc_capacity * 3)     /* quadratic cost coefficients along search (nefc x 3) */ \
  X(Real, solver_Ma, s.nv)                  /* M qacc (nv) */ \
  X(Real, solver_grad, s.nv)                /* cost gradient (nv) */ \
  X(Real, solver_Mgrad, s.nv)               /* H^-1 grad (nv) */ \
  X(Real, solver_search, s.nv)              /* search direction (nv) */ \
  X(Real, solver_mv, s.nv)                  /* M search (nv) */ \
  X(Real, solver_H, s.nv * s.nv)            /* Newton Hessian, dense (nv x nv) */ \
  X(Real, solver_Hfactor, s.nv * (s.nv + 8)) /* factor of the Hessian: dense Cholesky, or tree-sparse \
                                               L'DL in compact tree storage when solver_tree (nv x (nv + 8)) */ \
  X(Real, solver_HDiagInv, s.nv)            /* 1 / diag of the tree-sparse factor's D (nv) */ \
  X(int, solver_tree, 1)                    /* 1: solver_Hfactor is tree-sparse L'DL, 0: Cholesky (1) */ \
  X(int, efc_Jnnz, s.efc_capacity)          /* nonzeros in each row of efc_J (nefc) */ \
  X(int, efc_Jind, s.efc_capacity * s.nv)   /* their columns, increasing (nefc x nv) */ \
  /* status */ \
  X(int, warning_flags, 1)                  /* WarningBit mask set by kernels this step (1) */

// a world-major field: world w's block starts at data + w * stride
template <class T>
struct Batched {
  T* data = nullptr;
  std::ptrdiff_t stride = 0;  // elements per world
  SP_HD SP_INLINE T* at(int w) const { return data + static_cast<std::ptrdiff_t>(w) * stride; }
};

// what a kernel receives: sizes and one Batched per field (host or device memory)
template <class Real>
struct DataView {
  DataSizes s;
#define SP_DECLARE_DATA(T, name, count) Batched<T> name;
  SP_DATA_FIELDS(SP_DECLARE_DATA, Real)
#undef SP_DECLARE_DATA
};

// byte offsets of every field in one arena
template <class Real>
struct DataLayout {
  DataSizes s;
  std::size_t bytes = 0;
  std::vector<std::size_t> offsets;  // one per field, in SP_DATA_FIELDS order

  explicit DataLayout(const DataSizes& sizes) : s(sizes) {
#define SP_LAYOUT(T, name, count)                                                            \
  offsets.push_back(bytes);                                                                  \
  bytes += (std::size_t(s.nworld) * std::size_t(count) * sizeof(T) + 255) / 256 * 256;
    SP_DATA_FIELDS(SP_LAYOUT, Real)
#undef SP_LAYOUT
  }

  // the view of an arena at `base` (host or device address, 256-byte aligned)
  DataView<Real> view(void* base) const {
    DataView<Real> v;
    v.s = s;
    unsigned char* b = static_cast<unsigned char*>(base);
    std::size_t k = 0;
#define SP_VIEW(T, name, count)                                   \
  v.name.data = reinterpret_cast<T*>(b + offsets[k++]);           \
  v.name.stride = static_cast<std::ptrdiff_t>(count);
    SP_DATA_FIELDS(SP_VIEW, Real)
#undef SP_VIEW
    return v;
  }
};

// host-memory Data: the CPU backend's arena (zero-filled at construction)
template <class Real>
class Data {
 public:
  explicit Data(const DataSizes& sizes) : layout_(sizes) {
    arena_.assign(layout_.bytes / sizeof(Chunk) + 1, Chunk{});
    view_ = layout_.view(arena_.data());
  }
  Data(const Data&) = delete;
  Data& operator=(const Data&) = delete;

  const DataView<Real>& view() const { return view_; }
  const DataSizes& sizes() const { return layout_.s; }
  const DataLayout<Real>& layout() const { return layout_; }
  void* arena() { return arena_.data(); }
  std::size_t bytes() const { return layout_.bytes; }

 private:
  struct alignas(256) Chunk { unsigned char b[256]; };
  DataLayout<Real> layout_;
  std::vector<Chunk> arena_;
  DataView<Real> view_;
};

}  // namespace stampede::sim
